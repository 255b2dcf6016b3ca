//! Golden tests: spec versions, `CNI_*` variables per verb, container-ID and ifname rules,
//! `CNI_ARGS`.

use std::path::PathBuf;

use cni_spec::{
    CniArgs, CniEnv, CniError, Command, ContainerId, Environment, ErrorCode, IfName, SpecVersion,
};

fn assert_err(err: CniError, code: ErrorCode, msg: &str, details: &str) {
    assert_eq!(
        (err.code, err.msg.as_str(), err.details.as_str()),
        (code, msg, details)
    );
}

#[test]
fn versions_round_trip_in_order() {
    let texts: Vec<String> = SpecVersion::ALL.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        texts,
        [
            "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"
        ]
    );
    for v in SpecVersion::ALL {
        assert_eq!(v.as_str().parse::<SpecVersion>(), Ok(v));
    }
    assert!(SpecVersion::ALL.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(SpecVersion::CURRENT, SpecVersion::V1_1_0);
}

#[test]
fn versions_match_exactly_like_gos_reconciler() {
    for text in ["1.0.1", "1.0", "v1.0.0", " 1.0.0", "0.5.0", "2.0.0", ""] {
        assert!(
            text.parse::<SpecVersion>().is_err(),
            "{text:?} must be unsupported"
        );
    }
}

#[test]
fn version_capabilities() {
    use SpecVersion as V;
    let check: Vec<_> = V::ALL.into_iter().filter(|v| v.supports_check()).collect();
    assert_eq!(check, [V::V0_4_0, V::V1_0_0, V::V1_1_0]);
    let gc: Vec<_> = V::ALL
        .into_iter()
        .filter(|v| v.supports_gc_status())
        .collect();
    assert_eq!(gc, [V::V1_1_0]);
    let ipv: Vec<_> = V::ALL.into_iter().filter(|v| v.has_ip_version()).collect();
    assert_eq!(ipv, [V::V0_3_0, V::V0_3_1, V::V0_4_0]);
    assert_eq!(SpecVersion::for_missing(), V::V0_1_0);
}

#[test]
fn commands_are_case_sensitive_and_unknown_is_code_4() {
    assert_eq!(Command::parse("GC").ok(), Some(Command::Gc));
    assert_eq!(Command::parse("STATUS").ok(), Some(Command::Status));
    for bad in ["add", "FOO", ""] {
        let err = Command::parse(bad).expect_err(bad);
        assert_err(
            err,
            ErrorCode::InvalidEnvironment,
            &format!("unknown CNI_COMMAND: {bad}"),
            "",
        );
    }
}

#[test]
fn container_ids_follow_libcni_regex() {
    for ok in [
        "a",
        "ABCdef",
        "0abc",
        "cnitool-0123456789abcdef0123",
        "a_b.c-d",
        "X-",
    ] {
        assert_eq!(
            ContainerId::parse(ok).map(|c| c.to_string()).ok(),
            Some(ok.to_owned())
        );
    }
    for bad in ["", "-abc", ".abc", "_abc", "a b", "a/b", "a:b", "a*b", "é"] {
        let err = ContainerId::parse(bad).expect_err(bad);
        assert_err(
            err,
            ErrorCode::InvalidEnvironment,
            "invalid characters in containerID",
            bad,
        );
    }
}

