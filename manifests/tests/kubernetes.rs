//! Every YAML document under `manifests/` parses and carries what the API server requires for
//! its kind; the DaemonSet, the image build file and the installer's flags agree with each
//! other (a mount path and a flag that differ would install into the container's own
//! filesystem and report success).

#![allow(clippy::unwrap_used)] // a panic is how a test fails

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use cni_install::cli::{self, Command, DEFAULT_FROM};
use cni_install::install::Plan;
use common::{Doc, at, docs_of, yaml_docs};
use serde_json::Value;

/// RFC 1123 label: what container, volume and port names must be.
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: what most object names must be.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn array(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn strings(v: Option<&Value>) -> Vec<String> {
    array(v)
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// What the API server checks in a pod spec that these manifests could get wrong.
fn check_pod_spec(origin: &str, spec: &Value) {
    let containers = array(spec.get("containers"));
    assert!(!containers.is_empty(), "{origin}: no containers");
    let volumes: Vec<&str> = array(spec.get("volumes"))
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<_> = volumes.iter().collect();
    assert_eq!(
        unique.len(),
        volumes.len(),
        "{origin}: duplicate volume names"
    );
    let mut names = BTreeSet::new();
    for c in containers.iter().chain(array(spec.get("initContainers"))) {
        let name = c["name"].as_str().unwrap_or_default();
        assert!(is_dns_label(name), "{origin}: container name {name:?}");
        assert!(names.insert(name), "{origin}: container {name} twice");
        let image = c["image"].as_str().unwrap_or_default();
        assert!(!image.is_empty(), "{origin}: {name} has no image");
        for m in array(c.get("volumeMounts")) {
            let vol = m["name"].as_str().unwrap();
            assert!(
                volumes.contains(&vol),
                "{origin}: {name} mounts unknown volume {vol}"
            );
            assert!(
                m["mountPath"].as_str().unwrap().starts_with('/'),
                "{origin}: {name}"
            );
        }
        if let Some(probe) = c.get("readinessProbe") {
            assert!(
                !strings(at(probe, "exec.command")).is_empty(),
                "{origin}: {name} probe"
            );
        }
    }
    for t in array(spec.get("tolerations")) {
        match t["operator"].as_str() {
            Some("Exists") => assert!(t.get("value").is_none(), "{origin}: Exists with value"),
            Some("Equal") | None => {}
            Some(other) => panic!("{origin}: toleration operator {other}"),
        }
    }
}

#[test]
fn every_document_has_what_its_kind_requires() {
    let docs = yaml_docs();
    assert!(docs.len() >= 8, "{}", docs.len());
    for doc in &docs {
        let o = &doc.origin;
        let api = doc.str_at("apiVersion");
        let kind = doc.kind();
        if kind == "Kustomization" {
            assert_eq!(api, "kustomize.config.k8s.io/v1beta1", "{o}");
            for resource in strings(doc.at("resources")) {
                let path = doc.path.parent().unwrap().join(&resource);
                let ok = path.is_file() || path.join("kustomization.yaml").is_file();
                assert!(ok, "{o}: resource {resource} missing");
            }
            continue;
        }
        assert!(
            is_dns_subdomain(doc.name()),
            "{o}: metadata.name {:?}",
            doc.name()
        );
        match kind {
            "DaemonSet" => {
                assert_eq!(api, "apps/v1", "{o}");
                let selector = doc
                    .at("spec.selector.matchLabels")
                    .unwrap()
                    .as_object()
                    .unwrap();
                let labels = doc.at("spec.template.metadata.labels").unwrap();
                assert!(!selector.is_empty(), "{o}: empty selector");
                for (k, v) in selector {
                    assert_eq!(
                        labels.get(k),
                        Some(v),
                        "{o}: selector does not match the template"
                    );
                }
                check_pod_spec(o, doc.at("spec.template.spec").unwrap());
            }
            "Pod" => {
                assert_eq!(api, "v1", "{o}");
                check_pod_spec(o, doc.at("spec").unwrap());
            }
            "NetworkAttachmentDefinition" => {
                assert_eq!(api, "k8s.cni.cncf.io/v1", "{o}");
                // The CRD's spec.config is a string holding JSON, not an object.
                assert!(
                    doc.at("spec.config").unwrap().is_string(),
                    "{o}: spec.config"
                );
            }
            other => panic!("{o}: kind {other}: add what the API requires of it to this test"),
        }
    }
}

/// A container's command line, parsed by the installer itself.
fn installer_command(doc: &Doc, container: &Value) -> Command {
    let mut argv = strings(container.get("command"));
    argv.extend(strings(container.get("args")));
    assert_eq!(
        argv.first().map(String::as_str),
        Some("/cni-install"),
        "{}",
        doc.origin
    );
    cli::parse(argv.into_iter().skip(1).map(Into::into))
        .unwrap_or_else(|e| panic!("{}: {e}", doc.origin))
}

/// The mount path of the hostPath volume for `host_path` in `container`.
fn mount_of(spec: &Value, container: &Value, host_path: &str) -> PathBuf {
    let volume = array(spec.get("volumes"))
        .iter()
        .find(|v| at(v, "hostPath.path").and_then(Value::as_str) == Some(host_path))
        .unwrap_or_else(|| panic!("no hostPath volume for {host_path}"));
    let mount = array(container.get("volumeMounts"))
        .iter()
        .find(|m| m["name"] == volume["name"])
        .unwrap_or_else(|| panic!("{} does not mount {host_path}", container["name"]));
    PathBuf::from(mount["mountPath"].as_str().unwrap())
}

/// Checks a DaemonSet's installer wiring; `conflist` is the `--conflist` all three commands
/// must carry.
fn check_installer(ds: &Doc, conflist: Option<&str>) {
    let spec = ds.at("spec.template.spec").unwrap();
    assert_eq!(spec["priorityClassName"], "system-node-critical");
    assert_eq!(
        spec["hostNetwork"], true,
        "must start before the node has a pod network"
    );
    let tolerate_all = array(spec.get("tolerations"))
        .iter()
        .any(|t| t["operator"] == "Exists" && t.get("key").is_none() && t.get("effect").is_none());
    assert!(tolerate_all, "no toleration for every taint");

    let [init] = array(spec.get("initContainers")) else {
        panic!("one init container")
    };
    assert_eq!(
        at(init, "securityContext.privileged"),
        Some(&Value::Bool(true))
    );
    let Command::Install(plan) = installer_command(ds, init) else {
        panic!("the init container does not run `cni-install install`")
    };
    let expected = |c: &Value| Plan {
        from: PathBuf::from(DEFAULT_FROM),
        bin_dir: mount_of(spec, c, "/opt/cni/bin"),
        conflist: conflist.map(PathBuf::from),
        conf_dir: mount_of(spec, c, "/etc/cni/net.d"),
    };
    assert_eq!(plan, expected(init), "{}", ds.origin);

    let [main] = array(spec.get("containers")) else {
        panic!("one container")
    };
    let Command::Watch(watch_plan, _) = installer_command(ds, main) else {
        panic!("the main container does not run `cni-install watch`")
    };
    assert_eq!(watch_plan, expected(main), "{}", ds.origin);
    let mut probe = strings(at(main, "readinessProbe.exec.command"));
    assert_eq!(probe.remove(0), "/cni-install");
    let Ok(Command::Check(check_plan)) = cli::parse(probe.into_iter().map(Into::into)) else {
        panic!("the readiness probe does not run `cni-install check`")
    };
    assert_eq!(check_plan, watch_plan, "the probe checks what is installed");
    assert_eq!(init["image"], main["image"]);
}

/// Applies a kustomize JSON 6902 patch made of `add` operations (all these manifests use).
fn apply_adds(target: &mut Value, ops: &Value) {
    for op in ops.as_array().unwrap() {
        assert_eq!(op["op"], "add", "only add is supported here");
        let pointer = op["path"].as_str().unwrap();
        let (parent, last) = pointer.rsplit_once('/').unwrap();
        let parent = target
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("patch path {pointer} does not exist"));
        match (parent, last) {
            (Value::Array(items), "-") => items.push(op["value"].clone()),
            (Value::Object(map), key) => {
                map.insert(key.to_owned(), op["value"].clone());
            }
            (_, _) => panic!("patch path {pointer} unsupported"),
        }
    }
}

#[test]
fn the_daemonset_runs_the_installer_where_the_node_paths_are_mounted() {
    let [ds] = docs_of("DaemonSet").try_into().unwrap();
    check_installer(&ds, None);

    // The image is the one the kustomization next to it rewrites.
    let image = ds.str_at("spec.template.spec.initContainers.0.image");
    let name = image.split(':').next().unwrap();
    let base = docs_of("Kustomization")
        .into_iter()
        .find(|k| k.path.parent() == ds.path.parent())
        .expect("a kustomization beside the DaemonSet");
    let rewritten = array(base.at("images")).iter().any(|i| i["name"] == name);
    assert!(rewritten, "{}: images do not name {name}", base.origin);
}

#[test]
fn the_primary_network_overlay_adds_the_conflist_to_every_installer_command() {
    let [ds] = docs_of("DaemonSet").try_into().unwrap();
    let overlays: Vec<Doc> = docs_of("Kustomization")
        .into_iter()
        .filter(|k| k.at("patches").is_some())
        .collect();
    assert!(!overlays.is_empty(), "no overlay installs a conflist");
    for overlay in overlays {
        let base_dir = overlay.path.parent().unwrap().join("..");
        assert_eq!(
            strings(overlay.at("resources")),
            ["../"],
            "{}",
            overlay.origin
        );
        assert_eq!(
            fs::canonicalize(base_dir).unwrap(),
            fs::canonicalize(ds.path.parent().unwrap()).unwrap()
        );
        let mut patched = ds.clone();
        for patch in array(overlay.at("patches")) {
            assert_eq!(at(patch, "target.kind"), Some(&Value::from("DaemonSet")));
            assert_eq!(at(patch, "target.name"), Some(&Value::from(ds.name())));
            let ops: Value = serde_norway::from_str(patch["patch"].as_str().unwrap()).unwrap();
            apply_adds(&mut patched.value, &ops);
        }
        let args = strings(patched.at("spec.template.spec.initContainers.0.args"));
        let conflist = args
            .iter()
            .find_map(|a| a.strip_prefix("--conflist="))
            .expect("the overlay adds --conflist");
        check_installer(&patched, Some(conflist));
        let file = conflist
            .strip_prefix("/cni/net.d/")
            .expect("a conflist of the image");
        assert!(
            common::dir().join("conflists").join(file).is_file(),
            "{file}"
        );
    }
}

#[test]
fn the_image_holds_the_release_layout_where_the_daemonset_looks() {
    let text = fs::read_to_string(common::dir().join("Containerfile")).unwrap();
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let from: Vec<_> = lines.iter().filter(|l| l[0] == "FROM").collect();
    assert_eq!(
        from,
        [&vec!["FROM", "scratch"]],
        "static binaries need nothing else"
    );
    let copies: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| l[0] == "COPY")
        .map(|l| (l[1], l[2]))
        .collect();
    // scripts/release.sh's output directory: bin/, conflists/, cni-install.
    for (src, _) in &copies {
        assert!(
            ["bin/", "conflists/", "cni-install"].contains(src),
            "COPY {src}"
        );
    }
    assert!(copies.contains(&("bin/", &format!("{DEFAULT_FROM}/"))));
    assert!(copies.contains(&("cni-install", "/cni-install")));
    assert!(text.contains("ENTRYPOINT [\"/cni-install\"]"));

    // Conflists the README tells operators to install are in the image.
    let readme = fs::read_to_string(common::dir().join("README.md")).unwrap();
    let mut named = 0;
    for word in readme.split(|c: char| c.is_whitespace() || "\"'`=,]".contains(c)) {
        let named_file = word
            .strip_prefix("/cni/net.d/")
            .filter(|f| !f.contains('*') && (f.ends_with(".conflist") || f.ends_with(".conf")));
        if let Some(file) = named_file {
            named += 1;
            let path = common::dir().join("conflists").join(file);
            assert!(
                path.is_file(),
                "README names /cni/net.d/{file}, not in conflists/"
            );
        }
    }
    assert!(named > 0, "README shows no --conflist example");
    let script = fs::read_to_string(common::dir().join("../scripts/release.sh")).unwrap();
    for part in ["$out/bin", "$out/conflists", "$out/cni-install"] {
        assert!(script.contains(part), "release.sh no longer writes {part}");
    }
}
