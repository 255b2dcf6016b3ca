use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cni_sandbox::{CniVar, Invocation, SandboxError, World};

/// A fake plugin that reports where it runs, what it was given, and exits 3.
const ECHO_PLUGIN: &str = r#"#!/bin/sh
echo "NETNS $(readlink /proc/self/ns/net)"
# /proc/$$/environ is exactly what execve passed; `env` would add the shell's own PWD.
tr '\0' '\n' < /proc/$$/environ | sort | sed 's/^/ENV /'
printf 'STDIN '; cat; echo
exit 3
"#;

fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn plugin_runs_in_the_node_namespace_with_exactly_its_env() {
    let world = World::new("plugin-env").unwrap();
    let node = world.netns("node").unwrap();
    let pod = world.netns("pod").unwrap();
    let script = write_script(world.tempdir(), "echo-plugin", ECHO_PLUGIN);
    let inv = Invocation::new(&script, "ADD")
        .container_id("c0ffee")
        .netns(pod.path())
        .ifname("eth0")
        .args("IgnoreUnknown=1;K8S_POD_NAME=p")
        .unset(CniVar::Path)
        .env("EXTRA", "x y")
        .stdin(r#"{"cniVersion":"1.1.0"}"#);
    let run = node.run_plugin(&inv).unwrap();
    assert_eq!(run.status, 3, "{run}");
    assert!(run.result.is_none() && run.error.is_none());

    let netns_line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("NETNS "))
        .unwrap();
    assert_eq!(netns_line, format!("NETNS net:[{}]", node.inode().unwrap()));
    assert_ne!(node.inode().unwrap(), pod.inode().unwrap());

    let seen: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("ENV "))
        .map(str::to_owned)
        .collect();
    let expected: Vec<String> = inv
        .environment()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(seen, expected);
    assert!(seen.iter().any(|e| e == "CNI_COMMAND=ADD"));
    assert!(
        seen.iter().all(|e| !e.starts_with("CNI_PATH")),
        "unset means absent"
    );
    assert!(
        run.stdout.contains("STDIN {\"cniVersion\":\"1.1.0\"}"),
        "{run}"
    );
}

#[test]
fn empty_is_not_unset() {
    let world = World::new("plugin-empty").unwrap();
    let node = world.netns("node").unwrap();
    let script = write_script(world.tempdir(), "p", ECHO_PLUGIN);
    let run = node
        .run_plugin(&Invocation::new(&script, "GC").set(CniVar::Netns, ""))
        .unwrap();
    assert!(run.stdout.lines().any(|l| l == "ENV CNI_NETNS="), "{run}");
}

#[test]
fn json_on_stdout_becomes_result_or_error() {
    let world = World::new("plugin-json").unwrap();
    let node = world.netns("node").unwrap();
    let ok = write_script(
        world.tempdir(),
        "ok",
        "#!/bin/sh\necho '{\"cniVersion\":\"1.0.0\",\"ips\":[]}'\n",
    );
    let res = node
        .run_plugin(&Invocation::new(&ok, "ADD"))
        .unwrap()
        .expect_result();
    assert_eq!(res["cniVersion"], "1.0.0");
    let bad = write_script(
        world.tempdir(),
        "bad",
        "#!/bin/sh\necho '{\"code\":7,\"msg\":\"invalid config\"}'\nexit 1\n",
    );
    let err = node
        .run_plugin(&Invocation::new(&bad, "ADD"))
        .unwrap()
        .expect_err(7);
    assert_eq!(err["msg"], "invalid config");
    // expect_ok on a failure panics with the output in the message.
    let panicked = std::panic::catch_unwind(|| {
        node.run_plugin(&Invocation::new(&bad, "ADD"))
            .unwrap()
            .expect_ok()
    });
    let msg = panicked.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(msg.contains("invalid config"), "{msg}");
}

#[test]
fn hung_plugin_is_killed_with_its_children() {
    let world = World::new("plugin-hang").unwrap();
    let node = world.netns("node").unwrap();
    let pidfile = world.tempdir().join("child.pid");
    // The plugin starts a child (like an IPAM delegate) and both hang.
    let body = format!(
        "#!/bin/sh\necho partial\nsleep 60 &\necho $! > {}\nwait\n",
        pidfile.display()
    );
    let script = write_script(world.tempdir(), "hang", &body);
    let start = Instant::now();
    let err = node
        .run_plugin(&Invocation::new(&script, "ADD").timeout(Duration::from_secs(1)))
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    match &err {
        SandboxError::Timeout { stdout, .. } => assert_eq!(stdout, "partial\n"),
        other => panic!("expected a timeout, got {other}"),
    }
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let proc_dir = format!("/proc/{}", pid.trim());
    // SIGKILL is delivered at once, but the zombie may take a moment to be reaped by init.
    let deadline = Instant::now() + Duration::from_secs(2);
    while Path::new(&proc_dir).exists() && !is_zombie(&proc_dir) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !Path::new(&proc_dir).exists() || is_zombie(&proc_dir),
        "the plugin's child survived the timeout"
    );
}

fn is_zombie(proc_dir: &str) -> bool {
    std::fs::read_to_string(format!("{proc_dir}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

#[test]
fn reference_bridge_prints_its_banner_without_a_command() {
    let bridge = Path::new("/usr/lib/cni/bridge");
    if !bridge.exists() {
        eprintln!("skipped: {} not installed", bridge.display());
        return;
    }
    let world = World::new("plugin-banner").unwrap();
    let node = world.netns("node").unwrap();
    let run = node
        .run_plugin(&Invocation::new(bridge, "").unset(CniVar::Command))
        .unwrap();
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("CNI bridge plugin"), "{run}");
    assert!(all.contains("CNI protocol versions supported"), "{run}");
}
