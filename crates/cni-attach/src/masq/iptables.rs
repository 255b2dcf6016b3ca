//! The iptables masquerade backend, with the reference's chain, rules and comment:
//!
//! ```text
//! -A POSTROUTING -s 10.1.0.5/32 -m comment --comment "name: \"net\" id: \"ctr\"" -j CNI-<hash>
//! -A CNI-<hash> -d 10.1.0.0/24 -m comment --comment "..." -j ACCEPT
//! -A CNI-<hash> ! -d 224.0.0.0/4 -m comment --comment "..." -j MASQUERADE
//! ```
//!
//! Per family (`iptables`/`ip6tables`), one `-save -t nat` to read and one `-restore --noflush`
//! to change, so a change is one transaction. The chain is ours alone (its name hashes network
//! and container), so setup rewrites it whole, all ACCEPTs before the MASQUERADE (the
//! reference's append-per-address can leave a second subnet's ACCEPT unreachable). Teardown
//! finds `POSTROUTING` rules by the chain they jump to: no addresses needed. GC reads the
//! container ID back from the comment.

use std::collections::BTreeSet;

use cni_spec::Attachment;
use ipnetwork::IpNetwork;

use super::MasqOwner;
use crate::error::{Error, Result};
use crate::hash::iptables_chain;
use crate::tool;

/// One IP family's tool set.
#[derive(Debug, Clone, Copy)]
struct Family {
    save: &'static str,
    restore: &'static str,
    multicast: &'static str,
}

const V4: Family = Family {
    save: "iptables-save",
    restore: "iptables-restore",
    multicast: "224.0.0.0/4",
};
const V6: Family = Family {
    save: "ip6tables-save",
    restore: "ip6tables-restore",
    multicast: "ff00::/8",
};

/// Go's `utils.FormatComment`: `name: "<net>" id: "<id>"`.
fn comment(network: &str, container_id: &str) -> String {
    format!("name: {network:?} id: {container_id:?}")
}

/// A double-quoted argument for `iptables-restore`, which unescapes `\"` and `\\`.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The `nat` table as `-save` prints it; empty when the tool is there but has no such table.
fn save_nat(family: Family) -> Result<Vec<String>> {
    let out = tool::run(family.save, &["-t", "nat"], b"", "read the nat table")?;
    Ok(out.lines().map(str::to_owned).collect())
}

fn restore(family: Family, lines: &[String], action: &str) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut input = String::from("*nat\n");
    for line in lines {
        input.push_str(line);
        input.push('\n');
    }
    input.push_str("COMMIT\n");
    tool::run(
        family.restore,
        &["-w", "--noflush"],
        input.as_bytes(),
        action,
    )
    .map(drop)
}

fn chain_exists(saved: &[String], chain: &str) -> bool {
    saved.iter().any(|l| {
        l.strip_prefix(':')
            .and_then(|r| r.split_whitespace().next())
            == Some(chain)
    })
}

/// `POSTROUTING` rules (without the leading `-A POSTROUTING `) that jump to `chain`.
fn jumps_to<'a>(saved: &'a [String], chain: &str) -> Vec<&'a str> {
    saved
        .iter()
        .filter_map(|l| l.strip_prefix("-A POSTROUTING "))
        .filter(|rest| has_option(rest, "-j", chain))
        .collect()
}

/// Whether `rule` holds `option value` as two consecutive words.
fn has_option(rule: &str, option: &str, value: &str) -> bool {
    let words: Vec<&str> = rule.split_whitespace().collect();
    words.windows(2).any(|w| w == [option, value])
}

fn host_source(address: &IpNetwork) -> String {
    let bits = if address.is_ipv4() { 32 } else { 128 };
    format!("{}/{bits}", address.ip())
}

fn split(addresses: &[IpNetwork]) -> [(Family, Vec<IpNetwork>); 2] {
    let (v4, v6): (Vec<IpNetwork>, Vec<IpNetwork>) = addresses.iter().partition(|a| a.is_ipv4());
    [(V4, v4), (V6, v6)]
}

pub(super) fn setup(owner: &MasqOwner, addresses: &[IpNetwork]) -> Result<()> {
    let chain = iptables_chain(owner.network, owner.container_id);
    let c = quoted(&comment(owner.network, owner.container_id));
    for (family, addrs) in split(addresses) {
        if addrs.is_empty() {
            continue;
        }
        let saved = save_nat(family)?;
        let existing = jumps_to(&saved, &chain);
        // Declaring the chain creates it, or flushes it if it exists: we rewrite it whole.
        let mut lines = vec![format!(":{chain} - [0:0]")];
        let subnets: BTreeSet<String> = addrs
            .iter()
            .map(|a| format!("{}/{}", a.network(), a.prefix()))
            .collect();
        for subnet in &subnets {
            lines.push(format!(
                "-A {chain} -d {subnet} -m comment --comment {c} -j ACCEPT"
            ));
        }
        lines.push(format!(
            "-A {chain} ! -d {} -m comment --comment {c} -j MASQUERADE",
            family.multicast
        ));
        for address in &addrs {
            let source = host_source(address);
            let present = existing.iter().any(|r| has_option(r, "-s", &source));
            if !present {
                lines.push(format!(
                    "-A POSTROUTING -s {source} -m comment --comment {c} -j {chain}"
                ));
            }
        }
        restore(family, &lines, "add masquerade rules")?;
    }
    Ok(())
}

