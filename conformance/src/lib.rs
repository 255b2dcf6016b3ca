//! cni-conformance: a black-box CNI conformance suite, and the libcni-faithful runner it is
//! built on.
//!
//! Point it at any directory of CNI plugin binaries. The [`runner`] drives them the way a
//! container runtime does (libcni's chaining, caching, environment and quirks of containerd,
//! podman and Multus), inside namespaces of a `cni-sandbox` world; the suite's cases judge
//! what the plugins print and what the kernel shows, never how they are built.
//!
//! Not here: plugin code, or anything that touches the machine's own namespace.

// Tests may unwrap: a panic there is the assertion.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod error;
pub mod runner;
pub mod suite;

pub use error::{ConformanceError, Result};
