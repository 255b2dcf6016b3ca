//! The CNI error as the runtime sees it: a numeric code, a message and details, printed as JSON
//! on stdout with exit status 1.
//!
//! [`CniError`] is what every public function of this crate returns and what plugin verbs return.
//! The crate's own failures are the variants of [`Error`] (in `kind.rs`); the one place they
//! become codes is `impl From<Error> for CniError` there.

mod kind;

use std::fmt;

use serde_json::{Map, Value};

use crate::SpecVersion;

pub(crate) use kind::Error;

/// A CNI error code (spec "Error" section; 50/51 from cni #1152; 999 from Go's skel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 1: the config's `cniVersion` is not supported, or the verb is not allowed in it.
    IncompatibleVersion,
    /// 2: a config field is not supported; the message must name the key and value.
    UnsupportedField,
    /// 3: the container is unknown or gone.
    UnknownContainer,
    /// 4: a required `CNI_*` variable is missing or invalid; the message names it.
    InvalidEnvironment,
    /// 5: an I/O failure, e.g. reading stdin.
    Io,
    /// 6: the input could not be decoded (stdin is not JSON).
    Decode,
    /// 7: valid JSON, invalid network configuration.
    InvalidConfig,
    /// 11: transient; the runtime may retry later.
    TryAgainLater,
    /// 50: STATUS: the plugin cannot service ADD.
    PluginNotAvailable,
    /// 51: STATUS: cannot service ADD and existing attachments may have limited connectivity.
    PluginNotAvailableLimited,
    /// 999: anything else (Go's skel wraps untyped errors in 999).
    Internal,
    /// A code outside the list, e.g. passed up from a delegated plugin (Go's 8, or 100+).
    Other(u32),
}

impl ErrorCode {
    /// The number on the wire.
    pub fn as_u32(self) -> u32 {
        match self {
            ErrorCode::IncompatibleVersion => 1,
            ErrorCode::UnsupportedField => 2,
            ErrorCode::UnknownContainer => 3,
            ErrorCode::InvalidEnvironment => 4,
            ErrorCode::Io => 5,
            ErrorCode::Decode => 6,
            ErrorCode::InvalidConfig => 7,
            ErrorCode::TryAgainLater => 11,
            ErrorCode::PluginNotAvailable => 50,
            ErrorCode::PluginNotAvailableLimited => 51,
            ErrorCode::Internal => 999,
            ErrorCode::Other(n) => n,
        }
    }

    /// The code for a number; unknown numbers are kept as [`ErrorCode::Other`].
    pub fn from_u32(n: u32) -> ErrorCode {
        match n {
            1 => ErrorCode::IncompatibleVersion,
            2 => ErrorCode::UnsupportedField,
            3 => ErrorCode::UnknownContainer,
            4 => ErrorCode::InvalidEnvironment,
            5 => ErrorCode::Io,
            6 => ErrorCode::Decode,
            7 => ErrorCode::InvalidConfig,
            11 => ErrorCode::TryAgainLater,
            50 => ErrorCode::PluginNotAvailable,
            51 => ErrorCode::PluginNotAvailableLimited,
            999 => ErrorCode::Internal,
            n => ErrorCode::Other(n),
        }
    }
}

/// An error as the CNI spec defines it. Displayed like Go's `types.Error`: `msg; details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CniError {
    /// The spec code.
    pub code: ErrorCode,
    /// A short message.
    pub msg: String,
    /// Longer explanation; may be empty.
    pub details: String,
}

impl CniError {
    /// An error with no details.
    pub fn new(code: ErrorCode, msg: impl Into<String>) -> CniError {
        CniError {
            code,
            msg: msg.into(),
            details: String::new(),
        }
    }

    /// The same error with `details` set.
    #[must_use]
    pub fn with_details(mut self, details: impl Into<String>) -> CniError {
        self.details = details.into();
        self
    }

    /// Code 999, for failures that fit no spec code (kernel errors and the like).
    pub fn internal(msg: impl Into<String>) -> CniError {
        CniError::new(ErrorCode::Internal, msg)
    }

    /// Code 7, for configs that parse but make no sense.
    pub fn invalid_config(msg: impl Into<String>) -> CniError {
        CniError::new(ErrorCode::InvalidConfig, msg)
    }

    /// Code 11, for transient failures the runtime may retry.
    pub fn try_again_later(msg: impl Into<String>) -> CniError {
        CniError::new(ErrorCode::TryAgainLater, msg)
    }

    /// The JSON object printed on stdout. `version` is the config's version when known;
    /// before the config is parsed it is `None` and [`SpecVersion::CURRENT`] is printed.
    /// `details` is omitted when empty, as Go's `omitempty` does.
    pub fn to_json(&self, version: Option<SpecVersion>) -> Value {
        let version = version.unwrap_or(SpecVersion::CURRENT);
        let mut obj = Map::new();
        obj.insert("cniVersion".into(), Value::from(version.as_str()));
        obj.insert("code".into(), Value::from(self.code.as_u32()));
        obj.insert("msg".into(), Value::from(self.msg.as_str()));
        if !self.details.is_empty() {
            obj.insert("details".into(), Value::from(self.details.as_str()));
        }
        Value::Object(obj)
    }

    /// Reads an error object a plugin printed. Like Go's `json.Unmarshal` into `types.Error`,
    /// absent fields stay zero; `None` only if `value` is not an object or a field has the wrong
    /// type.
    pub fn from_json(value: &Value) -> Option<CniError> {
        let obj = value.as_object()?;
        let field = |name: &str| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
        let code = match field("code") {
            None | Some((_, Value::Null)) => 0,
            Some((_, v)) => u32::try_from(v.as_u64()?).ok()?,
        };
        let text = |name: &str| -> Option<String> {
            match field(name) {
                None | Some((_, Value::Null)) => Some(String::new()),
                Some((_, v)) => v.as_str().map(str::to_owned),
            }
        };
        Some(CniError {
            code: ErrorCode::from_u32(code),
            msg: text("msg")?,
            details: text("details")?,
        })
    }
}

impl fmt::Display for CniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.details.is_empty() {
            f.write_str(&self.msg)
        } else {
            write!(f, "{}; {}", self.msg, self.details)
        }
    }
}

impl std::error::Error for CniError {}
