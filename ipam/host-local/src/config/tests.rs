//! Config merging and validation, with the reference's expectations and error texts.

use std::net::IpAddr;

use cni_spec::{CniArgs, NetConf};
use serde_json::{Value, json};

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

fn load_with(conf: Value, args: &str) -> Result<IpamConfig, String> {
    let conf = NetConf::from_value(conf).map_err(|e| e.msg)?;
    let args = CniArgs::parse(args).map_err(|e| e.msg)?;
    IpamConfig::load(&conf, &args).map_err(|e| e.to_string())
}

fn load(conf: Value) -> Result<IpamConfig, String> {
    load_with(conf, "")
}

fn net(ipam: Value) -> Value {
    json!({ "cniVersion": "1.0.0", "name": "mynet", "type": "bridge", "ipam": ipam })
}

fn sets(conf: &IpamConfig) -> Vec<String> {
    conf.sets.iter().map(ToString::to_string).collect()
}

#[test]
fn reference_ranges_example_dual_stack() {
    let conf = load(net(json!({
        "type": "host-local",
        "ranges": [
            [{ "subnet": "10.1.2.0/24" }, { "subnet": "10.2.2.0/24" }],
            [{ "subnet": "2001:db8:1::/64" }]
        ],
        "dataDir": "/tmp/x",
        "routes": [{ "dst": "0.0.0.0/0" }, { "dst": "10.0.0.0/8", "gw": "10.1.2.9" }],
        "resolvConf": "/etc/resolv.conf"
    })))
    .expect("valid");
    assert_eq!(
        sets(&conf),
        [
            "10.1.2.1-10.1.2.254,10.2.2.1-10.2.2.254",
            "2001:db8:1::1-2001:db8:1:0:ffff:ffff:ffff:ffff"
        ]
    );
    assert_eq!(conf.store.data_dir, PathBuf::from("/tmp/x"));
    assert_eq!(conf.store.network, "mynet");
    assert_eq!(conf.routes.len(), 2);
    assert_eq!(conf.routes[1].gw, Some(ip("10.1.2.9")));
    assert_eq!(conf.resolv_conf, Some(PathBuf::from("/etc/resolv.conf")));
    assert_eq!(conf.version, SpecVersion::V1_0_0);
}

#[test]
fn defaults_data_dir_and_no_routes() {
    let conf = load(net(
        json!({ "type": "host-local", "subnet": "10.1.2.0/24" }),
    ))
    .expect("valid");
    assert_eq!(conf.store.data_dir, PathBuf::from("/var/lib/cni/networks"));
    assert!(conf.routes.is_empty());
    assert_eq!(conf.resolv_conf, None);
    let conf = load(net(
        json!({ "type": "host-local", "subnet": "10.1.2.0/24", "dataDir": "" }),
    ))
    .expect("valid");
    assert_eq!(conf.store.data_dir, PathBuf::from("/var/lib/cni/networks"));
}

#[test]
fn merge_order_runtime_then_legacy_then_ranges() {
    let mut conf = net(json!({
        "type": "host-local",
        "subnet": "10.1.0.0/16", "rangeStart": "10.1.5.1", "rangeEnd": "10.1.5.9", "gateway": "10.1.0.254",
        "ranges": [[{ "subnet": "10.2.0.0/16" }]]
    }));
    conf["runtimeConfig"] = json!({ "ipRanges": [[{ "subnet": "10.3.0.0/16" }]] });
    let conf = load(conf).expect("valid");
    assert_eq!(
        sets(&conf),
        [
            "10.3.0.1-10.3.255.254",
            "10.1.5.1-10.1.5.9",
            "10.2.0.1-10.2.255.254"
        ]
    );
    assert_eq!(conf.sets[1].ranges()[0].gateway(), ip("10.1.0.254"));
}

