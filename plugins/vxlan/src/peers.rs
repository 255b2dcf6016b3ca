//! How the VTEP finds its peers: the FDB and neighbour entries the config asks for, reconciled
//! with what the kernel holds on every ADD (added and removed entries alike), and compared by
//! CHECK.
//!
//! - `remotes` (head-end replication): one all-zero-MAC FDB entry per remote VTEP, each added
//!   with `NLM_F_APPEND` and `NTF_SELF` (`bridge fdb append 00:00:00:00:00:00 dev vxlanN dst R
//!   self permanent`); the kernel sends a copy of every flooded frame to each. Our own local
//!   address is skipped, so every node can share one config listing all nodes.
//! - `group`: the kernel keeps the group's default entry itself; nothing to program.
//! - `neighbors` (proxy): per remote pod a permanent FDB entry `MAC -> remote VTEP` and a
//!   permanent neighbour entry `IP -> MAC` on the VTEP, which a `proxy` VTEP answers ARP/ND
//!   from, so those requests never cross the underlay (vxlan-multus.md §2.7).
//!
//! Only permanent `self` entries are ours: learned entries (group mode, learning on) age on
//! their own and are never touched. The diff is a pure function ([`plan`]), tested alone.

use std::collections::BTreeSet;
use std::net::IpAddr;

use cni_attach::{Context, NsConn};
use cni_netlink::{FdbEntry, Link, MacAddr, Neighbour};

use crate::config::{Flood, VxlanConf};
use crate::error::{Error, Result};

/// The entries a config asks for on one node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// Remote VTEPs for flooding; `None` when the device's group handles it.
    pub flood: Option<BTreeSet<IpAddr>>,
    /// Unicast FDB entries: pod MAC -> remote VTEP.
    pub fdb: BTreeSet<(MacAddr, IpAddr)>,
    /// Neighbour entries on the VTEP: pod IP -> pod MAC.
    pub neigh: BTreeSet<(IpAddr, MacAddr)>,
}

impl Desired {
    /// What `conf` asks for on the node whose tunnel address is `local`.
    pub fn from_conf(conf: &VxlanConf, local: IpAddr) -> Desired {
        let flood = match &conf.flood {
            Flood::Remotes(r) => Some(r.iter().copied().filter(|r| *r != local).collect()),
            Flood::Group(_) => None,
        };
        // Pods behind our own VTEP are reached through the bridge, not the tunnel.
        let remote_pods = conf.neighbors.iter().filter(|n| n.remote != local);
        Desired {
            flood,
            fdb: remote_pods.clone().map(|n| (n.mac, n.remote)).collect(),
            neigh: remote_pods.map(|n| (n.ip, n.mac)).collect(),
        }
    }
}

/// The changes that turn the kernel's entries into the desired ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerPlan {
    /// Flood remotes to append.
    pub append: Vec<IpAddr>,
    /// Flood remotes to remove.
    pub remove: Vec<IpAddr>,
    /// Unicast FDB entries to create or re-point.
    pub fdb_set: Vec<(MacAddr, IpAddr)>,
    /// Unicast FDB entries to delete.
    pub fdb_del: Vec<(MacAddr, IpAddr)>,
    /// Neighbour entries to create or change.
    pub neigh_set: Vec<(IpAddr, MacAddr)>,
    /// Neighbour entries to delete.
    pub neigh_del: Vec<IpAddr>,
}

impl PeerPlan {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        self == &PeerPlan::default()
    }

    /// The differences in words, for CHECK.
    pub fn describe(&self) -> String {
        let ip = |i: &IpAddr| i.to_string();
        let fdb = |(m, d): &(MacAddr, IpAddr)| format!("{m} dst {d}");
        let neigh = |(i, m): &(IpAddr, MacAddr)| format!("{i} lladdr {m}");
        let parts = [
            ("missing flood entries for", words(&self.append, ip)),
            ("unexpected flood entries for", words(&self.remove, ip)),
            ("missing fdb entries", words(&self.fdb_set, fdb)),
            ("unexpected fdb entries", words(&self.fdb_del, fdb)),
            ("missing neighbours", words(&self.neigh_set, neigh)),
            ("unexpected neighbours", words(&self.neigh_del, ip)),
        ];
        let present = parts.into_iter().filter(|(_, list)| !list.is_empty());
        let described: Vec<String> = present
            .map(|(what, list)| format!("{what} {list}"))
            .collect();
        described.join("; ")
    }
}

