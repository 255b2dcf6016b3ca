//! CHECK of a pod behind a bridge port: what ADD made in the pod and on its port.
//!
//! Split in two so each plugin keeps its own checks of the node side in between, in the order
//! it reports them: [`pod_veth`] first (the pod's entry in `prevResult`, its veth, MAC and
//! MTU), then the plugin finds the host end, then [`port_flags`] and [`pod_config`]
//! (addresses, routes, masquerade rules). Messages are the reference's where it has one.

use cni_netlink::{Link, LinkKind, MacAddr};
use cni_spec::{CniResult, Interface};

use crate::bridge::PortFlags;
use crate::check::{check_addresses, check_routes, pod_interface};
use crate::error::{Context, Error, Result};
use crate::masq::{self, Backend, MasqOwner};
use crate::pod::pod_addresses;
use crate::target::PodTarget;

/// The pod's entry in `prev` and its link: a veth with the promised MAC and, when the network
/// sets one, MTU `mtu`. Returns the entry's index in `prev.interfaces` and the link.
pub fn pod_veth(target: &PodTarget, prev: &CniResult, mtu: Option<u32>) -> Result<(usize, Link)> {
    let (index, entry) = pod_interface(prev, target.ifname, target.netns)?;
    let pod = &target.pod;
    let link = pod
        .handle
        .link_get(entry.name.as_str())
        .context(|| format!("look up {:?} in {}", entry.name, pod.label()))?
        .ok_or_else(|| {
            Error::Check(format!(
                "CNI created interface in container {} not found",
                entry.name
            ))
        })?;
    if link.kind != Some(LinkKind::Veth) {
        return Err(Error::Check(format!(
            "Error: Container interface {} not of type veth",
            link.name
        )));
    }
    if !same_mac(entry, &link) {
        return Err(Error::Check(format!(
            "Interface {} Mac {} doesn't match container Mac: {}",
            link.name,
            entry.mac.as_deref().unwrap_or_default(),
            link.mac.map(|m| m.to_string()).unwrap_or_default()
        )));
    }
    check_mtu(&link, mtu)?;
    Ok((index, link))
}

/// Whether `link` has the MAC `entry` promises (any MAC when it promises none).
pub fn same_mac(entry: &Interface, link: &Link) -> bool {
    let want = entry.mac.as_deref().and_then(|m| m.parse::<MacAddr>().ok());
    entry.mac.is_none() || want == link.mac
}

/// `link` has the network's MTU, when the network sets one.
pub fn check_mtu(link: &Link, mtu: Option<u32>) -> Result<()> {
    match mtu {
        Some(mtu) if link.mtu != mtu => Err(Error::Check(format!(
            "interface {} MTU is {}, the network's is {mtu}",
            link.name, link.mtu
        ))),
        _ => Ok(()),
    }
}

/// The host veth is a bridge port with the flags ADD wrote.
pub fn port_flags(host: &Link, flags: PortFlags) -> Result<()> {
    let port = host
        .bridge_port
        .ok_or_else(|| Error::Check(format!("host veth {} is not a bridge port", host.name)))?;
    if port.hairpin != flags.hairpin {
        return Err(Error::Check(format!(
            "host veth {} hairpin mode is {}, configured {}",
            host.name, port.hairpin, flags.hairpin
        )));
    }
    if port.isolated != flags.isolated {
        return Err(Error::Check(format!(
            "host veth {} port isolation is {}, configured {}",
            host.name, port.isolated, flags.isolated
        )));
    }
    Ok(())
}

/// What ADD configured for the pod's veth `link` (entry `index` of `prev`): its addresses,
/// the routes, and with `masq` the masquerade rule of each address.
pub fn pod_config(
    target: &PodTarget,
    link: &Link,
    prev: &CniResult,
    index: usize,
    masq: Option<(Backend, &MasqOwner)>,
) -> Result<()> {
    check_addresses(&target.pod, link, prev, index)?;
    check_routes(&target.pod, prev)?;
    if let Some((backend, owner)) = masq {
        masq::check(backend, owner, &pod_addresses(prev, index))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_netlink::{BridgePortInfo, OperState, PortState};

    fn veth(mtu: u32, port: Option<(bool, bool)>) -> Link {
        Link {
            index: 7,
            name: "veth0".into(),
            kind: Some(LinkKind::Veth),
            master: None,
            mac: "02:00:00:00:00:01".parse().ok(),
            mtu,
            admin_up: true,
            promisc: false,
            oper_state: OperState::Up,
            link_index: None,
            link_netnsid: None,
            bridge_port: port.map(|(hairpin, isolated)| BridgePortInfo {
                state: PortState::Forwarding,
                hairpin,
                isolated,
                learning: true,
            }),
            ethernet: true,
        }
    }

    #[test]
    fn mac_matches_when_promised_or_when_nothing_is() {
        let link = veth(1500, None);
        let mut entry = Interface::named("eth0");
        assert!(same_mac(&entry, &link));
        entry.mac = Some("02:00:00:00:00:01".into());
        assert!(same_mac(&entry, &link));
        entry.mac = Some("02:00:00:00:00:02".into());
        assert!(!same_mac(&entry, &link));
    }

    #[test]
    fn mtu_is_checked_only_when_the_network_sets_one() {
        assert!(check_mtu(&veth(1450, None), None).is_ok());
        assert!(check_mtu(&veth(1450, None), Some(1450)).is_ok());
        assert_eq!(
            check_mtu(&veth(1500, None), Some(1450))
                .unwrap_err()
                .to_string(),
            "interface veth0 MTU is 1500, the network's is 1450"
        );
    }

    #[test]
    fn every_port_flag_is_read_back() {
        let flags = PortFlags {
            hairpin: true,
            isolated: false,
        };
        assert!(port_flags(&veth(1500, Some((true, false))), flags).is_ok());
        let err = |port| {
            port_flags(&veth(1500, port), flags)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err(None), "host veth veth0 is not a bridge port");
        assert_eq!(
            err(Some((false, false))),
            "host veth veth0 hairpin mode is false, configured true"
        );
        assert_eq!(
            err(Some((true, true))),
            "host veth veth0 port isolation is true, configured false"
        );
    }
}
