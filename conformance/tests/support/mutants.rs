//! Deliberately broken plugins: shell wrappers around a real binary that break one thing each,
//! so the suite can show that its cases fail when a plugin misbehaves (issue 7: "each case was
//! seen failing against a deliberately broken plugin or the reference").

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// One way to break a plugin: a name and the shell that runs before (or instead of) the real
/// binary, which the script reaches as `"$REAL"` with stdin untouched.
pub struct Mutant {
    /// Directory name and report label.
    pub name: &'static str,
    /// What it breaks.
    pub breaks: &'static str,
    /// Case-name globs of the cases it is meant to fail; running it on the others would only
    /// re-run passing cases.
    pub targets: &'static [&'static str],
    body: &'static str,
}

const ERR: &str = r#"printf '{"code":999,"msg":"sabotaged"}'; exit 1"#;

/// The mutants.
pub fn all() -> Vec<Mutant> {
    vec![
        Mutant {
            name: "always-ok",
            targets: &["*"],
            breaks: "prints {} and succeeds whatever it is asked",
            body: "printf '{}'; exit 0",
        },
        Mutant {
            name: "always-fail",
            targets: &["*"],
            breaks: "fails every verb with code 999",
            body: ERR,
        },
        Mutant {
            name: "lazy-del",
            targets: &["*/del-*", "quirks/*", "chaining/*", "*/gc-*"],
            breaks: "DEL succeeds without releasing anything",
            body: r#"[ "$CNI_COMMAND" = DEL ] && exit 0; exec "$REAL""#,
        },
        Mutant {
            name: "failing-del",
            targets: &["*/del-*"],
            breaks: "DEL always fails",
            body: r#"[ "$CNI_COMMAND" = DEL ] && { ERR; }; exec "$REAL""#,
        },
        Mutant {
            name: "blind-check",
            targets: &["*/check-*"],
            breaks: "CHECK always succeeds, at any version",
            body: r#"[ "$CNI_COMMAND" = CHECK ] && exit 0; exec "$REAL""#,
        },
        Mutant {
            name: "blind-status-gc",
            targets: &["*/status-*", "*/gc-*"],
            breaks: "STATUS and GC succeed without doing anything, at any version",
            body: r#"case "$CNI_COMMAND" in STATUS|GC) exit 0;; esac; exec "$REAL""#,
        },
        Mutant {
            name: "code-999",
            targets: &["*/env-*", "*/config-*", "*/unknown-command", "*-refused"],
            breaks: "every error is reported as code 999 with a generic message",
            body: r#"out=$("$REAL"); rc=$?; [ $rc -ne 0 ] && { ERR; }; printf '%s' "$out""#,
        },
        Mutant {
            name: "strict-env",
            targets: &["quirks/*", "*/del-without-netns", "*/version-*"],
            breaks: "refuses CNI_NETNS outside /run/netns (also for VERSION) and duplicated CNI_ARGS keys",
            body: r#"case "$CNI_NETNS" in /run/netns/*) ;; *) ERR;; esac
dups=$(printf '%s' "$CNI_ARGS" | tr ';' '\n' | cut -d= -f1 | sort | uniq -d)
[ -n "$dups" ] && { ERR; }
exec "$REAL""#,
        },
        Mutant {
            name: "config-rewrite",
            breaks: "ignores macvlan `mode` (always bridge), turns on `isDefaultGateway`, forgets vxlan `remotes`",
            targets: &["topology/*"],
            body: r#"sed -e 's/"mode":"[a-z]*"/"mode":"bridge"/' \
    -e 's/"isDefaultGateway":false/"isDefaultGateway":true/' \
    -e 's/"remotes":\[[^]]*\]/"remotes":[]/' | exec "$REAL""#,
        },
    ]
}

impl Mutant {
    /// Writes this mutant of every binary in `real` into `<root>/<name>/` and returns that
    /// directory.
    pub fn install(&self, root: &Path, real: &Path) -> PathBuf {
        let dir = root.join(self.name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create mutant dir");
        for entry in std::fs::read_dir(real).expect("list plugins").flatten() {
            let real_bin = std::fs::canonicalize(entry.path()).expect("resolve plugin");
            let body = self.body.replace("ERR", ERR);
            let script = format!(
                "#!/bin/sh\n# mutant {}: {}\nREAL='{}'\n{body}\n",
                self.name,
                self.breaks,
                real_bin.display()
            );
            let path = dir.join(entry.file_name());
            std::fs::write(&path, script).expect("write mutant");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .expect("chmod mutant");
        }
        dir
    }
}
