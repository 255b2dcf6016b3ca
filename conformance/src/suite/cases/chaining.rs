//! Mixed chains: our `host-local` under the reference `bridge` and `macvlan` (and the
//! reference `host-local` under ours), and the reference meta plugins `portmap`, `bandwidth`
//! and `tuning` consuming our main plugins' results as `prevResult` (issue 7 "Chaining").
//!
//! Each case links exactly the binaries it names into one plugin directory, attaches two pods,
//! and checks what the kernel shows: pings between the pods, the meta plugin's rule, qdisc or
//! sysctl, and the addresses handed out again after DEL. Versions stop at 1.0.0, the newest
//! the reference 1.1.1 speaks.

use serde_json::{Value, json};

use super::common::{Net, attach_as, ensure_pod_interface, ensure_released, has_check};
use crate::runner::{NetworkConfigList, RuntimeConf};
use crate::suite::case::{Case, CaseResult, Failure, Need, ensure};
use crate::suite::fixture::{Fixture, NETWORK};
use crate::suite::profiles::{BRIDGE, MACVLAN, NetSpec, Profile, VXLAN};

/// Versions both sides of every chain speak.
const CHAIN_VERSIONS: [&str; 3] = ["0.3.1", "0.4.0", "1.0.0"];

/// The capability argument for the n-th pod of a case.
type CapabilityFor = fn(usize) -> Value;

