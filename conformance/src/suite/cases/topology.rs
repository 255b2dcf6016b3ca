//! Topologies: the seed articles' scenarios (`shared/seeds/README.md`) and Multus-style
//! secondary interfaces, each a world of namespaces, conflists and pings.
//!
//! A scenario attaches pods through the runtime exactly as a node would and then asserts
//! reachability both ways: what must answer, and what must not (a negative ping is one echo,
//! 1 s). Lists are at 0.3.1, the version most configs in the wild still use.

use std::net::IpAddr;

use cni_sandbox::{Family, Ns, Ping};
use serde_json::{Value, json};

use super::common::ensure_released;
use crate::runner::{NetworkConfigList, Runtime, RuntimeConf};
use crate::suite::case::{Case, CaseResult, Ctx, Failure, Need, ensure};
use crate::suite::fixture::Fixture;
use crate::suite::profiles::{MACVLAN, NetSpec};

const VERSION: &str = "0.3.1";

/// All topology cases.
pub fn cases(out: &mut Vec<Case>) {
    let bridge = || vec![Need::UnderTest("bridge"), Need::UnderTest("host-local")];
    let macvlan = || vec![Need::UnderTest("macvlan"), Need::UnderTest("host-local")];
    out.push(topo(
        "topology/bridge-pods-on-one-node",
        bridge(),
        bridge_pods,
    ));
    out.push(topo(
        "topology/bridge-default-route-leaves-subnet",
        bridge(),
        |c, f| bridge_egress(c, f, true),
    ));
    out.push(topo(
        "topology/bridge-without-default-route-stays-in-subnet",
        bridge(),
        |c, f| bridge_egress(c, f, false),
    ));
    out.push(topo("topology/macvlan-bridge-mode", macvlan(), |c, f| {
        macvlan_mode(c, f, "bridge")
    }));
    out.push(topo("topology/macvlan-private-mode", macvlan(), |c, f| {
        macvlan_mode(c, f, "private")
    }));
    out.push(topo(
        "topology/macvlan-vepa-needs-hairpin",
        macvlan(),
        macvlan_vepa,
    ));
    out.push(topo(
        "topology/macvlan-across-two-nodes",
        macvlan(),
        macvlan_two_nodes,
    ));
    let mut all = bridge();
    all.push(Need::UnderTest("macvlan"));
    out.push(topo(
        "topology/multus-eth0-net1-net2",
        all,
        multus_secondaries,
    ));
    let vxlan = || vec![Need::UnderTest("vxlan"), Need::UnderTest("host-local")];
    out.push(topo("topology/vxlan-two-nodes-unicast", vxlan(), |c, f| {
        vxlan_nodes(c, f, 2, false)
    }));
    out.push(topo(
        "topology/vxlan-three-nodes-unicast",
        vxlan(),
        |c, f| vxlan_nodes(c, f, 3, false),
    ));
    out.push(topo(
        "topology/vxlan-two-nodes-multicast",
        vxlan(),
        |c, f| vxlan_nodes(c, f, 2, true),
    ));
}

fn topo(name: &str, needs: Vec<Need>, body: fn(&Ctx, &Fixture) -> CaseResult) -> Case {
    let label = name.to_owned();
    Case::new(name, needs, move |ctx| {
        Fixture::run(Fixture::new(ctx, &label), |fx| body(ctx, fx))
    })
}

/// host-local over `subnet`, handing out `.start` to `.end` only.
fn ipam(subnet: &str, start: u8, end: u8, data_dir: &std::path::Path) -> Value {
    let base = subnet.trim_end_matches(".0/24");
    json!({"type": "host-local", "dataDir": data_dir, "ranges": [[{
        "subnet": subnet,
        "rangeStart": format!("{base}.{start}"),
        "rangeEnd": format!("{base}.{end}"),
    }]]})
}

fn list(name: &str, plugin: Value) -> Result<NetworkConfigList, Failure> {
    Ok(NetworkConfigList::from_value(
        &json!({"cniVersion": VERSION, "name": name, "plugins": [plugin]}),
    )?)
}

/// A pod attached to one network.
struct Pod {
    ns: Ns,
    rt: RuntimeConf,
    ip: IpAddr,
}

fn add_pod(rt: &Runtime, fx: &Fixture, list: &NetworkConfigList, id: &str) -> Result<Pod, Failure> {
    let ns = fx.netns("pod")?;
    let conf = RuntimeConf::new(id, ns.path(), "eth0");
    add_to(rt, list, ns, conf)
}

