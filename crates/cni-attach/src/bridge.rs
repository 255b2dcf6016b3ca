//! The node-side Linux bridge that pods' host veths plug into, as the `bridge` and `vxlan`
//! plugins both use it: make sure the device exists and is up, give it a gateway address,
//! enslave a host veth with its port flags, and wait until that port forwards.
//!
//! Concurrent ADDs may race to create one bridge; the loser's `EEXIST` is success (the bridge
//! plugin relies on that, having no lock; the vxlan plugin holds its own lock anyway). Settings
//! that change an existing bridge under running pods (MTU, VLAN filtering) apply only when this
//! call creates it (cni #356); promiscuous mode and a requested MAC are enforced every time.
//!
//! Not here: per-port VLANs (the bridge plugin's business), the VXLAN device (vxlan's), and
//! removing a bridge (only the vxlan plugin does, under its lock).

use std::time::{Duration, Instant};

use cni_netlink::{
    AddrOptions, BridgePortSettings, BridgeSpec, IpFamily, Link, LinkKind, MacAddr, OperState,
    PortState, SysctlKey,
};
use ipnetwork::IpNetwork;

use crate::error::{Context, Error, Result};
use crate::ns::NsConn;

/// How long a new port may take to reach forwarding (the reference polls 0+50+500+1000+1000 ms).
pub const FORWARDING_TIMEOUT: Duration = Duration::from_millis(3000);

/// The bridge a plugin wants.
#[derive(Debug, Clone, Copy)]
pub struct BridgeDevice<'a> {
    /// The bridge's name.
    pub name: &'a str,
    /// MTU, applied only when the bridge is created here.
    pub mtu: Option<u32>,
    /// A fixed MAC. Without one the kernel gives the bridge its lowest port's MAC and changes
    /// it as ports come and go; see [`ensure_gateway_addr`] for pinning it afterwards.
    pub mac: Option<MacAddr>,
    /// 802.1Q filtering, applied only when the bridge is created here. Kernels built without
    /// `CONFIG_BRIDGE_VLAN_FILTERING` answer `EOPNOTSUPP` (a [`Error::Netlink`]).
    pub vlan_filtering: Option<bool>,
    /// Promiscuous mode (`promiscMode`); only ever turned on, as in the reference.
    pub promisc: bool,
    /// IPv6 duplicate address detection on the bridge's own addresses. Turn it off when `mac`
    /// is shared by the bridges of several nodes on one L2 segment (the vxlan plugin's anycast
    /// gateway): their identical link-local addresses would otherwise fail DAD.
    pub ipv6_dad: bool,
}

impl<'a> BridgeDevice<'a> {
    /// A bridge with nothing but a name.
    pub fn named(name: &'a str) -> Self {
        BridgeDevice {
            name,
            mtu: None,
            mac: None,
            vlan_filtering: None,
            promisc: false,
            ipv6_dad: true,
        }
    }
}

/// Creates the bridge if missing, checks the link really is a bridge, applies `promisc` and
/// `mac`, turns off router advertisements (the plugin owns its routes) and DAD if asked, brings
/// it up and returns it as the kernel then reports it.
pub fn ensure_bridge(node: &NsConn, want: &BridgeDevice) -> Result<Link> {
    let spec = BridgeSpec {
        mtu: want.mtu,
        mac: want.mac,
        vlan_filtering: want.vlan_filtering,
        ..BridgeSpec::new(want.name)
    };
    match node.handle.link_add_bridge(&spec) {
        Ok(()) => {}
        Err(e) if e.is_exists() => {}
        Err(source) => {
            return Err(Error::Netlink {
                context: format!("could not add {:?}", want.name),
                source,
            });
        }
    }
    let link = bridge_by_name(node, want.name)?;
    let mut changed = false;
    if want.promisc && !link.promisc {
        node.handle
            .link_set_promisc(link.index, true)
            .context(|| format!("could not set promiscuous mode on {:?}", want.name))?;
        changed = true;
    }
    if let Some(mac) = want.mac.filter(|m| link.mac != Some(*m)) {
        node.handle
            .link_set_address(link.index, mac)
            .context(|| format!("could not set {:?}'s mac to {mac}", want.name))?;
        changed = true;
    }
    // Best effort, as in the reference: a node without IPv6 has no such keys.
    let mut sysctls = vec![("accept_ra", "0")];
    if !want.ipv6_dad {
        sysctls.push(("accept_dad", "0"));
    }
    for (leaf, value) in sysctls {
        if let Ok(key) = SysctlKey::ipv6_conf(want.name, leaf) {
            let _ = node.netns.sysctl_write(&key, value);
        }
    }
    // Every ADD after the first finds the bridge as wanted: no change to make, nothing new
    // to read back.
    if link.admin_up && !changed {
        return Ok(link);
    }
    node.handle
        .link_set_up(link.index)
        .context(|| format!("set {:?} up", want.name))?;
    bridge_by_name(node, want.name)
}

