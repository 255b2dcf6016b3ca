//! Delegation tests against a fake IPAM plugin: a shell script written to a per-test temp dir
//! that records each call (verb, stdin, environment) and answers as `FAKE_IPAM_MODE` says.

use std::cell::RefCell;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use cni_spec::{
    CniError, CniResult, Command, Environment, ErrorCode, Plugin, Request, dispatch, find_in_path,
    ipam_add, ipam_add_start, ipam_check, ipam_del, ipam_del_start, ipam_gc, ipam_status,
};
use serde_json::json;

const FAKE_IPAM: &str = r#"#!/bin/sh
log="$FAKE_IPAM_LOG"
echo "$CNI_COMMAND" >> "$log/calls"
cat > "$log/stdin.$CNI_COMMAND"
env > "$log/env.$CNI_COMMAND"
case "$FAKE_IPAM_MODE" in
  ok) [ "$CNI_COMMAND" = ADD ] && cat "$log/result.json"; exit 0 ;;
  error) cat "$log/error.json"; exit 1 ;;
  stderr) echo "cannot open /var/lib/cni" >&2; exit 2 ;;
  silent) exit 3 ;;
  garbled) echo "Segmentation fault"; exit 1 ;;
  gated) while [ ! -e "$log/gate" ]; do sleep 0.01; done
         [ "$CNI_COMMAND" = ADD ] && cat "$log/result.json"; exit 0 ;;
esac
exit 0
"#;

/// A directory removed on drop, pass or fail.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("cni-spec-delegate-{}-{n}", std::process::id()));
        fs::create_dir_all(dir.join("bin")).expect("create temp dir");
        fs::create_dir_all(dir.join("log")).expect("create log dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// One test's world: the fake plugin installed as `fake-ipam`, its log dir, its mode.
struct World {
    dir: TempDir,
    mode: &'static str,
}

impl World {
    fn new(mode: &'static str) -> World {
        let dir = TempDir::new();
        let exe = dir.0.join("bin/fake-ipam");
        fs::write(&exe, FAKE_IPAM).expect("write fake plugin");
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).expect("chmod");
        World { dir, mode }
    }

    fn log(&self) -> PathBuf {
        self.dir.0.join("log")
    }

    fn bin(&self) -> PathBuf {
        self.dir.0.join("bin")
    }

    fn set(&self, file: &str, content: &str) {
        fs::write(self.log().join(file), content).expect("write fixture");
    }

    fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.log().join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn recorded(&self, file: &str) -> Vec<u8> {
        fs::read(self.log().join(file)).expect("recorded file")
    }

    fn environ(&self, cni_path: &str) -> Environment {
        let path_var = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
        Environment::from_pairs([
            ("CNI_COMMAND", "ADD".to_owned()),
            ("CNI_CONTAINERID", "ctr1".to_owned()),
            ("CNI_NETNS", "/run/netns/x".to_owned()),
            ("CNI_IFNAME", "eth0".to_owned()),
            ("CNI_PATH", cni_path.to_owned()),
            ("PATH", path_var),
            ("FAKE_IPAM_LOG", self.log().display().to_string()),
            ("FAKE_IPAM_MODE", self.mode.to_owned()),
            ("FAKE_MARKER", "passed-through".to_owned()),
        ])
    }

    fn request_with(&self, command: Command, cni_path: &str, stdin: &[u8]) -> Request {
        Request::parse(command, self.environ(cni_path), stdin.to_vec()).expect("valid request")
    }

    fn request(&self, command: Command, stdin: &[u8]) -> Request {
        let cni_path = format!(
            "{}:{}",
            self.dir.0.join("empty").display(),
            self.bin().display()
        );
        self.request_with(command, &cni_path, stdin)
    }
}

/// Odd spacing, an escape and a capability key: all must reach IPAM unchanged.
const STDIN: &[u8] = b"{ \"cniVersion\":\"0.3.1\",  \"name\":\"net1\",\"type\":\"bridge\",\n \"ipam\":{\"type\":\"fake-ipam\",\"note\":\"caf\\u00e9\"},\"runtimeConfig\":{\"ips\":[\"10.1.0.9/24\"]}}  \n";

const IPAM_RESULT: &str = r#"{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.0.9/24","gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.1.0.1"]}}"#;

fn expected_ipam_result() -> CniResult {
    CniResult::from_json(
        &serde_json::from_str(IPAM_RESULT).expect("json"),
        cni_spec::SpecVersion::V0_3_1,
    )
    .expect("valid result")
}

