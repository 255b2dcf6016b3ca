//! The host-local configuration: every key the reference reads, merged and validated in the
//! reference's order (`LoadIPAMConfig`), so a bad config fails with the same first message.
//!
//! Sources, in merge order:
//! - range sets: `runtimeConfig.ipRanges` (prepended), then the legacy top-level
//!   `ipam.subnet`/`rangeStart`/`rangeEnd`/`gateway` as one set (prepended to `ranges`), then
//!   `ipam.ranges`; `ipam.rangeFromFile` only when all of those are empty (reference HEAD);
//! - requested addresses, accumulated: `CNI_ARGS` `IP=`, then `args.cni.ips`, then
//!   `runtimeConfig.ips`, each with or without a prefix (which is ignored);
//! - `ipam.routes`, `ipam.dataDir` (default `/var/lib/cni/networks`), `ipam.resolvConf`.
//!
//! Keys match case-insensitively (cni-spec's `gojson`), as Go's decoder does.
//! Not here: the shared keys (`name`, `cniVersion`, `args`, `runtimeConfig`; cni-spec's
//! `NetConf`), what the verbs do with the result.

use std::net::IpAddr;
use std::path::PathBuf;

use cni_spec::{CniArgs, CniError, CniResult, NetConf, Route, SpecVersion, gojson};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::addr::{self, Cidr, Family};
use crate::error::Error;
use crate::range::RangeSpec;
use crate::range_set::RangeSet;
use crate::store::DEFAULT_DATA_DIR;

/// The `CNI_ARGS` key for a requested address (a Go field name: case-sensitive).
pub const ARGS_IP: &str = "IP";

/// Where a network's reservations live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreLocation {
    /// `ipam.dataDir`, or the default.
    pub data_dir: PathBuf,
    /// The network name: the store's directory inside `data_dir`.
    pub network: String,
}

/// A validated host-local configuration.
#[derive(Clone, Debug)]
pub struct IpamConfig {
    /// Where the store is.
    pub store: StoreLocation,
    /// The config's `cniVersion` (the result is printed in it).
    pub version: SpecVersion,
    /// The merged range sets; one address is allocated from each.
    pub sets: Vec<RangeSet>,
    /// `ipam.routes`, copied into the result.
    pub routes: Vec<Route>,
    /// `ipam.resolvConf`.
    pub resolv_conf: Option<PathBuf>,
    /// Requested addresses, canonical, in source order (duplicates kept; ADD dedups).
    pub requested: Vec<IpAddr>,
}

impl IpamConfig {
    /// Reads and validates the whole configuration (ADD, CHECK, STATUS).
    pub fn load(conf: &NetConf, args: &CniArgs) -> Result<IpamConfig, Error> {
        let (wire, runtime_ranges) = decode(conf)?;
        let mut requested = requested_from_args(args)?;
        for text in conf.args.ips.iter().chain(&conf.runtime_config.ips) {
            requested.push(parse_requested(text)?);
        }
        let specs = merged_specs(runtime_ranges.as_deref(), &wire)?;
        let sets = validate_sets(&specs, conf.cni_version)?;
        Ok(IpamConfig {
            store: location(conf, &wire),
            version: conf.cni_version,
            sets,
            routes: routes(&wire)?,
            resolv_conf: wire
                .resolv_conf
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            requested,
        })
    }
}

/// Reads only where the store is: DEL and GC need nothing else, so a config whose ranges no
/// longer validate can still release what it once reserved.
pub fn load_location(conf: &NetConf) -> Result<StoreLocation, Error> {
    Ok(location(conf, &decode(conf)?.0))
}

fn location(conf: &NetConf, wire: &IpamWire) -> StoreLocation {
    let data_dir = wire
        .data_dir
        .as_deref()
        .filter(|d| !d.is_empty())
        .unwrap_or(DEFAULT_DATA_DIR);
    StoreLocation {
        data_dir: PathBuf::from(data_dir),
        network: conf.name.clone(),
    }
}

