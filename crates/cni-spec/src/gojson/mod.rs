//! Decoding JSON with Go `encoding/json` semantics, for every config this suite reads.
//!
//! Runtimes hand plugins configs written for the Go reference plugins, and those rely on Go's
//! rules (cni-reference.md §1.13): object keys match struct fields case-insensitively, with an
//! exact match preferred (`"hairpinmode"`, `"IsGateway"`, the reference's own `"bandWidth"`
//! test config); unknown keys are ignored; `null` leaves a field as if absent; a value of the
//! wrong type is an error. Plain serde would silently ignore the case-variant keys.
//!
//! How: parse to a [`serde_json::Value`], then run any `#[derive(Deserialize)]` type over our
//! own deserializer (`de.rs`), whose `deserialize_struct` sees the derive's field list and folds
//! the object's keys onto it. Errors name the key path as the user wrote it, e.g.
//! `"ipam.ranges[0][1].subnet": invalid type: integer `5`, expected a string`.
//!
//! Limits: `#[serde(flatten)]` and `#[serde(alias)]` bypass the folding (the derive does not
//! list them as fields), so config types avoid them. When two keys fold onto one field (say
//! `mtu` and `MTU`), the exact-case key wins; Go would take whichever comes last in the text,
//! an order `serde_json::Value` does not keep.
//! Not here: what any key means.

mod access;
mod de;

use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::CniError;
use crate::error::Error;

/// Decodes `bytes` as a config: not JSON -> code 6 `error unmarshall network config: ...`;
/// valid JSON of the wrong shape -> code 7 naming the key path.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CniError> {
    let value = parse(bytes)?;
    from_value(&value)
}

/// Decodes an already-parsed value with Go's rules; wrong shape -> code 7 naming the key path.
pub fn from_value<'de, T: Deserialize<'de>>(value: &'de Value) -> Result<T, CniError> {
    T::deserialize(de::ValueDe(value)).map_err(|e| Error::Config(e.to_string()).into())
}

/// Parses `bytes` as JSON; not JSON -> code 6 `error unmarshall network config: ...`.
pub fn parse(bytes: &[u8]) -> Result<Value, CniError> {
    serde_json::from_slice(bytes).map_err(|e| Error::NotJson(e).into())
}

/// One step of a key path.
#[derive(Debug)]
enum Segment {
    Key(String),
    Index(usize),
}

/// A decoding failure and where it happened.
#[derive(Debug)]
pub(crate) struct DecodeError {
    /// Innermost segment first: segments are pushed while the error travels outward.
    path: Vec<Segment>,
    msg: String,
}

impl DecodeError {
    fn within_key(mut self, key: &str) -> DecodeError {
        self.path.push(Segment::Key(key.to_owned()));
        self
    }

    fn within_index(mut self, index: usize) -> DecodeError {
        self.path.push(Segment::Index(index));
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            return f.write_str(&self.msg);
        }
        let mut path = String::new();
        for segment in self.path.iter().rev() {
            match segment {
                Segment::Key(key) if path.is_empty() => path.push_str(key),
                Segment::Key(key) => {
                    path.push('.');
                    path.push_str(key);
                }
                Segment::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        write!(f, "{path:?}: {}", self.msg)
    }
}

impl std::error::Error for DecodeError {}

impl serde::de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> DecodeError {
        DecodeError {
            path: Vec::new(),
            msg: msg.to_string(),
        }
    }
}
