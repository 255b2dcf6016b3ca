//! ADD, top to bottom: parse -> validate -> underlay -> IPAM -> veth -> under the network's
//! lock: bridge, VTEP, peers, the pod's port -> pod side -> gateway -> masquerade -> result.
//!
//! The underlay is resolved before IPAM, so a node that cannot carry the network fails the ADD
//! without taking an address. Every later failure undoes this ADD's own steps before the error
//! is returned: the IPAM reservation (released when its guard drops), the veth (deleting the
//! pod end removes both), the masquerade rules; and if the pod was the network's only one on
//! the node, the VTEP and bridge go too (under the lock, counted from the kernel).

use cni_attach::bridge::{FORWARDING_TIMEOUT, ensure_gateway_addr, wait_forwarding};
use cni_attach::masq::{self, MasqOwner};
use cni_attach::{
    Context, LinkGuard, NsConn, PodOptions, VethRequest, configure_pod_interface, create_veth,
    enable_forwarding, mac, plan_gateways, requested_mac,
};
use cni_netlink::{Link, MacAddr};
use cni_spec::{CniError, CniResult, Interface, IpamReservation, Request, ipam_add};

use crate::config::{self, VxlanConf};
use crate::error::{Error, Result};
use crate::network::{NodeNetwork, Shared};
use crate::peers::Desired;
use crate::underlay;
use crate::vtep::VtepSpec;

/// Index of the pod interface in the result: `[bridge, VTEP, host veth, pod]`.
pub const POD_INDEX: usize = 3;

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
    let underlay = underlay::resolve(&node, &conf)?;

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

    let ctx = Attach {
        req,
        conf: &conf,
        node: &node,
        pod: &pod,
        sandbox: netns.to_string_lossy().into_owned(),
        ifname,
        container_id,
        mac,
        spec: VtepSpec::new(&conf, &underlay),
        peers: Desired::from_conf(&conf, underlay.local),
    };
    if let Err(e) = ctx.attach(&mut result) {
        // The veth is gone by now; take the VTEP and bridge with it if nothing else uses them.
        if let Ok(network) = NodeNetwork::lock(&node, &conf) {
            let _ = network.release_if_unused();
        }
        return Err(e.into());
    }
    if let Some(r) = reservation {
        let _ = r.commit();
    }
    Ok(result)
}

struct Attach<'a> {
    req: &'a Request,
    conf: &'a VxlanConf,
    node: &'a NsConn,
    pod: &'a NsConn,
    sandbox: String,
    ifname: &'a str,
    container_id: &'a str,
    mac: Option<MacAddr>,
    spec: VtepSpec,
    peers: Desired,
}

impl Attach<'_> {
    /// Everything after IPAM; on error, deletes the veth before returning.
    fn attach(&self, result: &mut CniResult) -> Result<()> {
        let veth = create_veth(
            self.node,
            self.pod,
            &VethRequest {
                ifname: self.ifname,
                mtu: Some(self.spec.mtu),
                mac: self.mac,
            },
        )?;
        let veth_guard = LinkGuard::new(&self.pod.handle, veth.pod.index);
        let shared = self.plug_in(&veth.host)?;

        // Container side, then the node side of routing.
        let gateways = plan_gateways(
            result,
            POD_INDEX,
            self.conf.bridged.is_gateway,
            self.conf.bridged.is_default_gateway,
        );
        if result.ips.is_empty() {
            self.pod
                .handle
                .link_set_up(veth.pod.index)
                .context(|| format!("failed to set {:?} up", self.ifname))?;
        } else {
            configure_pod_interface(
                self.pod,
                &veth.pod,
                result,
                POD_INDEX,
                PodOptions::default(),
            )?;
        }
        if self.conf.bridged.is_gateway && gateways.all().next().is_some() {
            for gw in gateways.all() {
                ensure_gateway_addr(
                    self.node,
                    &shared.bridge,
                    *gw,
                    self.conf.bridged.force_address,
                )?;
            }
            enable_forwarding(
                &self.node.netns,
                !gateways.v4.is_empty(),
                !gateways.v6.is_empty(),
            )?;
        }
        let host = wait_forwarding(self.node, &veth.host, FORWARDING_TIMEOUT)?;

        // Masquerading last: nothing after it can fail, so it needs no undo of its own.
        if let Some(backend) = self.conf.bridged.ip_masq {
            let owner = MasqOwner {
                network: &self.req.conf.name,
                ifname: self.ifname,
                container_id: self.container_id,
            };
            let addresses: Vec<_> = result.ips.iter().map(|ip| ip.address).collect();
            if let Err(e) = masq::setup(backend, &owner, &addresses) {
                let _ = masq::teardown(&owner);
                return Err(e.into());
            }
        }

        // Report what the kernel shows now.
        result.interfaces = vec![
            interface(&shared.bridge, None),
            interface(&shared.vtep, None),
            interface(&host, None),
            interface(&veth.pod, Some(self.sandbox.clone())),
        ];
        if let Some(dns) = self.req.conf.dns.as_ref().filter(|d| !d.is_empty()) {
            result.dns = dns.clone();
        }
        veth_guard.disarm();
        Ok(())
    }

    /// Under the network's lock: the shared devices, then the pod's port, so no DEL can take
    /// the bridge away between the two.
    fn plug_in(&self, host: &Link) -> Result<Shared> {
        let network = NodeNetwork::lock(self.node, self.conf)?;
        let shared = network.ensure(&self.spec, &self.peers)?;
        network.attach(&shared, host)?;
        Ok(shared)
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
