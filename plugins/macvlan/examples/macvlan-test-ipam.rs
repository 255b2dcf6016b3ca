//! The host-local IPAM plugin, built for this package's kernel tests so they always delegate to
//! the current source (a plain dev-dependency cannot provide another package's binary). The
//! tests link it into each sandbox's `CNI_PATH` as `host-local`; its own name keeps it from
//! colliding with other packages' copies in `target/*/examples`. Not shipped: the real binary
//! is `ipam/host-local`.

use std::process::ExitCode;

fn main() -> ExitCode {
    cni_spec::run(&host_local::HostLocal)
}
