//! What the manifest tests share: finding the files, reading YAML documents, and the CNI side
//! (`cni`): configs run through the plugins' own loaders the way a runtime would hand them over.

#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test helpers: a panic is how a test fails

pub mod cni;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// `manifests/`.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `manifests/` whose name ends with one of `exts`, sorted; `target`
/// directories (a build inside the tree) are skipped.
pub fn files(exts: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" {
                    walk(&path, exts, out);
                }
            } else if exts.iter().any(|e| name.ends_with(e)) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dir(), exts, &mut out);
    out.sort();
    out
}

/// The path relative to `manifests/`, for messages.
pub fn rel(path: &Path) -> String {
    path.strip_prefix(dir())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// One YAML document and where it came from.
#[derive(Debug, Clone)]
pub struct Doc {
    /// `file#index`.
    pub origin: String,
    /// The file.
    pub path: PathBuf,
    /// The document as JSON values (what the API server decodes it to).
    pub value: Value,
}

impl Doc {
    /// The value at a dotted path (`spec.template.spec`); keys are exact, as in the API.
    pub fn at(&self, path: &str) -> Option<&Value> {
        at(&self.value, path)
    }

    /// The string at `path`, or a panic naming the document.
    pub fn str_at(&self, path: &str) -> &str {
        self.at(path)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{}: no string at {path}", self.origin))
    }

    pub fn kind(&self) -> &str {
        self.str_at("kind")
    }

    pub fn name(&self) -> &str {
        self.str_at("metadata.name")
    }
}

/// The value at a dotted path.
/// A segment that is a number indexes an array.
pub fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(value, |v, key| match key.parse::<usize>() {
            Ok(i) if v.is_array() => v.get(i),
            _ => v.get(key),
        })
}

/// Every document of every YAML file under `manifests/`. A file that does not parse fails
/// the test that asked, naming the file.
pub fn yaml_docs() -> Vec<Doc> {
    let mut docs = Vec::new();
    for path in files(&[".yaml", ".yml"]) {
        let text = fs::read_to_string(&path).unwrap();
        for (i, doc) in serde_norway::Deserializer::from_str(&text).enumerate() {
            let value = Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: document {i}: {e}", rel(&path)));
            if value.is_null() {
                continue; // an empty document, e.g. after a trailing `---`
            }
            docs.push(Doc {
                origin: format!("{}#{i}", rel(&path)),
                path: path.clone(),
                value,
            });
        }
    }
    docs
}

/// The documents of one kind.
pub fn docs_of(kind: &str) -> Vec<Doc> {
    yaml_docs()
        .into_iter()
        .filter(|d| d.at("kind").and_then(Value::as_str) == Some(kind))
        .collect()
}

/// The ```json blocks of a Markdown file, with their line numbers.
pub fn json_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```json") => current = Some((n + 1, String::new())),
            (Some(_), l) if l.starts_with("```") => blocks.extend(current.take()),
            (Some((_, text)), _) => {
                text.push_str(line);
                text.push('\n');
            }
            _ => {}
        }
    }
    blocks
}
