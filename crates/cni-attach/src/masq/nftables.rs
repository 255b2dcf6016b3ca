//! The nftables masquerade backend, rule for rule what the reference's knftables code makes:
//!
//! ```text
//! table inet cni_plugins_masquerade {
//!   chain masq_checks {
//!     ip saddr 10.1.0.5 ip daddr != 10.1.0.0/24 masquerade comment "<h(net)>-<h(if:id)>, net: ..., if: ..., id: ..."
//!   }
//!   chain postrouting {
//!     type nat hook postrouting priority srcnat; policy accept;
//!     ip daddr 224.0.0.0/4 return
//!     ip6 daddr ff00::/8 return
//!     goto masq_checks
//!   }
//! }
//! ```
//!
//! `h` is 16 hex digits of SHA-512 (`crate::hash`). The comment's hash prefix identifies the
//! attachment (teardown) and the network (GC), so neither needs addresses or a namespace.

use cni_spec::Attachment;
use ipnetwork::IpNetwork;
use serde_json::{Value, json};

use super::MasqOwner;
use crate::error::{Error, Result};
use crate::hash::hash_with_prefix;
use crate::nft::{self, Rule, command};

const FAMILY: &str = "inet";
const TABLE: &str = "cni_plugins_masquerade";
const CHAIN: &str = "masq_checks";
const POSTROUTING: &str = "postrouting";
/// `srcnat` priority.
const SRCNAT: i32 = 100;

fn network_hash(network: &str) -> String {
    hash_with_prefix(16, "", network)
}

fn instance_hash(owner: &MasqOwner) -> String {
    let instance = format!("{}:{}", owner.ifname, owner.container_id);
    format!(
        "{}-{}",
        network_hash(owner.network),
        hash_with_prefix(16, "", &instance)
    )
}

/// The reference's rule comment: the instance hash, then a readable (possibly cut) label.
pub(super) fn comment(owner: &MasqOwner) -> String {
    let clean = |s: &str| s.replace('"', "");
    nft::clip_comment(format!(
        "{}, net: {}, if: {}, id: {}",
        instance_hash(owner),
        clean(owner.network),
        clean(owner.ifname),
        clean(owner.container_id)
    ))
}

fn obj(extra: Value) -> Value {
    let mut base = json!({"family": FAMILY, "table": TABLE});
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    base
}

fn rule(chain: &str, expr: Value, comment: Option<String>) -> Value {
    let mut r = obj(json!({"chain": chain, "expr": expr}));
    if let (Some(c), Some(o)) = (comment, r.as_object_mut()) {
        o.insert("comment".into(), Value::from(c));
    }
    command("add", "rule", r)
}

fn payload(proto: &str, field: &str) -> Value {
    json!({"payload": {"protocol": proto, "field": field}})
}

fn prefix(net: IpNetwork) -> Value {
    json!({"prefix": {"addr": net.network().to_string(), "len": net.prefix()}})
}

/// Table, chains and the fixed `postrouting` rules; `postrouting` is flushed and refilled
/// every time, so it always holds exactly these three rules whoever wrote it last.
fn skeleton() -> Vec<Value> {
    let ret = |proto: &str, addr: &str, len: u8| {
        let net = json!({"prefix": {"addr": addr, "len": len}});
        let m = json!({"match": {"op": "==", "left": payload(proto, "daddr"), "right": net}});
        rule(POSTROUTING, json!([m, {"return": null}]), None)
    };
    vec![
        command(
            "add",
            "table",
            json!({"family": FAMILY, "name": TABLE,
                   "comment": "Masquerading for plugins from github.com/containernetworking/plugins"}),
        ),
        command(
            "add",
            "chain",
            obj(json!({"name": CHAIN,
            "comment": "Masquerade traffic from certain IPs to any (non-multicast) IP outside their subnet"})),
        ),
        command(
            "add",
            "chain",
            obj(json!({"name": POSTROUTING, "type": "nat", "hook": "postrouting", "prio": SRCNAT})),
        ),
        command("flush", "chain", obj(json!({"name": POSTROUTING}))),
        ret("ip", "224.0.0.0", 4),
        ret("ip6", "ff00::", 8),
        rule(POSTROUTING, json!([{"goto": {"target": CHAIN}}]), None),
    ]
}

fn masquerade_rule(address: IpNetwork, comment: &str) -> Value {
    let proto = if address.is_ipv4() { "ip" } else { "ip6" };
    let expr = json!([
        {"match": {"op": "==", "left": payload(proto, "saddr"), "right": address.ip().to_string()}},
        {"match": {"op": "!=", "left": payload(proto, "daddr"), "right": prefix(address)}},
        {"masquerade": null}
    ]);
    rule(CHAIN, expr, Some(comment.to_owned()))
}

