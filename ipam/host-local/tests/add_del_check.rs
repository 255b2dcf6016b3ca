//! ADD, DEL and CHECK end to end: the built binary, real files, the reference's expectations.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use serde_json::json;

fn dual_stack(data: &DataDir, version: &str) -> serde_json::Value {
    conf(
        version,
        data,
        json!({
            "ranges": [
                [{ "subnet": "10.1.2.0/24" }, { "subnet": "10.2.2.0/24" }],
                [{ "subnet": "2001:db8:1::/64" }]
            ],
            "routes": [{ "dst": "0.0.0.0/0" }, { "dst": "::/0" }]
        }),
    )
}

#[test]
fn add_matches_the_reference_example_and_store_format() {
    // host_local_test.go: ranges [[10.1.2.0/24, 10.2.2.0/24], [2001:db8:1::/64]].
    let data = DataDir::new("add");
    let c = dual_stack(&data, "1.1.0");
    let result = Call::new(OURS, "ADD", "dummy", &c).ok();
    assert_eq!(
        result,
        json!({
            "cniVersion": "1.1.0",
            "ips": [
                { "address": "10.1.2.2/24", "gateway": "10.1.2.1" },
                { "address": "2001:db8:1::2/64", "gateway": "2001:db8:1::1" }
            ],
            "routes": [{ "dst": "0.0.0.0/0" }, { "dst": "::/0" }]
        })
    );
    let dir = data.net("net");
    assert_eq!(content(&dir, "10.1.2.2"), "dummy\r\neth0");
    assert_eq!(content(&dir, "2001:db8:1::2"), "dummy\r\neth0");
    assert_eq!(content(&dir, "last_reserved_ip.0"), "10.1.2.2");
    assert_eq!(content(&dir, "last_reserved_ip.1"), "2001:db8:1::2");
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name))
            .expect("stat")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("10.1.2.2"), 0o600);
    assert_eq!(mode("."), 0o700);
    assert_eq!(boot_stamp(&dir.join("10.1.2.2")), Some(this_boot()));

    Call::new(OURS, "DEL", "dummy", &c).ok();
    assert!(reserved(&dir).is_empty());
    assert_eq!(
        names(&dir),
        ["last_reserved_ip.0", "last_reserved_ip.1", "lock"]
            .map(String::from)
            .into()
    );
}

#[test]
fn result_is_printed_in_the_config_version() {
    let data = DataDir::new("versions");
    let v031 = Call::new(OURS, "ADD", "a", &dual_stack(&data, "0.3.1")).ok();
    assert_eq!(v031["cniVersion"], "0.3.1");
    assert_eq!(v031["ips"][0]["version"], "4");
    assert_eq!(v031["ips"][1]["version"], "6");
    assert_eq!(v031["dns"], json!({}));
    let v020 = Call::new(OURS, "ADD", "b", &dual_stack(&data, "0.2.0")).ok();
    assert_eq!(v020["ip4"]["ip"], "10.1.2.3/24");
    assert_eq!(v020["ip6"]["ip"], "2001:db8:1::3/64");
}

#[test]
fn round_robin_does_not_reuse_a_released_address_at_once() {
    let data = DataDir::new("rr");
    let c = conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/29" }));
    let a = result_ips(&Call::new(OURS, "ADD", "a", &c).ok());
    Call::new(OURS, "DEL", "a", &c).ok();
    let b = result_ips(&Call::new(OURS, "ADD", "b", &c).ok());
    assert_eq!((a[0].as_str(), b[0].as_str()), ("10.1.2.2", "10.1.2.3"));
    // Fill .4 .. .6, then the walk wraps to the freed .2.
    for id in ["c", "d", "e"] {
        Call::new(OURS, "ADD", id, &c).ok();
    }
    assert_eq!(
        result_ips(&Call::new(OURS, "ADD", "f", &c).ok()),
        ["10.1.2.2"]
    );
    // Full: the reference's text, naming the set.
    assert_eq!(
        Call::new(OURS, "ADD", "g", &c).err(),
        (999, "failed to allocate for range 0: no IP addresses available in range set: 10.1.2.1-10.1.2.6".into())
    );
}

