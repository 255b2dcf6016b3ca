//! STATUS and GC.
//!
//! STATUS answers "could ADD succeed on this node now?": code 50 when the underlay is missing
//! or has no usable address, when the kernel has no VXLAN, or when the VTEP could not bind its
//! UDP port (checked by creating and raising a throwaway device with the network's attributes,
//! under the network's lock, unless the network's VTEP already exists). IPAM's STATUS is asked
//! too. GC is forwarded to IPAM, and removes this network's masquerade rules whose attachment
//! is no longer valid, as the bridge plugin does.

use cni_attach::{NsConn, bridged};
use cni_spec::{CniError, ErrorCode, Request, ipam_status};

use crate::config;
use crate::error::{Error, Result};
use crate::network::NodeNetwork;
use crate::underlay;
use crate::vtep::VtepSpec;

/// The STATUS verb.
pub fn status(req: &Request) -> Result<(), CniError> {
    let conf = config::parse(&req.conf)?;
    node_ready(&conf).map_err(|e| {
        if e.is_unavailable() {
            CniError::new(ErrorCode::PluginNotAvailable, e.to_string())
        } else {
            e.into()
        }
    })?;
    match req.conf.ipam_type() {
        Some(_) => ipam_status(req),
        None => Ok(()),
    }
}

fn node_ready(conf: &config::VxlanConf) -> Result<()> {
    let node = NsConn::current().map_err(Error::from)?;
    let underlay = underlay::resolve(&node, conf)?;
    let spec = VtepSpec::new(conf, &underlay);
    NodeNetwork::lock(&node, conf)?.probe(&spec)
}

/// The GC verb: `cni_attach::bridged::gc` (IPAM, then this network's stale masquerade rules).
pub fn gc(req: &Request) -> Result<(), CniError> {
    config::parse(&req.conf)?;
    bridged::gc(req)
}