/// `items` in words, comma-separated.
fn words<T>(items: &[T], word: impl Fn(&T) -> String) -> String {
    items.iter().map(word).collect::<Vec<_>>().join(", ")
}

/// The diff between `want` and the VTEP's current FDB and neighbour entries (only permanent
/// `self` entries and permanent neighbours count as ours).
pub fn plan(want: &Desired, fdb: &[FdbEntry], neigh: &[Neighbour]) -> PeerPlan {
    let ours = fdb.iter().filter(|e| e.is_self && e.permanent);
    let flood_have: BTreeSet<IpAddr> = ours
        .clone()
        .filter(|e| e.mac == MacAddr::ZERO)
        .filter_map(|e| e.dst)
        .collect();
    let fdb_have: BTreeSet<(MacAddr, IpAddr)> = ours
        .filter(|e| e.mac != MacAddr::ZERO)
        .filter_map(|e| Some((e.mac, e.dst?)))
        .collect();
    let neigh_have: BTreeSet<(IpAddr, MacAddr)> = neigh
        .iter()
        .filter(|n| n.is_permanent())
        .filter_map(|n| Some((n.ip, n.mac?)))
        .collect();
    let mut plan = PeerPlan::default();
    if let Some(flood) = &want.flood {
        plan.append = flood.difference(&flood_have).copied().collect();
        plan.remove = flood_have.difference(flood).copied().collect();
    }
    plan.fdb_set = want.fdb.difference(&fdb_have).copied().collect();
    // A MAC that moved is re-pointed by its `fdb_set`; deleting its old (MAC, dst) would then
    // delete the new one, since a unicast MAC has one entry.
    let moved: BTreeSet<MacAddr> = plan.fdb_set.iter().map(|(m, _)| *m).collect();
    plan.fdb_del = fdb_have
        .difference(&want.fdb)
        .filter(|(m, _)| !moved.contains(m))
        .copied()
        .collect();
    plan.neigh_set = want.neigh.difference(&neigh_have).copied().collect();
    let wanted_ips: BTreeSet<IpAddr> = want.neigh.iter().map(|(ip, _)| *ip).collect();
    plan.neigh_del = neigh_have
        .iter()
        .map(|(ip, _)| *ip)
        .filter(|ip| !wanted_ips.contains(ip))
        .collect();
    plan
}

/// The plan for `vtep` as the kernel shows it now.
fn current_plan(node: &NsConn, vtep: &Link, want: &Desired) -> Result<PeerPlan> {
    let fdb = node
        .handle
        .fdb_list(vtep.index)
        .context(|| format!("list fdb of {:?}", vtep.name))?;
    let neigh = node
        .handle
        .neigh_list(Some(vtep.index))
        .context(|| format!("list neighbours of {:?}", vtep.name))?;
    Ok(plan(want, &fdb, &neigh))
}

/// Makes the VTEP's entries what `want` says. Call with the network's lock held.
pub fn reconcile(node: &NsConn, vtep: &Link, want: &Desired) -> Result<()> {
    let plan = current_plan(node, vtep, want)?;
    let h = &node.handle;
    let i = vtep.index;
    for dst in &plan.append {
        h.fdb_append(i, MacAddr::ZERO, *dst)
            .context(|| format!("add flood entry for remote {dst}"))?;
    }
    for dst in &plan.remove {
        ignore_missing(h.fdb_del(i, MacAddr::ZERO, *dst))
            .context(|| format!("remove flood entry for remote {dst}"))?;
    }
    for (mac, dst) in &plan.fdb_set {
        h.fdb_replace(i, *mac, *dst)
            .context(|| format!("add fdb entry {mac} dst {dst}"))?;
    }
    for (mac, dst) in &plan.fdb_del {
        ignore_missing(h.fdb_del(i, *mac, *dst))
            .context(|| format!("remove fdb entry {mac} dst {dst}"))?;
    }
    for (ip, mac) in &plan.neigh_set {
        h.neigh_replace(i, *ip, *mac)
            .context(|| format!("add neighbour {ip} lladdr {mac}"))?;
    }
    for ip in &plan.neigh_del {
        ignore_missing(h.neigh_del(i, *ip)).context(|| format!("remove neighbour {ip}"))?;
    }
    Ok(())
}

/// CHECK: fails unless the VTEP's entries are exactly what `want` says.
pub fn check(node: &NsConn, vtep: &Link, want: &Desired) -> Result<()> {
    let plan = current_plan(node, vtep, want)?;
    if plan.is_empty() {
        return Ok(());
    }
    Err(Error::Check(format!(
        "VTEP {} peers differ from the config: {}",
        vtep.name,
        plan.describe()
    )))
}

