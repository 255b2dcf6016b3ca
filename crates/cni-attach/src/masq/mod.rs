//! ipMasq: masquerade traffic from a pod's addresses to anything outside its subnet (and
//! outside multicast), with the reference's rule shapes so either implementation can remove
//! the other's rules (cni-reference.md §3.5).
//!
//! Two backends: `nftables` (the default here; table `inet cni_plugins_masquerade`, one rule
//! per pod address in chain `masq_checks`, found again by its comment) and `iptables` (a
//! `CNI-<hash>` chain per network and container in table `nat`, reached from `POSTROUTING`).
//! Teardown needs neither the pod's addresses nor its namespace: nftables rules are found by the
//! comment's hash, iptables rules by the chain they jump to. So DEL with an empty `CNI_NETNS`
//! still cleans up, which the reference does not (plugins #810). Teardown and GC try both
//! backends, since the pod may have been added under another config or by another version.
//! GC removes the rules of attachments not in the valid set, in both backends (the reference's
//! iptables backend cannot; ours reads the container ID back from the rule comment).

mod iptables;
mod nftables;

use cni_spec::Attachment;
use ipnetwork::IpNetwork;

use crate::error::{Error, Result};

/// Which firewall holds the masquerade rules (`ipMasqBackend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// nftables, through the `nft` binary.
    Nftables,
    /// iptables/ip6tables (`-save`/`-restore`), legacy or nft-based alike.
    Iptables,
}

impl Backend {
    /// The backend named by `ipMasqBackend`; absent or empty means nftables.
    pub fn from_config(value: Option<&str>) -> Result<Backend> {
        match value.unwrap_or("") {
            "" | "nftables" => Ok(Backend::Nftables),
            "iptables" => Ok(Backend::Iptables),
            other => Err(Error::InvalidConfig(format!(
                "unknown ipmasq backend {other:?} (must be \"iptables\" or \"nftables\")"
            ))),
        }
    }
}

/// Whose rules: the network (config `name`), the pod interface and the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MasqOwner<'a> {
    /// The network name.
    pub network: &'a str,
    /// `CNI_IFNAME` (the iptables backend ignores it, as the reference does).
    pub ifname: &'a str,
    /// `CNI_CONTAINERID`.
    pub container_id: &'a str,
}

/// Installs masquerading for `addresses` (pod addresses with their subnet prefix). Rules left
/// by an earlier ADD of the same attachment are replaced, not duplicated.
pub fn setup(backend: Backend, owner: &MasqOwner, addresses: &[IpNetwork]) -> Result<()> {
    match backend {
        Backend::Nftables => nftables::setup(owner, addresses),
        Backend::Iptables => iptables::setup(owner, addresses),
    }
}

/// Removes this attachment's rules from both backends. A backend whose tool is not installed
/// cannot hold rules and is skipped; every other failure is reported after trying both.
pub fn teardown(owner: &MasqOwner) -> Result<()> {
    both(|| nftables::teardown(owner), || iptables::teardown(owner))
}

/// Fails unless every address in `addresses` has its masquerade rule in `backend`.
pub fn check(backend: Backend, owner: &MasqOwner, addresses: &[IpNetwork]) -> Result<()> {
    match backend {
        Backend::Nftables => nftables::check(owner, addresses),
        Backend::Iptables => iptables::check(owner, addresses),
    }
}

/// Removes the rules of `network`'s attachments that are not in `valid`, in both backends.
pub fn gc(network: &str, valid: &[Attachment]) -> Result<()> {
    both(
        || nftables::gc(network, valid),
        || iptables::gc(network, valid),
    )
}

fn both(a: impl FnOnce() -> Result<()>, b: impl FnOnce() -> Result<()>) -> Result<()> {
    let mut errors: Vec<Error> = [a(), b()]
        .into_iter()
        .filter_map(Result::err)
        .filter(|e| !matches!(e, Error::ToolMissing(_)))
        .collect();
    if errors.len() <= 1 {
        return errors.pop().map_or(Ok(()), Err);
    }
    let detail: Vec<String> = errors.iter().map(ToString::to_string).collect();
    Err(Error::Firewall {
        tool: "nft+iptables",
        action: "masquerade cleanup".into(),
        detail: detail.join("; "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names() {
        assert_eq!(Backend::from_config(None).unwrap(), Backend::Nftables);
        assert_eq!(Backend::from_config(Some("")).unwrap(), Backend::Nftables);
        assert_eq!(
            Backend::from_config(Some("iptables")).unwrap(),
            Backend::Iptables
        );
        let err = Backend::from_config(Some("ebtables")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown ipmasq backend \"ebtables\" (must be \"iptables\" or \"nftables\")"
        );
    }
}
