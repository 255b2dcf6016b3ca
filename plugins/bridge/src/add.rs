//! ADD, top to bottom: parse -> validate -> IPAM started -> veth -> bridge and port -> IPAM's
//! answer -> pod side -> gateway -> masquerade -> result.
//!
//! The steps every pod behind a bridge port takes are `cni_attach::bridged::attach`, which
//! also undoes them when a later one fails; this plugin's own part is `BridgeSide`: the
//! bridge as configured, the port's VLANs, the spoof-check rules and the `<bridge>.<vlan>`
//! gateway. The IPAM reservation is released when its guard drops. Shared state is left alone
//! on failure: the bridge, its addresses, the forwarding sysctl (the reference never removes
//! them either).

use cni_attach::bridged::{self, NodeSide, PodPlan};
use cni_attach::report::{interface, use_config_dns};
use cni_attach::{NsConn, PodOptions, PodTarget, VethPair, ipam, mac, requested_mac};
use cni_netlink::Link;
use cni_spec::{CniError, CniResult, Request};

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
    let mac = requested_mac(conf.bridged.mac.as_deref(), &req.args, &req.conf)?;
    // IPAM runs while the pod is opened and the veth and port are made (the reference, too,
    // makes the veth before it asks IPAM). Any later failure, the pod's included, releases it.
    let ipam = ipam::start(req)?;
    let target = PodTarget::open(req)?;
    target.refuse_existing_ifname()?;

    let plan = PodPlan {
        network: &req.conf.name,
        conf: &conf.bridged,
        mtu: conf.bridged.mtu,
        mac,
        pod_index: POD_INDEX,
        pod_options: PodOptions {
            enable_dad: conf.enable_dad,
            ndisc_notify: false,
        },
        leave_down: conf.disable_container_interface,
    };
    let mut side = BridgeSide {
        conf: &conf,
        target: &target,
        spoof: None,
        vlan_gateway: None,
    };
    let mut attached = bridged::attach(&target, &plan, &mut side, ipam)?;
    let mut result = std::mem::take(&mut attached.result);

    // Report what the kernel shows now (MACs change as ports join, until one is pinned).
    result.interfaces = vec![
        interface(&attached.bridge, None),
        interface(&attached.host, None),
        interface(&attached.pod, Some(target.sandbox())),
    ];
    result
        .interfaces
        .extend(side.vlan_gateway.map(|gw| interface(&gw, None)));
    use_config_dns(&mut result, &req.conf);
    if let Some(r) = attached.reservation {
        let _ = r.commit();
    }
    Ok(result)
}

/// The bridge plugin's node side of one pod.
struct BridgeSide<'a> {
    conf: &'a BridgeConf,
    target: &'a PodTarget<'a>,
    /// The pod's spoof-check rules, once set up (torn down again if ADD fails later).
    spoof: Option<SpoofCheck>,
    /// The `<bridge>.<vlan>` gateway, when the gateway addresses went there (reported last).
    vlan_gateway: Option<Link>,
}

impl NodeSide for BridgeSide<'_> {
    type Error = Error;
    type Plugged = Link;

    /// The bridge as configured, the port with its flags and VLANs, then with `macspoofchk`
    /// the rules that drop the pod's frames from any other MAC.
    fn plug(&mut self, node: &NsConn, veth: &VethPair) -> Result<Link> {
        let bridge = device::ensure_bridge(node, self.conf)?;
        port::attach_port(node, &bridge, &veth.host, &PortSettings::pod(self.conf))?;
        if self.conf.macspoofchk {
            let spoof = SpoofCheck::new(self.target.container_id, self.target.ifname);
            let set_up = veth
                .pod
                .mac
                .ok_or_else(|| Error::Check("the pod veth has no MAC".into()))
                .and_then(|pod_mac| spoof.setup(&veth.host.name, pod_mac));
            if let Err(e) = set_up {
                let _ = spoof.teardown();
                return Err(e);
            }
            self.spoof = Some(spoof);
        }
        Ok(bridge)
    }

    fn bridge(plugged: &Link) -> &Link {
        plugged
    }

    /// With `vlan`, the gateway lives on `<bridge>.<vlan>` (in the pods' VLAN), not on the
    /// bridge itself.
    fn gateway_link(&mut self, node: &NsConn, bridge: &Link) -> Result<Link> {
        if self.conf.vlan.is_none() {
            return Ok(bridge.clone());
        }
        let gateway = device::ensure_vlan_gateway(node, bridge, self.conf)?;
        self.vlan_gateway = Some(gateway.clone());
        Ok(gateway)
    }

    fn unplug(&mut self) {
        if let Some(spoof) = &self.spoof {
            let _ = spoof.teardown();
        }
    }
}