fn rules_with_prefix(rules: &[Rule], prefix: &str) -> Vec<Rule> {
    rules
        .iter()
        .filter(|r| r.comment.as_deref().is_some_and(|c| c.starts_with(prefix)))
        .cloned()
        .collect()
}

fn current_rules() -> Result<Vec<Rule>> {
    Ok(nft::list_chain(FAMILY, TABLE, CHAIN)?.unwrap_or_default())
}

pub(super) fn setup(owner: &MasqOwner, addresses: &[IpNetwork]) -> Result<()> {
    let stale = rules_with_prefix(&current_rules()?, &instance_hash(owner));
    let stale: Vec<&Rule> = stale.iter().collect();
    let mut batch = skeleton();
    batch.extend(nft::delete_rules(FAMILY, TABLE, &stale));
    let comment = comment(owner);
    batch.extend(addresses.iter().map(|a| masquerade_rule(*a, &comment)));
    nft::apply(batch, "add masquerade rules")
}

pub(super) fn teardown(owner: &MasqOwner) -> Result<()> {
    let ours = rules_with_prefix(&current_rules()?, &instance_hash(owner));
    let ours: Vec<&Rule> = ours.iter().collect();
    nft::apply(
        nft::delete_rules(FAMILY, TABLE, &ours),
        "delete masquerade rules",
    )
}

pub(super) fn check(owner: &MasqOwner, addresses: &[IpNetwork]) -> Result<()> {
    let ours = rules_with_prefix(&current_rules()?, &instance_hash(owner));
    for address in addresses {
        let source = address.ip().to_string();
        let found = ours.iter().any(|r| {
            r.expr
                .as_array()
                .and_then(|e| e.first())
                .and_then(|m| m.pointer("/match/right"))
                .and_then(Value::as_str)
                == Some(source.as_str())
        });
        if !found {
            return Err(Error::Check(format!(
                "masquerade rule for {address} ({}) not found in nftables table {FAMILY} {TABLE}",
                owner.container_id
            )));
        }
    }
    Ok(())
}

pub(super) fn gc(network: &str, valid: &[Attachment]) -> Result<()> {
    let of_network = rules_with_prefix(&current_rules()?, &network_hash(network));
    let keep: Vec<String> = valid
        .iter()
        .map(|a| {
            comment(&MasqOwner {
                network,
                ifname: &a.ifname,
                container_id: &a.container_id,
            })
        })
        .collect();
    let stale: Vec<&Rule> = of_network
        .iter()
        .filter(|r| !r.comment.as_ref().is_some_and(|c| keep.contains(c)))
        .collect();
    nft::apply(
        nft::delete_rules(FAMILY, TABLE, &stale),
        "delete stale masquerade rules",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_has_the_reference_shape() {
        let owner = MasqOwner {
            network: "mynet",
            ifname: "eth0",
            container_id: "ctr1",
        };
        let c = comment(&owner);
        let (hash, label) = c.split_once(", ").unwrap();
        assert_eq!(label, "net: mynet, if: eth0, id: ctr1");
        let (net, inst) = hash.split_once('-').unwrap();
        assert_eq!(net, hash_with_prefix(16, "", "mynet"));
        assert_eq!(inst, hash_with_prefix(16, "", "eth0:ctr1"));
        let long = MasqOwner {
            container_id: &"a".repeat(200),
            ..owner
        };
        assert_eq!(comment(&long).len(), 128);
    }

    #[test]
    fn masquerade_rule_matches_source_and_excludes_subnet() {
        let r = masquerade_rule("10.1.2.7/24".parse().unwrap(), "c");
        let rule = &r["add"]["rule"];
        assert_eq!(rule["chain"], "masq_checks");
        assert_eq!(rule["expr"][0]["match"]["right"], "10.1.2.7");
        assert_eq!(rule["expr"][1]["match"]["op"], "!=");
        assert_eq!(
            rule["expr"][1]["match"]["right"]["prefix"]["addr"],
            "10.1.2.0"
        );
        assert_eq!(rule["expr"][1]["match"]["right"]["prefix"]["len"], 24);
        let r6 = masquerade_rule("fd00::7/64".parse().unwrap(), "c");
        assert_eq!(
            r6["add"]["rule"]["expr"][0]["match"]["left"]["payload"]["protocol"],
            "ip6"
        );
    }
}
