//! Steps many cases share: set up a plugin's network, attach a pod, probe whether an address
//! was released, and exec a plugin directly when a case sends what libcni never would.

use std::net::IpAddr;

use cni_sandbox::{Invocation, Ns, PluginRun};
use cni_spec::Command;
use serde_json::Value;

use crate::error::ConformanceError;
use crate::runner::{NetworkConfigList, RuntimeConf, build_bare, build_one};
use crate::suite::case::{Failure, ensure};
use crate::suite::fixture::Fixture;
use crate::suite::profiles::{Kind, NetSpec, Profile};
use crate::suite::shape::{self, Expect};

/// The spec versions, oldest first.
pub const VERSIONS: [&str; 7] = [
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
];

/// Whether `version` has CHECK (0.4.0+).
pub fn has_check(version: &str) -> bool {
    matches!(version, "0.4.0" | "1.0.0" | "1.1.0")
}

/// Whether `version` has STATUS and GC (1.1.0).
pub fn has_gc(version: &str) -> bool {
    version == "1.1.0"
}

/// A profile's network in a fixture: prerequisites made, list parsed.
pub struct Net {
    /// The parameters.
    pub spec: NetSpec,
    /// The list of just this plugin.
    pub list: NetworkConfigList,
}

impl Net {
    /// Prepares the node for `profile` and builds its list at `version` over `spec`.
    pub fn new(
        fx: &Fixture,
        profile: &Profile,
        version: &str,
        spec: NetSpec,
    ) -> Result<Net, Failure> {
        (profile.prepare)(fx)?;
        let list = NetworkConfigList::from_value(&profile.list(version, &spec))?;
        Ok(Net { spec, list })
    }

    /// The plugin object with `name`/`cniVersion` and optionally `prevResult` injected, as the
    /// runtime would send it to the (only) plugin of the list.
    pub fn conf(&self, prev: Option<&Value>) -> Value {
        build_one(
            &self.list,
            &self.list.plugins[0],
            prev,
            &serde_json::Map::new(),
        )
    }

    /// The plugin object as the runtime sends it on STATUS and GC.
    pub fn bare_conf(&self, keys: &[(&str, Value)]) -> Value {
        build_bare(&self.list, &self.list.plugins[0], keys)
    }

    /// The plugin's type.
    pub fn plugin(&self) -> &str {
        &self.list.plugins[0].plugin_type
    }
}

/// A pod attached through the runtime.
pub struct Attached {
    /// The pod namespace.
    pub pod: Ns,
    /// Its runtime arguments.
    pub rt: RuntimeConf,
    /// The final ADD result.
    pub result: Value,
    /// The first address it got.
    pub ip: IpAddr,
}

/// ADDs container `id` as `eth0` in a new pod namespace.
pub fn attach(fx: &Fixture, net: &Net, id: &str) -> Result<Attached, Failure> {
    let pod = fx.netns("pod")?;
    let rt = RuntimeConf::new(id, pod.path(), "eth0");
    attach_as(fx, net, pod, rt)
}

/// ADDs with the given runtime arguments.
pub fn attach_as(fx: &Fixture, net: &Net, pod: Ns, rt: RuntimeConf) -> Result<Attached, Failure> {
    let result = fx.runtime.add(&net.list, &rt)?;
    let ip = shape::first_ip(&result)
        .ok_or_else(|| Failure::new(format!("ADD result has no address: {result}")))?;
    Ok(Attached {
        pod,
        rt,
        result,
        ip,
    })
}

