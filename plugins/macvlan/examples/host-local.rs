//! The host-local IPAM plugin, built with this package's tests so the kernel tests always
//! delegate to the current source (a plain dev-dependency cannot provide another package's
//! binary). Not shipped: the real binary is `ipam/host-local`.

use std::process::ExitCode;

fn main() -> ExitCode {
    cni_spec::run(&host_local::HostLocal)
}