#[test]
fn keys_match_case_insensitively_like_go() {
    let conf = load(json!({
        "cniVersion": "0.3.1", "name": "n",
        "IPAM": { "Type": "host-local", "SUBNET": "10.8.0.0/24", "DataDir": "/tmp/y",
                  "Ranges": [[{ "Subnet": "10.9.0.0/24", "RANGESTART": "10.9.0.5" }]] }
    }))
    .expect("valid");
    assert_eq!(sets(&conf), ["10.8.0.1-10.8.0.254", "10.9.0.5-10.9.0.254"]);
    assert_eq!(conf.store.data_dir, PathBuf::from("/tmp/y"));
}

#[test]
fn requested_addresses_accumulate_from_all_three_sources() {
    let mut conf = net(json!({ "type": "host-local", "subnet": "10.1.0.0/16" }));
    conf["args"] = json!({ "cni": { "ips": ["10.1.0.8/16", "10.1.0.9"] } });
    conf["runtimeConfig"] = json!({ "ips": ["10.1.0.10", "::ffff:10.1.0.11"] });
    let conf = load_with(conf, "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.1.0.7/16").expect("valid");
    assert_eq!(
        conf.requested,
        [
            ip("10.1.0.7"),
            ip("10.1.0.8"),
            ip("10.1.0.9"),
            ip("10.1.0.10"),
            ip("10.1.0.11")
        ]
    );
}

#[test]
fn cni_args_rules() {
    let conf = net(json!({ "type": "host-local", "subnet": "10.1.0.0/16" }));
    assert_eq!(
        load_with(conf.clone(), "FOO=1").map(|_| ()),
        Err("ARGS: unknown args [\"FOO=1\"]".into())
    );
    assert_eq!(
        load_with(conf.clone(), "IP=foo").map(|_| ()),
        Err("ARGS: error parsing value of pair \"IP=foo\": invalid IP address foo".into())
    );
    // The key is a Go field name: `ip` is unknown.
    assert!(load_with(conf.clone(), "ip=10.1.0.5").is_err());
    assert_eq!(load_with(conf, "IP=").map(|c| c.requested), Ok(vec![]));
}

#[test]
fn reference_error_texts() {
    let text = |ipam: Value| load(net(ipam)).map(|_| ());
    assert_eq!(
        load(json!({ "cniVersion": "1.0.0", "name": "n" })).map(|_| ()),
        Err("IPAM config missing 'ipam' key".into())
    );
    assert_eq!(
        text(json!({ "type": "host-local" })),
        Err("no IP ranges specified".into())
    );
    assert_eq!(
        text(json!({ "ranges": [] })),
        Err("no IP ranges specified".into())
    );
    assert_eq!(
        text(json!({ "ranges": [[]] })),
        Err("invalid range set 0: empty range set".into())
    );
    assert_eq!(
        text(json!({ "ranges": [[{ "gateway": "10.0.0.1" }]] })),
        Err("invalid range set 0: IP <nil> not v4 nor v6".into())
    );
    assert_eq!(
        text(json!({ "ranges": [[{ "subnet": "foo" }]] })),
        Err("invalid CIDR address: foo".into())
    );
    assert_eq!(
        text(json!({ "ranges": [[{ "subnet": "" }]] })),
        Err("invalid CIDR address: ".into())
    );
    assert_eq!(
        text(json!({ "ranges": [[{ "subnet": "10.1.0.0/24", "gateway": "bar" }]] })),
        Err("invalid IP address: bar".into())
    );
    assert_eq!(
        text(json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }], [{ "subnet": "10.1.2.0/25" }]] })),
        Err("range set 0 overlaps with 1".into())
    );
    assert_eq!(
        text(
            json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }], [{ "subnet": "10.1.3.0/24" }], [{ "subnet": "10.1.3.128/25" }]] })
        ),
        Err("range set 1 overlaps with 2".into())
    );
    assert_eq!(
        text(json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }, { "subnet": "fd00::/64" }]] })),
        Err("invalid range set 0: mixed address families".into())
    );
    assert_eq!(
        text(json!({ "subnet": "10.1.2.5/24" })),
        Err("invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network address is 10.1.2.0".into())
    );
    assert_eq!(
        text(json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }], [{ "subnet": "10.1.3.0/31" }]] })),
        Err("invalid range set 1: Network 10.1.3.0/31 too small to allocate from".into())
    );
    let mut bad_rc = net(json!({ "type": "host-local", "subnet": "10.1.0.0/16" }));
    bad_rc["runtimeConfig"] = json!({ "ips": ["bad"] });
    assert_eq!(
        load(bad_rc).map(|_| ()),
        Err("invalid IP address bad".into())
    );
    let mut bad_args = net(json!({ "type": "host-local", "subnet": "10.1.0.0/16" }));
    bad_args["args"] = json!({ "cni": { "ips": ["10.1.0.0/99"] } });
    assert_eq!(
        load(bad_args).map(|_| ()),
        Err("invalid IP address 10.1.0.0/99".into())
    );
}

