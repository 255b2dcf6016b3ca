//! One invocation, validated: the `CNI_*` variables, the raw stdin and the shared config.
//!
//! Built in skel's order: environment (4), stdin JSON (6), network name (7), version (1), verb
//! floor (1), then the rest of the shared config (7).

use std::path::PathBuf;

use crate::config::header;
use crate::error::Error;
use crate::{
    CniArgs, CniEnv, CniError, Command, ContainerId, Environment, IfName, NetConf, NetnsPath,
    SpecVersion, gojson,
};

/// Everything a verb needs to know about the invocation.
#[derive(Debug, Clone)]
pub struct Request {
    /// The verb.
    pub command: Command,
    /// `CNI_CONTAINERID`; `Some` for ADD/DEL/CHECK.
    pub container_id: Option<ContainerId>,
    /// `CNI_NETNS`; `Some` for ADD/CHECK, may be `None` for DEL.
    pub netns: Option<NetnsPath>,
    /// `CNI_IFNAME`; `Some` for ADD/DEL/CHECK.
    pub ifname: Option<IfName>,
    /// `CNI_ARGS`.
    pub args: CniArgs,
    /// `CNI_PATH`.
    pub path: Vec<PathBuf>,
    /// stdin exactly as received, for delegation.
    pub stdin: Vec<u8>,
    /// The shared config keys.
    pub conf: NetConf,
    /// The whole environment, passed on to delegated plugins.
    pub environ: Environment,
}

impl Request {
    /// Validates an invocation of `command` (not VERSION, which takes no input).
    pub fn parse(
        command: Command,
        environ: Environment,
        stdin: Vec<u8>,
    ) -> Result<Request, CniError> {
        build(command, environ, stdin, &mut None)
    }

    /// The container ID, or code 4 naming `CNI_CONTAINERID` (only possible for STATUS/GC).
    pub fn require_container_id(&self) -> Result<&ContainerId, CniError> {
        self.container_id
            .as_ref()
            .ok_or_else(|| missing("CNI_CONTAINERID"))
    }

    /// The interface name, or code 4 naming `CNI_IFNAME` (only possible for STATUS/GC).
    pub fn require_ifname(&self) -> Result<&IfName, CniError> {
        self.ifname.as_ref().ok_or_else(|| missing("CNI_IFNAME"))
    }

    /// The netns path, or code 4 naming `CNI_NETNS` (possible for DEL, STATUS, GC).
    pub fn require_netns(&self) -> Result<&NetnsPath, CniError> {
        self.netns.as_ref().ok_or_else(|| missing("CNI_NETNS"))
    }
}

fn missing(name: &'static str) -> CniError {
    Error::MissingEnv(vec![name]).into()
}

/// [`Request::parse`], recording the config's version in `version` as soon as it is known so
/// the dispatcher can stamp it on an error that comes later.
pub(super) fn build(
    command: Command,
    environ: Environment,
    stdin: Vec<u8>,
    version: &mut Option<SpecVersion>,
) -> Result<Request, CniError> {
    let env = CniEnv::parse(command, &environ)?;
    let raw = gojson::parse(&stdin)?;
    let (_, cni_version) = header(&raw)?;
    *version = Some(cni_version);
    let allowed = match command {
        Command::Check => cni_version.supports_check(),
        Command::Status | Command::Gc => cni_version.supports_gc_status(),
        Command::Add | Command::Del | Command::Version => true,
    };
    if !allowed {
        return Err(Error::VerbNotAllowed(command).into());
    }
    let conf = NetConf::from_value(raw)?;
    Ok(Request {
        command,
        container_id: env.container_id,
        netns: env.netns,
        ifname: env.ifname,
        args: env.args,
        path: env.path,
        stdin,
        conf,
        environ,
    })
}
