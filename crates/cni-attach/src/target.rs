//! [`PodTarget`]: the pod an ADD or CHECK works on, as the request names it (`CNI_NETNS`,
//! `CNI_IFNAME`, `CNI_CONTAINERID`), with a netlink socket in the node's namespace (the one the
//! plugin runs in) and one in the pod's. Every plugin's ADD and CHECK starts by opening one.
//!
//! Not here: DEL, which must work without the pod's namespace ([`crate::teardown`]).

use std::path::Path;

use cni_spec::{CniError, Request};

use crate::error::{Context, Error, Result};
use crate::masq::MasqOwner;
use crate::ns::NsConn;

/// The pod named by a request, and sockets on both sides.
#[derive(Debug)]
pub struct PodTarget<'r> {
    /// `CNI_NETNS`.
    pub netns: &'r Path,
    /// `CNI_IFNAME`.
    pub ifname: &'r str,
    /// `CNI_CONTAINERID`.
    pub container_id: &'r str,
    /// The node's namespace: the calling thread's.
    pub node: NsConn,
    /// The pod's namespace.
    pub pod: NsConn,
}

impl<'r> PodTarget<'r> {
    /// Reads the three variables (code 4 naming a missing one) and opens both namespaces.
    pub fn open(req: &'r Request) -> std::result::Result<PodTarget<'r>, CniError> {
        let netns = req.require_netns()?;
        let ifname = req.require_ifname()?.as_str();
        let container_id = req.require_container_id()?.as_str();
        let node = NsConn::current()?;
        let pod = NsConn::open(netns).map_err(Error::from)?;
        Ok(PodTarget {
            netns,
            ifname,
            container_id,
            node,
            pod,
        })
    }

    /// The pod's namespace path as results carry it (`interfaces[].sandbox`).
    pub fn sandbox(&self) -> String {
        self.netns.to_string_lossy().into_owned()
    }

    /// The owner of this attachment's masquerade rules in `network`.
    pub fn masq_owner<'a>(&'a self, network: &'a str) -> MasqOwner<'a> {
        MasqOwner {
            network,
            ifname: self.ifname,
            container_id: self.container_id,
        }
    }

    /// ADD must fail when `CNI_IFNAME` already exists in the pod (spec); checked before IPAM
    /// so a doomed ADD takes no address.
    pub fn refuse_existing_ifname(&self) -> Result<()> {
        let existing = self
            .pod
            .handle
            .link_get(self.ifname)
            .context(|| format!("look up {:?}", self.ifname))?;
        match existing {
            Some(_) => Err(Error::InterfaceExists(self.ifname.to_owned())),
            None => Ok(()),
        }
    }
}
