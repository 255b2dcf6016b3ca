//! The plugins the suite knows, as data: how to configure each, what it needs on the node,
//! how to break what it made, and which configs it must refuse. The protocol cases are
//! generated from this table, so a new plugin is one entry here.
//!
//! Every profile takes its IPAM from the same directory (our `bridge` is judged over our
//! `host-local`, the reference's over the reference's); mixing happens in `chaining`.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::case::{CaseResult, Failure, Need};
use super::fixture::{Fixture, NETWORK};

/// What ADD of the plugin makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An IPAM plugin: addresses, no interface; CNI_NETNS is not touched.
    Ipam,
    /// A plugin that creates `CNI_IFNAME` in the pod namespace.
    Interface,
}

/// The parameters of one network a case builds.
#[derive(Debug, Clone)]
pub struct NetSpec {
    /// The IPv4 subnet host-local hands out from.
    pub subnet: String,
    /// host-local's `dataDir`.
    pub data_dir: PathBuf,
}

impl NetSpec {
    /// The usual network of a fixture: a /24 in the fixture's own dataDir.
    pub fn of(fx: &Fixture) -> NetSpec {
        NetSpec {
            subnet: "10.88.0.0/24".into(),
            data_dir: fx.data_dir(),
        }
    }

    /// A /30: exactly one address to hand out (.1 is the gateway), so a second attachment
    /// only fits if the first was released.
    pub fn one_address(fx: &Fixture) -> NetSpec {
        NetSpec {
            subnet: "10.88.0.0/30".into(),
            ..NetSpec::of(fx)
        }
    }

    /// host-local's `ipam` object for this network.
    pub fn ipam(&self) -> Value {
        json!({
            "type": "host-local",
            "ranges": [[{"subnet": self.subnet}]],
            "dataDir": self.data_dir,
        })
    }
}

/// A config the plugin must refuse with code 7 ("invalid network config").
#[derive(Debug, Clone, Copy)]
pub struct BadConfig {
    /// Case name part.
    pub name: &'static str,
    /// Turns the good plugin object into the bad one.
    pub edit: fn(&mut Value),
}

/// One plugin's entry.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// The binary name.
    pub plugin: &'static str,
    /// What ADD makes.
    pub kind: Kind,
    /// Other binaries from the directory under test it delegates to.
    pub delegates: &'static [&'static str],
    /// Node-side prerequisites (macvlan's master link).
    pub prepare: fn(&Fixture) -> CaseResult,
    /// The plugin object of a list for `net`.
    pub conf: fn(&NetSpec) -> Value,
    /// Breaks what ADD made for the attachment in `pod`, so that CHECK must fail.
    pub tamper: fn(&Fixture, &cni_sandbox::Ns, &NetSpec) -> CaseResult,
    /// Configs to refuse.
    pub bad_configs: &'static [BadConfig],
}

impl Profile {
    /// The binaries a case of this profile needs.
    pub fn needs(&self) -> Vec<Need> {
        let mut needs = vec![Need::UnderTest(self.plugin)];
        needs.extend(self.delegates.iter().map(|d| Need::UnderTest(d)));
        needs
    }

    /// A list of just this plugin.
    pub fn list(&self, version: &str, net: &NetSpec) -> Value {
        json!({"cniVersion": version, "name": NETWORK, "plugins": [(self.conf)(net)]})
    }
}

/// Every plugin the suite covers.
pub const PROFILES: &[Profile] = &[HOST_LOCAL, BRIDGE, MACVLAN, VXLAN];

/// host-local, run directly as the only plugin of a list (runtimes can; libcni does not care
/// that it is an IPAM plugin).
pub const HOST_LOCAL: Profile = Profile {
    plugin: "host-local",
    kind: Kind::Ipam,
    delegates: &[],
    prepare: nothing,
    conf: |net| json!({"type": "host-local", "ipam": net.ipam()}),
    tamper: |_, _, net| {
        // The reservations are host-local's state; without them CHECK has nothing to find.
        let dir = net.data_dir.join(NETWORK);
        std::fs::remove_dir_all(&dir)
            .map_err(|e| Failure::new(format!("tamper: remove {}: {e}", dir.display())))
    },
    bad_configs: &[
        BadConfig {
            name: "no-ranges",
            edit: |c| {
                c["ipam"].as_object_mut().map(|i| i.remove("ranges"));
            },
        },
        BadConfig {
            name: "subnet-host-bits",
            edit: |c| c["ipam"]["ranges"] = json!([[{"subnet": "10.88.0.1/24"}]]),
        },
        BadConfig {
            name: "overlapping-range-sets",
            edit: |c| {
                c["ipam"]["ranges"] =
                    json!([[{"subnet": "10.88.0.0/24"}], [{"subnet": "10.88.0.0/25"}]])
            },
        },
        BadConfig {
            name: "no-ipam",
            edit: |c| {
                c.as_object_mut().map(|o| o.remove("ipam"));
            },
        },
    ],
};

