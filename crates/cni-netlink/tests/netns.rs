//! Namespaces: opening (and telling "gone" from "not a namespace"), and that acting inside one
//! never moves the calling thread.

mod common;

use cni_netlink::{Handle, Netns, NetnsError, SysctlKey};
use common::{open, thread_netns, world};

#[test]
fn missing_path_is_not_found() {
    let (world, _) = world("netns_missing", &[]);
    let path = world.tempdir().join("no-such-netns");
    let err = Netns::open(&path).expect_err("must fail");
    assert!(matches!(err, NetnsError::NotFound { .. }), "{err}");
    assert_eq!(err.errno(), Some(libc::ENOENT));
    assert!(cni_netlink::Error::from(err).is_not_found());
}

#[test]
fn regular_file_is_not_a_netns() {
    let (world, _) = world("netns_regular_file", &[]);
    let path = world.tempdir().join("plain-file");
    std::fs::write(&path, b"not a namespace").expect("write");
    let err = Netns::open(&path).expect_err("must fail");
    assert!(matches!(err, NetnsError::NotNetns { .. }), "{err}");
}

#[test]
fn other_namespace_types_are_not_a_netns() {
    let err = Netns::open("/proc/thread-self/ns/uts").expect_err("a UTS namespace");
    assert!(matches!(err, NetnsError::NotNetns { .. }), "{err}");
    assert!(err.to_string().contains("another type"), "{err}");
}

#[test]
fn a_world_namespace_opens_and_has_its_identity() {
    let (_world, ns) = world("netns_identity", &["pod"]);
    let netns = Netns::open(ns[0].path()).expect("open");
    assert_eq!(netns.id().expect("id").ino, ns[0].inode().expect("inode"));
    assert_eq!(netns.path(), ns[0].path().display().to_string());
}

#[test]
fn socket_in_a_namespace_sees_only_its_links_and_caller_stays_put() {
    let (world, ns) = world("netns_socket_scope", &["node", "pod"]);
    world
        .veth((&ns[0], "only-node"), (&ns[1], "only-pod"))
        .expect("veth");
    let before = thread_netns();

    let (pod_ns, pod) = open(&ns[1]);
    let mut ours: Vec<String> = pod
        .link_list()
        .expect("list")
        .into_iter()
        .map(|l| l.name)
        .collect();
    let mut oracle: Vec<String> = ns[1]
        .links()
        .expect("ip link")
        .into_iter()
        .map(|l| l.name)
        .collect();
    ours.sort();
    oracle.sort();
    assert_eq!(ours, oracle);
    assert_eq!(ours, ["lo", "only-pod"]);

    // Running inside the namespace happens on another thread, which really is inside.
    let inside = pod_ns.run(thread_netns).expect("run");
    assert_eq!(inside, format!("net:[{}]", ns[1].inode().expect("inode")));
    assert_eq!(thread_netns(), before, "the calling thread must never move");

    // And the caller's own socket still sees the caller's namespace, not the pod's.
    let here = Handle::current().expect("current");
    assert!(here.link_get("only-pod").expect("get").is_none());
    assert_eq!(thread_netns(), before);
}

#[test]
fn run_stays_on_the_caller_only_when_it_is_already_inside() {
    let (_world, ns) = world("netns_run_inline", &["pod"]);
    let here = Netns::current().expect("current");
    let pod = Netns::open(ns[0].path()).expect("open");
    let caller = std::thread::current().id();
    let before = thread_netns();

    // The caller's own namespace: nothing to enter, so no helper thread.
    assert!(here.is_current().expect("is_current"));
    let (thread, netns) = here
        .run(|| (std::thread::current().id(), thread_netns()))
        .expect("run here");
    assert_eq!(thread, caller);
    assert_eq!(netns, before);

    // Another namespace: a helper thread that really is inside, and the caller stays put.
    assert!(!pod.is_current().expect("is_current"));
    let (thread, netns) = pod
        .run(|| (std::thread::current().id(), thread_netns()))
        .expect("run in pod");
    assert_ne!(thread, caller);
    assert_eq!(netns, format!("net:[{}]", ns[0].inode().expect("inode")));
    assert_eq!(thread_netns(), before, "the calling thread must never move");

    // A handle on the caller's namespace used from a thread of another namespace is not
    // "current" there: the answer comes from the using thread, not from where it was opened.
    let seen = pod
        .run(|| {
            (
                here.is_current().expect("is_current"),
                here.run(thread_netns).expect("run back"),
            )
        })
        .expect("run in pod");
    assert_eq!(seen, (false, before.clone()));
}

#[test]
fn panics_inside_run_reach_the_caller() {
    let (_world, ns) = world("netns_run_panic", &["pod"]);
    let netns = Netns::open(ns[0].path()).expect("open");
    let caught = std::panic::catch_unwind(|| netns.run(|| panic!("boom")));
    assert!(caught.is_err());
    let here = Netns::current().expect("current");
    let caught = std::panic::catch_unwind(|| here.run(|| panic!("boom in place")));
    assert!(caught.is_err());
}

#[test]
fn sysctl_writes_land_in_the_namespace_only() {
    let (_world, ns) = world("netns_sysctl", &["pod"]);
    let netns = Netns::open(ns[0].path()).expect("open");
    let key = SysctlKey::new("net/ipv4/ip_forward").expect("key");
    let root_before = cni_netlink::sysctl::read(&key).expect("read root");

    let wanted = if ns[0].sysctl("net.ipv4.ip_forward").expect("oracle") == "1" {
        "0"
    } else {
        "1"
    };
    assert!(
        netns.sysctl_write(&key, wanted).expect("write"),
        "first write changes it"
    );
    assert!(
        !netns.sysctl_write(&key, wanted).expect("write"),
        "second write is skipped"
    );
    assert_eq!(ns[0].sysctl("net.ipv4.ip_forward").expect("oracle"), wanted);
    assert_eq!(netns.sysctl_read(&key).expect("read"), wanted);
    assert_eq!(
        cni_netlink::sysctl::read(&key).expect("read root"),
        root_before
    );

    // Set without a read: lands in the namespace too, also when it changes nothing.
    let other = if wanted == "1" { "0" } else { "1" };
    netns.sysctl_set(&key, other).expect("set");
    assert_eq!(ns[0].sysctl("net.ipv4.ip_forward").expect("oracle"), other);
    netns.sysctl_set(&key, other).expect("set again");
    assert_eq!(ns[0].sysctl("net.ipv4.ip_forward").expect("oracle"), other);
    assert_eq!(
        cni_netlink::sysctl::read(&key).expect("read root"),
        root_before
    );

    // Per-interface keys, and a key for a missing interface keeps its errno.
    let lo = SysctlKey::ipv4_conf("lo", "arp_notify").expect("key");
    netns.sysctl_write_all(&[(lo, "1")]).expect("write all");
    assert_eq!(
        ns[0].sysctl("net/ipv4/conf/lo/arp_notify").expect("oracle"),
        "1"
    );
    let gone = SysctlKey::ipv6_conf("nosuchif0", "accept_dad").expect("key");
    let err = netns
        .sysctl_write(&gone, "0")
        .expect_err("no such interface");
    assert!(err.is_not_found(), "{err}");
    let err = netns.sysctl_set(&gone, "0").expect_err("no such interface");
    assert!(err.is_not_found(), "{err}");
}
