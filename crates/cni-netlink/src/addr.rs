//! IP addresses on links (`ip addr add|del|show`).
//!
//! Requests carry `IFA_LOCAL` then `IFA_ADDRESS` (and `IFA_BROADCAST` for IPv4 prefixes shorter
//! than /31), the order and content of `ip addr add ... brd +`. Go's netlink fills the broadcast
//! the same way, so addresses look identical to the reference plugins' in `ip addr`.

use std::net::{IpAddr, Ipv4Addr};

use ipnetwork::IpNetwork;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::Result;
use crate::handle::Handle;
use crate::transport::Request;
use crate::types::{IpFamily, Scope};

/// Options for [`Handle::addr_add`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddrOptions {
    /// Skip IPv6 duplicate address detection (`nodad`): the address is usable at once.
    pub nodad: bool,
}

/// An address as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    /// The link it is on.
    pub index: u32,
    /// Address and prefix length.
    pub network: IpNetwork,
    /// Its scope.
    pub scope: Scope,
    /// Its state flags.
    pub flags: AddrFlags,
}

/// The address flags that matter for settling IPv6 DAD and for CHECK.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddrFlags {
    /// DAD has not finished; the address cannot be used as a source yet.
    pub tentative: bool,
    /// DAD found a duplicate; the address will never become usable.
    pub dadfailed: bool,
    /// Added with `nodad`.
    pub nodad: bool,
    /// Static (not from autoconfiguration).
    pub permanent: bool,
}

fn family(ip: &IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn message(index: u32, net: IpNetwork) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = family(&net.ip());
    msg.header.prefix_len = net.prefix();
    msg.header.index = index;
    msg.attributes.push(AddressAttribute::Local(net.ip()));
    msg.attributes.push(AddressAttribute::Address(net.ip()));
    msg
}

pub(crate) fn add_request(index: u32, net: IpNetwork, options: AddrOptions) -> Request {
    let mut msg = message(index, net);
    if options.nodad {
        msg.header.flags |= AddressHeaderFlags::Nodad;
    }
    if let IpNetwork::V4(v4) = net {
        if v4.prefix() < 31 {
            let host_bits = u32::MAX.checked_shr(u32::from(v4.prefix())).unwrap_or(0);
            let broadcast = Ipv4Addr::from(u32::from(v4.ip()) | host_bits);
            msg.attributes.push(AddressAttribute::Broadcast(broadcast));
        }
    }
    Request::ack(
        RouteNetlinkMessage::NewAddress(msg),
        NLM_F_CREATE | NLM_F_EXCL,
    )
}

pub(crate) fn del_request(index: u32, net: IpNetwork) -> Request {
    Request::ack(RouteNetlinkMessage::DelAddress(message(index, net)), 0)
}

pub(crate) fn list_request(index: Option<u32>, family: Option<IpFamily>) -> Request {
    let mut msg = AddressMessage::default();
    // With NETLINK_GET_STRICT_CHK the kernel filters the dump by this index itself.
    msg.header.index = index.unwrap_or(0);
    msg.header.family = match family {
        None => AddressFamily::Unspec,
        Some(IpFamily::V4) => AddressFamily::Inet,
        Some(IpFamily::V6) => AddressFamily::Inet6,
    };
    Request::dump(RouteNetlinkMessage::GetAddress(msg))
}

fn address(msg: &AddressMessage) -> Option<Address> {
    let mut local = None;
    let mut addr = None;
    let mut flags = AddressFlags::from_bits_retain(u32::from(msg.header.flags.bits()));
    for attr in &msg.attributes {
        match attr {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => addr = Some(*ip),
            // The 32-bit attribute supersedes the 8-bit header field when present.
            AddressAttribute::Flags(f) => flags = *f,
            _ => {}
        }
    }
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links.
    let ip = local.or(addr)?;
    Some(Address {
        index: msg.header.index,
        network: IpNetwork::new(ip, msg.header.prefix_len).ok()?,
        scope: Scope(u8::from(msg.header.scope)),
        flags: AddrFlags {
            tentative: flags.contains(AddressFlags::Tentative),
            dadfailed: flags.contains(AddressFlags::Dadfailed),
            nodad: flags.contains(AddressFlags::Nodad),
            permanent: flags.contains(AddressFlags::Permanent),
        },
    })
}

impl Handle {
    /// `ip addr add NET dev X [nodad]`. An address already there is an error whose
    /// `is_exists()` is true.
    pub fn addr_add(&self, index: u32, net: IpNetwork, options: AddrOptions) -> Result<()> {
        self.ack(add_request(index, net, options), || {
            format!("add address {net} to link {index}")
        })
    }

    /// `ip addr del NET dev X`. A missing address is an error whose `is_not_found()` is true.
    pub fn addr_del(&self, index: u32, net: IpNetwork) -> Result<()> {
        self.ack(del_request(index, net), || {
            format!("delete address {net} from link {index}")
        })
    }

    /// `ip addr show [dev X]`, both families.
    pub fn addr_list(&self, index: Option<u32>) -> Result<Vec<Address>> {
        self.list(index, None)
    }

    /// `ip -4|-6 addr show [dev X]`: one family. Not only less to read: the kernel (6.9 and
    /// later) dumps one family's addresses under RCU, while a dump of both families
    /// (`AF_UNSPEC`) takes the RTNL, and waits for whoever holds it, such as a pod's IPv6
    /// `addrconf` work flooding MLD reports through a bridge with 1000 ports (issue 8).
    pub fn addr_list_family(&self, index: Option<u32>, family: IpFamily) -> Result<Vec<Address>> {
        self.list(index, Some(family))
    }

    fn list(&self, index: Option<u32>, family: Option<IpFamily>) -> Result<Vec<Address>> {
        let op = || match index {
            Some(i) => format!("list addresses of link {i}"),
            None => "list addresses".to_string(),
        };
        let replies = self.exchange(&list_request(index, family), op)?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => address(a),
                _ => None,
            })
            // Kept even though the kernel filters: older kernels ignore the header index.
            .filter(|a| index.is_none_or(|i| a.index == i))
            .filter(|a| family.is_none_or(|f| IpFamily::of(&a.network.ip()) == f))
            .collect())
    }
}