/// The bridge every bridge case uses.
pub const BRIDGE_NAME: &str = "cnibr0";

/// bridge over host-local, with the gateway on the bridge.
pub const BRIDGE: Profile = Profile {
    plugin: "bridge",
    kind: Kind::Interface,
    delegates: &["host-local"],
    prepare: nothing,
    conf: |net| json!({"type": "bridge", "bridge": BRIDGE_NAME, "isGateway": true, "ipam": net.ipam()}),
    tamper: remove_pod_interface,
    bad_configs: &[
        BadConfig {
            name: "vlan-out-of-range",
            edit: |c| c["vlan"] = json!(5000),
        },
        BadConfig {
            name: "hairpin-and-promisc",
            edit: |c| {
                c["hairpinMode"] = json!(true);
                c["promiscMode"] = json!(true);
            },
        },
    ],
};

/// The macvlan master on the node: a veth whose peer sits in a LAN namespace.
pub const MACVLAN_MASTER: &str = "cnimaster0";

/// macvlan (bridge mode) over host-local.
pub const MACVLAN: Profile = Profile {
    plugin: "macvlan",
    kind: Kind::Interface,
    delegates: &["host-local"],
    prepare: |fx| {
        let lan = fx.netns("lan")?;
        fx.world()
            .veth((&fx.node, MACVLAN_MASTER), (&lan, "lan0"))?;
        Ok(())
    },
    conf: |net| json!({"type": "macvlan", "master": MACVLAN_MASTER, "ipam": net.ipam()}),
    tamper: remove_pod_interface,
    bad_configs: &[
        BadConfig {
            name: "unknown-mode",
            edit: |c| c["mode"] = json!("frob"),
        },
        BadConfig {
            name: "mtu-above-master",
            edit: |c| c["mtu"] = json!(9000),
        },
    ],
};

/// The vxlan underlay device on the node, and its address.
pub const VXLAN_UNDERLAY: (&str, &str) = ("under0", "192.168.50.1/24");

/// vxlan (VNI 42, head-end replication to one remote node) over host-local, gateway on its
/// bridge. There is no reference vxlan, so only a directory that has one runs these.
pub const VXLAN: Profile = Profile {
    plugin: "vxlan",
    kind: Kind::Interface,
    delegates: &["host-local"],
    prepare: |fx| {
        let lan = fx.netns("underlay")?;
        fx.world()
            .veth((&fx.node, VXLAN_UNDERLAY.0), (&lan, "lan0"))?;
        fx.node.add_addr(VXLAN_UNDERLAY.0, VXLAN_UNDERLAY.1)?;
        lan.add_addr("lan0", "192.168.50.2/24")?;
        Ok(())
    },
    conf: |net| {
        json!({"type": "vxlan", "vni": 42, "dev": VXLAN_UNDERLAY.0, "remotes": ["192.168.50.2"],
               "isGateway": true, "ipam": net.ipam()})
    },
    tamper: remove_pod_interface,
    bad_configs: &[
        BadConfig {
            name: "vni-out-of-range",
            edit: |c| c["vni"] = json!(16_777_216),
        },
        BadConfig {
            name: "group-not-multicast",
            edit: |c| {
                c.as_object_mut().map(|o| o.remove("remotes"));
                c["group"] = json!("10.0.0.1");
            },
        },
        BadConfig {
            name: "group-and-remotes",
            edit: |c| c["group"] = json!("239.1.1.1"),
        },
    ],
};

fn nothing(_: &Fixture) -> CaseResult {
    Ok(())
}

/// The pod interface the plugin made is deleted behind its back.
fn remove_pod_interface(_: &Fixture, pod: &cni_sandbox::Ns, _: &NetSpec) -> CaseResult {
    pod.ip(&["link", "del", "eth0"])?;
    Ok(())
}
