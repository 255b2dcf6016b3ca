//! GC: forwarded to IPAM (a spec MUST the reference ignores), then the network's host shim loses
//! the routes of attachments that are not in `cni.dev/valid-attachments` and, when none are left,
//! the shim itself. Without the key (cnitool sends none) every attachment counts as stale, as
//! host-local does.
//!
//! Both steps run; the first error is reported. GC never touches another network's shim: the
//! shim's name derives from this network's name (cni #1098).

use std::collections::HashSet;

use cni_netlink::Handle;
use cni_spec::{Request, ipam_gc};

use crate::config::MacvlanConf;
use crate::error::{Context, Error, Result};
use crate::master;
use crate::shim::{self, Shim};

pub(crate) fn gc(req: &Request) -> Result<()> {
    let ipam = match req.conf.ipam_type() {
        Some(_) => ipam_gc(req).map_err(Error::from),
        None => Ok(()),
    };
    let shim = gc_shim(req);
    ipam.and(shim)
}

fn gc_shim(req: &Request) -> Result<()> {
    let conf = MacvlanConf::from_value(&req.conf.raw)?;
    if conf.host_shim.is_none() {
        return Ok(());
    }
    let node = Handle::current().context(|| "open a netlink socket".into())?;
    let master = match master::resolve(&node, conf.master.as_ref()) {
        Ok(master) => master,
        // No master, no shim: the kernel deleted it with its lower device.
        Err(Error::Master { .. } | Error::NoDefaultRoute { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    let keep: HashSet<u32> = req
        .conf
        .valid_attachments
        .iter()
        .flatten()
        .map(|a| shim::tag(&a.container_id, &a.ifname))
        .collect();
    Shim::new(&node, &req.conf.name, &master.name).gc(&keep)
}
