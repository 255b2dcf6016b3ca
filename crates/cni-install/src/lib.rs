//! cni-install: puts this suite's plugin binaries, and optionally a network config, onto a
//! Kubernetes node. It is the entrypoint of the DaemonSet image in `manifests/`, a static
//! binary in a `FROM scratch` image: no shell, no `cp`, no `sleep`.
//!
//! What operators were bitten by, and what this does instead (vxlan-multus.md §4):
//! - `cp -f` over a running plugin fails with "text file busy" (calico #8932) and can leave a
//!   half-written binary that the next pod executes (multus PR #242): every file is written
//!   to a temp file in the same directory, fsync'ed and renamed over the old one ([`publish`]);
//! - installers that skip existing files never upgrade (weave #2586); ones that always copy
//!   rewrite the node every restart: files are compared and only different ones replaced;
//! - a node whose `/opt/cni/bin` is wiped later (kubernetes #115629) stays broken: `watch`
//!   re-installs, and the readiness probe (`check`) executes each plugin's VERSION;
//! - a config file that names a plugin not yet installed makes the node Ready too early: the
//!   conflist is checked first and written last ([`install`]).
//!
//! | Module | For |
//! |---|---|
//! | [`cli`] | the command line |
//! | [`install`] | one run: which files, in which order, the report |
//! | [`publish`] | writing one file atomically, or not at all when identical |
//! | [`dir`] | the destination directory's lock and leftover sweep |
//! | [`conflist`] | checking a config the way the runtime will load it |
//! | [`check`] | the readiness check |
//! | [`watch`] | the long-running loop and PID-1 signal handling |
//!
//! Not here: building the binaries (`scripts/release.sh`), the Kubernetes objects
//! (`manifests/`).

pub mod check;
pub mod cli;
pub mod conflist;
pub mod dir;
pub mod error;
pub mod install;
pub mod publish;
pub mod watch;

pub use error::{Error, Result};
pub use install::{Action, Entry, Plan};
