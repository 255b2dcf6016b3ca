//! `CNI_ARGS`: `K=V;K=V` pairs from the runtime (deprecated by the spec in favour of the
//! config's `args`, but Kubernetes runtimes still send `K8S_POD_*` keys here).
//!
//! Keys are case-sensitive Go struct field names (`IP`, `MAC`, `GATEWAY`, `IgnoreUnknown`).
//! Deliberately more lenient than Go's `types.LoadArgs` in two ways that cannot break a config
//! Go accepts: a value may contain `=` (split on the first one), and empty pairs (`a=1;;b=2`,
//! a trailing `;`) are skipped.
//! Not here: what a key means; each plugin reads the keys it knows and calls
//! [`CniArgs::ensure_known`].

use crate::CniError;
use crate::error::Error;

/// The key that makes unknown keys acceptable (Kubernetes sets `IgnoreUnknown=1`, k8s #24983).
pub const IGNORE_UNKNOWN: &str = "IgnoreUnknown";

/// Parsed `CNI_ARGS`, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CniArgs {
    pairs: Vec<(String, String)>,
}

impl CniArgs {
    /// Parses `raw`. A non-empty pair without `=` -> code 4 `ARGS: invalid pair "x"`.
    pub fn parse(raw: &str) -> Result<CniArgs, CniError> {
        let mut pairs = Vec::new();
        for pair in raw.split(';').filter(|p| !p.is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(Error::InvalidArgsPair(pair.to_owned()).into());
            };
            pairs.push((key.to_owned(), value.to_owned()));
        }
        Ok(CniArgs { pairs })
    }

    /// The value of `key` (case-sensitive). Multus re-appends the runtime's pairs after its
    /// own, so when a key repeats the last one wins.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All pairs in order, repeats included.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Whether `IgnoreUnknown` is `1` or `true` (any case), like Go's `UnmarshallableBool`.
    pub fn ignore_unknown(&self) -> bool {
        self.get(IGNORE_UNKNOWN)
            .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
    }

    /// Fails with code 4 `ARGS: unknown args ["K=V" ...]` (the whole pairs, as Go prints them)
    /// if a key is neither in `known` nor `IgnoreUnknown`, unless `IgnoreUnknown` is set.
    pub fn ensure_known(&self, known: &[&str]) -> Result<(), CniError> {
        if self.ignore_unknown() {
            return Ok(());
        }
        let unknown: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != IGNORE_UNKNOWN && !known.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(Error::UnknownArgs(unknown).into())
        }
    }
}