fn add_to(
    rt: &Runtime,
    list: &NetworkConfigList,
    ns: Ns,
    conf: RuntimeConf,
) -> Result<Pod, Failure> {
    let result = rt.add(list, &conf)?;
    let ip = super::super::shape::first_ip(&result)
        .ok_or_else(|| Failure::new(format!("no address in {result}")))?;
    Ok(Pod { ns, rt: conf, ip })
}

fn reach(from: &Ns, to: IpAddr, what: &str) -> CaseResult {
    ensure!(from.ping(&to.to_string())?, "{what}: {to} does not answer");
    Ok(())
}

fn no_reach(from: &Ns, to: IpAddr, what: &str) -> CaseResult {
    ensure!(
        !from.ping_with(&to.to_string(), &Ping::once())?,
        "{what}: {to} answers but must not"
    );
    Ok(())
}

fn ip(text: &str) -> Result<IpAddr, Failure> {
    text.parse()
        .map_err(|_| Failure::new(format!("bad address {text}")))
}

/// Seed netns-veth-bridge-basics: pods on one bridge reach each other, the gateway on the
/// bridge, and the node reaches them; after DEL their veths are gone and addresses free.
fn bridge_pods(_: &Ctx, fx: &Fixture) -> CaseResult {
    let spec = NetSpec::of(fx);
    let net = list(
        "podnet",
        json!({"type": "bridge", "bridge": "cnibr0", "isGateway": true, "ipam": spec.ipam()}),
    )?;
    let pods = ["a", "b", "c"]
        .into_iter()
        .map(|id| add_pod(&fx.runtime, fx, &net, id))
        .collect::<Result<Vec<_>, _>>()?;
    let gateway = ip("10.88.0.1")?;
    for p in &pods {
        reach(&p.ns, gateway, "pod to its gateway")?;
        reach(&fx.node, p.ip, "node to pod")?;
        for q in pods.iter().filter(|q| q.ip != p.ip) {
            reach(&p.ns, q.ip, "pod to pod on one bridge")?;
        }
    }
    let ports = fx
        .node
        .bridge_ports()?
        .into_iter()
        .filter(|p| p.master == "cnibr0")
        .count();
    ensure!(ports == 3, "cnibr0 has {ports} ports, 3 pods are attached");
    let common = super::common::Net { spec, list: net };
    for p in &pods {
        fx.runtime.del(&common.list, &p.rt)?;
        ensure_released(fx, &common, p.ip)?;
    }
    Ok(())
}

/// Seed macvlan-bridge-default-route, on a bridge: leaving the subnet needs the default route
/// via the gateway (`isDefaultGateway`); the node forwards to an outside namespace.
fn bridge_egress(_: &Ctx, fx: &Fixture, default_route: bool) -> CaseResult {
    let ext = fx.netns("ext")?;
    fx.world().veth((&fx.node, "up0"), (&ext, "ext0"))?;
    fx.node.add_addr("up0", "10.99.0.1/24")?;
    ext.add_addr("ext0", "10.99.0.2/24")?;
    ext.ip(&["route", "add", "10.88.0.0/24", "via", "10.99.0.1"])?;
    let conf = json!({"type": "bridge", "bridge": "cnibr0", "isGateway": true,
                      "isDefaultGateway": default_route, "ipam": NetSpec::of(fx).ipam()});
    let net = list("podnet", conf)?;
    let pod = add_pod(&fx.runtime, fx, &net, "a")?;
    let routes = pod.ns.routes(Family::V4)?;
    let default = routes.iter().find(|r| r.dst.prefix() == 0);
    let outside = ip("10.99.0.2")?;
    let gateway = ip("10.88.0.1")?;
    if default_route {
        ensure!(
            default.is_some_and(|r| r.gateway == Some(gateway)),
            "no default route via 10.88.0.1 in the pod: {routes:?}"
        );
        reach(&pod.ns, outside, "pod to a network beyond the node")
    } else {
        ensure!(
            default.is_none(),
            "a default route without isDefaultGateway: {routes:?}"
        );
        no_reach(
            &pod.ns,
            outside,
            "pod without a default route to another subnet",
        )
    }
}

/// The LAN beyond a macvlan master: a namespace at `.100` on the master's veth peer.
fn lan(fx: &Fixture) -> Result<(Ns, IpAddr), Failure> {
    let lan = fx.netns("lan")?;
    fx.world().veth((&fx.node, "cnimaster0"), (&lan, "lan0"))?;
    lan.add_addr("lan0", "10.88.0.100/24")?;
    Ok((lan, ip("10.88.0.100")?))
}

