//! The network configuration keys every plugin shares (`NetConf`), read from stdin with Go's
//! JSON rules.
//!
//! Plugin-specific keys (`bridge`, `master`, `ranges`, ...) are not here: each plugin decodes
//! its own struct from the same stdin bytes with [`gojson::from_slice`]. The raw `ipam`,
//! `runtimeConfig` and `args` objects are kept so IPAM and plugins can read keys this crate
//! does not know.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::env::is_cni_name;
use crate::error::Error;
use crate::result::parse_any as parse_result;
use crate::{CniError, CniResult, Dns, SpecVersion, gojson};

/// The shared part of a plugin's network configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct NetConf {
    /// `cniVersion`; absent or empty means 0.1.0 (Go).
    pub cni_version: SpecVersion,
    /// `name`: non-empty, container-ID characters.
    pub name: String,
    /// `type`: the plugin's binary name.
    pub plugin_type: String,
    /// `ipam`, if the key is present (even as `{}`: L2 mode, see [`NetConf::ipam_type`]).
    pub ipam: Option<IpamConf>,
    /// `dns` from the config.
    pub dns: Option<Dns>,
    /// `prevResult`, read from whatever version it is in (one without `cniVersion` takes the
    /// config's).
    pub prev_result: Option<CniResult>,
    /// `runtimeConfig`; empty when absent (libcni omits it when no capability matched).
    pub runtime_config: RuntimeConfig,
    /// The conventional `args.cni` keys.
    pub args: ConfArgs,
    /// GC: `cni.dev/valid-attachments`, else the old `cni.dev/attachments` (cni #1101), else
    /// `None` (cnitool sends neither).
    pub valid_attachments: Option<Vec<Attachment>>,
    /// The whole config as parsed.
    pub raw: Value,
}

/// The `ipam` object.
#[derive(Debug, Clone, PartialEq)]
pub struct IpamConf {
    /// `ipam.type`; empty when missing.
    pub ipam_type: String,
    /// The whole `ipam` object, for the IPAM plugin's own parsing.
    pub raw: Value,
}

/// `runtimeConfig`: capability arguments the runtime inserted (CONVENTIONS.md).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeConfig {
    /// `mac` capability.
    pub mac: Option<String>,
    /// `ips` capability: addresses, prefix optional.
    pub ips: Vec<String>,
    /// `ipRanges` capability, unparsed (host-local's range-set shape).
    pub ip_ranges: Option<Value>,
    /// The whole object; `Null` when absent.
    pub raw: Value,
}

/// `args` (CONVENTIONS.md): only `args.cni.ips` and `args.cni.mac` are typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfArgs {
    /// `args.cni.ips`.
    pub ips: Vec<String>,
    /// `args.cni.mac`.
    pub mac: Option<String>,
    /// The whole `args` object; `Null` when absent.
    pub raw: Value,
}

/// One valid attachment in a GC request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct Attachment {
    /// `containerID`.
    #[serde(rename = "containerID", default)]
    pub container_id: String,
    /// `ifname`.
    #[serde(default)]
    pub ifname: String,
}

impl NetConf {
    /// Parses stdin bytes: not JSON -> 6; bad name -> 7; unknown version -> 1; else -> 7.
    pub fn from_slice(bytes: &[u8]) -> Result<NetConf, CniError> {
        NetConf::from_value(gojson::parse(bytes)?)
    }

    /// Parses an already-decoded config (see [`NetConf::from_slice`] for the codes).
    pub fn from_value(raw: Value) -> Result<NetConf, CniError> {
        let (name, cni_version) = header(&raw)?;
        let body: Body = gojson::from_value(&raw)?;
        let prev_result = match &body.prev_result {
            Some(value) => Some(parse_result(value, cni_version).map_err(Error::PrevResult)?),
            None => None,
        };
        let object = raw.as_object();
        let raw_of = |key: &str| object.and_then(|o| lookup(o, key)).cloned();
        let ipam = body.ipam.map(|ipam| IpamConf {
            ipam_type: ipam.ipam_type,
            raw: raw_of("ipam").unwrap_or(Value::Null),
        });
        let runtime = body.runtime_config.unwrap_or_default();
        let cni_args = body.args.and_then(|a| a.cni).unwrap_or_default();
        Ok(NetConf {
            cni_version,
            name,
            plugin_type: body.plugin_type,
            ipam,
            dns: body.dns,
            prev_result,
            runtime_config: RuntimeConfig {
                mac: runtime.mac,
                ips: runtime.ips,
                ip_ranges: runtime.ip_ranges,
                raw: raw_of("runtimeConfig").unwrap_or(Value::Null),
            },
            args: ConfArgs {
                ips: cni_args.ips,
                mac: cni_args.mac,
                raw: raw_of("args").unwrap_or(Value::Null),
            },
            valid_attachments: body.valid_attachments.or(body.attachments),
            raw,
        })
    }

    /// The IPAM plugin to delegate to; `None` in L2 mode (`ipam` absent, `{}`, or `type: ""`).
    pub fn ipam_type(&self) -> Option<&str> {
        self.ipam
            .as_ref()
            .map(|i| i.ipam_type.as_str())
            .filter(|t| !t.is_empty())
    }
}

/// `name` and `cniVersion`, checked in skel's order: name (7) before version (1).
pub(crate) fn header(raw: &Value) -> Result<(String, SpecVersion), CniError> {
    let head: Head = gojson::from_value(raw)?;
    let name = head.name.unwrap_or_default();
    if name.is_empty() {
        return Err(Error::MissingNetworkName.into());
    }
    if !is_cni_name(&name) {
        return Err(Error::InvalidNetworkName(name).into());
    }
    let version = match head.cni_version.as_deref() {
        None | Some("") => SpecVersion::for_missing(),
        Some(text) => text
            .parse()
            .map_err(|_| Error::IncompatibleVersion(text.to_owned()))?,
    };
    Ok((name, version))
}

/// The value of `field` in `object` by Go's rule: the exact key, else a key equal ignoring
/// ASCII case; `null` counts as absent (the same rule `gojson` applies to structs).
fn lookup<'a>(object: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    let present = |v: &&Value| !v.is_null();
    object.get(field).filter(present).or_else(|| {
        object
            .iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(field) && !v.is_null())
            .map(|(_, v)| v)
    })
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "cniVersion")]
    cni_version: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "type", default)]
    plugin_type: String,
    ipam: Option<IpamHead>,
    dns: Option<Dns>,
    #[serde(rename = "prevResult")]
    prev_result: Option<Value>,
    #[serde(rename = "runtimeConfig")]
    runtime_config: Option<RuntimeWire>,
    args: Option<ArgsWire>,
    #[serde(rename = "cni.dev/valid-attachments")]
    valid_attachments: Option<Vec<Attachment>>,
    #[serde(rename = "cni.dev/attachments")]
    attachments: Option<Vec<Attachment>>,
}

#[derive(Deserialize)]
struct IpamHead {
    #[serde(rename = "type", default)]
    ipam_type: String,
}

#[derive(Deserialize, Default)]
struct RuntimeWire {
    mac: Option<String>,
    #[serde(default)]
    ips: Vec<String>,
    #[serde(rename = "ipRanges")]
    ip_ranges: Option<Value>,
}

#[derive(Deserialize)]
struct ArgsWire {
    cni: Option<CniArgsWire>,
}

#[derive(Deserialize, Default)]
struct CniArgsWire {
    #[serde(default)]
    ips: Vec<String>,
    mac: Option<String>,
}
