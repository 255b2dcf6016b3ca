//! The `vxlan` binary: everything is in the library; see its docs.

use std::process::ExitCode;

fn main() -> ExitCode {
    cni_spec::run(&cni_vxlan::Vxlan)
}