/// The link called `name`, which must be a bridge.
pub fn bridge_by_name(node: &NsConn, name: &str) -> Result<Link> {
    let link = node
        .handle
        .link_get(name)
        .context(|| format!("could not lookup {name:?}"))?
        .ok_or_else(|| Error::Check(format!("could not lookup {name:?}: Link not found")))?;
    match link.kind {
        Some(LinkKind::Bridge(_)) => Ok(link),
        _ => Err(Error::NotABridge(name.to_owned())),
    }
}

/// Puts gateway `gw` on `link` (the reference's `ensureAddr`): nothing to do if present; an
/// IPv4 address of another value, or an overlapping IPv6 one, is removed with `force`
/// (`forceAddress`) and an error otherwise (non-overlapping IPv6 addresses coexist). After
/// adding, the link's MAC is set to itself, which pins it: a bridge otherwise takes the lowest
/// port MAC and changes it as pods come and go, breaking the pods' neighbour entries for the
/// gateway.
///
/// The gateway is added `nodad`: it is the subnet's router, and DAD would leave IPv6 pods
/// unable to reach it for about a second after the first ADD.
pub fn ensure_gateway_addr(node: &NsConn, link: &Link, gw: IpNetwork, force: bool) -> Result<()> {
    // One family's dump: the kernel serves it without the RTNL (see `addr_list_family`).
    let same_family = node
        .handle
        .addr_list_family(Some(link.index), IpFamily::of(&gw.ip()))
        .context(|| format!("could not get list of IP addresses of {:?}", link.name))?;
    let mut conflicts = Vec::new();
    for a in &same_family {
        if a.network.ip() == gw.ip() && a.network.prefix() == gw.prefix() {
            return Ok(());
        }
        let overlaps = a.network.contains(gw.ip()) || gw.contains(a.network.ip());
        if gw.is_ipv4() || overlaps {
            conflicts.push(a.network);
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(Error::AddressConflict {
            link: link.name.clone(),
            wanted: gw,
        });
    }
    for old in conflicts {
        node.handle
            .addr_del(link.index, old)
            .context(|| format!("could not remove IP address {old} from {:?}", link.name))?;
    }
    match node
        .handle
        .addr_add(link.index, gw, AddrOptions { nodad: true })
    {
        Ok(()) => {}
        Err(e) if e.is_exists() => {}
        Err(source) => {
            return Err(Error::Netlink {
                context: format!("could not add IP address to {:?}", link.name),
                source,
            });
        }
    }
    // Read it now: the MAC may have changed since `link` was fetched (ports joined). A bridge
    // without ports may still have none (all zero); there is nothing to pin then.
    let current = node
        .handle
        .link_get(link.index)
        .context(|| format!("look up {:?}", link.name))?
        .and_then(|l| l.mac)
        .filter(|m| *m != MacAddr::ZERO);
    if let Some(mac) = current {
        node.handle
            .link_set_address(link.index, mac)
            .context(|| format!("could not set {:?}'s mac", link.name))?;
    }
    Ok(())
}

/// The port flags every attachment sets, true or false, so a port reused under a new config
/// cannot keep an old flag (the reference writes both every time too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PortFlags {
    /// Hairpin (reflective relay, `hairpinMode`).
    pub hairpin: bool,
    /// Isolated port (`portIsolation`).
    pub isolated: bool,
}

/// Enslaves `port` to `bridge` and writes `flags`.
///
/// A link that was nobody's port (`port.master` is `None`) becomes a new port, and the kernel
/// starts every new port with hairpin and isolation off (`new_nbp`); then only flags that are
/// on are written. The write is a whole `RTM_NEWLINK` with a `NETDEV_CHANGE` to every
/// listener (issue 8); a port that had a master before always gets both flags written.
pub fn attach_port(node: &NsConn, bridge: &Link, port: &Link, flags: PortFlags) -> Result<()> {
    node.handle
        .link_set_master(port.index, bridge.index)
        .context(|| {
            format!(
                "failed to connect {:?} to bridge {}",
                port.name, bridge.name
            )
        })?;
    if port.master.is_none() && flags == PortFlags::default() {
        return Ok(());
    }
    let settings = BridgePortSettings {
        hairpin: Some(flags.hairpin),
        isolated: Some(flags.isolated),
        learning: None,
    };
    node.handle
        .bridge_link_set(port.index, &settings)
        .context(|| {
            format!(
                "failed to setup hairpin mode and isolation for {:?}",
                port.name
            )
        })
}

/// Waits until `port` is operationally up and forwarding as a bridge port. Without STP that is
/// immediate once both veth ends are up, but the kernel applies it asynchronously.
pub fn wait_forwarding(node: &NsConn, port: &Link, timeout: Duration) -> Result<Link> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        let link = node
            .handle
            .link_get(port.index)
            .context(|| format!("look up {:?}", port.name))?
            .ok_or_else(|| Error::PortNotForwarding(format!("{:?} is gone", port.name)))?;
        let state = link.bridge_port.map(|p| p.state);
        if link.oper_state == OperState::Up && state == Some(PortState::Forwarding) {
            return Ok(link);
        }
        if start.elapsed() >= timeout {
            return Err(Error::PortNotForwarding(format!(
                "{:?} oper state {:?}, port state {:?} after {} ms",
                port.name,
                link.oper_state,
                state,
                start.elapsed().as_millis()
            )));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}
