//! CNI specification versions: the seven this suite speaks, their order, and what each allows.
//!
//! Not a semver parser. Go's `version.Reconciler` matches the config's `cniVersion` against the
//! plugin's `supportedVersions` by exact string, so `"1.0.1"` or `"1.0"` are unsupported (code 1)
//! even though they look compatible (containernetworking/plugins #668).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A CNI specification version this crate implements. Ordered oldest to newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecVersion {
    /// 0.1.0: `ip4`/`ip6` result layout.
    V0_1_0,
    /// 0.2.0: adds VERSION; same result layout as 0.1.0.
    V0_2_0,
    /// 0.3.0: `interfaces`/`ips`/`routes`/`dns` result, chaining, `prevResult`.
    V0_3_0,
    /// 0.3.1: a typo fix in the spec text (`ip` -> `ips`).
    V0_3_1,
    /// 0.4.0: CHECK, `prevResult` on DEL.
    V0_4_0,
    /// 1.0.0: `ips[].version` removed.
    V1_0_0,
    /// 1.1.0: STATUS, GC, interface `mtu/socketPath/pciID`, route `mtu/advmss/priority/table/scope`.
    V1_1_0,
}

/// An unknown `cniVersion` string; carries the string as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVersion(pub String);

impl fmt::Display for UnknownVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown CNI version {:?}", self.0)
    }
}

impl std::error::Error for UnknownVersion {}

impl SpecVersion {
    /// Every supported version, oldest first: the order VERSION prints them in.
    pub const ALL: [SpecVersion; 7] = [
        SpecVersion::V0_1_0,
        SpecVersion::V0_2_0,
        SpecVersion::V0_3_0,
        SpecVersion::V0_3_1,
        SpecVersion::V0_4_0,
        SpecVersion::V1_0_0,
        SpecVersion::V1_1_0,
    ];

    /// The newest version; what VERSION reports as its own `cniVersion`.
    pub const CURRENT: SpecVersion = SpecVersion::V1_1_0;

    /// The version string as it appears in JSON, e.g. `"0.3.1"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V0_1_0 => "0.1.0",
            SpecVersion::V0_2_0 => "0.2.0",
            SpecVersion::V0_3_0 => "0.3.0",
            SpecVersion::V0_3_1 => "0.3.1",
            SpecVersion::V0_4_0 => "0.4.0",
            SpecVersion::V1_0_0 => "1.0.0",
            SpecVersion::V1_1_0 => "1.1.0",
        }
    }

    /// The version a config means when its `cniVersion` is absent or empty. Go's
    /// `create.DecodeVersion` says 0.1.0 (spec-upgrades.md says 0.2.0; we follow the code).
    pub const fn for_missing() -> SpecVersion {
        SpecVersion::V0_1_0
    }

    /// CHECK exists from 0.4.0 on; skel refuses it below with code 1.
    pub fn supports_check(self) -> bool {
        self >= SpecVersion::V0_4_0
    }

    /// STATUS and GC exist from 1.1.0 on; skel refuses them below with code 1.
    pub fn supports_gc_status(self) -> bool {
        self >= SpecVersion::V1_1_0
    }

    /// Whether results carry `ips[].version` ("4"/"6"): only the 0.3.x/0.4.0 layout does.
    pub fn has_ip_version(self) -> bool {
        matches!(
            self,
            SpecVersion::V0_3_0 | SpecVersion::V0_3_1 | SpecVersion::V0_4_0
        )
    }

    /// Whether results use the pre-0.3.0 `ip4`/`ip6` layout.
    pub fn has_legacy_result(self) -> bool {
        self <= SpecVersion::V0_2_0
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SpecVersion {
    type Err = UnknownVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SpecVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownVersion(s.to_owned()))
    }
}

impl Serialize for SpecVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SpecVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
