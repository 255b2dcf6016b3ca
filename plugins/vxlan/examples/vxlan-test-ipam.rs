//! host-local, built as an example so the vxlan kernel tests can delegate to the current source
//! (tests link it into their CNI_PATH as `host-local`). A distinct example name keeps it from
//! colliding with other packages' copies in `target/*/examples`.

use std::process::ExitCode;

fn main() -> ExitCode {
    cni_spec::run(&host_local::HostLocal)
}
