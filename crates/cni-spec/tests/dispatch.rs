//! Golden tests: the dispatcher, end to end through `dispatch` with an injected environment,
//! stdin and stdout.

use std::cell::RefCell;
use std::io::{self, Read, Write};

use cni_spec::{
    CniError, CniResult, Command, Environment, ErrorCode, Interface, IpConfig, Plugin, Request,
    SpecVersion, dispatch,
};
use serde_json::{Value, json};

#[derive(Clone)]
enum Behaviour {
    Succeed,
    Fail(CniError),
    Panic,
    L2Result,
}

struct Fake {
    behaviour: Behaviour,
    seen: RefCell<Vec<Request>>,
}

fn fake(behaviour: Behaviour) -> Fake {
    Fake {
        behaviour,
        seen: RefCell::new(Vec::new()),
    }
}

fn sample_result() -> CniResult {
    CniResult {
        interfaces: vec![Interface {
            sandbox: Some("/run/netns/x".into()),
            ..Interface::named("eth0")
        }],
        ips: vec![IpConfig {
            address: "10.1.0.5/24".parse().expect("cidr"),
            gateway: Some("10.1.0.1".parse().expect("ip")),
            interface: Some(0),
        }],
        ..CniResult::default()
    }
}

impl Fake {
    fn verb(&self, req: &Request) -> Result<(), CniError> {
        self.seen.borrow_mut().push(req.clone());
        match &self.behaviour {
            Behaviour::Succeed | Behaviour::L2Result => Ok(()),
            Behaviour::Fail(err) => Err(err.clone()),
            Behaviour::Panic => panic!("boom in {}", req.command),
        }
    }
}

impl Plugin for Fake {
    const NAME: &'static str = "fake";
    const VERSION: &'static str = "9.8.7";

    fn add(&self, req: &Request) -> Result<CniResult, CniError> {
        self.verb(req)?;
        match self.behaviour {
            Behaviour::L2Result => Ok(CniResult {
                interfaces: vec![Interface::named("eth0")],
                ..CniResult::default()
            }),
            _ => Ok(sample_result()),
        }
    }
    fn del(&self, req: &Request) -> Result<(), CniError> {
        self.verb(req)
    }
    fn check(&self, req: &Request) -> Result<(), CniError> {
        self.verb(req)
    }
    fn status(&self, req: &Request) -> Result<(), CniError> {
        self.verb(req)
    }
    fn gc(&self, req: &Request) -> Result<(), CniError> {
        self.verb(req)
    }
}

struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn error(&self) -> Value {
        assert_eq!(self.status, 1, "stdout: {}", self.stdout);
        serde_json::from_str(&self.stdout).expect("error JSON on stdout")
    }
}

fn run_with(plugin: &Fake, env: &[(&str, &str)], stdin: impl Read) -> Outcome {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let environ = Environment::from_pairs(env.iter().map(|(k, v)| (*k, *v)));
    let status = dispatch(plugin, environ, stdin, &mut out, &mut err);
    Outcome {
        status,
        stdout: String::from_utf8(out).expect("utf-8 stdout"),
        stderr: String::from_utf8(err).expect("utf-8 stderr"),
    }
}

fn env_for(command: &str) -> Vec<(&str, &str)> {
    vec![
        ("CNI_COMMAND", command),
        ("CNI_CONTAINERID", "Ctr-1"),
        ("CNI_NETNS", "/run/netns/x"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_PATH", "/opt/cni/bin"),
        ("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=web"),
    ]
}

fn run(plugin: &Fake, command: &str, stdin: &str) -> Outcome {
    run_with(plugin, &env_for(command), stdin.as_bytes())
}

fn conf(version: &str) -> String {
    json!({"cniVersion": version, "name": "net1", "type": "fake"}).to_string()
}

/// A stdin that fails the test if anyone reads it.
struct Untouchable;
impl Read for Untouchable {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        panic!("stdin must not be read")
    }
}