#[test]
fn one_set_per_family_before_0_3_0() {
    let two_v4 = |version: &str| {
        load(json!({
            "cniVersion": version, "name": "n",
            "ipam": { "ranges": [[{ "subnet": "10.1.2.0/24" }], [{ "subnet": "10.1.3.0/24" }]] }
        }))
        .map(|c| c.sets.len())
    };
    assert_eq!(
        two_v4("0.2.0"),
        Err("CNI version 0.2.0 does not support more than 1 address per family".into())
    );
    assert_eq!(
        two_v4("0.1.0"),
        Err("CNI version 0.1.0 does not support more than 1 address per family".into())
    );
    assert_eq!(two_v4("0.3.0"), Ok(2));
    // One of each family is fine in 0.2.0.
    let dual = load(json!({
        "cniVersion": "0.2.0", "name": "n",
        "ipam": { "ranges": [[{ "subnet": "10.1.2.0/24" }], [{ "subnet": "fd00::/64" }]] }
    }));
    assert_eq!(dual.map(|c| c.sets.len()), Ok(2));
}

#[test]
fn wrong_types_name_the_key() {
    let err = load(net(json!({ "ranges": [[{ "subnet": 5 }]] })))
        .map(|_| ())
        .expect_err("bad type");
    assert!(err.contains("ipam.ranges[0][0].subnet"), "{err}");
    let err = load(net(
        json!({ "subnet": "10.1.0.0/16", "routes": [{ "dst": "nope" }] }),
    ))
    .map(|_| ())
    .expect_err("bad route");
    assert!(err.contains("ipam.routes"), "{err}");
}

#[test]
fn range_from_file_is_used_only_without_other_ranges() {
    let tmp = crate::testutil::TempDir::new("cfg");
    let file = tmp.path().join("range.json");
    std::fs::write(
        &file,
        br#"{"subnet": "10.44.0.0/24", "rangeStart": "10.44.0.10"}"#,
    )
    .expect("write");
    let path = file.to_string_lossy().into_owned();
    let conf = load(net(json!({ "rangeFromFile": path }))).expect("valid");
    assert_eq!(sets(&conf), ["10.44.0.10-10.44.0.254"]);
    let conf = load(net(
        json!({ "rangeFromFile": path, "subnet": "10.45.0.0/24" }),
    ))
    .expect("valid");
    assert_eq!(sets(&conf), ["10.45.0.1-10.45.0.254"]);
    std::fs::write(&file, b"[]").expect("write");
    assert_eq!(
        load(net(json!({ "rangeFromFile": path }))).map(|_| ()),
        Err(format!("failed to parse rangeFromFile {path:?} as a Range"))
    );
}

#[test]
fn del_and_gc_need_only_the_location() {
    let conf = NetConf::from_value(net(
        json!({ "ranges": [[{ "subnet": "10.1.2.5/24" }]], "dataDir": "/d" }),
    ))
    .expect("shared keys parse");
    let loc = load_location(&conf).expect("location");
    assert_eq!(loc.data_dir, PathBuf::from("/d"));
    assert_eq!(loc.network, "mynet");
}
