//! DEL's building blocks for every plugin: deleting the pod's interface whatever state its
//! namespace is in, and running every step of a teardown while keeping the first failure.
//!
//! The spec asks DEL to succeed when what it would remove is already gone, and a runtime
//! retries a failed DEL; so a missing namespace or link is success, and one failed step must
//! not keep the later ones from releasing what they hold (an address, a rule).
//!
//! Not here: what else a plugin tears down (IPAM, rules, shared devices: the plugins, and
//! [`crate::bridged::detach()`] for pods behind a bridge).

use std::path::Path;

use crate::error::{Error, Result};
use crate::ns::NsConn;

/// Deletes `ifname` in the namespace at `netns` (for a veth, its peer goes with it); a
/// namespace or link that no longer exists is already done.
pub fn delete_pod_link(netns: &Path, ifname: &str) -> Result<()> {
    let pod = match NsConn::open(netns) {
        Ok(pod) => pod,
        Err(e) if e.is_gone() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    // By name, in one request: a missing link answers ENODEV, which is "already done".
    match pod.handle.link_del(ifname) {
        Err(source) if !source.is_not_found() => {
            let context = format!("failed to delete {ifname:?} in {}", pod.label());
            Err(Error::Netlink { context, source })
        }
        _ => Ok(()),
    }
}

/// The outcome of a teardown whose steps all run: the first failure, reported at the end.
#[derive(Debug)]
#[must_use = "finish() reports the first failure"]
pub struct FirstError<E> {
    first: Option<E>,
}

impl<E> Default for FirstError<E> {
    fn default() -> Self {
        FirstError { first: None }
    }
}

impl<E> FirstError<E> {
    /// No step has failed yet.
    pub fn new() -> Self {
        FirstError::default()
    }

    /// Records a step's outcome; only the first failure is kept.
    pub fn keep<F: Into<E>>(&mut self, outcome: std::result::Result<(), F>) {
        if let Err(e) = outcome {
            self.first.get_or_insert(e.into());
        }
    }

    /// `Err` with the first failure, if any step failed.
    pub fn finish(self) -> std::result::Result<(), E> {
        self.first.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_counts_and_the_first_failure_wins() {
        let mut errors: FirstError<String> = FirstError::new();
        errors.keep(Ok::<(), String>(()));
        errors.keep(Err("first"));
        errors.keep(Err("second"));
        assert_eq!(errors.finish(), Err("first".to_owned()));
        assert_eq!(FirstError::<String>::new().finish(), Ok(()));
    }

    #[test]
    fn a_missing_namespace_is_already_deleted() {
        let gone = Path::new("/run/netns/cni-attach-test-no-such-namespace");
        assert!(delete_pod_link(gone, "eth0").is_ok());
    }
}
