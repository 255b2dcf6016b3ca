//! `macspoofchk`: drop frames the pod sends with a source MAC other than its own, in the
//! reference's nftables layout (plugins `pkg/link/spoofcheck.go`), so either implementation
//! can remove the other's rules:
//!
//! ```text
//! table bridge nat {
//!   chain PREROUTING { type filter hook prerouting priority -300; policy accept;
//!     iifname "<host veth>" jump cni-br-iface-<id> comment "macspoofchk-<id>" }
//!   chain cni-br-iface-<id>     { jump cni-br-iface-<id>-mac comment "macspoofchk-<id>" }
//!   chain cni-br-iface-<id>-mac { ether saddr <pod mac> return comment "...";  drop comment "..." }
//! }
//! ```
//!
//! `<id>` is `<containerID>-<ifname>`. Teardown needs only that id, not the host veth's name or
//! the pod namespace, so DEL without `CNI_NETNS` removes the rules too. One `nft` transaction
//! each for setup and teardown (plus one listing to find rules by comment).

use cni_attach::nft::{self, command};
use cni_netlink::MacAddr;
use serde_json::{Value, json};

use crate::error::{Error, Result};

const FAMILY: &str = "bridge";
const TABLE: &str = "nat";
const PREROUTING: &str = "PREROUTING";
/// Before the bridge's own `dstnat` work, as the reference (`-300`).
const PRIORITY: i32 = -300;

/// One attachment's spoof check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoofCheck {
    id: String,
}

impl SpoofCheck {
    /// The check for container `container_id`'s interface `ifname`.
    pub fn new(container_id: &str, ifname: &str) -> SpoofCheck {
        SpoofCheck {
            id: format!("{container_id}-{ifname}"),
        }
    }

    fn iface_chain(&self) -> String {
        format!("cni-br-iface-{}", self.id)
    }

    fn mac_chain(&self) -> String {
        format!("cni-br-iface-{}-mac", self.id)
    }

    fn comment(&self) -> String {
        format!("macspoofchk-{}", self.id)
    }

    fn rule(&self, chain: &str, expr: Value) -> Value {
        command(
            "add",
            "rule",
            json!({"family": FAMILY, "table": TABLE, "chain": chain, "expr": expr, "comment": self.comment()}),
        )
    }

    fn chain(&self, verb: &str, name: &str) -> Value {
        command(
            verb,
            "chain",
            json!({"family": FAMILY, "table": TABLE, "name": name}),
        )
    }

    /// Installs (or replaces) the rules for host port `host_veth` and pod MAC `mac`.
    pub fn setup(&self, host_veth: &str, mac: MacAddr) -> Result<()> {
        let stale = self.jump_rules()?;
        let mut batch = vec![
            command("add", "table", json!({"family": FAMILY, "name": TABLE})),
            command(
                "add",
                "chain",
                json!({"family": FAMILY, "table": TABLE, "name": PREROUTING, "type": "filter",
                       "hook": "prerouting", "prio": PRIORITY, "policy": "accept"}),
            ),
            self.chain("add", &self.iface_chain()),
            self.chain("add", &self.mac_chain()),
            self.chain("flush", &self.iface_chain()),
            self.chain("flush", &self.mac_chain()),
        ];
        batch.extend(nft::delete_rules(
            FAMILY,
            TABLE,
            &stale.iter().collect::<Vec<_>>(),
        ));
        let iif = json!({"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": host_veth}});
        let saddr = json!({"match": {"op": "==",
            "left": {"payload": {"protocol": "ether", "field": "saddr"}}, "right": mac.to_string()}});
        batch.push(self.rule(
            PREROUTING,
            json!([iif, {"jump": {"target": self.iface_chain()}}]),
        ));
        batch.push(self.rule(
            &self.iface_chain(),
            json!([{"jump": {"target": self.mac_chain()}}]),
        ));
        batch.push(self.rule(&self.mac_chain(), json!([saddr, {"return": null}])));
        batch.push(self.rule(&self.mac_chain(), json!([{"drop": null}])));
        nft::apply(batch, "set up macspoofchk").map_err(Error::from)
    }

    /// Removes this attachment's rules and chains; a missing table or chain is success.
    pub fn teardown(&self) -> Result<()> {
        let Some(table) = nft::list_table(FAMILY, TABLE)? else {
            return Ok(());
        };
        let jumps: Vec<&nft::Rule> = table
            .rules
            .iter()
            .filter(|r| r.chain == PREROUTING && r.comment.as_deref() == Some(&self.comment()))
            .collect();
        let chains = &table.chains;
        let mut batch = nft::delete_rules(FAMILY, TABLE, &jumps);
        for name in [self.iface_chain(), self.mac_chain()] {
            if chains.contains(&name) {
                batch.push(self.chain("flush", &name));
            }
        }
        for name in [self.iface_chain(), self.mac_chain()] {
            if chains.contains(&name) {
                batch.push(self.chain("delete", &name));
            }
        }
        nft::apply(batch, "tear down macspoofchk").map_err(Error::from)
    }

    /// Fails unless the jump for `host_veth` and the rule allowing `mac` are in place.
    pub fn check(&self, host_veth: &str, mac: MacAddr) -> Result<()> {
        let rules = nft::list_table(FAMILY, TABLE)?.unwrap_or_default().rules;
        let ours = |chain: &str, needle: &str| {
            rules.iter().any(|r| {
                r.chain == chain
                    && r.comment.as_deref() == Some(&self.comment())
                    && r.expr.to_string().contains(needle)
            })
        };
        if !ours(PREROUTING, &format!("\"{host_veth}\"")) {
            return Err(Error::Check(format!(
                "macspoofchk: no rule sends frames from {host_veth:?} to {}",
                self.iface_chain()
            )));
        }
        if !ours(&self.mac_chain(), &format!("\"{mac}\"")) {
            return Err(Error::Check(format!(
                "macspoofchk: no rule allows source MAC {mac} in {}",
                self.mac_chain()
            )));
        }
        Ok(())
    }

    fn jump_rules(&self) -> Result<Vec<nft::Rule>> {
        let rules = nft::list_chain(FAMILY, TABLE, PREROUTING)?.unwrap_or_default();
        Ok(rules
            .into_iter()
            .filter(|r| r.comment.as_deref() == Some(&self.comment()))
            .collect())
    }
}