/// The keys host-local reads, decoded from the whole config so errors name full key paths;
/// no `ipam` -> the reference's "IPAM config missing 'ipam' key".
fn decode(conf: &NetConf) -> Result<(IpamWire, Option<RangeSetsWire>), Error> {
    let top: TopWire = gojson::from_value(&conf.raw)?;
    let ipam = top.ipam.ok_or(Error::MissingIpam)?;
    let runtime_ranges = top.runtime_config.and_then(|r| r.ip_ranges);
    Ok((ipam, runtime_ranges))
}

/// Range sets in the reference's merge order, addresses parsed.
fn merged_specs(
    runtime: Option<&[Vec<RangeWire>]>,
    wire: &IpamWire,
) -> Result<Vec<Vec<RangeSpec>>, Error> {
    let mut sets: Vec<Vec<RangeSpec>> = Vec::new();
    for set in runtime.into_iter().flatten() {
        sets.push(set.iter().map(RangeWire::spec).collect::<Result<_, _>>()?);
    }
    let legacy = RangeWire {
        subnet: wire.subnet.clone(),
        range_start: wire.range_start.clone(),
        range_end: wire.range_end.clone(),
        gateway: wire.gateway.clone(),
    }
    .spec()?;
    if legacy.subnet.is_some() {
        sets.push(vec![legacy]);
    }
    for set in wire.ranges.iter().flatten() {
        sets.push(set.iter().map(RangeWire::spec).collect::<Result<_, _>>()?);
    }
    if sets.is_empty() {
        if let Some(path) = wire.range_from_file.as_deref().filter(|p| !p.is_empty()) {
            sets.push(vec![range_from_file(path)?]);
        }
    }
    if sets.is_empty() {
        return Err(Error::NoRanges);
    }
    Ok(sets)
}

/// The rules across sets, in the reference's order: each set, then the per-family count for
/// old versions, then overlaps between sets.
fn validate_sets(specs: &[Vec<RangeSpec>], version: SpecVersion) -> Result<Vec<RangeSet>, Error> {
    let mut sets = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let set = RangeSet::new(spec).map_err(|e| Error::InvalidRangeSet {
            index,
            source: Box::new(e),
        })?;
        sets.push(set);
    }
    let count = |f: Family| sets.iter().filter(|s| s.family() == f).count();
    if (count(Family::V4) > 1 || count(Family::V6) > 1) && version < SpecVersion::V0_3_0 {
        return Err(Error::TooManyPerFamily(version.to_string()));
    }
    for (i, a) in sets.iter().enumerate() {
        if let Some(j) = sets[i + 1..].iter().position(|b| a.overlaps(b)) {
            return Err(Error::RangeSetsOverlap(i, i + 1 + j));
        }
    }
    Ok(sets)
}

/// `ipam.routes`, decoded by cni-spec's result reader (a result holding only the routes), so
/// routes are read exactly as results read them.
fn routes(wire: &IpamWire) -> Result<Vec<Route>, Error> {
    let Some(routes) = &wire.routes else {
        return Ok(Vec::new());
    };
    let holder = json!({ "cniVersion": SpecVersion::CURRENT.as_str(), "routes": routes });
    CniResult::from_json(&holder, SpecVersion::CURRENT)
        .map(|r| r.routes)
        .map_err(|e| {
            // The reader names paths from its own root; make them absolute.
            let msg = match e.msg.strip_prefix('"') {
                Some(rest) => format!("\"ipam.{rest}"),
                None => format!("\"ipam.routes\": {}", e.msg),
            };
            Error::Spec(CniError::new(e.code, msg))
        })
}

/// `CNI_ARGS`: only `IP` is ours; other keys fail unless `IgnoreUnknown` (Go's `LoadArgs`).
fn requested_from_args(args: &CniArgs) -> Result<Vec<IpAddr>, Error> {
    args.ensure_known(&[ARGS_IP])?;
    match args.get(ARGS_IP).filter(|v| !v.is_empty()) {
        None => Ok(Vec::new()),
        Some(value) => match parse_requested(value) {
            Ok(ip) => Ok(vec![ip]),
            Err(_) => Err(Error::BadArgsIp {
                pair: format!("{ARGS_IP}={value}"),
                value: value.to_owned(),
            }),
        },
    }
}

