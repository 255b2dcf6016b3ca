//! Neighbour (ARP / NDP) entries, as `ip -j neigh show dev X` reports them.

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;

use super::typed;
use crate::error::Result;
use crate::netns::Ns;

/// One neighbour entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighView {
    /// The neighbour's IP address.
    pub dst: IpAddr,
    /// Its link-layer address, if resolved.
    pub lladdr: Option<String>,
    /// NUD states, upper case as printed: `PERMANENT`, `REACHABLE`, `STALE`, `FAILED`, ...
    pub state: Vec<String>,
    /// The entry carries the router flag (IPv6).
    pub router: bool,
    /// The whole JSON object.
    pub raw: Value,
}

#[derive(Deserialize)]
struct RawNeigh {
    dst: IpAddr,
    lladdr: Option<String>,
    #[serde(default)]
    state: Vec<String>,
}

pub(crate) fn parse_neighbours(cmd: &str, items: Vec<Value>) -> Result<Vec<NeighView>> {
    Ok(typed::<RawNeigh>(cmd, items)?
        .into_iter()
        .map(|(n, raw)| NeighView {
            // iproute2 prints `"router": null` when the flag is set (a bare word in text mode).
            router: raw.get("router").is_some(),
            dst: n.dst,
            lladdr: n.lladdr,
            state: n.state,
            raw,
        })
        .collect())
}

impl Ns {
    /// The neighbour entries on `dev` (what `ip neigh show dev DEV` lists: NOARP entries for
    /// multicast are left out, as iproute2 does by default).
    pub fn neighbours(&self, dev: &str) -> Result<Vec<NeighView>> {
        let items: Vec<Value> = self.json("ip", &["neigh", "show", "dev", dev])?;
        parse_neighbours(
            &format!("ip -j neigh show dev {dev} in {}", self.name()),
            items,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_flag_is_a_null_key() {
        let json = r#"[{"dst":"10.1.0.9","lladdr":"02:00:00:00:00:09","router":null,"state":["REACHABLE"]},{"dst":"fd00::7","state":["FAILED"]}]"#;
        let n = parse_neighbours("t", serde_json::from_str(json).unwrap()).unwrap();
        assert!(n[0].router);
        assert_eq!(n[0].state, ["REACHABLE"]);
        assert!(!n[1].router);
        assert_eq!(n[1].lladdr, None);
    }
}
