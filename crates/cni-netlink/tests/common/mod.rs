//! Shared setup for the kernel tests: a cni-sandbox world (namespaces made and read back with
//! iproute2, the independent oracle) and our handles on its namespaces.
#![allow(dead_code)]

use cni_netlink::{Handle, Link, Netns};
use cni_sandbox::{Ns, World};

/// A world for one test, with one namespace per role. Everything goes when it drops.
pub fn world(test: &str, roles: &[&str]) -> (World, Vec<Ns>) {
    let world = World::new(test).expect("cni-sandbox world (kernel tests need root)");
    let namespaces = roles
        .iter()
        .map(|r| world.netns(r).expect("namespace"))
        .collect();
    (world, namespaces)
}

/// Our namespace handle and a netlink socket inside `ns`.
pub fn open(ns: &Ns) -> (Netns, Handle) {
    let netns = Netns::open(ns.path()).expect("open namespace");
    let handle = netns.handle().expect("socket in namespace");
    (netns, handle)
}

/// The link called `name` as our crate sees it; panics if missing.
pub fn link(handle: &Handle, name: &str) -> Link {
    handle
        .link_get(name)
        .expect("link_get")
        .unwrap_or_else(|| panic!("no link {name:?}"))
}

/// Where the calling thread's namespace is, as the kernel names it (`net:[inode]`).
pub fn thread_netns() -> String {
    std::fs::read_link("/proc/thread-self/ns/net")
        .expect("readlink")
        .display()
        .to_string()
}
