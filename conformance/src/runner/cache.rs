//! libcni's result cache: one file per attachment, the format runtimes share on a node.
//!
//! `<dir>/results/<network>-<containerID>-<ifname>`, JSON of kind `cniCacheV1` with the list
//! bytes (base64, as Go writes a `[]byte`), netns, CNI_ARGS pairs, capability args and the
//! final ADD result; the directory is 0700 and the file 0600 (libcni/api.go `cacheAdd`).
//! GC reads every entry of a network to synthesise DELs (`GetCachedAttachments`).
//! Not here: converting the cached result to a list version (the runtime does that).

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::error::{ConformanceError, Result};
use crate::runner::base64;

/// The cache format's `kind`.
pub const KIND_V1: &str = "cniCacheV1";

/// One cached attachment.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedAttachment {
    /// `containerId`.
    pub container_id: String,
    /// `networkName`.
    pub network: String,
    /// `ifName`.
    pub ifname: String,
    /// `config`: the list bytes the attachment was made with.
    pub config: Vec<u8>,
    /// `netns` (may be empty).
    pub netns: String,
    /// `cniArgs`: the CNI_ARGS pairs.
    pub cni_args: Vec<(String, String)>,
    /// `capabilityArgs`.
    pub capability_args: Map<String, Value>,
    /// `result`: the final ADD result, as the last plugin printed it.
    pub result: Option<Value>,
}

impl CachedAttachment {
    fn to_json(&self) -> Value {
        let mut v = json!({
            "kind": KIND_V1,
            "containerId": self.container_id,
            "config": base64::encode(&self.config),
            "ifName": self.ifname,
            "networkName": self.network,
        });
        // Go's `omitempty`: empty strings, nil/empty slices and maps are left out.
        let obj = v.as_object_mut();
        if let Some(obj) = obj {
            if !self.netns.is_empty() {
                obj.insert("netns".into(), json!(self.netns));
            }
            if !self.cni_args.is_empty() {
                let pairs: Vec<[&str; 2]> = self
                    .cni_args
                    .iter()
                    .map(|(k, v)| [k.as_str(), v.as_str()])
                    .collect();
                obj.insert("cniArgs".into(), json!(pairs));
            }
            if !self.capability_args.is_empty() {
                obj.insert(
                    "capabilityArgs".into(),
                    Value::Object(self.capability_args.clone()),
                );
            }
            if let Some(result) = &self.result {
                obj.insert("result".into(), result.clone());
            }
        }
        v
    }

