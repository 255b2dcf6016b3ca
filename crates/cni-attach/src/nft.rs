//! A small nftables client over the `nft` binary's JSON interface (libnftables-json(5)).
//!
//! JSON rather than text so no name or comment ever needs quoting (interface names may hold
//! characters the text grammar rejects), and so rules read back carry their handle and comment
//! as plain fields. A change is one `nft -j -f -` exec: one kernel transaction, all or nothing.
//! Used by `masq` here and by the bridge plugin's `macspoofchk`.

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::tool;

/// The longest comment nftables keeps (knftables `CommentLengthMax`); the reference cuts its
/// comments to this, and so must we to produce identical ones.
pub const COMMENT_MAX: usize = 128;

/// One rule as `nft -j list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The chain it is in.
    pub chain: String,
    /// Its handle, for `delete rule`.
    pub handle: u64,
    /// Its comment.
    pub comment: Option<String>,
    /// Its statements, as JSON.
    pub expr: Value,
}

/// `{"<verb>": {"<kind>": object}}`, one command of a batch.
pub fn command(verb: &str, kind: &str, object: Value) -> Value {
    json!({ verb: { kind: object } })
}

/// Runs a batch of commands as one transaction.
pub fn apply(commands: Vec<Value>, action: &str) -> Result<()> {
    if commands.is_empty() {
        return Ok(());
    }
    let batch = json!({ "nftables": commands }).to_string();
    tool::run("nft", &["-j", "-f", "-"], batch.as_bytes(), action).map(drop)
}

/// The rules of `family table chain`; `None` when the table or chain does not exist.
pub fn list_chain(family: &str, table: &str, chain: &str) -> Result<Option<Vec<Rule>>> {
    let doc = list(&["-j", "list", "chain", family, table, chain])?;
    Ok(doc.as_ref().map(rules_in))
}

/// A table's chains and rules, as `nft -j list table` shows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// Chain names.
    pub chains: Vec<String>,
    /// Rules of every chain.
    pub rules: Vec<Rule>,
}

/// Every chain and rule of `family table`; `None` when the table does not exist.
pub fn list_table(family: &str, table: &str) -> Result<Option<Listing>> {
    let doc = list(&["-j", "list", "table", family, table])?;
    Ok(doc.map(|d| Listing {
        chains: chains_in(&d),
        rules: rules_in(&d),
    }))
}

fn list(args: &[&str]) -> Result<Option<Value>> {
    let out = tool::run_raw("nft", args, b"")?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("No such file or directory") {
            return Ok(None);
        }
        return Err(Error::Firewall {
            tool: "nft",
            action: args.join(" "),
            detail: stderr.trim().to_owned(),
        });
    }
    let parsed: Value = serde_json::from_slice(&out.stdout).map_err(|e| Error::Firewall {
        tool: "nft",
        action: args.join(" "),
        detail: format!("unreadable JSON output: {e}"),
    })?;
    Ok(Some(parsed))
}

fn items(doc: &Value) -> &[Value] {
    doc.get("nftables")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The chain names in an `nft -j list` document.
pub fn chains_in(doc: &Value) -> Vec<String> {
    items(doc)
        .iter()
        .filter_map(|item| item.pointer("/chain/name")?.as_str().map(str::to_owned))
        .collect()
}

/// The rules in an `nft -j list` document.
pub fn rules_in(doc: &Value) -> Vec<Rule> {
    items(doc)
        .iter()
        .filter_map(|item| item.get("rule"))
        .filter_map(|r| {
            Some(Rule {
                chain: r.get("chain")?.as_str()?.to_owned(),
                handle: r.get("handle")?.as_u64()?,
                comment: r.get("comment").and_then(Value::as_str).map(str::to_owned),
                expr: r.get("expr").cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// `delete rule` for each of `rules` in `family table`.
pub fn delete_rules(family: &str, table: &str, rules: &[&Rule]) -> Vec<Value> {
    rules
        .iter()
        .map(|r| {
            command(
                "delete",
                "rule",
                json!({"family": family, "table": table, "chain": r.chain, "handle": r.handle}),
            )
        })
        .collect()
}

/// `s` cut to at most [`COMMENT_MAX`] bytes, on a character boundary.
pub fn clip_comment(mut s: String) -> String {
    if s.len() > COMMENT_MAX {
        let mut end = COMMENT_MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rules_from_list_output() {
        // Shape of `nft -j list chain` from nftables 1.0.6.
        let doc: Value = serde_json::from_str(
            r#"{"nftables": [{"metainfo": {"version": "1.0.6"}},
            {"chain": {"family": "inet", "table": "t", "name": "c", "handle": 1}},
            {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 6,
              "comment": "abc", "expr": [{"masquerade": null}]}},
            {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 7, "expr": []}}]}"#,
        )
        .unwrap();
        let rules = rules_in(&doc);
        assert_eq!(chains_in(&doc), ["c"]);
        assert_eq!(rules.len(), 2);
        assert_eq!(
            (rules[0].handle, rules[0].comment.as_deref()),
            (6, Some("abc"))
        );
        assert_eq!(rules[1].comment, None);
        let del = delete_rules("inet", "t", &[&rules[0]]);
        assert_eq!(
            del[0],
            json!({"delete": {"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 6}}})
        );
    }

    #[test]
    fn comments_are_clipped_on_char_boundaries() {
        assert_eq!(clip_comment("a".repeat(200)).len(), 128);
        let s = format!("{}é", "a".repeat(127));
        assert_eq!(clip_comment(s).len(), 127);
    }
}