#[test]
fn add_reads_the_result_and_passes_stdin_and_env_through() {
    let world = World::new("ok");
    world.set("result.json", IPAM_RESULT);
    let req = world.request(Command::Add, STDIN);
    let reservation = ipam_add(&req).expect("ipam add");
    assert_eq!(reservation.result(), &expected_ipam_result());
    assert_eq!(
        reservation.result().ips[0].address.to_string(),
        "10.1.0.9/24"
    );
    let _ = reservation.commit();
    assert_eq!(world.calls(), ["ADD"]);
    assert_eq!(world.recorded("stdin.ADD"), STDIN, "stdin byte for byte");
    let env = String::from_utf8(world.recorded("env.ADD")).expect("utf-8");
    assert!(
        env.lines().any(|l| l == "FAKE_MARKER=passed-through"),
        "{env}"
    );
    assert!(env.lines().any(|l| l == "CNI_IFNAME=eth0"), "{env}");
}

#[test]
fn a_result_without_version_takes_the_configs() {
    let world = World::new("ok");
    world.set(
        "result.json",
        r#"{"ip4":{"ip":"10.1.0.9/24","gateway":"10.1.0.1"}}"#,
    );
    let stdin = br#"{"cniVersion":"0.2.0","name":"n","ipam":{"type":"fake-ipam"}}"#;
    let result = ipam_add(&world.request(Command::Add, stdin))
        .expect("legacy result")
        .commit();
    assert_eq!(result.ips.len(), 1);
    assert_eq!(result.ips[0].gateway, Some("10.1.0.1".parse().expect("ip")));
}