    /// Reads an entry; `None` if it is not a `cniCacheV1` entry libcni would use.
    fn from_json(v: &Value) -> Option<CachedAttachment> {
        if v.get("kind")?.as_str()? != KIND_V1 {
            return None;
        }
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let cni_args = v
            .get("cniArgs")
            .and_then(Value::as_array)
            .map(|pairs| {
                pairs
                    .iter()
                    .filter_map(|p| {
                        Some((
                            p.get(0)?.as_str()?.to_owned(),
                            p.get(1)?.as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(CachedAttachment {
            container_id: text("containerId"),
            network: text("networkName"),
            ifname: text("ifName"),
            config: base64::decode(v.get("config").and_then(Value::as_str).unwrap_or_default())?,
            netns: text("netns"),
            cni_args,
            capability_args: v
                .get("capabilityArgs")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            result: v.get("result").cloned(),
        })
    }
}

/// A cache directory (libcni's `CacheDir`, `/var/lib/cni` on a node).
#[derive(Debug, Clone)]
pub struct ResultCache {
    dir: PathBuf,
}

impl ResultCache {
    /// A cache rooted at `dir`; entries go to `dir/results`.
    pub fn new(dir: impl Into<PathBuf>) -> ResultCache {
        ResultCache { dir: dir.into() }
    }

    /// The cache root.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry file for an attachment; libcni refuses empty parts.
    pub fn path(&self, network: &str, container_id: &str, ifname: &str) -> Result<PathBuf> {
        if network.is_empty() || container_id.is_empty() || ifname.is_empty() {
            return Err(ConformanceError::Cache {
                path: self.dir.clone(),
                detail: format!(
                    "cache file path requires network name ({network:?}), container ID ({container_id:?}), and interface name ({ifname:?})"
                ),
            });
        }
        Ok(self
            .dir
            .join("results")
            .join(format!("{network}-{container_id}-{ifname}")))
    }

    /// Writes (replaces) an entry.
    pub fn write(&self, entry: &CachedAttachment) -> Result<()> {
        let path = self.path(&entry.network, &entry.container_id, &entry.ifname)?;
        let parent = path.parent().unwrap_or(&self.dir);
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| ConformanceError::io("create cache dir", parent, e))?;
        let bytes = entry.to_json().to_string();
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| ConformanceError::io("write cache entry", &path, e))?;
        file.write_all(bytes.as_bytes())
            .map_err(|e| ConformanceError::io("write cache entry", &path, e))
    }

    /// Reads an entry: `Ok(None)` if there is no file (libcni ignores read errors), `Err` if
    /// the file is there but is not a usable entry.
    pub fn read(
        &self,
        network: &str,
        container_id: &str,
        ifname: &str,
    ) -> Result<Option<CachedAttachment>> {
        let path = self.path(network, container_id, ifname)?;
        let Ok(bytes) = fs::read(&path) else {
            return Ok(None);
        };
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| ConformanceError::Cache {
            path: path.clone(),
            detail: format!("failed to unmarshal cached network {network:?} config: {e}"),
        })?;
        CachedAttachment::from_json(&value)
            .map(Some)
            .ok_or_else(|| ConformanceError::Cache {
                path,
                detail: format!("cached network {network:?} entry is not {KIND_V1}"),
            })
    }

    /// Removes an entry; a missing one is fine.
    pub fn remove(&self, network: &str, container_id: &str, ifname: &str) -> Result<()> {
        let path = self.path(network, container_id, ifname)?;
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(ConformanceError::io("remove cache entry", &path, e))
            }
            _ => Ok(()),
        }
    }

    /// Every usable entry, sorted by file name (libcni `GetCachedAttachments("")`: unreadable
    /// or foreign files are skipped, so are entries without ifname or network).
    pub fn list(&self) -> Vec<CachedAttachment> {
        let dir = self.dir.join("results");
        let Ok(entries) = fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        files
            .iter()
            .filter_map(|f| serde_json::from_slice::<Value>(&fs::read(f).ok()?).ok())
            .filter_map(|v| CachedAttachment::from_json(&v))
            .filter(|a| !a.ifname.is_empty() && !a.network.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch() -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("cni-conformance-cache-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn entries_round_trip_in_libcni_layout() {
        let dir = scratch();
        let cache = ResultCache::new(&dir);
        let entry = CachedAttachment {
            container_id: "c1".into(),
            network: "net".into(),
            ifname: "eth0".into(),
            config: br#"{"name":"net"}"#.to_vec(),
            netns: "/run/netns/x".into(),
            cni_args: vec![("IgnoreUnknown".into(), "1".into())],
            capability_args: Map::new(),
            result: Some(json!({"cniVersion": "1.0.0"})),
        };
        cache.write(&entry).unwrap();
        let file = dir.join("results/net-c1-eth0");
        let raw: Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        assert_eq!(raw["kind"], KIND_V1);
        assert_eq!(raw["config"], "eyJuYW1lIjoibmV0In0=");
        assert_eq!(raw["cniArgs"], json!([["IgnoreUnknown", "1"]]));
        assert!(raw.get("capabilityArgs").is_none());
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&file), mode(&dir.join("results"))), (0o600, 0o700));
        assert_eq!(
            cache.read("net", "c1", "eth0").unwrap(),
            Some(entry.clone())
        );
        assert_eq!(cache.list(), vec![entry]);
        cache.remove("net", "c1", "eth0").unwrap();
        cache.remove("net", "c1", "eth0").unwrap();
        assert_eq!(cache.read("net", "c1", "eth0").unwrap(), None);
        assert!(cache.path("", "c1", "eth0").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