#[test]
fn per_interface_allocation_and_duplicate_refusal() {
    let data = DataDir::new("ifname");
    let c = conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" }));
    assert_eq!(
        result_ips(&Call::new(OURS, "ADD", "ctr", &c).ok()),
        ["10.1.2.2"]
    );
    assert_eq!(
        result_ips(&Call::new(OURS, "ADD", "ctr", &c).ifname("net1").ok()),
        ["10.1.2.3"]
    );
    assert_eq!(
        Call::new(OURS, "ADD", "ctr", &c).err(),
        (999, "failed to allocate for range 0: 10.1.2.2 has been allocated to ctr, duplicate allocation is not allowed".into())
    );
    // DEL of one interface leaves the other.
    Call::new(OURS, "DEL", "ctr", &c).ifname("net1").ok();
    assert_eq!(reserved(&data.net("net")), ["10.1.2.2".to_owned()].into());
}

#[test]
fn requested_addresses_from_all_sources() {
    let data = DataDir::new("req");
    let mut c = conf(
        "1.0.0",
        &data,
        json!({ "ranges": [[{ "subnet": "10.1.0.0/16" }], [{ "subnet": "2001:db8::/64" }]] }),
    );
    c["args"] = json!({ "cni": { "ips": ["2001:db8::77"] } });
    let got = Call::new(OURS, "ADD", "a", &c)
        .args("IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.1.7.7/16")
        .ok();
    assert_eq!(result_ips(&got), ["10.1.7.7", "2001:db8::77"]);
    let mut c2 = conf("1.0.0", &data, json!({ "subnet": "10.1.0.0/16" }));
    c2["runtimeConfig"] = json!({ "ips": ["10.1.8.8/16"] });
    assert_eq!(
        result_ips(&Call::new(OURS, "ADD", "b", &c2).ok()),
        ["10.1.8.8"]
    );
    // Taken, gateway, outside every set: the whole ADD fails and reserves nothing.
    let before = reserved(&data.net("net"));
    assert_eq!(
        Call::new(OURS, "ADD", "c", &c2).err().1,
        "failed to allocate for range 0: requested IP address 10.1.8.8 is not available in range set 10.1.0.1-10.1.255.254"
    );
    let c3 = conf("1.0.0", &data, json!({ "subnet": "10.1.0.0/16" }));
    assert_eq!(
        Call::new(OURS, "ADD", "c", &c3).args("IP=10.1.0.1").err().1,
        "failed to allocate for range 0: requested ip 10.1.0.1 is subnet's gateway"
    );
    let mut two = conf(
        "1.0.0",
        &data,
        json!({ "ranges": [[{ "subnet": "10.1.0.0/16" }], [{ "subnet": "2001:db8::/64" }]] }),
    );
    two["args"] = json!({ "cni": { "ips": ["10.1.9.9", "10.1.9.10", "10.99.0.1"] } });
    assert_eq!(
        Call::new(OURS, "ADD", "c", &two).err().1,
        "failed to allocate all requested IPs: 10.1.9.10 10.99.0.1"
    );
    // A later set failing undoes the earlier set's reservation.
    let mut undo = conf(
        "1.0.0",
        &data,
        json!({ "ranges": [[{ "subnet": "10.1.0.0/16" }], [{ "subnet": "2001:db8::/64" }]] }),
    );
    undo["args"] = json!({ "cni": { "ips": ["10.1.9.9", "2001:db8::77"] } });
    assert!(Call::new(OURS, "ADD", "c", &undo).err().1.starts_with(
        "failed to allocate for range 1: requested IP address 2001:db8::77 is not available"
    ));
    assert_eq!(reserved(&data.net("net")), before);
}