/// Whether `ip` can be handed out again: an ADD requesting exactly it (CNI_ARGS `IP`, which
/// host-local reads; the main plugins pass CNI_ARGS on to it) succeeds. The probe is removed.
/// `Err` carries why the probe ADD was refused.
pub fn probe_address(fx: &Fixture, net: &Net, ip: IpAddr) -> Result<Result<(), String>, Failure> {
    let pod = fx.netns("probe")?;
    let rt = RuntimeConf::new("probe", pod.path(), "eth0")
        .arg("IgnoreUnknown", "1")
        .arg("IP", &ip.to_string());
    match fx.runtime.add(&net.list, &rt) {
        Ok(_) => {
            fx.runtime.del(&net.list, &rt)?;
            Ok(Ok(()))
        }
        Err(e @ ConformanceError::Plugin { .. }) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Fails unless `ip` was released.
pub fn ensure_released(fx: &Fixture, net: &Net, ip: IpAddr) -> Result<(), Failure> {
    match probe_address(fx, net, ip)? {
        Ok(()) => Ok(()),
        Err(why) => Err(Failure::new(format!(
            "{ip} was not released: an ADD requesting it was refused ({why})"
        ))),
    }
}

/// Fails unless `ip` is still held.
pub fn ensure_held(fx: &Fixture, net: &Net, ip: IpAddr) -> Result<(), Failure> {
    ensure!(
        probe_address(fx, net, ip)?.is_err(),
        "{ip} of a live attachment could be handed out again"
    );
    Ok(())
}

/// Execs the plugin directly (not through the runtime's verb logic) with libcni's environment
/// for `rt`, after `edit` had its way with the invocation.
pub fn exec_raw(
    fx: &Fixture,
    plugin: &str,
    verb: &str,
    rt: &RuntimeConf,
    stdin: &[u8],
    edit: impl FnOnce(Invocation) -> Invocation,
) -> Result<PluginRun, Failure> {
    let inv = fx.runtime.invocation(plugin, Command::Add, rt, stdin)?;
    let inv = edit(inv.command(verb));
    Ok(fx.runtime.run(plugin, &inv, stdin)?.run)
}

/// Fails unless `run` is a well-formed CNI error with `code` (any code if `None`).
pub fn ensure_error(run: &PluginRun, code: Option<u64>) -> Result<(), Failure> {
    shape::check_error(run, code).map_err(Failure::new)
}

/// The raw stdout JSON of the last exec of `verb` on `plugin`.
pub fn last_output(fx: &Fixture, plugin: &str, verb: &str) -> Result<Value, Failure> {
    let trace = fx.runtime.trace();
    let record = trace
        .iter()
        .rev()
        .find(|r| r.verb == verb && r.plugin == plugin)
        .ok_or_else(|| Failure::new(format!("no {verb} of {plugin} was run")))?;
    record
        .run
        .result
        .clone()
        .ok_or_else(|| Failure::new(format!("{verb} printed no JSON: {:?}", record.run.stdout)))
}

/// Fails unless every exec of `verb` so far printed nothing on stdout (CHECK, DEL, STATUS
/// and GC succeed silently).
pub fn ensure_silent(fx: &Fixture, verb: &str) -> Result<(), Failure> {
    for record in fx
        .runtime
        .trace()
        .iter()
        .filter(|r| r.verb == verb && r.run.success())
    {
        ensure!(
            record.run.stdout.trim().is_empty(),
            "{verb} succeeded but printed {:?}; success is an empty stdout",
            record.run.stdout.trim()
        );
    }
    Ok(())
}

/// Checks the shape of the last raw ADD output for `profile` at `version`.
pub fn ensure_add_shape(
    fx: &Fixture,
    profile: &Profile,
    version: &str,
    rt: &RuntimeConf,
) -> Result<(), Failure> {
    let raw = last_output(fx, profile.plugin, "ADD")?;
    let container =
        (profile.kind == Kind::Interface).then_some((rt.ifname.as_str(), rt.netns.as_str()));
    shape::check_result(&raw, Expect { version, container })
        .map_err(|e| Failure::new(format!("ADD result: {e}")).with_detail(raw.to_string()))
}

/// For interface plugins: `eth0` exists in the pod, is up, and carries the result's
/// addresses (and MAC, if reported). IPAM plugins make nothing to look at.
pub fn ensure_pod_interface(profile: &Profile, att: &Attached) -> Result<(), Failure> {
    if profile.kind != Kind::Interface {
        return Ok(());
    }
    let ifname = att.rt.ifname.as_str();
    let link = att
        .pod
        .link(ifname)?
        .ok_or_else(|| Failure::new(format!("no {ifname} in the pod after ADD")))?;
    ensure!(link.up, "{ifname} is down after ADD");
    let addrs: Vec<IpAddr> = att.pod.addrs(ifname)?.iter().map(|a| a.ip()).collect();
    ensure!(
        addrs.contains(&att.ip),
        "{ifname} has {addrs:?}, the result says {}",
        att.ip
    );
    let mac = att
        .result
        .get("interfaces")
        .and_then(Value::as_array)
        .and_then(|ifs| ifs.iter().find(|i| i["name"] == ifname))
        .and_then(|i| i.get("mac"))
        .and_then(Value::as_str);
    if let Some(mac) = mac {
        ensure!(
            link.mac.as_deref() == Some(&mac.to_lowercase()),
            "{ifname} has MAC {:?}, the result says {mac}",
            link.mac
        );
    }
    Ok(())
}

/// Removes a namespace behind the runtime's back, as a crashed or cleaned-up sandbox does
/// before Multus's DEL arrives. The world tolerates it being gone at drop.
pub fn delete_netns(ns: &Ns) -> Result<(), Failure> {
    let out = std::process::Command::new("ip")
        .args(["netns", "delete", ns.name()])
        .output()
        .map_err(|e| Failure::new(format!("ip netns delete: {e}")))?;
    ensure!(
        out.status.success(),
        "ip netns delete {}: {}",
        ns.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
