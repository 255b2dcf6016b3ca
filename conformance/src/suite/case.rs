//! What a case is: a name, the binaries it needs, and a body that passes or says why not.

use std::fmt;
use std::path::PathBuf;

use cni_sandbox::SandboxError;

use crate::error::ConformanceError;

/// Where the suite finds binaries.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The directory under test.
    pub plugins: PathBuf,
    /// The reference plugins (`/usr/lib/cni`): the partners in chaining cases (`portmap`,
    /// `bandwidth`, `tuning`, `loopback`, the reference `bridge` over our `host-local`...).
    pub reference: PathBuf,
}

/// A binary a case needs, and from which directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// From the directory under test.
    UnderTest(&'static str),
    /// From the reference directory.
    Reference(&'static str),
}

impl Need {
    /// The binary's path, if present.
    pub fn locate(self, ctx: &Ctx) -> Option<PathBuf> {
        let (dir, name) = match self {
            Need::UnderTest(n) => (&ctx.plugins, n),
            Need::Reference(n) => (&ctx.reference, n),
        };
        let path = dir.join(name);
        path.is_file().then_some(path)
    }

    /// Why a case is skipped when this is missing.
    pub fn missing(self, ctx: &Ctx) -> String {
        match self {
            Need::UnderTest(n) => format!("no {n} in {}", ctx.plugins.display()),
            Need::Reference(n) => format!("no reference {n} in {}", ctx.reference.display()),
        }
    }
}

/// Why a case did not pass: a one-line reason and the evidence (plugin execs, kernel views).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// One line, printed next to the case name.
    pub reason: String,
    /// Anything longer, printed indented below it.
    pub detail: String,
}

impl Failure {
    /// A failure with only a reason.
    pub fn new(reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            detail: String::new(),
        }
    }

    /// Appends evidence.
    pub fn with_detail(mut self, detail: impl AsRef<str>) -> Failure {
        let detail = detail.as_ref().trim_end();
        if !detail.is_empty() {
            if !self.detail.is_empty() {
                self.detail.push('\n');
            }
            self.detail.push_str(detail);
        }
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl From<ConformanceError> for Failure {
    fn from(e: ConformanceError) -> Failure {
        Failure::new(e.to_string())
    }
}

impl From<SandboxError> for Failure {
    fn from(e: SandboxError) -> Failure {
        Failure::new(format!("sandbox: {e}"))
    }
}

/// What a case body returns.
pub type CaseResult = Result<(), Failure>;

/// Returns early with a [`Failure`] unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::suite::Failure::new(format!($($fmt)+)));
        }
    };
}
pub(crate) use ensure;

type Body = Box<dyn Fn(&Ctx) -> CaseResult + Send + Sync>;

/// One case of the suite.
pub struct Case {
    /// `group/plugin/version/what`, e.g. `protocol/host-local/0.4.0/del-twice`.
    pub name: String,
    /// Binaries without which the case is skipped.
    pub needs: Vec<Need>,
    body: Body,
}

impl Case {
    /// A case.
    pub fn new(
        name: impl Into<String>,
        needs: Vec<Need>,
        body: impl Fn(&Ctx) -> CaseResult + Send + Sync + 'static,
    ) -> Case {
        Case {
            name: name.into(),
            needs,
            body: Box::new(body),
        }
    }

    /// The first missing binary, if any.
    pub fn missing(&self, ctx: &Ctx) -> Option<Need> {
        self.needs.iter().copied().find(|n| n.locate(ctx).is_none())
    }

    /// Runs the body.
    pub fn run(&self, ctx: &Ctx) -> CaseResult {
        (self.body)(ctx)
    }
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("needs", &self.needs)
            .finish()
    }
}
