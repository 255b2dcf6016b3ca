//! Kernel tests of the bridge plugin: the binary runs inside a node namespace of a sandbox
//! world, as a runtime would run it, and iproute2, nft, iptables and ping check what happened.

// Helpers outside #[test] functions unwrap too: a panic is the failure report we want.
#![allow(clippy::unwrap_used)]

mod chain;
mod check;
mod common;
mod del;
mod gc;
mod keys;
mod scale;
mod topology;
mod versions;
