//! Kernel tests of the macvlan plugin: each test builds a LAN of network namespaces (a switch,
//! a node whose master is plugged into it, pods, hosts), runs the real binary in the node
//! namespace as a runtime would, and asserts what iproute2 shows and what packets do.

// Test helpers may unwrap too: a panic there is the failure report (clippy.toml allows it in
// #[test] functions only).
#![allow(clippy::unwrap_used)]

mod common;
mod ipv6;
mod keys;
mod modes;
mod multus;
mod reference;
mod routes;
mod shim;
mod verbs;
