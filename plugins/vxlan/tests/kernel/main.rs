//! Kernel tests of the vxlan plugin: clusters of node namespaces on one switch, the binary run
//! inside each node namespace as a runtime there would run it, and iproute2, tcpdump, nft and
//! ping checking what happened.

// Helpers outside #[test] functions unwrap too: a panic is the failure report we want.
#![allow(clippy::unwrap_used)]

mod common;
mod gateway;
mod lifecycle;
mod mtu;
mod peers;
mod verbs;
