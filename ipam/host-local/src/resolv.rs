//! `resolvConf`: a resolv.conf file turned into the result's `dns`, as the reference reads it.
//!
//! Recognised lines: `nameserver X` (one each, repeatable), `domain X` (last wins),
//! `search A B ...` and `options A B ...` (accumulate). Lines starting with `#` or `;` and
//! lines with fewer than two fields are skipped; other keywords are ignored.
//! Not here: where the result goes (`add`).

use std::path::Path;

use cni_spec::Dns;

use crate::error::Error;

/// Reads and parses the file at `path`.
pub fn load(path: &Path) -> Result<Dns, Error> {
    let text = std::fs::read(path).map_err(|e| Error::io(format!("open {}", path.display()), e))?;
    Ok(parse(&String::from_utf8_lossy(&text)))
}

/// Parses resolv.conf text.
pub fn parse(text: &str) -> Dns {
    let mut dns = Dns::default();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [keyword, first, ..] = fields[..] else {
            continue;
        };
        let rest = fields[1..].iter().map(|s| (*s).to_owned());
        match keyword {
            "nameserver" => dns.nameservers.push(first.to_owned()),
            "domain" => dns.domain = Some(first.to_owned()),
            "search" => dns.search.extend(rest),
            "options" => dns.options.extend(rest),
            _ => {}
        }
    }
    dns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_the_reference() {
        let dns = parse(
            "# comment\n; also comment\nnameserver 1.1.1.1\n  nameserver 8.8.8.8 extra\n\
             domain a.example\ndomain b.example\nsearch x y\nsearch z\noptions ndots:5 rotate\n\
             nameserver\nsortlist 10.0.0.0\n",
        );
        assert_eq!(dns.nameservers, ["1.1.1.1", "8.8.8.8"]);
        assert_eq!(dns.domain.as_deref(), Some("b.example"));
        assert_eq!(dns.search, ["x", "y", "z"]);
        assert_eq!(dns.options, ["ndots:5", "rotate"]);
    }

    #[test]
    fn empty_file_gives_empty_dns() {
        assert!(parse("").is_empty());
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let err = load(Path::new("/nonexistent/resolv.conf")).expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("open /nonexistent/resolv.conf: "),
            "{err}"
        );
    }
}
