//! Reading, changing and deleting existing links (`ip link show|set|del`).
//!
//! Changes go out as `RTM_NEWLINK` without `NLM_F_CREATE`, as iproute2's `ip link set` sends
//! them; the kernel routes them to the existing device named by the header index.

use std::os::fd::AsRawFd;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkExtentMask, LinkInfo, LinkMessage};
use rtnetlink::{LinkMessageBuilder, LinkUnspec};

use crate::error::Result;
use crate::handle::Handle;
use crate::link_view::Link;
use crate::netns::Netns;
use crate::transport::Request;
use crate::types::MacAddr;

/// How a link is named in a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkId<'a> {
    /// By interface index.
    Index(u32),
    /// By interface name.
    Name(&'a str),
}

impl From<u32> for LinkId<'_> {
    fn from(index: u32) -> Self {
        LinkId::Index(index)
    }
}

impl<'a> From<&'a str> for LinkId<'a> {
    fn from(name: &'a str) -> Self {
        LinkId::Name(name)
    }
}

impl<'a> From<&'a String> for LinkId<'a> {
    fn from(name: &'a String) -> Self {
        LinkId::Name(name)
    }
}

impl std::fmt::Display for LinkId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkId::Index(i) => write!(f, "link {i}"),
            LinkId::Name(n) => write!(f, "link {n:?}"),
        }
    }
}

/// Statistics are most of a link message's size and nobody here reads them.
fn skip_stats() -> LinkAttribute {
    LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats])
}

pub(crate) fn get_request(id: LinkId) -> Request {
    let mut msg = LinkMessage::default();
    match id {
        LinkId::Index(i) => msg.header.index = i,
        LinkId::Name(n) => msg.attributes.push(LinkAttribute::IfName(n.to_string())),
    }
    msg.attributes.push(skip_stats());
    Request::ack(RouteNetlinkMessage::GetLink(msg), 0)
}

pub(crate) fn list_request() -> Request {
    let mut msg = LinkMessage::default();
    msg.attributes.push(skip_stats());
    Request::dump(RouteNetlinkMessage::GetLink(msg))
}

/// A dump of the links of one kind: `IFLA_LINKINFO { IFLA_INFO_KIND }` in the request makes the
/// kernel skip every other device (`ip link show type X`), so the reply does not grow with the
/// veths of every pod on a node.
pub(crate) fn list_kind_request(kind: ListKind) -> Request {
    let mut msg = LinkMessage::default();
    msg.attributes.push(skip_stats());
    let kind = match kind {
        ListKind::Macvlan => InfoKind::MacVlan,
        ListKind::Vxlan => InfoKind::Vxlan,
        ListKind::Bridge => InfoKind::Bridge,
    };
    msg.attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(kind)]));
    Request::dump(RouteNetlinkMessage::GetLink(msg))
}

/// A dump of the ports of one master (`ip link show master X`), filtered by the kernel.
pub(crate) fn list_master_request(master: u32) -> Request {
    let mut msg = LinkMessage::default();
    msg.attributes.push(skip_stats());
    msg.attributes.push(LinkAttribute::Controller(master));
    Request::dump(RouteNetlinkMessage::GetLink(msg))
}

/// The link kinds a dump can be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `macvlan`.
    Macvlan,
    /// `vxlan`.
    Vxlan,
    /// `bridge`.
    Bridge,
}

/// A change to an existing link: `RTM_NEWLINK`, no create flags.
pub(crate) fn change_request(b: LinkMessageBuilder<LinkUnspec>) -> Request {
    Request::ack(RouteNetlinkMessage::NewLink(b.build()), 0)
}

pub(crate) fn links_in(replies: Vec<RouteNetlinkMessage>) -> Vec<Link> {
    replies
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewLink(l) => Some(Link::from_message(l)),
            _ => None,
        })
        .collect()
}

