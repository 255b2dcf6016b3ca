//! Probes: what the kernel shows, read through iproute2's JSON output.
//!
//! iproute2 is the oracle on purpose: it is independent of our netlink crate, so a bug there
//! cannot hide itself in a test. Each probe fails loudly (an `Err` naming the command and its
//! stderr) when the tool fails; none returns an empty list on error. Every view keeps the tool's
//! raw JSON object in a `raw` field for attributes the typed fields do not model.
//!
//! Not here: anything that changes the kernel (see [`crate::Ns`]).

mod addr;
mod bridge;
mod link;
mod neigh;
mod ping;
mod route;

pub use addr::AddrView;
pub use bridge::{FdbEntry, PortView, VlanView};
pub use link::{BridgeInfo, KindData, LinkView, Lower, MacvlanInfo, VxlanInfo};
pub use neigh::NeighView;
pub use ping::Ping;
pub use route::{Family, RouteView};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Result, SandboxError};

/// Decodes each raw JSON object of a dump into `T`, keeping the raw object alongside.
pub(crate) fn typed<T: DeserializeOwned>(what: &str, items: Vec<Value>) -> Result<Vec<(T, Value)>> {
    items
        .into_iter()
        .map(|raw| {
            serde_json::from_value::<T>(raw.clone())
                .map(|t| (t, raw.clone()))
                .map_err(|e| SandboxError::Parse {
                    cmd: what.to_owned(),
                    detail: format!("{e}; object was: {raw}"),
                })
        })
        .collect()
}

/// Sorted entry names of a directory (e.g. a host-local `dataDir`); loud if it is missing.
pub fn list_dir(path: impl AsRef<std::path::Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let entries =
        std::fs::read_dir(path).map_err(|e| SandboxError::io("list directory", path, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| SandboxError::io("list directory", path, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}