/// A meta plugin appended after the main plugin, with what it must have done.
#[derive(Clone, Copy)]
struct Meta {
    plugin: &'static str,
    conf: fn() -> Value,
    /// The capability argument the runtime passes for the n-th pod. Every pod gets one: the
    /// reference bandwidth 1.1.1 panics on CHECK of a pod without a bandwidth setting.
    capability: Option<(&'static str, CapabilityFor)>,
    /// Sets `disableCheck` on the list: the reference portmap 1.1.1 fails CHECK of an
    /// IPv4-only pod looking for IPv6 rules (containernetworking/plugins #819), whoever made
    /// the interface.
    disable_check: bool,
    verify: fn(&Fixture, &super::common::Attached) -> CaseResult,
}

/// All chaining cases.
pub fn cases(out: &mut Vec<Case>) {
    for v in CHAIN_VERSIONS {
        for main in [&BRIDGE, &MACVLAN] {
            let picks = [Need::Reference(main.plugin), Need::UnderTest("host-local")];
            let name = format!("chaining/host-local-under-reference-{}/{v}", main.plugin);
            out.push(pair_case(name, &picks, main, v, None));
        }
        for main in [&BRIDGE, &MACVLAN, &VXLAN] {
            let picks = [Need::UnderTest(main.plugin), Need::Reference("host-local")];
            let name = format!("chaining/reference-host-local-under-{}/{v}", main.plugin);
            out.push(pair_case(name, &picks, main, v, None));
        }
        for (main, meta) in [
            (&BRIDGE, PORTMAP),
            (&BRIDGE, BANDWIDTH),
            (&BRIDGE, TUNING),
            (&MACVLAN, PORTMAP),
            (&MACVLAN, TUNING),
            (&VXLAN, PORTMAP),
            (&VXLAN, BANDWIDTH),
            (&VXLAN, TUNING),
        ] {
            let picks = [
                Need::UnderTest(main.plugin),
                Need::UnderTest("host-local"),
                Need::Reference(meta.plugin),
            ];
            let name = format!(
                "chaining/{}-then-reference-{}/{v}",
                main.plugin, meta.plugin
            );
            out.push(pair_case(name, &picks, main, v, Some(meta)));
        }
    }
}

/// Two pods on one network built from `picks`: both attach, reach each other, pass CHECK,
/// and give their addresses back on DEL.
fn pair_case(
    name: String,
    picks: &[Need],
    main: &'static Profile,
    v: &'static str,
    meta: Option<Meta>,
) -> Case {
    let picks = picks.to_vec();
    let label = name.clone();
    Case::new(name, picks.clone(), move |ctx| {
        Fixture::run(Fixture::mixed(ctx, &label, &picks), |fx| {
            (main.prepare)(fx)?;
            let spec = NetSpec::of(fx);
            let mut plugins = vec![(main.conf)(&spec)];
            plugins.extend(meta.map(|m| (m.conf)()));
            let list = NetworkConfigList::from_value(&json!({
                "cniVersion": v, "name": NETWORK, "plugins": plugins,
                "disableCheck": meta.is_some_and(|m| m.disable_check),
            }))?;
            let net = Net { spec, list };
            let pod = |n: usize| -> Result<(cni_sandbox::Ns, RuntimeConf), Failure> {
                let ns = fx.netns("pod")?;
                let mut rt = RuntimeConf::new(&format!("pod-{n}"), ns.path(), "eth0");
                if let Some((cap, value)) = meta.and_then(|m| m.capability) {
                    rt = rt.capability(cap, value(n));
                }
                Ok((ns, rt))
            };
            let (ns_a, rt_a) = pod(0)?;
            let a = attach_as(fx, &net, ns_a, rt_a)?;
            let (ns_b, rt_b) = pod(1)?;
            let b = attach_as(fx, &net, ns_b, rt_b)?;
            ensure_pod_interface(main, &a)?;
            ensure_pod_interface(main, &b)?;
            ensure!(
                a.pod.ping(&b.ip.to_string())?,
                "pod a cannot reach pod b at {}",
                b.ip
            );
            if let Some(m) = meta {
                (m.verify)(fx, &b)?;
            }
            if has_check(v) {
                fx.runtime.check(&net.list, &a.rt)?;
                fx.runtime.check(&net.list, &b.rt)?;
            }
            fx.runtime.del(&net.list, &a.rt)?;
            fx.runtime.del(&net.list, &b.rt)?;
            ensure_released(fx, &net, a.ip)?;
            ensure_released(fx, &net, b.ip)
        })
    })
}

/// portmap: a DNAT for the pod's port mapping appears in the node.
const PORTMAP: Meta = Meta {
    plugin: "portmap",
    conf: || json!({"type": "portmap", "capabilities": {"portMappings": true}}),
    capability: Some((
        "portMappings",
        |n| json!([{"hostPort": 18080 + n, "containerPort": 80, "protocol": "tcp"}]),
    )),
    disable_check: true,
    verify: |fx, b| {
        let rules = nat_rules(fx)?;
        let dnat = format!("{}:80", b.ip);
        ensure!(
            rules.contains("18081") && rules.contains(&dnat),
            "no DNAT 18081 -> {dnat} in the node after ADD:\n{rules}"
        );
        Ok(())
    },
};

/// bandwidth: a token bucket on the pod's host-side veth, which bandwidth finds through the
/// previous result's interfaces (host side = no sandbox). Ingress only: egress shaping needs
/// an ifb device.
const BANDWIDTH: Meta = Meta {
    plugin: "bandwidth",
    conf: || json!({"type": "bandwidth", "capabilities": {"bandwidth": true}}),
    capability: Some((
        "bandwidth",
        |_| json!({"ingressRate": 8_000_000, "ingressBurst": 800_000}),
    )),
    disable_check: false,
    verify: |fx, b| {
        let host = host_veth(fx, &b.result)?;
        let qdisc = fx.node.exec_ok(&["tc", "qdisc", "show", "dev", &host])?;
        ensure!(qdisc.contains("tbf"), "no tbf qdisc on {host}: {qdisc}");
        Ok(())
    },
};

/// tuning: a sysctl in the pod, and the MAC from the `mac` capability.
const TUNING: Meta = Meta {
    plugin: "tuning",
    conf: || {
        json!({"type": "tuning", "capabilities": {"mac": true},
               "sysctl": {"net.ipv4.conf.eth0.arp_filter": "1"}})
    },
    capability: Some(("mac", |n| json!(format!("c2:11:22:33:44:{:02x}", 0x55 + n)))),
    disable_check: false,
    verify: |_, b| {
        let arp_filter = b.pod.sysctl("net/ipv4/conf/eth0/arp_filter")?;
        ensure!(
            arp_filter == "1",
            "tuning's sysctl not applied: arp_filter = {arp_filter}"
        );
        let mac = b.pod.link("eth0")?.and_then(|l| l.mac);
        ensure!(
            mac.as_deref() == Some("c2:11:22:33:44:56"),
            "tuning's MAC not applied: {mac:?}"
        );
        Ok(())
    },
};

/// The node's NAT rules, from whichever of iptables and nft holds them.
fn nat_rules(fx: &Fixture) -> Result<String, Failure> {
    let mut text = String::new();
    if let Ok(out) = fx.node.exec(&["iptables-save", "-t", "nat"]) {
        text.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    if let Ok(out) = fx.node.exec(&["nft", "list", "ruleset"]) {
        text.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    Ok(text)
}

/// The host-side veth of a main plugin's result: an interface listed without a sandbox that
/// is a veth in the node (the bridge and a VTEP are listed without one too).
fn host_veth(fx: &Fixture, result: &Value) -> Result<String, Failure> {
    let host_side = result["interfaces"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| {
            i.get("sandbox")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .filter_map(|i| i["name"].as_str());
    for name in host_side {
        if fx
            .node
            .link(name)?
            .is_some_and(|l| l.kind.as_deref() == Some("veth"))
        {
            return Ok(name.to_owned());
        }
    }
    Err(Failure::new(format!(
        "no host-side veth in the result: {result}"
    )))
}
