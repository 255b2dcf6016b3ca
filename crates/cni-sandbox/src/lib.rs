//! cni-sandbox: the test harness every kernel test of this workspace builds its worlds with.
//!
//! A [`World`] owns a set of network namespaces (a "node" playing a Kubernetes node's host
//! namespace, "pod" namespaces, [`Switch`]es joining node underlays) and a temp directory, and
//! removes all of it on drop, also when the test panics. Plugin binaries run inside a node
//! namespace exactly as a runtime would run them ([`Ns::run_plugin`]), and probes read back
//! what the kernel shows through iproute2's JSON ([`probe`]).
//!
//! What it is not: production code, or a user of our `cni-netlink` crate. It shells out to
//! iproute2 (`ip`, `bridge`), `ping` and `nft` on purpose, so that it is an independent oracle
//! for the netlink layer it tests. It never creates anything in the root namespace and never
//! writes a root-namespace sysctl. [`bins`] finds the workspace's own binaries for a test's
//! `CNI_PATH`.
//!
//! ```no_run
//! use cni_sandbox::{Invocation, World};
//!
//! let world = World::new("bridge_add")?;
//! let node = world.netns("node")?;
//! let pod = world.netns("pod")?;
//! let conf = serde_json::json!({"cniVersion": "1.0.0", "name": "n", "type": "bridge"});
//! let add = Invocation::new("/usr/lib/cni/bridge", "ADD")
//!     .container_id("c1")
//!     .netns(pod.path())
//!     .ifname("eth0")
//!     .config(&conf);
//! let result = node.run_plugin(&add)?.expect_result();
//! assert!(node.link("cni0")?.is_some());
//! # Ok::<(), cni_sandbox::SandboxError>(())
//! ```

// Tests may unwrap: a panic there is the assertion. (A root clippy.toml with
// `allow-unwrap-in-tests = true` would say this once for the workspace.)
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod background;
pub mod bins;
pub mod caps;
mod error;
mod names;
mod netns;
mod plugin;
pub mod probe;
mod process;
mod switch;
mod world;

pub use background::Background;
pub use bins::{REFERENCE_DIR, TestPackage, cni_path_dir, link_reference, merge_json};
pub use error::{Result, SandboxError};
pub use netns::Ns;
pub use plugin::{CniVar, Invocation, PLUGIN_TIMEOUT, PluginRun};
pub use probe::{
    AddrView, BridgeInfo, Family, FdbEntry, KindData, LinkView, Lower, MacvlanInfo, NeighView,
    Ping, PortView, RouteView, VlanView, VxlanInfo, list_dir,
};
pub use process::{DEFAULT_PATH, TOOL_TIMEOUT};
pub use switch::{Plug, SWITCH_BRIDGE, Switch};
pub use world::World;