#[test]
fn resolv_conf_becomes_dns() {
    let data = DataDir::new("dns");
    let file = data.path().join("resolv.conf");
    std::fs::write(
        &file,
        "nameserver 10.0.0.10\nsearch a.svc b.svc\noptions ndots:5\ndomain c.local\n",
    )
    .expect("write");
    let c = conf(
        "1.0.0",
        &data,
        json!({ "subnet": "10.1.0.0/16", "resolvConf": file.to_string_lossy() }),
    );
    let got = Call::new(OURS, "ADD", "a", &c).ok();
    assert_eq!(
        got["dns"],
        json!({ "nameservers": ["10.0.0.10"], "domain": "c.local", "search": ["a.svc", "b.svc"], "options": ["ndots:5"] })
    );
}

#[test]
fn del_rules() {
    let data = DataDir::new("del");
    let c = conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" }));
    // Unknown container: success.
    Call::new(OURS, "DEL", "nobody", &c).ok();
    // No netns needed: libcni sends CNI_NETNS= when the namespace is gone.
    Call::new(OURS, "ADD", "gone", &c).ok();
    Call::new(OURS, "DEL", "gone", &c).netns("").ok();
    Call::new(OURS, "ADD", "a", &c).ok();
    let dir = data.net("net");
    // A legacy (ID-only) file of another container is released by its DEL.
    std::fs::write(dir.join("10.1.2.50"), "legacy").expect("write");
    std::fs::write(dir.join("10.1.2.51"), "  spaced\r\neth0\n").expect("write");
    Call::new(OURS, "DEL", "legacy", &c).ok();
    Call::new(OURS, "DEL", "spaced", &c).ok();
    assert_eq!(reserved(&dir), ["10.1.2.3".to_owned()].into());
    Call::new(OURS, "DEL", "a", &c).ok();
    Call::new(OURS, "DEL", "a", &c).ok();
    assert!(reserved(&dir).is_empty());
    // DEL still works when the ranges were edited into something invalid.
    Call::new(OURS, "ADD", "b", &c).ok();
    let broken = conf("1.0.0", &data, json!({ "subnet": "10.1.2.7/24" }));
    Call::new(OURS, "DEL", "b", &broken).ok();
    assert!(reserved(&dir).is_empty());
}

#[test]
fn check_rules() {
    let data = DataDir::new("check");
    let c = conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" }));
    let result = Call::new(OURS, "ADD", "a", &c).ok();
    let mut with_prev = c.clone();
    with_prev["prevResult"] = result;
    assert_eq!(Call::new(OURS, "CHECK", "a", &with_prev).run().stdout, "");
    Call::new(OURS, "CHECK", "a", &c).ok();
    assert_eq!(
        Call::new(OURS, "CHECK", "zzz", &c).err(),
        (
            999,
            "host-local: Failed to find address added by container zzz".into()
        )
    );
    // prevResult claims an address of our range that this attachment does not hold.
    with_prev["prevResult"]["ips"][0]["address"] = json!("10.1.2.77/24");
    assert_eq!(
        Call::new(OURS, "CHECK", "a", &with_prev).err().1,
        "host-local: address 10.1.2.77 in prevResult is not reserved by container a interface eth0"
    );
    // Addresses outside our ranges are someone else's.
    with_prev["prevResult"]["ips"][0]["address"] = json!("192.168.0.5/24");
    Call::new(OURS, "CHECK", "a", &with_prev).ok();
    // CHECK does not exist before 0.4.0.
    let old = conf("0.3.1", &data, json!({ "subnet": "10.1.2.0/24" }));
    assert_eq!(Call::new(OURS, "CHECK", "a", &old).err().0, 1);
}

