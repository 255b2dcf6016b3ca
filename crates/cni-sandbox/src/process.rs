//! Running programs inside a network namespace, bounded in time.
//!
//! Each child enters its namespace itself, between fork and exec (`setns` on a namespace fd),
//! exactly like a container runtime that execs a CNI plugin from the node's host namespace.
//! We do not use `ip netns exec`: it also unshares the mount namespace and remounts /sys, which
//! runtimes do not do, so a plugin could pass under it and fail on a node.
//!
//! Every child gets its own process group, so a timeout kills what it started too (an IPAM
//! plugin it delegated to). This module is not a general process library: no shells, no
//! interactive I/O.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Result, SandboxError};

/// PATH given to every child; a fixed value keeps runs independent of the caller's shell.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Bound for helper tools (`ip`, `ping`, `nft`); generous, since they finish in milliseconds.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait after SIGKILL for the pipes to close before giving up on a child's output.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// What to run and where.
pub(crate) struct Spec<'a> {
    /// Program and arguments; `argv[0]` is resolved through the child's PATH by `Command`.
    pub argv: Vec<OsString>,
    /// Namespace file to enter before exec; `None` stays in the caller's namespace.
    pub netns: Option<&'a Path>,
    /// The child's complete environment (it starts empty).
    pub env: Vec<(OsString, OsString)>,
    /// Bytes written to the child's stdin, which is then closed.
    pub stdin: &'a [u8],
    /// Time bound for the whole run.
    pub timeout: Duration,
}

impl Spec<'_> {
    /// The environment helper tools run with: PATH, and the C locale so messages are stable.
    pub(crate) fn tool_env() -> Vec<(OsString, OsString)> {
        vec![
            ("PATH".into(), DEFAULT_PATH.into()),
            ("LC_ALL".into(), "C".into()),
        ]
    }

    /// A printable command line for error messages.
    pub(crate) fn display(&self) -> String {
        display_cmd(self.netns, &self.argv)
    }
}

/// `[netns NAME] prog arg arg`, for messages.
pub(crate) fn display_cmd(netns: Option<&Path>, argv: &[OsString]) -> String {
    let words: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match netns.and_then(Path::file_name) {
        Some(ns) => format!("[netns {}] {}", ns.to_string_lossy(), words.join(" ")),
        None => words.join(" "),
    }
}

/// Runs `spec` to completion. `Ok` whatever the exit status; `Err` if it could not start or
/// was killed for exceeding its bound.
pub(crate) fn run(spec: &Spec<'_>) -> Result<Output> {
    let ns_file = open_netns(spec.netns)?;
    let mut cmd = command(spec, ns_file.as_ref());
    let mut child = spawn(&mut cmd, spec)?;
    let pgid = child_pgid(&child);
    let (tx, rx) = mpsc::channel();
    start_io_threads(&mut child, spec.stdin.to_vec(), &tx);
    thread::spawn(move || {
        let _ = tx.send(Event::Exited(child.wait()));
    });
    collect(rx, pgid, spec)
}

/// Events from the threads that feed, drain and reap one child.
enum Event {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exited(io::Result<ExitStatus>),
}

#[derive(Default)]
struct Collected {
    stdout: Option<Vec<u8>>,
    stderr: Option<Vec<u8>>,
    status: Option<io::Result<ExitStatus>>,
}

impl Collected {
    fn done(&self) -> bool {
        self.stdout.is_some() && self.stderr.is_some() && self.status.is_some()
    }

    fn take(&mut self, ev: Event) {
        match ev {
            Event::Stdout(b) => self.stdout = Some(b),
            Event::Stderr(b) => self.stderr = Some(b),
            Event::Exited(s) => self.status = Some(s),
        }
    }

    /// Waits for events until everything arrived or `deadline` passed; true when complete.
    fn fill_until(&mut self, rx: &mpsc::Receiver<Event>, deadline: Instant) -> bool {
        while !self.done() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(ev) => self.take(ev),
                Err(_) => return false,
            }
        }
        true
    }
}

