//! [`NsConn`]: a network namespace together with a netlink socket inside it, the pair every
//! step of an attachment needs (sysctls go through the namespace, links through the socket).

use std::path::Path;

use cni_netlink::{Handle, Netns, NetnsError};

use crate::error::{Context, Result};

/// An open namespace and a netlink socket in it.
#[derive(Debug)]
pub struct NsConn {
    /// The namespace (keeps it alive while open).
    pub netns: Netns,
    /// A socket inside it.
    pub handle: Handle,
}

impl NsConn {
    /// The calling thread's namespace: for a plugin, the node's.
    pub fn current() -> Result<NsConn> {
        let netns = Netns::current().context(|| "open the node network namespace".into())?;
        // In place: the namespace is the calling thread's (`Netns::run`).
        let handle = netns.handle().context(|| "open a netlink socket".into())?;
        Ok(NsConn { netns, handle })
    }

    /// The namespace at `path` (`CNI_NETNS`). The raw [`NetnsError`] comes back so DEL can tell
    /// "gone" (already cleaned up) from other failures.
    pub fn open(path: &Path) -> std::result::Result<NsConn, OpenError> {
        let netns = Netns::open(path).map_err(OpenError::Netns)?;
        let handle = netns.handle().map_err(OpenError::Socket)?;
        Ok(NsConn { netns, handle })
    }

    /// The namespace's name in messages.
    pub fn label(&self) -> &str {
        self.netns.path()
    }
}

/// Why [`NsConn::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The path is missing or not a network namespace.
    #[error("failed to open netns: {0}")]
    Netns(#[source] NetnsError),
    /// The namespace opened but a socket in it did not.
    #[error("failed to open a netlink socket in the netns: {0}")]
    Socket(#[source] cni_netlink::Error),
}

impl OpenError {
    /// True when nothing exists at the path: DEL treats this as "already gone".
    pub fn is_gone(&self) -> bool {
        matches!(self, OpenError::Netns(NetnsError::NotFound { .. }))
    }
}

impl From<OpenError> for crate::Error {
    fn from(e: OpenError) -> crate::Error {
        let (context, source) = match e {
            OpenError::Netns(n) => ("failed to open netns".to_owned(), n.into()),
            OpenError::Socket(s) => ("failed to open a netlink socket in the netns".into(), s),
        };
        crate::Error::Netlink { context, source }
    }
}