#[test]
fn unparseable_result_is_an_error() {
    let world = World::new("ok");
    world.set("result.json", r#"{"ips":[{"address":"nonsense"}]}"#);
    let err = ipam_add(&world.request(Command::Add, STDIN)).expect_err("bad result");
    assert_eq!(err.code, ErrorCode::Internal);
    assert_eq!(
        err.msg,
        r#"failed to parse result of plugin "fake-ipam": "ips[0].address": invalid CIDR address: nonsense"#
    );
}

#[test]
fn delegate_errors_pass_up_unchanged() {
    for (json, code) in [
        (
            r#"{"code":11,"msg":"pool busy","details":"retry in 5s"}"#,
            ErrorCode::TryAgainLater,
        ),
        (
            r#"{"cniVersion":"1.1.0","code":107,"msg":"pool busy","details":"retry in 5s"}"#,
            ErrorCode::Other(107),
        ),
    ] {
        let world = World::new("error");
        world.set("error.json", json);
        let err = ipam_add(&world.request(Command::Add, STDIN)).expect_err("delegate fails");
        let expected = CniError::new(code, "pool busy").with_details("retry in 5s");
        assert_eq!(err, expected);
        assert_eq!(
            code.as_u32(),
            serde_json::from_str::<serde_json::Value>(json).expect("json")["code"]
        );
    }
}

#[test]
fn delegate_failures_without_error_json_use_libcnis_messages() {
    let world = World::new("stderr");
    let err = ipam_del(&world.request(Command::Del, STDIN)).expect_err("fails");
    assert!(
        err.msg
            .starts_with("netplugin failed: \"cannot open /var/lib/cni\\n\": "),
        "{}",
        err.msg
    );
    let world = World::new("silent");
    let err = ipam_del(&world.request(Command::Del, STDIN)).expect_err("fails");
    assert!(
        err.msg
            .starts_with("netplugin failed with no error message: "),
        "{}",
        err.msg
    );
    let world = World::new("garbled");
    let err = ipam_del(&world.request(Command::Del, STDIN)).expect_err("fails");
    assert!(
        err.msg.starts_with(
            "netplugin failed but error parsing its diagnostic message \"Segmentation fault\\n\""
        ),
        "{}",
        err.msg
    );
}

#[test]
fn finding_the_plugin_follows_libcni() {
    let world = World::new("ok");
    let empty = world.dir.0.join("empty");
    // A directory named like the plugin is not a plugin: the search goes on.
    fs::create_dir_all(empty.join("fake-ipam")).expect("decoy dir");
    let path = [empty.clone(), world.bin()];
    assert_eq!(
        find_in_path("fake-ipam", &path).expect("found"),
        world.bin().join("fake-ipam")
    );
    let err = find_in_path("host-local", &path).expect_err("absent");
    let msg = format!(
        "failed to find plugin \"host-local\" in path [{} {}]",
        empty.display(),
        world.bin().display()
    );
    assert_eq!((err.code, err.msg), (ErrorCode::Internal, msg));
    assert_eq!(
        find_in_path("../fake-ipam", &path).expect_err("slash").msg,
        "invalid plugin name: ../fake-ipam"
    );
    assert_eq!(
        find_in_path("", &path).expect_err("empty").msg,
        "no plugin name provided"
    );
    assert_eq!(
        find_in_path("fake-ipam", &[]).expect_err("no dirs").msg,
        "no paths provided"
    );
}

#[test]
fn l2_config_has_no_plugin_name() {
    let world = World::new("ok");
    for ipam in [json!({}), json!({"type": ""})] {
        let stdin = json!({"cniVersion":"1.0.0","name":"n","ipam":ipam}).to_string();
        let err = ipam_add(&world.request(Command::Add, stdin.as_bytes())).expect_err("no name");
        assert_eq!(err.msg, "no plugin name provided");
    }
    let stdin = br#"{"cniVersion":"1.0.0","name":"n","ipam":{"type":"../fake-ipam"}}"#;
    let err = ipam_del(&world.request(Command::Del, stdin)).expect_err("slash");
    assert_eq!(err.msg, "invalid plugin name: ../fake-ipam");
    assert!(world.calls().is_empty());
}

#[test]
fn an_uncommitted_reservation_is_released_on_drop() {
    let world = World::new("ok");
    world.set("result.json", IPAM_RESULT);
    drop(ipam_add(&world.request(Command::Add, STDIN)).expect("add"));
    assert_eq!(world.calls(), ["ADD", "DEL"]);
    assert_eq!(world.recorded("stdin.DEL"), STDIN);
    let env = String::from_utf8(world.recorded("env.DEL")).expect("utf-8");
    let commands: Vec<&str> = env
        .lines()
        .filter(|l| l.starts_with("CNI_COMMAND="))
        .collect();
    assert_eq!(
        commands,
        ["CNI_COMMAND=DEL"],
        "only CNI_COMMAND is overridden"
    );
}

#[test]
fn commit_keeps_and_release_reports() {
    let world = World::new("ok");
    world.set("result.json", IPAM_RESULT);
    let req = world.request(Command::Add, STDIN);
    let kept = ipam_add(&req).expect("add").commit();
    assert_eq!(kept, expected_ipam_result());
    assert_eq!(world.calls(), ["ADD"]);
    ipam_add(&req).expect("add").release().expect("released");
    assert_eq!(world.calls(), ["ADD", "ADD", "DEL"]);
}

#[test]
fn other_verbs_are_forwarded() {
    let world = World::new("ok");
    let conf = br#"{"cniVersion":"1.1.0","name":"n","ipam":{"type":"fake-ipam"}}"#;
    ipam_del(&world.request(Command::Del, conf)).expect("del");
    ipam_check(&world.request(Command::Check, conf)).expect("check");
    ipam_status(&world.request(Command::Status, conf)).expect("status");
    ipam_gc(&world.request(Command::Gc, conf)).expect("gc");
    assert_eq!(world.calls(), ["DEL", "CHECK", "STATUS", "GC"]);
}

/// A plugin that reserves an address and then fails or panics, as a buggy ADD would.
struct Leaky {
    panic: bool,
    reserved: RefCell<Option<String>>,
}

impl Plugin for Leaky {
    const NAME: &'static str = "leaky";
    fn add(&self, req: &Request) -> Result<CniResult, CniError> {
        let ipam = ipam_add(req)?;
        *self.reserved.borrow_mut() = Some(ipam.result().ips[0].address.to_string());
        if self.panic {
            panic!("link creation exploded");
        }
        Err(CniError::internal("could not create veth"))
    }
    fn del(&self, _: &Request) -> Result<(), CniError> {
        Ok(())
    }
    fn check(&self, _: &Request) -> Result<(), CniError> {
        Ok(())
    }
    fn status(&self, _: &Request) -> Result<(), CniError> {
        Ok(())
    }
    fn gc(&self, _: &Request) -> Result<(), CniError> {
        Ok(())
    }
}

#[test]
fn a_failed_or_panicking_add_releases_its_address() {
    for (panic, msg) in [
        (false, "could not create veth"),
        (true, "plugin panicked: link creation exploded"),
    ] {
        let world = World::new("ok");
        world.set("result.json", IPAM_RESULT);
        let plugin = Leaky {
            panic,
            reserved: RefCell::new(None),
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let cni_path = world.bin().display().to_string();
        let status = dispatch(&plugin, world.environ(&cni_path), STDIN, &mut out, &mut err);
        assert_eq!(status, 1);
        let printed: serde_json::Value = serde_json::from_slice(&out).expect("error json");
        assert_eq!(printed, json!({"cniVersion":"0.3.1","code":999,"msg":msg}));
        assert_eq!(plugin.reserved.borrow().as_deref(), Some("10.1.0.9/24"));
        assert_eq!(world.calls(), ["ADD", "DEL"], "panic={panic}");
    }
}

/// Runs `f` on a thread and fails the test if it does not return within ten seconds: a start
/// that waited for its child would hang on the gated fake forever. On failure the gate is
/// opened first, so the fake exits rather than outliving the test.
fn returns_promptly<T: Send + 'static>(world: &World, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(10)) {
        Ok(value) => value,
        Err(_) => {
            world.set("gate", "");
            panic!("start waited for the child instead of returning");
        }
    }
}

