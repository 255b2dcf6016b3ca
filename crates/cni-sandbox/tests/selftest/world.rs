use std::os::unix::fs::PermissionsExt;
use std::panic;
use std::sync::Mutex;

use cni_sandbox::{SandboxError, World};

use crate::{netns_list, root_links};

#[test]
fn namespaces_live_with_the_world_and_go_with_it() {
    let root_before = root_links();
    let world = World::new("lifetime").unwrap();
    let node = world.netns("node").unwrap();
    let pod = world.netns("pod").unwrap();
    world.veth((&node, "vnode"), (&pod, "eth0")).unwrap();
    let names = [node.name().to_owned(), pod.name().to_owned()];
    let listed = netns_list();
    for n in &names {
        assert!(listed.contains(n), "{n} missing from ip netns list");
    }
    assert!(node.path().exists() && pod.path().exists());
    assert_ne!(node.inode().unwrap(), pod.inode().unwrap());
    // Commands run inside the namespace, not in the root one.
    for ns in [&node, &pod] {
        let out = ns.exec_ok(&["readlink", "/proc/self/ns/net"]).unwrap();
        assert_eq!(out.trim(), format!("net:[{}]", ns.inode().unwrap()));
    }
    // Loopback is up in every new namespace.
    assert!(pod.link("lo").unwrap().unwrap().up);

    drop(world);
    let listed = netns_list();
    for n in &names {
        assert!(!listed.contains(n), "{n} still listed after drop");
    }
    assert!(!node.path().exists() && !pod.path().exists());
    // The veth lived only inside the namespaces; the root namespace never saw it.
    let root_after = root_links();
    for name in ["vnode", "eth0"] {
        assert_eq!(
            root_before.contains(name),
            root_after.contains(name),
            "root namespace link {name} changed"
        );
    }
}

#[test]
fn a_panicking_test_still_cleans_up() {
    let seen: Mutex<Vec<(String, std::path::PathBuf)>> = Mutex::new(Vec::new());
    let outcome = panic::catch_unwind(|| {
        let world = World::new("panics").unwrap();
        let ns = world.netns("doomed").unwrap();
        seen.lock()
            .unwrap()
            .push((ns.name().to_owned(), world.tempdir().to_owned()));
        assert!(ns.path().exists());
        panic!("test body fails");
    });
    assert!(outcome.is_err(), "the closure should have panicked");
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 1);
    let (name, tempdir) = &seen[0];
    assert!(!netns_list().contains(name), "{name} survived the panic");
    assert!(
        !tempdir.exists(),
        "{} survived the panic",
        tempdir.display()
    );
}

#[test]
fn parallel_worlds_get_distinct_names() {
    let handles: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                let world = World::new("parallel").unwrap();
                let a = world.netns("node").unwrap();
                let b = world.netns("node").unwrap();
                assert!(a.path().exists() && b.path().exists());
                vec![
                    a.name().to_owned(),
                    b.name().to_owned(),
                    world.tempdir().display().to_string(),
                ]
            })
        })
        .collect();
    let mut all: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "duplicate names: {all:?}");
}

#[test]
fn tempdir_is_private_and_removed() {
    let world = World::new("tempdir").unwrap();
    let dir = world.tempdir().to_owned();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    std::fs::create_dir_all(dir.join("networks/net1")).unwrap();
    std::fs::write(dir.join("networks/net1/10.0.0.2"), "c1\r\neth0").unwrap();
    assert_eq!(
        cni_sandbox::list_dir(dir.join("networks/net1")).unwrap(),
        ["10.0.0.2"]
    );
    drop(world);
    assert!(!dir.exists());
}

#[test]
fn bad_roles_and_ifnames_are_refused() {
    let world = World::new("refusals").unwrap();
    assert!(matches!(
        world.netns("Bad Role"),
        Err(SandboxError::Invalid { .. })
    ));
    let a = world.netns("a").unwrap();
    let b = world.netns("b").unwrap();
    assert!(matches!(
        world.veth((&a, "sixteen-chars-xx"), (&b, "ok")),
        Err(SandboxError::Invalid { .. })
    ));
}

#[test]
fn leftovers_of_dead_test_processes_are_swept() {
    // A pid that certainly exited: a child we reaped ourselves.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let stale = format!("cnisb-{dead_pid}-0-stale");
    let out = std::process::Command::new("ip")
        .args(["netns", "add", &stale])
        .output()
        .unwrap();
    // (No check that it is listed now: a parallel test's World::new may sweep it first.)
    assert!(out.status.success(), "{out:?}");
    let _world = World::new("sweeper").unwrap();
    assert!(!netns_list().contains(&stale), "stale namespace not swept");
}
