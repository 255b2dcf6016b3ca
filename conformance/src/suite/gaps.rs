//! Case-name patterns and the table of known gaps a plugin set is expected to fail.
//!
//! A pattern is a case name where `*` stands for any run of characters. `--only` also takes
//! a plain substring. The gap table is a Markdown file: every table row whose first cell is a
//! backquoted pattern is an entry, the second cell its reason; other lines are prose.
//!
//! The table must stay true, so a run is judged against it strictly: every case an entry
//! matches must fail (one that passes is reported, so the entry gets removed), and every entry
//! must match some case of the catalogue (a renamed case cannot leave an orphan behind).

use std::path::Path;

use crate::error::{ConformanceError, Result};

/// Whether `name` matches `pattern` (`*` = any run of characters, everything else literal).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// `--only`: a glob if it has `*`, else a substring.
pub fn selects(only: &str, name: &str) -> bool {
    if only.contains('*') {
        glob_match(only, name)
    } else {
        name.contains(only)
    }
}

/// One known gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The case name or pattern.
    pub pattern: String,
    /// Why the plugin set fails it.
    pub reason: String,
    /// Line number in the file, for messages.
    pub line: usize,
}

/// A table of known gaps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GapTable {
    /// The entries, in file order.
    pub gaps: Vec<Gap>,
}

impl GapTable {
    /// Reads a gap table file.
    pub fn load(path: &Path) -> Result<GapTable> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConformanceError::io("read gap table", path, e))?;
        Self::parse(&text).map_err(|e| ConformanceError::Gaps(format!("{}: {e}", path.display())))
    }

    /// Parses the Markdown text of a gap table.
    pub fn parse(text: &str) -> std::result::Result<GapTable, String> {
        let mut gaps = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let cells: Vec<&str> = line.trim().split('|').map(str::trim).collect();
            // "| `pattern` | reason |" splits into ["", "`pattern`", "reason", ""].
            if cells.len() < 4 || !cells[0].is_empty() {
                continue;
            }
            let Some(pattern) = cells[1].strip_prefix('`').and_then(|c| c.strip_suffix('`')) else {
                continue;
            };
            let reason = cells[2].to_owned();
            if pattern.is_empty() || reason.is_empty() {
                return Err(format!(
                    "line {}: an entry needs a pattern and a reason",
                    i + 1
                ));
            }
            gaps.push(Gap {
                pattern: pattern.to_owned(),
                reason,
                line: i + 1,
            });
        }
        Ok(GapTable { gaps })
    }

    /// The first entry matching `case`.
    pub fn find(&self, case: &str) -> Option<&Gap> {
        self.gaps.iter().find(|g| glob_match(&g.pattern, case))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("a/b", "a/b"));
        assert!(!glob_match("a/b", "a/bc"));
        assert!(glob_match(
            "protocol/*/1.1.0/*",
            "protocol/bridge/1.1.0/del-twice"
        ));
        assert!(!glob_match(
            "protocol/*/1.1.0/*",
            "protocol/bridge/1.0.0/del-twice"
        ));
        assert!(glob_match("*gc*", "protocol/host-local/1.1.0/gc-valid-set"));
        assert!(glob_match("a*a", "aa"));
        assert!(!glob_match("a*a", "a"));
        assert!(selects("del-", "protocol/x/0.4.0/del-twice"));
    }

    #[test]
    fn table_rows_with_backquoted_patterns_are_entries() {
        let text = "# Gaps\n\nprose | with a bar\n\n| case | reason |\n|---|---|\n\
                    | `protocol/*/1.1.0/*` | speaks up to 1.0.0 |\n| `x` | why |\n";
        let table = GapTable::parse(text).unwrap();
        assert_eq!(table.gaps.len(), 2);
        assert_eq!(table.gaps[0].reason, "speaks up to 1.0.0");
        assert_eq!(table.gaps[1].line, 8);
        assert_eq!(table.find("x").unwrap().pattern, "x");
        assert!(GapTable::parse("| `p` |  |\n").is_err());
    }
}
