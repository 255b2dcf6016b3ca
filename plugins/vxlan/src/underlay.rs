//! The underlay: which node interface carries the tunnel (`dev`, or the default-route
//! interface), which of its addresses is the tunnel's local end (`local`, or its first global
//! address of the right family), and the inner MTU that leaves room for the encapsulation.
//!
//! All three are set explicitly on the VTEP rather than left to the kernel: without
//! `IFLA_VXLAN_LINK` the kernel picks MTU 1500 whatever the underlay (flannel#841), and without
//! a local address the source follows routing, which changes when routes do.
//!
//! Not here: creating anything. Read only, so ADD can fail on a missing underlay before IPAM
//! hands out an address, and STATUS can ask the same questions.

use std::net::IpAddr;

use cni_attach::uplink::default_route_link;
use cni_attach::{Context, NsConn};
use cni_netlink::{Address, IpFamily, Link, Scope};

use crate::config::{self, VxlanConf};
use crate::error::{Error, Result};

/// Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) bytes (include/net/vxlan.h
/// `VXLAN_HEADROOM`).
pub const OVERHEAD_V4: u32 = 50;
/// The same over IPv6 (40-byte outer header, `VXLAN6_HEADROOM`).
pub const OVERHEAD_V6: u32 = 70;

/// The resolved underlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Underlay {
    /// The device.
    pub link: Link,
    /// The tunnel's local address, on `link`.
    pub local: IpAddr,
    /// The MTU of the VTEP and of the pods' interfaces.
    pub mtu: u32,
}

/// Resolves the underlay in the node's namespace (see the module doc).
pub fn resolve(node: &NsConn, conf: &VxlanConf) -> Result<Underlay> {
    let link = match &conf.dev {
        Some(name) => node
            .handle
            .link_get(name.as_str())
            .context(|| format!("look up underlay {name:?}"))?
            .ok_or_else(|| Error::UnderlayMissing {
                name: name.clone(),
                netns: node.label().to_owned(),
            })?,
        None => default_route_link(&node.handle)?.ok_or_else(|| Error::NoDefaultRoute {
            netns: node.label().to_owned(),
        })?,
    };
    let addresses = node
        .handle
        .addr_list(Some(link.index))
        .context(|| format!("list addresses of underlay {:?}", link.name))?;
    let local = match conf.local {
        Some(local) if addresses.iter().any(|a| a.network.ip() == local) => local,
        Some(local) => {
            return Err(Error::LocalNotOnUnderlay {
                local,
                dev: link.name.clone(),
            });
        }
        None => pick_local(&addresses, conf.family()).ok_or_else(|| Error::NoLocalAddress {
            dev: link.name.clone(),
            family: match conf.family() {
                Some(IpFamily::V6) => "IPv6",
                _ => "IPv4 or IPv6",
            },
        })?,
    };
    let family = IpFamily::of(&local);
    if conf.family().is_some_and(|f| f != family) {
        return Err(Error::Config(format!(
            "local address {local} and the configured peers differ in IP family"
        )));
    }
    config::udp_csum_allowed(conf, family)?;
    let mtu = inner_mtu(conf.bridged.mtu, &link, family)?;
    Ok(Underlay { link, local, mtu })
}

/// The first usable global address of `family` (IPv4 before IPv6 when the config does not
/// say): not link-local, not a failed DAD.
pub fn pick_local(addresses: &[Address], family: Option<IpFamily>) -> Option<IpAddr> {
    let usable = |f: IpFamily| {
        addresses
            .iter()
            .filter(|a| a.scope == Scope::UNIVERSE && !a.flags.dadfailed)
            .map(|a| a.network.ip())
            .find(|ip| IpFamily::of(ip) == f)
    };
    match family {
        Some(f) => usable(f),
        None => usable(IpFamily::V4).or_else(|| usable(IpFamily::V6)),
    }
}

/// The VTEP's and pods' MTU: `requested`, which must fit, or the underlay's minus the
/// encapsulation.
pub fn inner_mtu(requested: Option<u32>, underlay: &Link, family: IpFamily) -> Result<u32> {
    let overhead = match family {
        IpFamily::V4 => OVERHEAD_V4,
        IpFamily::V6 => OVERHEAD_V6,
    };
    let max = underlay.mtu.saturating_sub(overhead);
    match requested {
        None if max >= 68 => Ok(max),
        Some(mtu) if mtu <= max => Ok(mtu),
        _ => Err(Error::MtuTooLarge {
            mtu: requested.unwrap_or(68),
            dev: underlay.name.clone(),
            underlay_mtu: underlay.mtu,
            max,
            overhead,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_netlink::AddrFlags;

    fn addr(s: &str, scope: Scope) -> Address {
        Address {
            index: 2,
            network: s.parse().unwrap(),
            scope,
            flags: AddrFlags::default(),
        }
    }

    #[test]
    fn local_is_the_first_global_address_of_the_family() {
        let addrs = [
            addr("fe80::1/64", Scope::LINK),
            addr("fd00::5/64", Scope::UNIVERSE),
            addr("10.0.0.5/24", Scope::UNIVERSE),
            addr("10.0.0.6/24", Scope::UNIVERSE),
        ];
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(pick_local(&addrs, None), ip("10.0.0.5"));
        assert_eq!(pick_local(&addrs, Some(IpFamily::V6)), ip("fd00::5"));
        assert_eq!(pick_local(&addrs[..2], None), ip("fd00::5"));
        assert_eq!(pick_local(&addrs[..1], None), None);
        let mut failed = addr("fd00::7/64", Scope::UNIVERSE);
        failed.flags.dadfailed = true;
        assert_eq!(pick_local(&[failed], None), None);
    }

    #[test]
    fn mtu_leaves_room_for_the_encapsulation() {
        let underlay = Link {
            index: 2,
            name: "eth0".into(),
            kind: None,
            master: None,
            mac: None,
            mtu: 1500,
            admin_up: true,
            promisc: false,
            oper_state: cni_netlink::OperState::Up,
            link_index: None,
            link_netnsid: None,
            bridge_port: None,
            ethernet: true,
        };
        assert_eq!(inner_mtu(None, &underlay, IpFamily::V4).unwrap(), 1450);
        assert_eq!(inner_mtu(None, &underlay, IpFamily::V6).unwrap(), 1430);
        assert_eq!(
            inner_mtu(Some(1400), &underlay, IpFamily::V4).unwrap(),
            1400
        );
        assert_eq!(
            inner_mtu(Some(1450), &underlay, IpFamily::V4).unwrap(),
            1450
        );
        let err = inner_mtu(Some(1451), &underlay, IpFamily::V4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "mtu 1451 is too large for underlay \"eth0\" (MTU 1500): at most 1450 fits with \
             the 50-byte VXLAN encapsulation"
        );
        assert!(inner_mtu(Some(1431), &underlay, IpFamily::V6).is_err());
    }
}