fn macvlan_conf(fx: &Fixture, mode: &str, start: u8, end: u8) -> Value {
    json!({"type": "macvlan", "master": "cnimaster0", "mode": mode,
           "ipam": ipam("10.88.0.0/24", start, end, &fx.data_dir())})
}

/// Seed macvlan-modes: bridge mode children on one master talk to each other; private mode
/// children do not; both reach the LAN; the node cannot reach its own children through the
/// master (the kernel never hands a master's frames to its macvlans).
fn macvlan_mode(_: &Ctx, fx: &Fixture, mode: &str) -> CaseResult {
    let (_lan, lan_ip) = lan(fx)?;
    fx.node.add_addr("cnimaster0", "10.88.0.250/24")?;
    let net = list("macnet", macvlan_conf(fx, mode, 2, 50))?;
    let a = add_pod(&fx.runtime, fx, &net, "a")?;
    let b = add_pod(&fx.runtime, fx, &net, "b")?;
    ensure!(
        a.ns.link("eth0")?
            .and_then(|l| l.macvlan().map(|m| m.mode.clone()))
            .as_deref()
            == Some(mode),
        "eth0 is not a {mode} macvlan"
    );
    reach(&a.ns, lan_ip, "macvlan child to the LAN")?;
    reach(&b.ns, lan_ip, "macvlan child to the LAN")?;
    if mode == "private" {
        no_reach(&a.ns, b.ip, "private-mode siblings")?;
    } else {
        reach(&a.ns, b.ip, "bridge-mode siblings")?;
    }
    no_reach(&fx.node, a.ip, "the master's own namespace to its child")
}

/// Seed macvlan-vepa-hairpin-bridge: VEPA children send everything to the wire; they reach
/// each other only when the switch port reflects frames (hairpin).
fn macvlan_vepa(_: &Ctx, fx: &Fixture) -> CaseResult {
    let switch = fx.world().switch("switch")?;
    let plug = switch.plug(&fx.node, "cnimaster0", None)?;
    let net = list("macnet", macvlan_conf(fx, "vepa", 2, 50))?;
    let a = add_pod(&fx.runtime, fx, &net, "a")?;
    let b = add_pod(&fx.runtime, fx, &net, "b")?;
    no_reach(
        &a.ns,
        b.ip,
        "VEPA siblings behind a switch port without hairpin",
    )?;
    switch.set_hairpin(&plug, true)?;
    reach(&a.ns, b.ip, "VEPA siblings behind a hairpin switch port")
}

/// Seed macvlan-bridge-default-route across hosts: two nodes on one switch, each handing out
/// its own slice of the subnet; pods reach pods on the other node.
fn macvlan_two_nodes(ctx: &Ctx, fx: &Fixture) -> CaseResult {
    let switch = fx.world().switch("switch")?;
    let node2 = fx.netns("node2")?;
    switch.plug(&fx.node, "cnimaster0", None)?;
    switch.plug(&node2, "cnimaster0", None)?;
    let rt2 = Runtime::new(
        &node2,
        vec![ctx.plugins.clone()],
        fx.world().tempdir().join("cache2"),
    );
    let net1 = list("macnet", macvlan_conf(fx, "bridge", 10, 19))?;
    let mut conf2 = macvlan_conf(fx, "bridge", 20, 29);
    conf2["ipam"]["dataDir"] = json!(fx.world().tempdir().join("ipam2"));
    let net2 = list("macnet", conf2)?;
    let a = add_pod(&fx.runtime, fx, &net1, "a")?;
    let b = add_pod(&rt2, fx, &net2, "b")?;
    reach(&a.ns, b.ip, "pod to a pod on another node")?;
    reach(&b.ns, a.ip, "pod to a pod on another node")?;
    fx.runtime.del(&net1, &a.rt)?;
    rt2.del(&net2, &b.rt)?;
    Ok(())
}