/// A requested address, with or without a prefix (the plugins' `ip.IP` type).
pub fn parse_requested(text: &str) -> Result<IpAddr, Error> {
    let parsed = if text.contains('/') {
        Cidr::parse(text).ok().map(|c| c.addr)
    } else {
        addr::parse_ip(text)
    };
    parsed.ok_or_else(|| Error::BadRequestedIp(text.to_owned()))
}

/// `rangeFromFile`: a file holding one range object (reference HEAD).
fn range_from_file(path: &str) -> Result<RangeSpec, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::RangeFileRead {
        path: path.to_owned(),
        source,
    })?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|_| Error::RangeFileParse(path.to_owned()))?;
    let wire: RangeWire =
        gojson::from_value(&value).map_err(|_| Error::RangeFileParse(path.to_owned()))?;
    let spec = wire.spec()?;
    if spec.subnet.is_none() {
        return Err(Error::RangeFileParse(path.to_owned()));
    }
    Ok(spec)
}

/// The top-level keys host-local reads beyond cni-spec's `NetConf`.
#[derive(Deserialize, Debug)]
struct TopWire {
    ipam: Option<IpamWire>,
    #[serde(rename = "runtimeConfig")]
    runtime_config: Option<RuntimeWire>,
}

/// Range sets as written: a list of sets, each a list of ranges.
type RangeSetsWire = Vec<Vec<RangeWire>>;

/// `runtimeConfig.ipRanges`: range sets, the shape of `ipam.ranges`.
#[derive(Deserialize, Debug)]
struct RuntimeWire {
    #[serde(rename = "ipRanges")]
    ip_ranges: Option<RangeSetsWire>,
}

/// The `ipam` keys host-local reads. The legacy range keys sit at the top of `ipam` (Go embeds
/// its Range struct there); they are listed rather than flattened, because `gojson` folds key
/// case only for fields the derive lists.
#[derive(Deserialize, Debug, Default)]
struct IpamWire {
    subnet: Option<String>,
    #[serde(rename = "rangeStart")]
    range_start: Option<String>,
    #[serde(rename = "rangeEnd")]
    range_end: Option<String>,
    gateway: Option<String>,
    routes: Option<Value>,
    #[serde(rename = "dataDir")]
    data_dir: Option<String>,
    #[serde(rename = "resolvConf")]
    resolv_conf: Option<String>,
    ranges: Option<RangeSetsWire>,
    #[serde(rename = "rangeFromFile")]
    range_from_file: Option<String>,
}

/// One range as written; addresses are text until [`RangeWire::spec`].
#[derive(Deserialize, Debug, Default)]
struct RangeWire {
    subnet: Option<String>,
    #[serde(rename = "rangeStart")]
    range_start: Option<String>,
    #[serde(rename = "rangeEnd")]
    range_end: Option<String>,
    gateway: Option<String>,
}

impl RangeWire {
    /// Parses the addresses with Go's decoding rules: an empty address means unset, an empty
    /// subnet is an invalid CIDR.
    fn spec(&self) -> Result<RangeSpec, Error> {
        let ip = |field: &Option<String>| -> Result<Option<IpAddr>, Error> {
            match field.as_deref() {
                None | Some("") => Ok(None),
                Some(text) => addr::parse_ip(text)
                    .map(Some)
                    .ok_or_else(|| Error::BadIp(text.to_owned())),
            }
        };
        Ok(RangeSpec {
            subnet: self.subnet.as_deref().map(Cidr::parse).transpose()?,
            range_start: ip(&self.range_start)?,
            range_end: ip(&self.range_end)?,
            gateway: ip(&self.gateway)?,
        })
    }
}

#[cfg(test)]
mod tests;