impl Handle {
    /// The link with this index or name, or `None` if there is none (`ENODEV`).
    pub fn link_get<'a>(&self, id: impl Into<LinkId<'a>>) -> Result<Option<Link>> {
        let id = id.into();
        match self.exchange(&get_request(id), || format!("get {id}")) {
            Ok(replies) => Ok(links_in(replies).into_iter().next()),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every link in the namespace.
    pub fn link_list(&self) -> Result<Vec<Link>> {
        self.exchange(&list_request(), || "list links".to_string())
            .map(links_in)
    }

    /// The links whose master (`IFLA_MASTER`) is `master`, filtered by the kernel: a bridge's
    /// ports.
    pub fn link_list_ports(&self, master: u32) -> Result<Vec<Link>> {
        self.exchange(&list_master_request(master), || {
            format!("list the ports of link {master}")
        })
        .map(links_in)
    }

    /// The links of one kind, filtered by the kernel.
    pub fn link_list_kind(&self, kind: ListKind) -> Result<Vec<Link>> {
        self.exchange(&list_kind_request(kind), || format!("list {kind:?} links"))
            .map(links_in)
    }

    /// Deletes a link (and, for a veth, its peer wherever it is), by index or by name (by name
    /// saves the lookup when the name is all the caller has). A missing link is an error whose
    /// `is_not_found()` is true.
    pub fn link_del<'a>(&self, id: impl Into<LinkId<'a>>) -> Result<()> {
        let id = id.into();
        let mut msg = LinkMessage::default();
        match id {
            LinkId::Index(i) => msg.header.index = i,
            LinkId::Name(n) => msg.attributes.push(LinkAttribute::IfName(n.to_string())),
        }
        let request = Request::ack(RouteNetlinkMessage::DelLink(msg), 0);
        self.ack(request, || format!("delete link {id}"))
    }

    /// `ip link set dev X up`, by index or by name (by name saves the lookup of a link just
    /// created under a name of our choosing).
    pub fn link_set_up<'a>(&self, id: impl Into<LinkId<'a>>) -> Result<()> {
        let id = id.into();
        let b = match id {
            LinkId::Index(index) => LinkUnspec::new_with_index(index),
            LinkId::Name(name) => LinkUnspec::new_with_name(name),
        };
        self.ack(change_request(b.up()), || format!("set {id} up"))
    }

    /// `ip link set dev X down`.
    pub fn link_set_down(&self, index: u32) -> Result<()> {
        let b = LinkUnspec::new_with_index(index).down();
        self.ack(change_request(b), || format!("set link {index} down"))
    }

    /// `ip link set dev X promisc on|off`.
    pub fn link_set_promisc(&self, index: u32, on: bool) -> Result<()> {
        let b = LinkUnspec::new_with_index(index).promiscuous(on);
        self.ack(change_request(b), || {
            format!("set link {index} promisc {on}")
        })
    }

    /// `ip link set dev X mtu N`.
    pub fn link_set_mtu(&self, index: u32, mtu: u32) -> Result<()> {
        let b = LinkUnspec::new_with_index(index).mtu(mtu);
        self.ack(change_request(b), || format!("set link {index} mtu {mtu}"))
    }

    /// `ip link set dev X address MAC`.
    pub fn link_set_address(&self, index: u32, mac: MacAddr) -> Result<()> {
        let b = LinkUnspec::new_with_index(index).address(mac.octets().to_vec());
        self.ack(change_request(b), || {
            format!("set link {index} address {mac}")
        })
    }

    /// `ip link set dev X name NEW`. The kernel refuses (EBUSY) while the link is up.
    pub fn link_set_name(&self, index: u32, name: &str) -> Result<()> {
        let b = LinkUnspec::new_with_index(index).name(name);
        self.ack(change_request(b), || {
            format!("rename link {index} to {name:?}")
        })
    }

    /// `ip link set dev X master BRIDGE`.
    pub fn link_set_master(&self, index: u32, master: u32) -> Result<()> {
        let b = LinkUnspec::new_with_index(index).controller(master);
        self.ack(change_request(b), || {
            format!("set link {index} master {master}")
        })
    }

    /// `ip link set dev X nomaster`.
    pub fn link_set_nomaster(&self, index: u32) -> Result<()> {
        let b = LinkUnspec::new_with_index(index).nocontroller();
        self.ack(change_request(b), || format!("set link {index} nomaster"))
    }

    /// `ip link set dev X netns NS`. The link gets a new index there; look it up by name.
    pub fn link_set_netns(&self, index: u32, netns: &Netns) -> Result<()> {
        let b = LinkUnspec::new_with_index(index).setns_by_fd(netns.as_raw_fd());
        self.ack(change_request(b), || {
            format!("move link {index} to {}", netns.path())
        })
    }
}