#[test]
fn a_started_add_runs_while_the_caller_works_and_waits_for_the_result() {
    let world = World::new("gated");
    world.set("result.json", IPAM_RESULT);
    let req = world.request(Command::Add, STDIN);
    // The child cannot finish before the gate opens, so start must not wait for it.
    let pending = returns_promptly(&world, move || ipam_add_start(&req).expect("started"));
    world.set("gate", "");
    let reservation = pending.wait().expect("ipam add");
    assert_eq!(reservation.result(), &expected_ipam_result());
    assert_eq!(world.recorded("stdin.ADD"), STDIN);
    let _ = reservation.commit();
    assert_eq!(world.calls(), ["ADD"]);
}

#[test]
fn a_pending_add_dropped_unwaited_is_released_once_it_succeeds() {
    let world = World::new("gated");
    world.set("result.json", IPAM_RESULT);
    let pending = ipam_add_start(&world.request(Command::Add, STDIN)).expect("started");
    world.set("gate", "");
    // The plugin's own step failed before it needed the addresses.
    drop(pending);
    assert_eq!(world.calls(), ["ADD", "DEL"]);
    assert_eq!(world.recorded("stdin.DEL"), STDIN);
}

#[test]
fn a_pending_add_that_failed_is_not_released() {
    let world = World::new("error");
    world.set(
        "error.json",
        r#"{"cniVersion":"0.3.1","code":11,"msg":"no free address"}"#,
    );
    let pending = ipam_add_start(&world.request(Command::Add, STDIN)).expect("started");
    drop(pending);
    assert_eq!(world.calls(), ["ADD"], "nothing was reserved, so no DEL");
    let pending = ipam_add_start(&world.request(Command::Add, STDIN)).expect("started");
    let err = pending.wait().expect_err("IPAM failed");
    assert_eq!(
        (err.code.as_u32(), err.msg.as_str()),
        (11, "no free address")
    );
    assert_eq!(world.calls(), ["ADD", "ADD"]);
}

#[test]
fn a_large_stdin_reaches_a_started_delegate_whole() {
    let world = World::new("ok");
    world.set("result.json", IPAM_RESULT);
    // Well past one pipe page, so it is fed from a thread, not written before start returns.
    let padding = "x".repeat(200_000);
    let stdin = format!(
        r#"{{"cniVersion":"0.3.1","name":"net1","type":"bridge","ipam":{{"type":"fake-ipam"}},"pad":"{padding}"}}"#
    );
    let reservation = ipam_add_start(&world.request(Command::Add, stdin.as_bytes()))
        .expect("started")
        .wait()
        .expect("ipam add");
    assert_eq!(world.recorded("stdin.ADD"), stdin.as_bytes());
    let _ = reservation.commit();
}

#[test]
fn a_started_del_reports_the_delegates_error() {
    let world = World::new("error");
    world.set(
        "error.json",
        r#"{"cniVersion":"0.3.1","code":7,"msg":"bad range"}"#,
    );
    let conf = br#"{"cniVersion":"0.3.1","name":"n","ipam":{"type":"fake-ipam"}}"#;
    let err = ipam_del_start(&world.request(Command::Del, conf))
        .expect("started")
        .wait()
        .expect_err("DEL failed");
    assert_eq!((err.code.as_u32(), err.msg.as_str()), (7, "bad range"));
    let world = World::new("ok");
    ipam_del_start(&world.request(Command::Del, conf))
        .expect("started")
        .wait()
        .expect("DEL ok");
    assert_eq!(world.calls(), ["DEL"]);
}

#[test]
fn temp_dirs_are_removed() {
    let dir = TempDir::new();
    let path: PathBuf = dir.0.clone();
    assert!(Path::new(&path).exists());
    drop(dir);
    assert!(!path.exists());
}
