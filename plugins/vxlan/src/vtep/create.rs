//! Creating the VTEP and bringing it up, with the kernel's refusals turned into what they
//! mean: `EEXIST` on create is another device holding the (VNI, port) pair (the name itself was
//! free, looked up under the lock), `EADDRINUSE` on link up is a UDP port taken by a socket
//! with other receive flags (the port is bound only at link up: cilium#8990), `EOPNOTSUPP` is
//! a kernel without VXLAN. Also the STATUS probe, which asks the same questions of a throwaway
//! device.

use std::io::Read;

use cni_attach::{Context, NsConn};
use cni_netlink::{Link, LinkKind, ListKind, MacAddr};

use super::VtepSpec;
use crate::error::{Error, Result};

/// Creates the device (down, not enslaved) and returns it.
pub(super) fn create(node: &NsConn, want: &VtepSpec) -> Result<Link> {
    create_named(node, want, &want.name)?;
    must_get(node, &want.name)
}

fn create_named(node: &NsConn, want: &VtepSpec, name: &str) -> Result<()> {
    let mac = random_mac()?;
    node.handle
        .link_add_vxlan(&want.netlink(name, mac))
        .map_err(|source| explain_create_error(node, want, name, source))
}

/// Turns the kernel's refusal to create the device into what it means.
fn explain_create_error(
    node: &NsConn,
    want: &VtepSpec,
    name: &str,
    source: cni_netlink::Error,
) -> Error {
    // The name is free (we looked, under the lock), so EEXIST means the (VNI, port) pair is.
    if source.errno() == Some(libc::EEXIST) {
        return Error::VniInUse {
            vni: want.vni.get(),
            port: want.port,
            holder: holder(node, want, name).unwrap_or_else(|| "?".to_owned()),
            netns: node.label().to_owned(),
        };
    }
    other_create_error(want, name, source)
}

/// Create failures other than `EEXIST`: rtnl_newlink answers `EOPNOTSUPP` for a link kind no
/// module provides, which on a kernel without VXLAN is every attempt.
fn other_create_error(want: &VtepSpec, name: &str, source: cni_netlink::Error) -> Error {
    if source.errno() == Some(libc::EOPNOTSUPP) {
        return Error::VxlanUnsupported {
            source: Box::new(source),
        };
    }
    cni_attach::Error::Netlink {
        context: format!(
            "create VTEP {name:?} (vni {}, port {}, underlay {:?}, local {})",
            want.vni, want.port, want.underlay_name, want.local
        ),
        source,
    }
    .into()
}

/// The device other than `name` that uses `want`'s VNI and port.
fn holder(node: &NsConn, want: &VtepSpec, name: &str) -> Option<String> {
    let links = node.handle.link_list_kind(ListKind::Vxlan).ok()?;
    links
        .into_iter()
        .find(|l| {
            l.name != name
                && matches!(&l.kind, Some(LinkKind::Vxlan(i)) if i.vni == want.vni && i.port == want.port)
        })
        .map(|l| l.name)
}

/// `ip link set VTEP up`, which binds the UDP port.
pub(super) fn set_up(node: &NsConn, want: &VtepSpec, link: &Link) -> Result<()> {
    node.handle.link_set_up(link.index).map_err(|source| {
        if source.errno() == Some(libc::EADDRINUSE) {
            Error::PortInUse {
                port: want.port,
                vtep: want.name.clone(),
                netns: node.label().to_owned(),
                source: Box::new(source),
            }
        } else {
            cni_attach::Error::Netlink {
                context: format!("set VTEP {:?} up", link.name),
                source,
            }
            .into()
        }
    })
}

/// STATUS: could ADD create and bring up `want` now? Our VTEP already up answers yes;
/// otherwise a throwaway device with `want`'s attributes is created, brought up (which binds
/// the port) and deleted. Call with the network's lock held, so no ADD meets the throwaway
/// device holding the VNI.
pub fn probe(node: &NsConn, want: &VtepSpec) -> Result<()> {
    let ours = node
        .handle
        .link_get(want.name.as_str())
        .context(|| format!("look up VTEP {:?}", want.name))?;
    if let Some(link) = ours {
        // Up means bound; down, ADD brings it up or replaces it, and we cannot tell which
        // without doing it.
        return match link.kind {
            Some(LinkKind::Vxlan(_)) => Ok(()),
            _ => Err(Error::NotAVtep(want.name.clone())),
        };
    }
    let name = format!("vxp{:08x}", u32::from_be_bytes(random_bytes::<4>()?));
    // The throwaway name is fresh, so EEXIST here is the VNI too (see explain_create_error).
    create_named(node, want, &name)?;
    let link = must_get(node, &name)?;
    let up = set_up(node, want, &link);
    let _ = node.handle.link_del(link.index);
    up
}

pub(super) fn must_get(node: &NsConn, name: &str) -> Result<Link> {
    node.handle
        .link_get(name)
        .context(|| format!("look up VTEP {name:?}"))?
        .ok_or_else(|| Error::Check(format!("VTEP {name:?} vanished right after creation")))
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(cni_attach::Error::Random)?;
    Ok(bytes)
}

/// A random locally administered unicast MAC.
pub fn random_mac() -> Result<MacAddr> {
    let mut octets = random_bytes::<6>()?;
    octets[0] = (octets[0] & 0xfe) | 0x02;
    Ok(MacAddr(octets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vtep::tests::spec;

    fn kernel_error(errno: i32) -> cni_netlink::Error {
        cni_netlink::Error::Kernel {
            op: "create vxlan \"vxlan100\" (vni 100)".into(),
            netns: "/proc/self/ns/net".into(),
            errno,
            message: None,
        }
    }

    #[test]
    fn a_kernel_without_vxlan_is_named() {
        // What a kernel without the vxlan module answers; no test kernel can be made to lack
        // it, so the mapping is tested here and the message checked for the words a user needs.
        let err = other_create_error(&spec(), "vxlan100", kernel_error(libc::EOPNOTSUPP));
        assert!(matches!(err, Error::VxlanUnsupported { .. }));
        let text = err.to_string();
        assert!(text.contains("does not support VXLAN devices"), "{text}");
        assert!(text.contains("CONFIG_VXLAN"), "{text}");
        let other = other_create_error(&spec(), "vxlan100", kernel_error(libc::EINVAL));
        assert!(other.to_string().contains("underlay \"eth0\""), "{other}");
    }

    #[test]
    fn random_macs_are_local_unicast() {
        for _ in 0..32 {
            let mac = random_mac().unwrap();
            assert!(mac.is_unicast());
            assert_eq!(mac.0[0] & 0x02, 0x02);
        }
    }
}
