//! The master: which interface the pod's macvlan hangs off, and whether the kernel will let it.
//!
//! Without `master` the reference takes the interface of the first default route (IPv4 first,
//! then IPv6: the order of an `AF_UNSPEC` dump), looked up in the node's namespace, or in the
//! pod's with `linkInContainer`. The checks here turn the kernel's bare EINVAL/EBUSY into a
//! message that names the master and the reason (vxlan-multus.md §5.2): `macvlan_port_create()`
//! refuses a link whose receive path another driver owns (a bridge port, a bond or team slave,
//! an Open vSwitch port: EBUSY) and anything that is not Ethernet (EINVAL).
//!
//! Not here: creating the macvlan (`link.rs`); DEL never resolves the master (plugins #953).

use cni_attach::uplink;
use cni_netlink::{Handle, Link, LinkKind};
use cni_spec::IfName;

use crate::error::{Context, Error, Result};

/// Masters whose kind claims the port's receive handler (`netdev_rx_handler_register`), so the
/// kernel answers EBUSY to a macvlan on one of their ports.
const CLAIMING_KINDS: [&str; 3] = ["bond", "team", "openvswitch"];

/// Finds the master: the named link, or the default route's interface.
pub fn resolve(handle: &Handle, name: Option<&IfName>) -> Result<Link> {
    match name {
        Some(name) => find(handle, name.as_str()),
        None => default_route_link(handle),
    }
}

/// The named link, or an error saying where it was looked for.
pub fn find(handle: &Handle, name: &str) -> Result<Link> {
    handle
        .link_get(name)
        .context(|| format!("look up master {name:?}"))?
        .ok_or_else(|| Error::Master {
            name: name.to_owned(),
            reason: format!("not found in network namespace {}", handle.netns()),
        })
}

/// The interface of the first default route (`cni_attach::uplink`: IPv4 before IPv6, as the
/// reference's `AF_UNSPEC` dump), or the reason there is none.
fn default_route_link(handle: &Handle) -> Result<Link> {
    uplink::default_route_link(handle)?.ok_or_else(|| Error::NoDefaultRoute {
        netns: handle.netns().to_owned(),
    })
}

/// Refuses a master the kernel would refuse, with the reason in words.
pub fn validate(handle: &Handle, master: &Link) -> Result<()> {
    let refuse = |reason: String| Error::Master {
        name: master.name.clone(),
        reason,
    };
    if !master.ethernet {
        return Err(refuse(
            "is not an Ethernet interface; a macvlan needs an Ethernet parent (the kernel \
             answers EINVAL)"
                .into(),
        ));
    }
    let Some(upper_index) = master.master else {
        return Ok(());
    };
    let upper = handle
        .link_get(upper_index)
        .context(|| format!("look up the master device of {:?}", master.name))?;
    let Some(upper) = upper else {
        return Ok(());
    };
    match &upper.kind {
        Some(LinkKind::Bridge(_)) => Err(refuse(format!(
            "is a port of bridge {:?}; the bridge owns the port's receive path, so the kernel \
             refuses macvlan children on it (EBUSY). Use the bridge {:?} itself as the master, \
             or an interface outside the bridge",
            upper.name, upper.name
        ))),
        Some(LinkKind::Other(kind)) if CLAIMING_KINDS.contains(&kind.as_str()) => {
            Err(refuse(format!(
                "is enslaved to {kind} {:?}, which owns its receive path, so the kernel refuses \
                 macvlan children on it (EBUSY). Use {:?} itself as the master",
                upper.name, upper.name
            )))
        }
        _ => Ok(()),
    }
}

/// The `mtu` key checked against the master (the reference's bound and message): `None`
/// inherits the master's MTU.
pub fn mtu(requested: i64, master: &Link) -> Result<Option<u32>> {
    if requested == 0 {
        return Ok(None);
    }
    match u32::try_from(requested) {
        Ok(mtu) if mtu <= master.mtu => Ok(Some(mtu)),
        _ => Err(Error::Config(format!(
            "invalid MTU {requested}, must be [0, master MTU({})]",
            master.mtu
        ))),
    }
}

/// Translates the kernel's refusal to create a macvlan into the reason, when the errno says
/// enough; otherwise keeps the kernel's words.
pub fn explain_create_error(master: &Link, passthru: bool, source: cni_netlink::Error) -> Error {
    let reason = match source.errno() {
        Some(libc::EBUSY) => Some(
            "is busy: another driver (a bridge, bond, team, ipvlan or Open vSwitch) already \
             owns its receive path, so it cannot carry macvlan children (EBUSY)"
                .to_owned(),
        ),
        // The only EINVALs a validated request can still meet are the passthru rules
        // (drivers/net/macvlan.c, macvlan_common_newlink).
        Some(libc::EINVAL) if passthru => Some(
            "already has macvlan children; a passthru macvlan must be the only child of its \
             master (EINVAL)"
                .to_owned(),
        ),
        Some(libc::EINVAL) => Some(
            "already carries a passthru macvlan, which must be its only child (EINVAL)".to_owned(),
        ),
        _ => None,
    };
    match reason {
        Some(reason) => Error::Master {
            name: master.name.clone(),
            reason,
        },
        None => cni_attach::Error::Netlink {
            context: format!("create the macvlan on master {:?}", master.name),
            source,
        }
        .into(),
    }
}
