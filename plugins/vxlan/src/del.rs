//! DEL: release everything this attachment holds, whatever state it is in, and the network's
//! VTEP and bridge when it was the last pod of the network on the node.
//!
//! Every step runs even if an earlier one failed, and the first failure is reported at the end
//! (so the runtime retries). An empty `CNI_NETNS` or a vanished namespace skips only the in-pod
//! step: the pod's veth died with its namespace, or is not ours to find. Nothing here needs the
//! underlay, so a node that lost it can still clean up. A DEL for an attachment never added,
//! or a repeated DEL, finds nothing and succeeds.

use cni_attach::{NsConn, bridged};
use cni_spec::{CniError, Request};

use crate::config;
use crate::error::Error;
use crate::network::NodeNetwork;

/// The DEL verb.
pub fn del(req: &Request) -> Result<(), CniError> {
    let conf = config::parse(&req.conf)?;
    // The pod's veth, IPAM and masquerade rules, as for any pod behind a bridge port.
    let mut errors = bridged::detach(req, conf.bridged.ip_masq.is_some())?;
    // After the pod's port is gone, so it is not counted.
    let release = NsConn::current()
        .map_err(Error::from)
        .and_then(|node| NodeNetwork::lock(&node, &conf)?.release_if_unused());
    errors.keep(release.map(drop));
    errors.finish()
}