fn ignore_missing(r: cni_netlink::Result<()>) -> cni_netlink::Result<()> {
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StaticNeighbor;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn mac(s: &str) -> MacAddr {
        s.parse().unwrap()
    }

    fn fdb(m: &str, dst: &str, permanent: bool) -> FdbEntry {
        FdbEntry {
            index: 5,
            mac: mac(m),
            dst: Some(ip(dst)),
            vni: None,
            port: None,
            vlan: None,
            master: None,
            is_self: true,
            permanent,
        }
    }

    fn want(flood: Option<&[&str]>, pods: &[(&str, &str, &str)]) -> Desired {
        Desired {
            flood: flood.map(|f| f.iter().map(|s| ip(s)).collect()),
            fdb: pods.iter().map(|(_, m, d)| (mac(m), ip(d))).collect(),
            neigh: pods.iter().map(|(i, m, _)| (ip(i), mac(m))).collect(),
        }
    }

    #[test]
    fn remotes_are_appended_and_removed_and_our_own_address_skipped() {
        let conf = VxlanConf {
            flood: Flood::Remotes(vec![ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3")]),
            ..crate::config::tests::minimal()
        };
        let desired = Desired::from_conf(&conf, ip("10.0.0.1"));
        assert_eq!(desired, want(Some(&["10.0.0.2", "10.0.0.3"]), &[]));
        let zero = "00:00:00:00:00:00";
        let have = [fdb(zero, "10.0.0.3", true), fdb(zero, "10.0.0.9", true)];
        let p = plan(&desired, &have, &[]);
        assert_eq!(p.append, [ip("10.0.0.2")]);
        assert_eq!(p.remove, [ip("10.0.0.9")]);
        assert_eq!(
            p.describe(),
            "missing flood entries for 10.0.0.2; unexpected flood entries for 10.0.0.9"
        );
        let done = [fdb(zero, "10.0.0.2", true), fdb(zero, "10.0.0.3", true)];
        assert!(plan(&desired, &done, &[]).is_empty());
    }

    #[test]
    fn group_mode_leaves_flood_and_learned_entries_alone() {
        let desired = want(None, &[]);
        let have = [
            fdb("00:00:00:00:00:00", "239.1.1.1", true),
            fdb("02:00:00:00:00:07", "10.0.0.2", false),
        ];
        assert!(plan(&desired, &have, &[]).is_empty());
    }

    #[test]
    fn neighbours_get_fdb_and_arp_entries_and_moves_are_repointed() {
        let conf = VxlanConf {
            neighbors: vec![
                StaticNeighbor {
                    ip: ip("10.1.0.2"),
                    mac: mac("02:00:00:00:00:02"),
                    remote: ip("10.0.0.2"),
                },
                StaticNeighbor {
                    ip: ip("10.1.0.1"),
                    mac: mac("02:00:00:00:00:01"),
                    remote: ip("10.0.0.1"),
                },
            ],
            ..crate::config::tests::minimal()
        };
        let desired = Desired::from_conf(&conf, ip("10.0.0.1"));
        assert_eq!(
            desired,
            want(Some(&[]), &[("10.1.0.2", "02:00:00:00:00:02", "10.0.0.2")])
        );
        // The pod moved from node 3 to node 2, and a stale pod is still programmed.
        let have = [
            fdb("02:00:00:00:00:02", "10.0.0.3", true),
            fdb("02:00:00:00:00:09", "10.0.0.3", true),
        ];
        let neigh = [
            Neighbour {
                index: 5,
                ip: ip("10.1.0.2"),
                mac: Some(mac("02:00:00:00:00:02")),
                state: 0x80,
            },
            Neighbour {
                index: 5,
                ip: ip("10.1.0.9"),
                mac: Some(mac("02:00:00:00:00:09")),
                state: 0x80,
            },
            // Resolved by the kernel, not ours.
            Neighbour {
                index: 5,
                ip: ip("fe80::1"),
                mac: Some(mac("02:00:00:00:00:0a")),
                state: 0x02,
            },
        ];
        let p = plan(&desired, &have, &neigh);
        assert_eq!(p.fdb_set, [(mac("02:00:00:00:00:02"), ip("10.0.0.2"))]);
        assert_eq!(p.fdb_del, [(mac("02:00:00:00:00:09"), ip("10.0.0.3"))]);
        assert!(p.neigh_set.is_empty());
        assert_eq!(p.neigh_del, [ip("10.1.0.9")]);
    }
}