fn collect(rx: mpsc::Receiver<Event>, pgid: libc::pid_t, spec: &Spec<'_>) -> Result<Output> {
    let mut got = Collected::default();
    let in_time = got.fill_until(&rx, Instant::now() + spec.timeout);
    if !in_time {
        kill_group(pgid, libc::SIGKILL);
        got.fill_until(&rx, Instant::now() + KILL_GRACE);
        return Err(SandboxError::Timeout {
            cmd: spec.display(),
            after: spec.timeout,
            stdout: lossy(got.stdout.as_deref()),
            stderr: lossy(got.stderr.as_deref()),
        });
    }
    let status = got
        .status
        .unwrap_or_else(|| Err(io::Error::other("no exit status")))
        .map_err(|source| SandboxError::Spawn {
            cmd: spec.display(),
            source,
        })?;
    Ok(Output {
        status,
        stdout: got.stdout.unwrap_or_default(),
        stderr: got.stderr.unwrap_or_default(),
    })
}

fn lossy(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
}

pub(crate) fn open_netns(netns: Option<&Path>) -> Result<Option<File>> {
    // std opens with O_CLOEXEC, so the plugin never inherits this fd.
    netns
        .map(|p| File::open(p).map_err(|e| SandboxError::io("open netns", p, e)))
        .transpose()
}

pub(crate) fn command(spec: &Spec<'_>, ns_file: Option<&File>) -> Command {
    let (prog, args) = match spec.argv.split_first() {
        Some((p, a)) => (p.clone(), a),
        None => (OsString::new(), &[][..]),
    };
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(file) = ns_file {
        let fd = file.as_raw_fd();
        // SAFETY: the closure runs in the forked child before exec. It only makes the setns
        // syscall on an fd that the parent keeps open until spawn returns, and builds an
        // io::Error from errno; both are async-signal-safe (no allocation, no locks).
        unsafe {
            cmd.pre_exec(move || enter_netns(fd));
        }
    }
    cmd
}

/// Moves the calling thread (in the child: the whole single-threaded process) into the
/// network namespace behind `fd`.
pub(crate) fn enter_netns(fd: RawFd) -> io::Result<()> {
    // SAFETY: setns only reads the fd number and flag; an invalid fd yields EBADF, not UB.
    let rc = unsafe { libc::setns(fd, libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Spawns, retrying on ETXTBSY: a script the test just wrote can still be open for writing
/// in a child that another test thread forked at that moment (the fd leaks until that child
/// execs). The window is milliseconds wide, so a short retry loop closes it.
pub(crate) fn spawn(cmd: &mut Command, spec: &Spec<'_>) -> Result<Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Ok(child) => return Ok(child),
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                thread::sleep(Duration::from_millis(10));
            }
            Err(source) => {
                return Err(SandboxError::Spawn {
                    cmd: spec.display(),
                    source,
                });
            }
        }
    }
}

pub(crate) fn child_pgid(child: &Child) -> libc::pid_t {
    // process_group(0) made the child the leader of a group whose id is its pid.
    libc::pid_t::try_from(child.id()).unwrap_or(0)
}

/// Signals a process group this module created; a no-op if it is already gone.
pub(crate) fn kill_group(pgid: libc::pid_t, signal: libc::c_int) {
    if pgid <= 0 {
        return; // never kill(0) or kill(-1): those would hit our own group or everyone.
    }
    // SAFETY: plain syscall; the negative id addresses only the group we created.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

fn start_io_threads(child: &mut Child, input: Vec<u8>, tx: &mpsc::Sender<Event>) {
    if let Some(mut stdin) = child.stdin.take() {
        thread::spawn(move || {
            // EPIPE is fine: a plugin may exit without reading its stdin (VERSION does).
            let _ = stdin.write_all(&input);
        });
    }
    drain(child.stdout.take(), tx.clone(), Event::Stdout);
    drain(child.stderr.take(), tx.clone(), Event::Stderr);
}

fn drain(
    pipe: Option<impl Read + Send + 'static>,
    tx: mpsc::Sender<Event>,
    wrap: fn(Vec<u8>) -> Event,
) {
    thread::spawn(move || {
        let _ = tx.send(wrap(read_all(pipe)));
    });
}

pub(crate) fn read_all(pipe: Option<impl Read>) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(mut p) = pipe {
        // A read error ends the capture; what arrived so far is still worth showing.
        let _ = p.read_to_end(&mut buf);
    }
    buf
}