fn teardown_chain(family: Family, saved: &[String], chain: &str) -> Result<()> {
    let mut lines: Vec<String> = jumps_to(saved, chain)
        .into_iter()
        .map(|rule| format!("-D POSTROUTING {rule}"))
        .collect();
    if chain_exists(saved, chain) {
        lines.push(format!("-F {chain}"));
        lines.push(format!("-X {chain}"));
    }
    restore(family, &lines, "delete masquerade rules")
}

pub(super) fn teardown(owner: &MasqOwner) -> Result<()> {
    let chain = iptables_chain(owner.network, owner.container_id);
    for family in [V4, V6] {
        let saved = save_nat(family)?;
        teardown_chain(family, &saved, &chain)?;
    }
    Ok(())
}

pub(super) fn check(owner: &MasqOwner, addresses: &[IpNetwork]) -> Result<()> {
    let chain = iptables_chain(owner.network, owner.container_id);
    for (family, addrs) in split(addresses) {
        if addrs.is_empty() {
            continue;
        }
        let saved = save_nat(family)?;
        let masquerades = saved
            .iter()
            .any(|l| l.starts_with(&format!("-A {chain} ")) && l.ends_with("-j MASQUERADE"));
        if !masquerades {
            return Err(Error::Check(format!(
                "iptables chain {chain} has no MASQUERADE rule"
            )));
        }
        let jumps = jumps_to(&saved, &chain);
        for address in &addrs {
            let source = host_source(address);
            if !jumps.iter().any(|r| has_option(r, "-s", &source)) {
                return Err(Error::Check(format!(
                    "iptables POSTROUTING has no rule sending {source} to {chain}"
                )));
            }
        }
    }
    Ok(())
}

/// The container IDs `network` has chains for, read back from the rule comments.
fn containers_in(saved: &[String], network: &str) -> BTreeSet<String> {
    let marker = format!("--comment {}", quoted(&format!("name: {network:?} id: \"")));
    // `marker` ends with the closing quote of the whole comment; drop it to match the prefix.
    let marker = &marker[..marker.len() - 1];
    saved
        .iter()
        .filter_map(|l| {
            let rest = &l[l.find(marker)? + marker.len()..];
            let end = rest.find("\\\"\"")?;
            Some(rest[..end].to_owned())
        })
        .collect()
}

pub(super) fn gc(network: &str, valid: &[Attachment]) -> Result<()> {
    // iptables rules ignore ifname, so a container stays while any of its attachments does.
    let keep: BTreeSet<&str> = valid.iter().map(|a| a.container_id.as_str()).collect();
    for family in [V4, V6] {
        let saved = save_nat(family)?;
        for id in containers_in(&saved, network) {
            if !keep.contains(id.as_str()) {
                teardown_chain(family, &saved, &iptables_chain(network, &id))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> Vec<String> {
        // iptables-save -t nat after the Go bridge plugin's ADD (network "mynet", id "ctr1").
        [
            "*nat",
            ":POSTROUTING ACCEPT [0:0]",
            ":CNI-5145007e2a8415ce07579739 - [0:0]",
            r#"-A POSTROUTING -s 10.77.0.2/32 -m comment --comment "name: \"mynet\" id: \"ctr1\"" -j CNI-5145007e2a8415ce07579739"#,
            r#"-A POSTROUTING -s 10.9.0.2/32 -j KUBE-OTHER"#,
            r#"-A CNI-5145007e2a8415ce07579739 -d 10.77.0.0/24 -m comment --comment "name: \"mynet\" id: \"ctr1\"" -j ACCEPT"#,
            r#"-A CNI-5145007e2a8415ce07579739 ! -d 224.0.0.0/4 -m comment --comment "name: \"mynet\" id: \"ctr1\"" -j MASQUERADE"#,
            "COMMIT",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    #[test]
    fn comment_and_quoting_match_iptables_save() {
        let c = quoted(&comment("mynet", "ctr1"));
        assert_eq!(c, r#""name: \"mynet\" id: \"ctr1\"""#);
        assert!(saved()[3].contains(&format!("--comment {c} ")));
    }

    #[test]
    fn finds_jumps_chains_and_owners() {
        let s = saved();
        let chain = iptables_chain("mynet", "ctr1");
        assert!(chain_exists(&s, &chain));
        assert!(!chain_exists(&s, "CNI-nope"));
        let jumps = jumps_to(&s, &chain);
        assert_eq!(jumps.len(), 1);
        assert!(jumps[0].starts_with("-s 10.77.0.2/32 "));
        assert_eq!(
            containers_in(&s, "mynet").into_iter().collect::<Vec<_>>(),
            ["ctr1"]
        );
        assert!(containers_in(&s, "other").is_empty());
    }
}
