//! ADD, top to bottom: parse -> validate -> IPAM -> host side -> container side -> result.
//!
//! Every step that leaves something behind is undone if a later one fails, before the error
//! is returned: the IPAM reservation (released when its guard drops), the veth (deleting the
//! pod end removes both), masquerade and spoof-check rules. Shared state is left alone: the
//! bridge, its addresses, the forwarding sysctl (the reference never removes them either).

use cni_attach::bridge::{
    FORWARDING_TIMEOUT, bridge_by_name, ensure_gateway_addr, wait_forwarding,
};
use cni_attach::masq::{self, MasqOwner};
use cni_attach::{
    Context, Gateways, LinkGuard, NsConn, PodOptions, VethRequest, configure_pod_interface,
    create_veth, enable_forwarding, mac, plan_gateways, requested_mac,
};
use cni_netlink::{Link, MacAddr};
use cni_spec::{CniError, CniResult, Interface, IpamReservation, Request, ipam_add};

use crate::config::{self, BridgeConf};
use crate::device;
use crate::error::{Error, Result};
use crate::port::{self, PortSettings};
use crate::spoofchk::SpoofCheck;

/// Index of the pod interface in the result: `[bridge, host veth, pod]`.
pub const POD_INDEX: usize = 2;

/// The ADD verb.
pub fn add(req: &Request) -> Result<CniResult, CniError> {
    // Parse and validate everything before touching the kernel.
    let conf = config::parse(&req.conf)?;
    req.args.ensure_known(&[mac::MAC_ARG])?;
    let mac =
        requested_mac(conf.bridged.mac.as_deref(), &req.args, &req.conf).map_err(Error::from)?;
    let netns = req.require_netns()?;
    let ifname = req.require_ifname()?.as_str();
    let container_id = req.require_container_id()?.as_str();
    let node = NsConn::current().map_err(Error::from)?;
    let pod = NsConn::open(netns).map_err(Error::from)?;
    if pod
        .handle
        .link_get(ifname)
        .context(|| format!("look up {ifname:?}"))
        .map_err(Error::from)?
        .is_some()
    {
        return Err(Error::from(cni_attach::Error::InterfaceExists(ifname.to_owned())).into());
    }

    // IPAM: released on any later failure (the guard's drop runs DEL).
    let reservation = match req.conf.ipam_type() {
        Some(_) => Some(ipam_add(req)?),
        None => None,
    };
    let mut result = reservation
        .as_ref()
        .map(IpamReservation::result)
        .cloned()
        .unwrap_or_default();
    if reservation.is_some() && result.ips.is_empty() {
        return Err(Error::NoIpamAddresses.into());
    }

    let sandbox = netns.to_string_lossy().into_owned();
    let ctx = Attach {
        req,
        conf: &conf,
        node: &node,
        pod: &pod,
        sandbox,
        ifname,
        container_id,
        mac,
    };
    ctx.attach(&mut result)?;
    if let Some(r) = reservation {
        let _ = r.commit();
    }
    Ok(result)
}

struct Attach<'a> {
    req: &'a Request,
    conf: &'a BridgeConf,
    node: &'a NsConn,
    pod: &'a NsConn,
    sandbox: String,
    ifname: &'a str,
    container_id: &'a str,
    mac: Option<MacAddr>,
}

