//! Interface addresses, as `ip -j addr show dev X` reports them.

use ipnetwork::IpNetwork;
use serde::Deserialize;
use serde_json::Value;

use super::typed;
use crate::error::{Result, SandboxError};
use crate::netns::Ns;

/// One address on an interface.
#[derive(Debug, Clone, PartialEq)]
pub struct AddrView {
    /// Address with prefix length.
    pub addr: IpNetwork,
    /// `global`, `link`, `host`.
    pub scope: String,
    /// IPv6 DAD has not finished: the address cannot be used as a source yet.
    pub tentative: bool,
    /// Added with `nodad`.
    pub nodad: bool,
    /// IPv6 DAD found a duplicate.
    pub dadfailed: bool,
    /// Has a finite lifetime (e.g. from SLAAC), i.e. not permanent.
    pub dynamic: bool,
    /// The whole JSON object.
    pub raw: Value,
}

#[derive(Deserialize)]
struct RawIface {
    #[serde(default)]
    addr_info: Vec<Value>,
}

#[derive(Deserialize)]
struct RawAddr {
    local: std::net::IpAddr,
    prefixlen: u8,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    tentative: bool,
    #[serde(default)]
    nodad: bool,
    #[serde(default)]
    dadfailed: bool,
    #[serde(default)]
    dynamic: bool,
}

pub(crate) fn parse_addrs(cmd: &str, items: Vec<Value>) -> Result<Vec<AddrView>> {
    let mut out = Vec::new();
    for (iface, _) in typed::<RawIface>(cmd, items)? {
        for (a, raw) in typed::<RawAddr>(cmd, iface.addr_info)? {
            let addr = IpNetwork::new(a.local, a.prefixlen).map_err(|e| SandboxError::Parse {
                cmd: cmd.to_owned(),
                detail: format!("{e}: {raw}"),
            })?;
            out.push(AddrView {
                addr,
                scope: a.scope,
                tentative: a.tentative,
                nodad: a.nodad,
                dadfailed: a.dadfailed,
                dynamic: a.dynamic,
                raw,
            });
        }
    }
    Ok(out)
}

impl Ns {
    /// The addresses on `dev` with their flags. A missing `dev` is an error.
    pub fn addr_details(&self, dev: &str) -> Result<Vec<AddrView>> {
        let items: Vec<Value> = self.json("ip", &["addr", "show", "dev", dev])?;
        parse_addrs(
            &format!("ip -j addr show dev {dev} in {}", self.name()),
            items,
        )
    }

    /// The addresses on `dev`, link-local ones included. A missing `dev` is an error.
    pub fn addrs(&self, dev: &str) -> Result<Vec<IpNetwork>> {
        Ok(self
            .addr_details(dev)?
            .into_iter()
            .map(|a| a.addr)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_prefixes() {
        let json = r#"[{"ifindex":2,"ifname":"va","addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":24,"scope":"global","label":"va"},{"family":"inet6","local":"fd00::2","prefixlen":64,"scope":"global","nodad":true},{"family":"inet6","local":"fd00::1","prefixlen":64,"scope":"global","tentative":true}]}]"#;
        let a = parse_addrs("t", serde_json::from_str(json).unwrap()).unwrap();
        assert_eq!(a[0].addr, "10.0.0.1/24".parse::<IpNetwork>().unwrap());
        assert!(a[1].nodad && !a[1].tentative);
        assert!(a[2].tentative);
        assert_eq!(a[2].scope, "global");
    }
}
