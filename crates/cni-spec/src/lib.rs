//! The CNI protocol, without the kernel: what every plugin binary in this suite is built on.
//!
//! A plugin's `main` is `cni_spec::run(&MyPlugin)`; the crate reads the `CNI_*` environment
//! and stdin, checks them the way Go's `skel` does, calls the plugin's verb with a
//! [`Request`], and prints the result in the config's spec version, or a CNI error.
//!
//! | Module | For |
//! |---|---|
//! | [`version`] | the seven spec versions and what each allows |
//! | [`error`] | [`CniError`] and its codes |
//! | [`env`] | `CNI_COMMAND`, `CNI_CONTAINERID`, `CNI_IFNAME`, `CNI_NETNS`, `CNI_PATH` |
//! | [`args`] | `CNI_ARGS` |
//! | [`gojson`] | decoding configs with Go `encoding/json` rules |
//! | [`config`] | the config keys every plugin shares |
//! | [`result`] | the result model and its per-version JSON |
//! | [`delegate`] | running the IPAM plugin |
//! | [`plugin`] | the [`Plugin`] trait and the dispatcher |
//!
//! Not here: netlink, namespaces, sysctls (`cni-netlink`); plugin-specific config keys.

pub mod args;
pub mod config;
pub mod delegate;
pub mod env;
pub mod error;
pub mod gojson;
pub mod plugin;
pub mod result;
pub mod version;

pub use args::CniArgs;
pub use config::{Attachment, ConfArgs, IpamConf, NetConf, RuntimeConfig};
pub use delegate::{
    Delegate, IpamReservation, PendingReservation, PendingRun, find_in_path, ipam_add,
    ipam_add_start, ipam_check, ipam_del, ipam_del_start, ipam_gc, ipam_status,
};
pub use env::{CniEnv, Command, ContainerId, Environment, IfName, NetnsPath};
pub use error::{CniError, ErrorCode};
pub use plugin::{Plugin, Request, dispatch, run};
pub use result::{CniResult, Dns, Interface, IpConfig, Route};
pub use version::SpecVersion;