impl Attach<'_> {
    /// Everything after IPAM; on error, undoes its own steps before returning.
    fn attach(&self, result: &mut CniResult) -> Result<()> {
        // Host side: the bridge, the veth pair, the port.
        let bridge = device::ensure_bridge(self.node, self.conf)?;
        let veth = create_veth(
            self.node,
            self.pod,
            &VethRequest {
                ifname: self.ifname,
                mtu: self.conf.bridged.mtu,
                mac: self.mac,
            },
        )?;
        let veth_guard = LinkGuard::new(&self.pod.handle, veth.pod.index);
        port::attach_port(
            self.node,
            &bridge,
            &veth.host,
            &PortSettings::pod(self.conf),
        )?;
        let spoof = SpoofCheck::new(self.container_id, self.ifname);
        let spoof_guard = Undo::new(self.conf.macspoofchk, || {
            let _ = spoof.teardown();
        });
        if self.conf.macspoofchk {
            let pod_mac = veth
                .pod
                .mac
                .ok_or_else(|| Error::Check("the pod veth has no MAC".into()))?;
            spoof.setup(&veth.host.name, pod_mac)?;
        }

        // Container side, then the node side of routing.
        let gateways = plan_gateways(
            result,
            POD_INDEX,
            self.conf.bridged.is_gateway,
            self.conf.bridged.is_default_gateway,
        );
        self.configure_pod(&veth.pod, result)?;
        let vlan_gateway = self.own_gateways(&bridge, &gateways)?;

        // Masquerading, last of the node-side steps.
        let owner = MasqOwner {
            network: &self.req.conf.name,
            ifname: self.ifname,
            container_id: self.container_id,
        };
        let masq_guard = Undo::new(self.conf.bridged.ip_masq.is_some(), || {
            let _ = masq::teardown(&owner);
        });
        if let Some(backend) = self.conf.bridged.ip_masq {
            let addresses: Vec<_> = result.ips.iter().map(|ip| ip.address).collect();
            masq::setup(backend, &owner, &addresses)?;
        }

        // Wait for the port, then report what the kernel shows now (MACs can change as ports
        // join and the bridge MAC is pinned).
        let host = if self.conf.disable_container_interface {
            veth.host.clone()
        } else {
            wait_forwarding(self.node, &veth.host, FORWARDING_TIMEOUT)?
        };
        let bridge = bridge_by_name(self.node, &self.conf.bridge)?;
        let pod_iface = interface(&veth.pod, Some(self.sandbox.clone()));
        result.interfaces = vec![interface(&bridge, None), interface(&host, None), pod_iface];
        result.interfaces.extend(vlan_gateway);
        if let Some(dns) = self.req.conf.dns.as_ref().filter(|d| !d.is_empty()) {
            result.dns = dns.clone();
        }
        veth_guard.disarm();
        spoof_guard.disarm();
        masq_guard.disarm();
        Ok(())
    }

    /// Addresses, routes and link state inside the pod; L2 only brings the link up.
    fn configure_pod(&self, link: &Link, result: &CniResult) -> Result<()> {
        if !result.ips.is_empty() {
            let options = PodOptions {
                enable_dad: self.conf.enable_dad,
                ndisc_notify: false,
            };
            configure_pod_interface(self.pod, link, result, POD_INDEX, options)?;
        } else if !self.conf.disable_container_interface {
            self.pod
                .handle
                .link_set_up(link.index)
                .context(|| format!("failed to set {:?} up", self.ifname))?;
        }
        Ok(())
    }

    /// With `isGateway`: the gateway addresses on the bridge (or on `<bridge>.<vlan>`, which
    /// is then returned for the result) and forwarding for their families.
    fn own_gateways(&self, bridge: &Link, gateways: &Gateways) -> Result<Option<Interface>> {
        if !self.conf.bridged.is_gateway || gateways.all().next().is_none() {
            return Ok(None);
        }
        let (target, reported) = match self.conf.vlan {
            Some(_) => {
                let gw_link = device::ensure_vlan_gateway(self.node, bridge, self.conf)?;
                let entry = interface(&gw_link, None);
                (gw_link, Some(entry))
            }
            None => (bridge.clone(), None),
        };
        for gw in gateways.all() {
            ensure_gateway_addr(self.node, &target, *gw, self.conf.bridged.force_address)?;
        }
        enable_forwarding(
            &self.node.netns,
            !gateways.v4.is_empty(),
            !gateways.v6.is_empty(),
        )?;
        Ok(reported)
    }
}

/// A result interface from a link; `sandbox` only for the pod end.
fn interface(link: &Link, sandbox: Option<String>) -> Interface {
    Interface {
        mac: link.mac.map(|m| m.to_string()),
        mtu: Some(link.mtu),
        sandbox,
        ..Interface::named(link.name.clone())
    }
}

/// Runs a cleanup on drop unless disarmed (or not armed at all).
struct Undo<F: FnOnce()> {
    cleanup: Option<F>,
}

impl<F: FnOnce()> Undo<F> {
    fn new(armed: bool, cleanup: F) -> Self {
        Undo {
            cleanup: armed.then_some(cleanup),
        }
    }

    fn disarm(mut self) {
        self.cleanup = None;
    }
}

impl<F: FnOnce()> Drop for Undo<F> {
    fn drop(&mut self) {
        if let Some(f) = self.cleanup.take() {
            f();
        }
    }
}
