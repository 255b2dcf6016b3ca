//! A case's world: a sandbox with a node namespace, a runtime whose plugins run there, pods,
//! and the directories (IPAM `dataDir`, result cache, a mixed plugin dir) a node would have.
//!
//! Everything lives in the world's namespaces and temp dir and is removed when the fixture is
//! dropped, whether the case passed, failed or panicked.

use std::os::unix::fs::symlink;
use std::path::PathBuf;

use cni_sandbox::{Ns, World};

use super::case::{CaseResult, Ctx, Failure, Need};
use crate::runner::Runtime;

/// The network name every per-plugin case uses (each world has its own dataDir and cache, so
/// one name cannot collide across cases).
pub const NETWORK: &str = "confnet";

/// A case's node, runtime and scratch space.
#[derive(Debug)]
pub struct Fixture {
    /// The runtime; its plugins run inside [`Fixture::node`].
    pub runtime: Runtime,
    /// The node's host namespace.
    pub node: Ns,
    world: World,
}

impl Fixture {
    /// A fixture whose runtime finds plugins in the directory under test only.
    pub fn new(ctx: &Ctx, label: &str) -> Result<Fixture, Failure> {
        Self::with_path(label, vec![ctx.plugins.clone()])
    }

    /// A fixture whose plugin directory holds exactly `picks`, each linked from the directory
    /// it names (the reference `bridge` next to our `host-local`, say).
    pub fn mixed(ctx: &Ctx, label: &str, picks: &[Need]) -> Result<Fixture, Failure> {
        let world = World::new(label)?;
        let bin = world.tempdir().join("bin");
        std::fs::create_dir(&bin)
            .map_err(|e| Failure::new(format!("create {}: {e}", bin.display())))?;
        for need in picks {
            let from = need
                .locate(ctx)
                .ok_or_else(|| Failure::new(need.missing(ctx)))?;
            let name = from.file_name().unwrap_or_default();
            symlink(&from, bin.join(name))
                .map_err(|e| Failure::new(format!("link {}: {e}", from.display())))?;
        }
        Self::in_world(world, vec![bin])
    }

    /// A fixture with an explicit plugin path.
    pub fn with_path(label: &str, path: Vec<PathBuf>) -> Result<Fixture, Failure> {
        Self::in_world(World::new(label)?, path)
    }

    fn in_world(world: World, path: Vec<PathBuf>) -> Result<Fixture, Failure> {
        let node = world.netns("node")?;
        let runtime = Runtime::new(&node, path, world.tempdir().join("cache"));
        Ok(Fixture {
            runtime,
            node,
            world,
        })
    }

    /// A new namespace (a pod, a LAN peer).
    pub fn netns(&self, role: &str) -> Result<Ns, Failure> {
        Ok(self.world.netns(role)?)
    }

    /// The world, for veths and switches.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The host-local `dataDir` of this node.
    pub fn data_dir(&self) -> PathBuf {
        self.world.tempdir().join("ipam")
    }

    /// Runs `body` on a fresh fixture and, if it fails, adds the last plugin execs as evidence.
    pub fn run(
        fx: Result<Fixture, Failure>,
        body: impl FnOnce(&Fixture) -> CaseResult,
    ) -> CaseResult {
        let fx = fx?;
        body(&fx).map_err(|f| {
            let trace = fx.runtime.trace_tail(4);
            f.with_detail(if trace.is_empty() {
                String::new()
            } else {
                format!("last plugin execs:\n{trace}")
            })
        })
    }
}
