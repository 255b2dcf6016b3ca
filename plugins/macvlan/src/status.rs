//! STATUS: could an ADD succeed now? Not when the master is missing (code 50: the reference has
//! a TODO here and always says yes), and not when IPAM says no (forwarded, as the spec requires).
//!
//! With `linkInContainer` the master lives in pods that STATUS knows nothing of, so only IPAM is
//! asked.

use cni_netlink::Handle;
use cni_spec::{Request, ipam_status};

use crate::config::MacvlanConf;
use crate::error::{Context, Error, Result};
use crate::master;

pub(crate) fn status(req: &Request) -> Result<()> {
    let conf = MacvlanConf::from_value(&req.conf.raw)?;
    if !conf.link_in_container {
        let node = Handle::current().context(|| "open a netlink socket".into())?;
        let usable = master::resolve(&node, conf.master.as_ref())
            .and_then(|link| master::validate(&node, &link));
        match usable {
            Err(e @ (Error::Master { .. } | Error::NoDefaultRoute { .. })) => {
                return Err(Error::Unavailable(e.to_string()));
            }
            other => other?,
        }
    }
    if req.conf.ipam_type().is_some() {
        ipam_status(req)?;
    }
    Ok(())
}
