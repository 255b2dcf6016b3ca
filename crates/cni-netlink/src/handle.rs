//! [`Handle`]: one netlink socket bound to one namespace, and the place where failures get their
//! context.
//!
//! The operations themselves live in the modules named for what they touch (`link_*`, `bridge`,
//! `addr`, `route`, `neigh`); each is an `impl Handle` block with methods named like the iproute2
//! verb they mirror. This module only opens the socket and turns transport failures into
//! [`Error`]s that say what was being done and where.

use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Error, Result};
use crate::netns::Netns;
use crate::transport::{Failure, Request, Transport};

/// A netlink socket in one network namespace. Open one per namespace per invocation: from
/// [`Netns::handle`] for another namespace, or [`Handle::current`] for the caller's own.
///
/// Not `Sync`: requests on one socket must not interleave. It may move between threads; the
/// socket stays in its namespace whatever thread uses it.
#[derive(Debug)]
pub struct Handle {
    transport: Transport,
    netns: String,
}

impl Handle {
    pub(crate) fn new(transport: Transport, netns: String) -> Handle {
        Handle { transport, netns }
    }

    /// A socket in the calling thread's namespace.
    pub fn current() -> Result<Handle> {
        let netns = Netns::current()?.path().to_string();
        let transport = Transport::open().map_err(|source| Error::Io {
            op: "open netlink socket".into(),
            netns: netns.clone(),
            source,
        })?;
        Ok(Handle::new(transport, netns))
    }

    /// The namespace this socket lives in, as errors name it.
    pub fn netns(&self) -> &str {
        &self.netns
    }

    /// Sends a request and returns the kernel's answer (empty for a plain change).
    pub(crate) fn exchange(
        &self,
        request: &Request,
        op: impl FnOnce() -> String,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.transport
            .exchange(request)
            .map_err(|failure| self.error(failure, op()))
    }

    /// Sends a change request; the answer is only an ACK.
    pub(crate) fn ack(&self, request: Request, op: impl FnOnce() -> String) -> Result<()> {
        self.exchange(&request, op).map(drop)
    }

    pub(crate) fn invalid(&self, op: String, detail: impl Into<String>) -> Error {
        Error::InvalidArgument {
            op: format!("{op} in {}", self.netns),
            detail: detail.into(),
        }
    }

    fn error(&self, failure: Failure, op: String) -> Error {
        let netns = self.netns.clone();
        match failure {
            Failure::Kernel { errno, message } => Error::Kernel {
                op,
                netns,
                errno,
                message,
            },
            Failure::Io(source) => Error::Io { op, netns, source },
            Failure::Decode(detail) => Error::Decode { op, netns, detail },
            Failure::Protocol(detail) => Error::Protocol { op, netns, detail },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send<T: Send>() {}

    #[test]
    fn handles_and_namespaces_may_move_between_threads() {
        // A socket keeps its namespace whatever thread uses it, so moving it is safe; sharing
        // it is not (requests would interleave), which the missing `Sync` prevents.
        is_send::<Handle>();
        is_send::<Netns>();
    }
}