#[test]
fn ifnames_follow_kernel_rules() {
    for ok in ["eth0", "e", "net1", "a234567890abcde", "veth-1.2_x", "ÿ"] {
        assert!(IfName::parse(ok).is_ok(), "{ok:?} should be valid");
    }
    let cases = [
        ("", "interface name is empty", ""),
        (
            "a234567890abcdef",
            "interface name is too long",
            "interface name should be less than 16 characters",
        ),
        // 15 chars but 16 bytes: the kernel counts bytes.
        (
            "a234567890abcdé",
            "interface name is too long",
            "interface name should be less than 16 characters",
        ),
        (".", "interface name is . or ..", ""),
        ("..", "interface name is . or ..", ""),
        (
            "a/b",
            "interface name contains / or : or whitespace characters",
            "",
        ),
        (
            "eth0:1",
            "interface name contains / or : or whitespace characters",
            "",
        ),
        (
            "a b",
            "interface name contains / or : or whitespace characters",
            "",
        ),
        (
            "a\tb",
            "interface name contains / or : or whitespace characters",
            "",
        ),
        (
            "a\u{a0}b",
            "interface name contains / or : or whitespace characters",
            "",
        ),
    ];
    for (name, msg, details) in cases {
        assert_err(
            IfName::parse(name).expect_err(name),
            ErrorCode::InvalidEnvironment,
            msg,
            details,
        );
    }
}

fn env_of(pairs: &[(&str, &str)]) -> Environment {
    Environment::from_pairs(pairs.iter().map(|(k, v)| (*k, *v)))
}

const FULL: &[(&str, &str)] = &[
    ("CNI_CONTAINERID", "Ctr1"),
    ("CNI_NETNS", "/run/netns/x"),
    ("CNI_IFNAME", "eth0"),
    ("CNI_PATH", "/opt/cni/bin::/usr/lib/cni"),
];

#[test]
fn required_variables_per_verb_match_skel() {
    let missing = |cmd: Command, vars: &[(&str, &str)]| -> String {
        match CniEnv::parse(cmd, &env_of(vars)) {
            Ok(_) => String::new(),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::InvalidEnvironment);
                e.msg
            }
        }
    };
    let all = "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing";
    assert_eq!(missing(Command::Add, &[]), all);
    assert_eq!(missing(Command::Check, &[]), all);
    assert_eq!(
        missing(Command::Del, &[]),
        "required env variables [CNI_CONTAINERID,CNI_IFNAME,CNI_PATH] missing"
    );
    assert_eq!(
        missing(Command::Gc, &[]),
        "required env variables [CNI_PATH] missing"
    );
    assert_eq!(
        missing(Command::Status, &[]),
        "required env variables [CNI_PATH] missing"
    );
    // Empty counts as missing (libcni sends CNI_NETNS= on GC and STATUS).
    let empty_netns = [
        ("CNI_CONTAINERID", "c"),
        ("CNI_NETNS", ""),
        ("CNI_IFNAME", "eth0"),
        ("CNI_PATH", "/x"),
    ];
    assert_eq!(
        missing(Command::Add, &empty_netns),
        "required env variables [CNI_NETNS] missing"
    );
    assert_eq!(missing(Command::Del, &empty_netns), "");
    for cmd in [
        Command::Add,
        Command::Del,
        Command::Check,
        Command::Gc,
        Command::Status,
    ] {
        assert_eq!(missing(cmd, FULL), "", "{cmd}");
    }
}

#[test]
fn parsed_env_carries_typed_values() {
    let env = CniEnv::parse(Command::Add, &env_of(FULL)).expect("valid env");
    assert_eq!(
        env.container_id.map(|c| c.to_string()).as_deref(),
        Some("Ctr1")
    );
    assert_eq!(env.ifname.map(|i| i.to_string()).as_deref(), Some("eth0"));
    assert_eq!(
        env.netns.as_deref(),
        Some(std::path::Path::new("/run/netns/x"))
    );
    // Empty CNI_PATH entries are dropped: they would mean the current directory.
    assert_eq!(
        env.path,
        [PathBuf::from("/opt/cni/bin"), PathBuf::from("/usr/lib/cni")]
    );
    let gc = CniEnv::parse(
        Command::Gc,
        &env_of(&[("CNI_PATH", "/x"), ("CNI_NETNS", "")]),
    )
    .expect("gc");
    assert!(gc.container_id.is_none() && gc.ifname.is_none() && gc.netns.is_none());
}

