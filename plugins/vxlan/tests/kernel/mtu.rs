//! MTU: the VTEP, the bridge and both veth ends get the underlay's MTU minus the encapsulation,
//! and a don't-fragment ping of exactly that size crosses nodes while one byte more does not.

use cni_sandbox::Ping;
use serde_json::json;

use crate::common::*;

/// `(VTEP, bridge, host veth, pod eth0)` MTUs on node `n` for the pod in `result`.
fn mtus(c: &Cluster, n: usize, result: &serde_json::Value, pod: &cni_sandbox::Ns) -> [u32; 4] {
    let ns = &c.node(n).ns;
    let host = result["interfaces"][2]["name"].as_str().unwrap();
    [
        vtep(ns).0.mtu,
        ns.link(BRIDGE).unwrap().unwrap().mtu,
        ns.link(host).unwrap().unwrap().mtu,
        pod.link("eth0").unwrap().unwrap().mtu,
    ]
}

/// ICMP payload that makes an IPv4 packet of exactly `mtu` bytes.
fn payload(mtu: u32) -> u32 {
    mtu - 20 - 8
}

#[test]
fn mtu_is_the_underlays_minus_50_and_df_pings_fit_exactly() {
    let c = Cluster::new("vxlan-mtu", 2);
    let extra = json!({"remotes": c.underlays()});
    let (p1, p2) = (c.pod("pod1"), c.pod("pod2"));
    let r1 = c.add(1, &c.conf(1, extra.clone()), &p1, "c1");
    let r2 = c.add(2, &c.conf(2, extra.clone()), &p2, "c2");
    assert_eq!(mtus(&c, 1, &r1, &p1), [1450; 4]);
    assert_eq!(mtus(&c, 2, &r2, &p2), [1450; 4]);
    assert_eq!(r1["interfaces"][3]["mtu"], 1450, "1.1.0 reports it: {r1}");

    let to = ip_of(&r2);
    assert!(p1.ping_with(&to, &Ping::sized_df(payload(1450))).unwrap());
    assert!(
        !p1.ping_with(
            &to,
            &Ping {
                attempts: 1,
                ..Ping::sized_df(payload(1451))
            }
        )
        .unwrap()
    );

    // An explicit `mtu` is used as given when it fits, and refused when it does not.
    let small = c.conf(1, json!({"remotes": c.underlays(), "mtu": 1400}));
    let p3 = c.pod("pod3");
    let r3 = c.add(1, &small, &p3, "c3");
    assert_eq!(mtus(&c, 1, &r3, &p3), [1400; 4]);
    let big = c.conf(1, json!({"remotes": c.underlays(), "mtu": 1451}));
    let p4 = c.pod("pod4");
    let err = c
        .run(1, &c.inv("ADD", &big, Some(&p4), "c4", "eth0"))
        .expect_err(7);
    assert_eq!(
        err["msg"],
        "mtu 1451 is too large for underlay \"eth0\" (MTU 1500): at most 1450 fits with the \
         50-byte VXLAN encapsulation"
    );
}

#[test]
fn an_ipv6_underlay_costs_70_bytes() {
    let c = Cluster::new_v6("vxlan-mtu6", 2);
    let extra = json!({"remotes": c.underlays()});
    let (p1, p2) = (c.pod("pod1"), c.pod("pod2"));
    let r1 = c.add(1, &c.conf(1, extra.clone()), &p1, "c1");
    let r2 = c.add(2, &c.conf(2, extra), &p2, "c2");
    assert_eq!(mtus(&c, 1, &r1, &p1), [1430; 4]);
    let (_, info) = vtep(&c.node(1).ns);
    assert_eq!(
        info.local.map(|l| l.to_string()).as_deref(),
        Some("fd00:200::1")
    );
    assert_eq!(flood_remotes(&c.node(1).ns), ["fd00:200::2"]);
    let to = ip_of(&r2);
    assert!(p1.ping_with(&to, &Ping::sized_df(payload(1430))).unwrap());
    assert!(
        !p1.ping_with(
            &to,
            &Ping {
                attempts: 1,
                ..Ping::sized_df(payload(1431))
            }
        )
        .unwrap()
    );
}