#[test]
fn config_error_texts_match_the_reference() {
    // Each config fails in both plugins with the same message (codes differ: the reference
    // wraps everything in 999, we use 7 for config errors).
    let data = DataDir::new("errtexts");
    let cases = [
        (json!({ "cniVersion": "1.0.0", "name": "net" }), ""),
        (conf("1.0.0", &data, json!({})), ""),
        (conf("1.0.0", &data, json!({ "ranges": [[]] })), ""),
        (
            conf(
                "1.0.0",
                &data,
                json!({ "ranges": [[{ "gateway": "10.0.0.1" }]] }),
            ),
            "",
        ),
        (conf("1.0.0", &data, json!({ "subnet": "10.1.2.5/24" })), ""),
        (conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/31" })), ""),
        (conf("1.0.0", &data, json!({ "subnet": "foo" })), ""),
        (
            conf(
                "1.0.0",
                &data,
                json!({ "subnet": "10.1.2.0/24", "gateway": "bar" }),
            ),
            "",
        ),
        (
            conf(
                "1.0.0",
                &data,
                json!({ "subnet": "10.1.2.0/24", "rangeStart": "10.1.3.4" }),
            ),
            "",
        ),
        (
            conf(
                "1.0.0",
                &data,
                json!({ "subnet": "10.1.2.0/24", "rangeEnd": "10.1.3.4" }),
            ),
            "",
        ),
        (
            conf(
                "1.0.0",
                &data,
                json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }, { "subnet": "10.1.2.0/25" }]] }),
            ),
            "",
        ),
        (
            conf(
                "1.0.0",
                &data,
                json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }, { "subnet": "fd00::/64" }]] }),
            ),
            "",
        ),
        (
            conf(
                "1.0.0",
                &data,
                json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }], [{ "subnet": "10.1.2.0/25" }]] }),
            ),
            "",
        ),
        (
            conf(
                "0.2.0",
                &data,
                json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }], [{ "subnet": "10.1.3.0/24" }]] }),
            ),
            "",
        ),
        (
            conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" })),
            "IP=10.9.9.9",
        ),
        (
            conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" })),
            "IP=10.1.2.1",
        ),
        (
            conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" })),
            "IP=foo",
        ),
        (
            conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" })),
            "FOO=1",
        ),
    ];
    for (i, (c, args)) in cases.iter().enumerate() {
        let id = format!("e{i}");
        let theirs = Call::new(REFERENCE, "ADD", &id, c).args(args).err().1;
        let ours = Call::new(OURS, "ADD", &id, c).args(args).err().1;
        assert_eq!(ours, theirs, "case {i}: {c} {args}");
    }
}

#[test]
fn runtime_ip_ranges_are_prepended() {
    let data = DataDir::new("iprange");
    let mut c = conf(
        "1.0.0",
        &data,
        json!({ "ranges": [[{ "subnet": "fd00::/64" }]] }),
    );
    c["runtimeConfig"] =
        json!({ "ipRanges": [[{ "subnet": "10.1.9.0/24", "rangeStart": "10.1.9.100" }]] });
    let got = Call::new(OURS, "ADD", "a", &c).ok();
    assert_eq!(result_ips(&got), ["10.1.9.100", "fd00::2"]);
    // The cursor of set 0 is the runtime range's.
    assert_eq!(
        content(&data.net("net"), "last_reserved_ip.0"),
        "10.1.9.100"
    );
}

#[test]
fn names_never_escape_the_data_directory() {
    let data = DataDir::new("escape");
    let mut c = conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" }));
    c["name"] = json!("../escaped");
    let (code, _) = Call::new(OURS, "ADD", "a", &c).err();
    assert_eq!(code, 7);
    c["name"] = json!("net");
    let (code, _) = Call::new(OURS, "ADD", "../../etc/x", &c).err();
    assert_eq!(code, 4);
    // Nothing was created anywhere but (at most) the data directory itself.
    assert!(names(data.path()).is_empty());
    assert!(
        !data
            .path()
            .parent()
            .expect("parent")
            .join("escaped")
            .exists()
    );
}
