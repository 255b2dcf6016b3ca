//! `manifests/` as a package, so that `cargo test --workspace` checks it: the DaemonSet, the
//! image build file, the kustomizations, the example NetworkAttachmentDefinitions and pod,
//! the conflists, and the JSON in `manifests/README.md`.
//!
//! Everything is in `tests/`; nothing here ships. See `tests/common/mod.rs` for what is
//! checked and how.
