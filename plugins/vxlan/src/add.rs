//! ADD, top to bottom: parse -> validate -> underlay -> IPAM started -> veth -> under the
//! network's lock: bridge, VTEP, peers, the pod's port -> IPAM's answer -> pod side -> gateway
//! -> masquerade -> result.
//!
//! The underlay is resolved before IPAM, so a node that cannot carry the network fails the ADD
//! without taking an address. The steps every pod behind a bridge port takes are
//! `cni_attach::bridged::attach`, which undoes its own when a later one fails (the veth, the
//! masquerade rules); this plugin's part is `VxlanSide`. If the pod was the network's only one
//! on the node, a failed ADD takes the VTEP and bridge with it (under the lock, counted from the
//! kernel). The IPAM reservation is released when its guard drops.

use cni_attach::bridged::{self, NodeSide, PodPlan};
use cni_attach::report::{interface, use_config_dns};
use cni_attach::{NsConn, PodOptions, PodTarget, VethPair, ipam, mac, requested_mac};
use cni_netlink::Link;
use cni_spec::{CniError, CniResult, Request};

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
    let mac = requested_mac(conf.bridged.mac.as_deref(), &req.args, &req.conf)?;
    let target = PodTarget::open(req)?;
    target.refuse_existing_ifname()?;
    let underlay = underlay::resolve(&target.node, &conf)?;

    // IPAM runs while the veth and shared devices are made; released on any later failure.
    let ipam = ipam::start(req)?;

    let mut side = VxlanSide {
        conf: &conf,
        spec: VtepSpec::new(&conf, &underlay),
        peers: Desired::from_conf(&conf, underlay.local),
    };
    let plan = PodPlan {
        network: &req.conf.name,
        conf: &conf.bridged,
        // The pods get the VTEP's MTU: the underlay's less the encapsulation, unless `mtu`.
        mtu: Some(side.spec.mtu),
        mac,
        pod_index: POD_INDEX,
        pod_options: PodOptions::default(),
        leave_down: false,
    };
    let mut attached = match bridged::attach(&target, &plan, &mut side, ipam) {
        Ok(attached) => attached,
        Err(e) => {
            // The veth is gone by now; take the VTEP and bridge with it if nothing else uses them.
            if let Ok(network) = NodeNetwork::lock(&target.node, &conf) {
                let _ = network.release_if_unused();
            }
            return Err(e);
        }
    };
    let mut result = std::mem::take(&mut attached.result);

    // Report what the kernel shows now.
    result.interfaces = vec![
        interface(&attached.bridge, None),
        interface(&attached.plugged.vtep, None),
        interface(&attached.host, None),
        interface(&attached.pod, Some(target.sandbox())),
    ];
    use_config_dns(&mut result, &req.conf);
    if let Some(r) = attached.reservation {
        let _ = r.commit();
    }
    Ok(result)
}

/// The vxlan plugin's node side of one pod: the network's shared bridge and VTEP.
struct VxlanSide<'a> {
    conf: &'a VxlanConf,
    spec: VtepSpec,
    peers: Desired,
}

impl NodeSide for VxlanSide<'_> {
    type Error = Error;
    type Plugged = Shared;

    /// Under the network's lock: the shared devices, then the pod's port, so no DEL can take
    /// the bridge away between the two.
    fn plug(&mut self, node: &NsConn, veth: &VethPair) -> Result<Shared> {
        let network = NodeNetwork::lock(node, self.conf)?;
        let shared = network.ensure(&self.spec, &self.peers)?;
        network.attach(&shared, &veth.host)?;
        Ok(shared)
    }

    fn bridge(plugged: &Shared) -> &Link {
        &plugged.bridge
    }
}
