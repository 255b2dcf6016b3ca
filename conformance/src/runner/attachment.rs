//! The per-attachment arguments a runtime passes (libcni `RuntimeConf`), and the `CNI_ARGS`
//! real runtimes build: kubelet/containerd's `K8S_POD_*` keys, and Multus's rebuilt list
//! with its duplicated keys (vxlan-multus.md §3.2).

use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

/// One attachment's runtime arguments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeConf {
    /// `CNI_CONTAINERID`.
    pub container_id: String,
    /// `CNI_NETNS` (empty for containerd's second DEL).
    pub netns: String,
    /// `CNI_IFNAME`.
    pub ifname: String,
    /// `CNI_ARGS` pairs, in order, duplicates kept.
    pub args: Vec<(String, String)>,
    /// Capability arguments (`portMappings`, `ips`, `mac`, ...), filtered per plugin into
    /// `runtimeConfig`.
    pub capability_args: Map<String, Value>,
}

impl RuntimeConf {
    /// An attachment of `container_id` as `ifname` in the namespace at `netns`.
    pub fn new(container_id: &str, netns: impl AsRef<Path>, ifname: &str) -> RuntimeConf {
        RuntimeConf {
            container_id: container_id.to_owned(),
            netns: netns.as_ref().to_string_lossy().into_owned(),
            ifname: ifname.to_owned(),
            ..RuntimeConf::default()
        }
    }

    /// The same attachment with another `CNI_NETNS` (`""`: containerd's second DEL).
    pub fn with_netns(mut self, netns: impl AsRef<Path>) -> RuntimeConf {
        self.netns = netns.as_ref().to_string_lossy().into_owned();
        self
    }

    /// Appends a `CNI_ARGS` pair.
    pub fn arg(mut self, key: &str, value: &str) -> RuntimeConf {
        self.args.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Sets a capability argument.
    pub fn capability(mut self, name: &str, value: Value) -> RuntimeConf {
        self.capability_args.insert(name.to_owned(), value);
        self
    }

    /// `CNI_ARGS` as libcni joins it: `K=V;K=V`.
    pub fn cni_args(&self) -> String {
        self.args
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// What kubelet's CRI runtimes send for a pod sandbox: `IgnoreUnknown=1` (kubernetes
    /// #24983, because host-local died on unknown keys, cni #126) and the four `K8S_POD_*`
    /// keys; the infra container ID is the container ID.
    pub fn kubernetes(self, namespace: &str, pod: &str, uid: &str) -> RuntimeConf {
        let id = self.container_id.clone();
        self.arg("IgnoreUnknown", "1")
            .arg("K8S_POD_NAMESPACE", namespace)
            .arg("K8S_POD_NAME", pod)
            .arg("K8S_POD_INFRA_CONTAINER_ID", &id)
            .arg("K8S_POD_UID", uid)
    }

    /// How Multus rebuilds `CNI_ARGS` for a delegate (`createRuntimeConf`): its own
    /// `IgnoreUnknown=true` and `K8S_POD_*` first, then every pair the runtime sent appended
    /// again unless it had an empty value to fill, so keys arrive twice (`IgnoreUnknown`,
    /// `K8S_POD_NAME`, ...). Plugins must take the duplicates (Go's `LoadArgs`: last wins).
    pub fn through_multus(self) -> RuntimeConf {
        let get = |k: &str| {
            self.args
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut args: Vec<(String, String)> = vec![("IgnoreUnknown".into(), "true".into())];
        for key in [
            "K8S_POD_NAMESPACE",
            "K8S_POD_NAME",
            "K8S_POD_INFRA_CONTAINER_ID",
            "K8S_POD_UID",
        ] {
            args.push((key.to_owned(), get(key)));
        }
        for (k, v) in &self.args {
            match args
                .iter_mut()
                .find(|(key, val)| key == k && val.is_empty())
            {
                Some(slot) => slot.1 = v.clone(),
                None => args.push((k.clone(), v.clone())),
            }
        }
        RuntimeConf { args, ..self }
    }

    /// The GC key for this attachment.
    pub fn gc_attachment(&self) -> GcAttachment {
        GcAttachment {
            container_id: self.container_id.clone(),
            ifname: self.ifname.clone(),
        }
    }
}

/// One entry of `cni.dev/valid-attachments` (cni:pkg/types `GCAttachment`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct GcAttachment {
    /// The container ID.
    #[serde(rename = "containerID")]
    pub container_id: String,
    /// The interface name.
    #[serde(rename = "ifname")]
    pub ifname: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multus_duplicates_runtime_keys_after_its_own() {
        let rt = RuntimeConf::new("c1", "/run/netns/p", "net1").kubernetes("ns", "pod", "u1");
        assert_eq!(
            rt.cni_args(),
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod;K8S_POD_INFRA_CONTAINER_ID=c1;K8S_POD_UID=u1"
        );
        let m = rt.through_multus();
        assert_eq!(
            m.cni_args(),
            "IgnoreUnknown=true;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod;K8S_POD_INFRA_CONTAINER_ID=c1;K8S_POD_UID=u1;\
             IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod;K8S_POD_INFRA_CONTAINER_ID=c1;K8S_POD_UID=u1"
        );
    }

    #[test]
    fn gc_attachment_uses_the_spec_keys() {
        let a = RuntimeConf::new("c1", "", "eth0").gc_attachment();
        assert_eq!(
            serde_json::to_value(a).unwrap(),
            serde_json::json!({"containerID": "c1", "ifname": "eth0"})
        );
    }
}