struct Broken;
impl Read for Broken {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("disk on fire"))
    }
}
impl Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::from(io::ErrorKind::BrokenPipe))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_command_prints_the_banner_on_stderr() {
    for env in [vec![], vec![("CNI_COMMAND", "")]] {
        let out = run_with(&fake(Behaviour::Succeed), &env, Untouchable);
        assert_eq!((out.status, out.stdout.as_str()), (0, ""));
        assert_eq!(
            out.stderr,
            "CNI fake plugin v9.8.7\n\
             CNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n"
        );
    }
}

#[test]
fn version_ignores_stdin_and_other_variables() {
    let out = run_with(
        &fake(Behaviour::Succeed),
        &[("CNI_COMMAND", "VERSION")],
        Untouchable,
    );
    assert_eq!(out.status, 0);
    assert_eq!(
        out.stdout,
        "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":\
         [\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n"
    );
}

#[test]
fn unknown_command_is_code_4_without_reading_stdin() {
    let out = run_with(
        &fake(Behaviour::Succeed),
        &[("CNI_COMMAND", "FROB")],
        Untouchable,
    );
    assert_eq!(
        out.error(),
        json!({"cniVersion":"1.1.0","code":4,"msg":"unknown CNI_COMMAND: FROB"})
    );
}

#[test]
fn input_errors_have_skels_codes_and_never_reach_the_plugin() {
    let plugin = fake(Behaviour::Succeed);
    let cases: Vec<(Outcome, u32, &str)> = vec![
        (
            run_with(&plugin, &[("CNI_COMMAND", "ADD")], &b""[..]),
            4,
            "required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing",
        ),
        (
            run_with(
                &plugin,
                &[("CNI_COMMAND", "ADD"), ("CNI_CONTAINERID", "a b")],
                &b""[..],
            ),
            4,
            "invalid characters in containerID",
        ),
        (
            run_with(&plugin, &env_for("ADD"), Broken),
            5,
            "error reading from stdin: disk on fire",
        ),
        (
            run(
                &plugin,
                "ADD",
                r#"{"name":"n","cniVersion":"1.0.0","ipam":{"type":7}}"#,
            ),
            7,
            r#""ipam.type": invalid type: integer `7`, expected a string"#,
        ),
        (
            run(&plugin, "ADD", r#"{"cniVersion":"1.0.0"}"#),
            7,
            "missing network name",
        ),
        (
            run(&plugin, "DEL", &conf("1.0.1")),
            1,
            "incompatible CNI versions",
        ),
    ];
    for (out, code, msg) in cases {
        let err = out.error();
        assert_eq!(
            (err["code"].as_u64(), err["msg"].as_str()),
            (Some(code.into()), Some(msg))
        );
    }
    let garbage = run(&plugin, "ADD", "not json").error();
    assert_eq!(garbage["code"], 6);
    assert!(
        garbage["msg"]
            .as_str()
            .is_some_and(|m| m.starts_with("error unmarshall network config: "))
    );
    let bad_args = run_with(
        &plugin,
        &[env_for("ADD"), vec![("CNI_ARGS", "IP=1;oops")]].concat(),
        conf("1.0.0").as_bytes(),
    );
    assert_eq!(
        bad_args.error(),
        json!({"cniVersion":"1.1.0","code":4,"msg":"ARGS: invalid pair \"oops\""})
    );
    assert!(plugin.seen.borrow().is_empty());
}

#[test]
fn verb_floors_follow_the_config_version() {
    for v in SpecVersion::ALL {
        for (command, allowed) in [
            ("ADD", true),
            ("DEL", true),
            ("CHECK", v.supports_check()),
            ("STATUS", v.supports_gc_status()),
            ("GC", v.supports_gc_status()),
        ] {
            let plugin = fake(Behaviour::Succeed);
            let out = run(&plugin, command, &conf(v.as_str()));
            assert_eq!(
                plugin.seen.borrow().len(),
                usize::from(allowed),
                "{command} at {v}"
            );
            if !allowed {
                let expected = json!({
                    "cniVersion": v.as_str(),
                    "code": 1,
                    "msg": format!("config version does not allow {command}")
                });
                assert_eq!(out.error(), expected, "{command} at {v}");
            }
        }
    }
}

#[test]
fn add_prints_the_result_in_the_configs_version() {
    for v in SpecVersion::ALL {
        let out = run(&fake(Behaviour::Succeed), "ADD", &conf(v.as_str()));
        assert_eq!(out.status, 0, "{v}: {}", out.stdout);
        let mut expected = sample_result().to_bytes(v).expect("printable");
        expected.push(b'\n');
        assert_eq!(out.stdout.as_bytes(), expected.as_slice(), "{v}");
    }
}

#[test]
fn unprintable_result_is_an_error_not_a_partial_print() {
    let out = run(&fake(Behaviour::L2Result), "ADD", &conf("0.2.0"));
    let expected =
        json!({"cniVersion":"0.2.0","code":999,"msg":"cannot convert: no valid IP addresses"});
    assert_eq!(out.error(), expected);
}

#[test]
fn other_verbs_print_nothing_on_success() {
    for command in ["DEL", "CHECK", "STATUS", "GC"] {
        let out = run(&fake(Behaviour::Succeed), command, &conf("1.1.0"));
        assert_eq!((out.status, out.stdout.as_str()), (0, ""), "{command}");
    }
}

#[test]
fn plugin_errors_pass_through_with_the_configs_version() {
    let err = CniError::try_again_later("bridge busy").with_details("lock held by pid 7");
    for command in ["ADD", "DEL", "CHECK"] {
        let out = run(&fake(Behaviour::Fail(err.clone())), command, &conf("0.4.0"));
        let expected = json!({"cniVersion":"0.4.0","code":11,"msg":"bridge busy","details":"lock held by pid 7"});
        assert_eq!(out.error(), expected, "{command}");
    }
}

#[test]
fn a_panicking_verb_becomes_a_999_error() {
    for command in ["ADD", "DEL", "GC"] {
        let out = run(&fake(Behaviour::Panic), command, &conf("1.1.0"));
        let expected = json!({"cniVersion":"1.1.0","code":999,"msg":format!("plugin panicked: boom in {command}")});
        assert_eq!(out.error(), expected, "{command}");
        assert_eq!(
            out.stdout.lines().count(),
            1,
            "one object, nothing else: {}",
            out.stdout
        );
    }
}

#[test]
fn request_carries_the_invocation() {
    let plugin = fake(Behaviour::Succeed);
    let stdin =
        r#"{"cniVersion":"0.4.0", "name":"net1","type":"fake","ipam":{"type":"host-local"}}"#;
    let env = [env_for("DEL"), vec![("CNI_NETNS", ""), ("EXTRA", "kept")]].concat();
    assert_eq!(run_with(&plugin, &env, stdin.as_bytes()).status, 0);
    let seen = plugin.seen.borrow();
    let req = &seen[0];
    assert_eq!(req.command, Command::Del);
    assert_eq!(req.container_id.as_ref().map(|c| c.as_str()), Some("Ctr-1"));
    assert_eq!(req.ifname.as_ref().map(|i| i.as_str()), Some("eth0"));
    assert!(req.netns.is_none(), "DEL may come without a netns");
    assert_eq!(
        req.require_netns().map_err(|e| e.msg).err().as_deref(),
        Some("required env variables [CNI_NETNS] missing")
    );
    assert_eq!(req.args.get("K8S_POD_NAME"), Some("web"));
    assert_eq!(req.path, [std::path::PathBuf::from("/opt/cni/bin")]);
    assert_eq!(req.stdin, stdin.as_bytes());
    assert_eq!(
        (req.conf.name.as_str(), req.conf.ipam_type()),
        ("net1", Some("host-local"))
    );
    assert_eq!(req.environ.get_text("EXTRA").as_deref(), Some("kept"));
}

#[test]
fn a_failed_stdout_write_is_exit_1_and_logged() {
    let (mut err, environ) = (Vec::new(), Environment::from_pairs(env_for("ADD")));
    let status = dispatch(
        &fake(Behaviour::Succeed),
        environ,
        conf("1.0.0").as_bytes(),
        &mut Broken,
        &mut err,
    );
    assert_eq!(status, 1);
    assert!(String::from_utf8_lossy(&err).contains("cannot write to stdout"));
    let _ = ErrorCode::Internal;
}
