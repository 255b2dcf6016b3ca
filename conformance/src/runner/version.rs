//! Version comparison as libcni does it (cni:pkg/version `ParseVersion`, `GreaterThanOrEqualTo`).
//!
//! Deliberately not `cni_spec::SpecVersion`: a runtime compares any dotted version, known or
//! not ("0.9.9" is a valid list version to libcni; the plugin is the one that refuses it).

/// `(major, minor, micro)`.
pub type Semver = (u64, u64, u64);

/// The newest spec version this runner implements, like libcni's `version.Current()`.
pub const CURRENT: Semver = (1, 1, 0);

/// The text of [`CURRENT`].
pub const CURRENT_TEXT: &str = "1.1.0";

/// Parses `X[.Y[.Z]]`; empty, more than three parts or a non-number is `None`.
pub fn parse(text: &str) -> Option<Semver> {
    if text.is_empty() {
        return None;
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > 3 {
        return None;
    }
    let num = |i: usize| -> Option<u64> { parts.get(i).map_or(Some(0), |p| p.parse().ok()) };
    Some((num(0)?, num(1)?, num(2)?))
}

/// Whether `text` is at least `floor`; `Err` with libcni's wording when `text` does not parse
/// (which makes libcni's DEL of a list without `cniVersion` fail: multus #476).
pub fn at_least(text: &str, floor: Semver) -> Result<bool, String> {
    parse(text)
        .map(|v| v >= floor)
        .ok_or_else(|| format!("invalid version {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        assert_eq!(parse("0.4.0"), Some((0, 4, 0)));
        assert_eq!(parse("1.0"), Some((1, 0, 0)));
        assert_eq!(parse(""), None);
        assert_eq!(parse("1.0.0.0"), None);
        assert_eq!(parse("v1"), None);
        assert_eq!(at_least("0.3.1", (0, 4, 0)), Ok(false));
        assert_eq!(at_least("1.1.0", (0, 4, 0)), Ok(true));
        assert!(at_least("", (0, 4, 0)).is_err());
    }
}