#[test]
fn invalid_values_are_reported_before_missing_ones() {
    // skel validates a present container ID as it reads it, then reports missing variables.
    let env = env_of(&[("CNI_CONTAINERID", "bad id"), ("CNI_IFNAME", "eth0")]);
    let err = CniEnv::parse(Command::Add, &env).expect_err("bad id");
    assert_err(
        err,
        ErrorCode::InvalidEnvironment,
        "invalid characters in containerID",
        "bad id",
    );
    let env = env_of(&[
        ("CNI_CONTAINERID", "ok"),
        ("CNI_IFNAME", "much-too-long-name0"),
    ]);
    let err = CniEnv::parse(Command::Del, &env).expect_err("long ifname");
    assert_eq!(err.msg, "interface name is too long");
    // Not required for GC: an odd value there is ignored, not an error.
    let env = env_of(&[("CNI_CONTAINERID", "bad id"), ("CNI_PATH", "/x")]);
    assert!(CniEnv::parse(Command::Gc, &env).is_ok());
}

#[test]
fn last_definition_of_a_variable_wins() {
    let env = env_of(&[("CNI_IFNAME", "bad name"), ("CNI_IFNAME", "eth1")]);
    assert_eq!(env.get_text("CNI_IFNAME").as_deref(), Some("eth1"));
}

#[test]
fn cni_args_split_on_first_equals_and_last_key_wins() {
    let args =
        CniArgs::parse("IP=10.1.0.5;K8S_POD_NAME=web;LABEL=a=b=c;IP=10.1.0.6").expect("valid");
    assert_eq!(args.get("IP"), Some("10.1.0.6"));
    assert_eq!(args.get("LABEL"), Some("a=b=c"));
    assert_eq!(
        args.get("ip"),
        None,
        "keys are case-sensitive Go field names"
    );
    assert_eq!(args.pairs().count(), 4);
    let empty_value = CniArgs::parse("MAC=").expect("empty value");
    assert_eq!(empty_value.get("MAC"), Some(""));
}

#[test]
fn cni_args_skip_empty_pairs_and_reject_pairs_without_equals() {
    assert!(CniArgs::parse("").expect("empty").is_empty());
    let args = CniArgs::parse(";A=1;;B=2;").expect("empty pairs skipped");
    assert_eq!((args.get("A"), args.get("B")), (Some("1"), Some("2")));
    let err = CniArgs::parse("A=1;junk;B=2").expect_err("junk");
    assert_err(
        err,
        ErrorCode::InvalidEnvironment,
        "ARGS: invalid pair \"junk\"",
        "",
    );
}

#[test]
fn cni_args_unknown_keys_need_ignore_unknown() {
    let args =
        CniArgs::parse("K8S_POD_NAMESPACE=default;IP=10.1.0.5;K8S_POD_NAME=web").expect("valid");
    let err = args.ensure_known(&["IP"]).expect_err("unknown keys");
    assert_err(
        err,
        ErrorCode::InvalidEnvironment,
        r#"ARGS: unknown args ["K8S_POD_NAMESPACE=default" "K8S_POD_NAME=web"]"#,
        "",
    );
    assert!(
        args.ensure_known(&["IP", "K8S_POD_NAMESPACE", "K8S_POD_NAME"])
            .is_ok()
    );
    for value in ["1", "true", "TRUE", "True"] {
        let args = CniArgs::parse(&format!("IgnoreUnknown={value};K8S_POD_UID=u")).expect("valid");
        assert!(args.ignore_unknown(), "{value}");
        assert!(args.ensure_known(&[]).is_ok(), "{value}");
    }
    for value in ["0", "false", "yes", ""] {
        let args = CniArgs::parse(&format!("IgnoreUnknown={value};K8S_POD_UID=u")).expect("valid");
        assert!(!args.ignore_unknown(), "{value}");
        assert!(args.ensure_known(&[]).is_err(), "{value}");
    }
    // IgnoreUnknown itself is always a known key.
    assert!(
        CniArgs::parse("IgnoreUnknown=0")
            .expect("valid")
            .ensure_known(&[])
            .is_ok()
    );
}