/// Seed vxlan-multicast-unicast-proxy: nodes on one underlay switch, a pod on each, one VXLAN
/// segment over them: peers from `remotes` (head-end replication; every node gets the same
/// list and skips itself) or from a multicast `group`. Every pod reaches every other pod and
/// runs at the underlay MTU minus the 50-byte VXLAN overhead; the last DEL on a node removes
/// its VTEP.
fn vxlan_nodes(ctx: &Ctx, fx: &Fixture, count: u8, multicast: bool) -> CaseResult {
    let switch = fx.world().switch("switch")?;
    let remotes: Vec<String> = (1..=count).map(|n| format!("192.168.50.{n}")).collect();
    let mut nodes = Vec::new();
    for n in 1..=count {
        let node = fx.netns(&format!("node{n}"))?;
        switch.plug(&node, "under0", Some(&format!("192.168.50.{n}/24")))?;
        let dir = fx.world().tempdir().join(format!("node{n}"));
        let rt = Runtime::new(&node, vec![ctx.plugins.clone()], dir.join("cache"));
        let start = 10 * n;
        let mut conf = json!({"type": "vxlan", "vni": 42, "dev": "under0", "isGateway": true,
                              "ipam": ipam("10.88.0.0/24", start, start + 9, &dir.join("ipam"))});
        if multicast {
            conf["group"] = json!("239.1.1.42");
        } else {
            conf["remotes"] = json!(remotes);
        }
        let net = list("vxnet", conf)?;
        let pod = add_pod(&rt, fx, &net, &format!("pod{n}"))?;
        nodes.push((node, rt, net, pod));
    }
    for (_, _, _, from) in &nodes {
        let mtu = from.ns.link("eth0")?.map(|l| l.mtu);
        ensure!(
            mtu == Some(1450),
            "pod MTU {mtu:?}, the underlay's 1500 minus 50 is due"
        );
        for (_, _, _, to) in nodes.iter().filter(|(_, _, _, p)| p.ip != from.ip) {
            reach(&from.ns, to.ip, "pod to a pod on another node over vxlan")?;
        }
    }
    for (node, rt, net, pod) in &nodes {
        rt.del(net, &pod.rt)?;
        ensure!(
            node.link("vxlan42")?.is_none(),
            "the VTEP outlived the last pod on its node"
        );
    }
    Ok(())
}

/// Multus: a pod's cluster network on `eth0` (bridge, default route) and two secondaries,
/// `net1` on macvlan and `net2` on a second bridge, each its own network and subnet, added
/// with Multus's CNI_ARGS. Pods reach each other on all three; only eth0 carries the default
/// route; DEL of each frees its address.
fn multus_secondaries(_: &Ctx, fx: &Fixture) -> CaseResult {
    (MACVLAN.prepare)(fx)?;
    let data = fx.data_dir();
    let nets = [
        (
            "eth0",
            list(
                "podnet",
                json!({"type": "bridge", "bridge": "cnibr0", "isDefaultGateway": true,
                                       "ipam": ipam("10.88.0.0/24", 2, 50, &data)}),
            )?,
        ),
        (
            "net1",
            list(
                "macnet",
                json!({"type": "macvlan", "master": "cnimaster0",
                                       "ipam": ipam("10.89.0.0/24", 2, 50, &data)}),
            )?,
        ),
        (
            "net2",
            list(
                "brnet2",
                json!({"type": "bridge", "bridge": "cnibr1",
                                       "ipam": ipam("10.90.0.0/24", 2, 50, &data)}),
            )?,
        ),
    ];
    let mut pods = Vec::new();
    for id in ["a", "b"] {
        let ns = fx.netns("pod")?;
        let mut attached = Vec::new();
        for (ifname, net) in &nets {
            let base = RuntimeConf::new(id, ns.path(), ifname).kubernetes("default", id, "uid");
            let conf = if *ifname == "eth0" {
                base
            } else {
                base.through_multus()
            };
            attached.push(add_to(&fx.runtime, net, ns.clone(), conf)?);
        }
        pods.push(attached);
    }
    for (i, (ifname, _)) in nets.iter().enumerate() {
        reach(
            &pods[0][i].ns,
            pods[1][i].ip,
            &format!("pod to pod over {ifname}"),
        )?;
    }
    let routes = pods[0][0].ns.routes(Family::V4)?;
    let defaults: Vec<_> = routes.iter().filter(|r| r.dst.prefix() == 0).collect();
    ensure!(
        defaults.len() == 1 && defaults[0].dev.as_deref() == Some("eth0"),
        "the default route must be on eth0 only: {defaults:?}"
    );
    for attached in &pods {
        for (i, (_, net)) in nets.iter().enumerate().rev() {
            fx.runtime.del(net, &attached[i].rt)?;
        }
    }
    for (i, (_, net)) in nets.iter().enumerate() {
        let probe = super::common::Net {
            spec: NetSpec::of(fx),
            list: net.clone(),
        };
        ensure_released(fx, &probe, pods[0][i].ip)?;
    }
    Ok(())
}
