//! The `macvlan` CNI plugin: gives a pod its own MAC address on a node's Ethernet interface
//! (the *master*), as a drop-in for the reference plugin (containernetworking/plugins
//! `plugins/main/macvlan`): same keys, defaults, order of operations and messages.
//!
//! Keys: `master` (default: the interface of the node's first default route), `mode`
//! (`bridge` by default, `vepa`, `private`, `passthru`, and `source` with its allow-list
//! `sourceMacs`), `mtu` (0 up to the master's), `mac` (overridden by `CNI_ARGS` `MAC`,
//! `args.cni.mac` and `runtimeConfig.mac`), `linkInContainer`, `bcqueuelen`, `ipam` (L2 mode
//! when empty), `dns`, and `hostShim`.
//!
//! Beyond the reference (issue 5):
//! - `mode: "source"`: the pod receives only frames whose source MAC is in `sourceMacs`;
//! - a master that is a bridge or bond port, missing, or not Ethernet is refused by name with
//!   the reason, instead of a bare EBUSY/EINVAL;
//! - the result keeps IPAM's DNS when the config has no `dns`, and carries the interface MTU;
//! - STATUS fails with code 50 when the master is missing; GC is forwarded to IPAM;
//! - `hostShim`: node <-> pod traffic, which the kernel otherwise forbids between a master and
//!   its macvlan children. Design and return path: [`shim`].
//!
//! ```json
//! {"cniVersion": "1.0.0", "name": "lan", "type": "macvlan", "master": "eth1",
//!  "hostShim": {"addresses": ["192.168.1.250"]},
//!  "ipam": {"type": "host-local", "subnet": "192.168.1.0/24",
//!           "rangeStart": "192.168.1.100", "rangeEnd": "192.168.1.199",
//!           "routes": [{"dst": "0.0.0.0/0"}], "gateway": "192.168.1.1"}}
//! ```
//!
//! | Module | For |
//! |---|---|
//! | [`config`] | the plugin's keys, validated |
//! | [`master`] | finding the master and refusing one the kernel would refuse |
//! | [`link`] | the pod's macvlan: temporary name in the pod, then rename |
//! | [`shim`] | the host shim |
//! | `add`, `del`, `check`, `status`, `gc` | the verbs |
//!
//! Not here: the CNI protocol (`cni-spec`), kernel messages (`cni-netlink`), the pod-side
//! address and route setup shared with the other plugins (`cni-attach`).

pub mod config;
pub mod error;
pub mod link;
pub mod master;
pub mod shim;

mod add;
mod check;
mod del;
mod gc;
mod status;

use cni_spec::{CniError, CniResult, Plugin, Request};

pub use error::Error;

/// The plugin, for `cni_spec::run`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Macvlan;

impl Plugin for Macvlan {
    const NAME: &'static str = "macvlan";

    fn add(&self, req: &Request) -> Result<CniResult, CniError> {
        add::add(req).map_err(CniError::from)
    }

    fn del(&self, req: &Request) -> Result<(), CniError> {
        del::del(req).map_err(CniError::from)
    }

    fn check(&self, req: &Request) -> Result<(), CniError> {
        check::check(req).map_err(CniError::from)
    }

    fn status(&self, req: &Request) -> Result<(), CniError> {
        status::status(req).map_err(CniError::from)
    }

    fn gc(&self, req: &Request) -> Result<(), CniError> {
        gc::gc(req).map_err(CniError::from)
    }
}
