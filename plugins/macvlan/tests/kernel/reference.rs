//! Drop-in: the Go reference plugin (Debian's containernetworking-plugins in /usr/lib/cni) and
//! ours produce the same result shape for the same config, and each one CHECKs and DELetes
//! what the other made, so a node can switch binaries under running pods.

use std::path::Path;

use cni_sandbox::{Invocation, Ns};

use serde_json::{Value, json};

use crate::common::{Lan, call, call_bin, conf, ip, reaches};

const GO_MACVLAN: &str = "/usr/lib/cni/macvlan";

/// The result with every value replaced by its JSON type: what must match between the two.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => Value::Null,
    }
}

/// The same call, made to the Go plugin.
fn go(cmd: &str, pod: &Ns, id: &str, conf: &Value) -> Invocation {
    call_bin(Path::new(GO_MACVLAN), cmd, pod, id, "eth0", conf)
}

#[test]
fn the_go_plugin_and_ours_are_interchangeable() {
    if !Path::new(GO_MACVLAN).is_file() {
        eprintln!("skipped: {GO_MACVLAN} is not installed");
        return;
    }
    let lan = Lan::new("mv_reference");
    let (_host, _) = lan.host("host", &["10.10.0.100/24"]);
    // The route names its gateway: Debian's Go plugin (v1.1.1) fails its own CHECK on a
    // gateway-less route ("Expected Route ... not found in routing table").
    let routes = json!([{"dst": "10.30.0.0/16", "gw": "10.10.0.1"}]);
    let c = conf(
        "lan",
        "1.0.0",
        json!({"ipam": lan.ipam(json!({"routes": routes}))}),
    );
    let (a, b) = (lan.pod("a"), lan.pod("b"));
    let theirs = lan.run(&go("ADD", &a, "ca", &c)).expect_result();
    let ours = lan.add(&b, "cb", "eth0", &c);
    // Older Go libraries print an empty `"dns": {}` in 1.0.0 results, newer ones omit it
    // (cni-reference.md §1.5); either is valid, so an empty one is left out of the comparison.
    let without_empty_dns = |r: &Value| {
        let mut r = r.clone();
        if let Some(o) = r
            .as_object_mut()
            .filter(|o| o.get("dns") == Some(&json!({})))
        {
            o.remove("dns");
        }
        shape(&r)
    };
    assert_eq!(
        without_empty_dns(&ours),
        without_empty_dns(&theirs),
        "ours: {ours}\ntheirs: {theirs}"
    );
    assert!(reaches(&a, &ip(&ours, 0)), "their pod reaches ours");

    let with_prev = |r: &Value| {
        let mut c = c.clone();
        c["prevResult"] = r.clone();
        c
    };
    lan.run(&call("CHECK", &a, "ca", "eth0", &with_prev(&theirs)))
        .expect_ok();
    lan.run(&go("CHECK", &a, "ca", &with_prev(&theirs)))
        .expect_ok();
    lan.run(&go("CHECK", &b, "cb", &with_prev(&ours)))
        .expect_ok();

    lan.del(&a, "ca", "eth0", &with_prev(&theirs));
    lan.run(&go("DEL", &b, "cb", &with_prev(&ours))).expect_ok();
    assert!(a.link("eth0").unwrap().is_none() && b.link("eth0").unwrap().is_none());
    assert!(lan.reservations("lan").is_empty());
}
