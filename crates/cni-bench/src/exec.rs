//! One timed exec: spawned the way a runtime spawns a plugin, waited on without helper threads.
//!
//! The clock starts right before the spawn and stops when the kernel reports the child's exit
//! (poll on a pidfd), so a sample is what a runtime waits for: exec, the plugin's own work, its
//! IPAM child, exit. Stdin is written at once (configs are far below a pipe's 64 KiB) and
//! stdout/stderr are read after the exit (plugins print a few KiB at most).
//!
//! Not here: RSS. A child spawned by vfork from this process would report this process's peak
//! as its own `ru_maxrss`; memory is measured by `rss_probe`, from a small launcher.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{BenchError, Result};
use crate::netns::NsFile;

/// Bound on one measured exec; a hung plugin is killed with its process group.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// What to run.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Absolute path of the program.
    pub program: PathBuf,
    /// Arguments after the program name.
    pub args: Vec<String>,
    /// The complete environment (it starts empty).
    pub env: Vec<(String, String)>,
    /// Bytes on stdin.
    pub stdin: Vec<u8>,
}

impl Launch {
    /// A program with no arguments and an empty environment.
    pub fn new(program: impl Into<PathBuf>) -> Launch {
        Launch {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            stdin: Vec::new(),
        }
    }

    /// `ip -batch -` with `commands` on stdin, one per line.
    pub fn ip_batch(commands: &[String]) -> Launch {
        let mut launch = Launch::new(ip_path());
        launch.args = vec!["-batch".into(), "-".into()];
        launch.env = vec![("LC_ALL".into(), "C".into())];
        launch.stdin = commands.join("\n").into_bytes();
        launch
    }
}

/// Where `ip` is: a full path, so the spawn needs no PATH lookup.
pub fn ip_path() -> PathBuf {
    ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/ip"))
}

/// A child on its way.
#[derive(Debug)]
pub struct Running {
    child: Child,
    pidfd: OwnedFd,
    started: Instant,
    program: PathBuf,
}

/// What one measured operation cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    /// Spawn to exit.
    pub wall: Duration,
    /// User + system CPU of the child and every descendant it waited for (`wait4` rusage);
    /// `None` where the exec went through code that does not report it (the conflist runner).
    pub cpu: Option<Duration>,
}

impl std::ops::Add for Timing {
    type Output = Timing;

    fn add(self, other: Timing) -> Timing {
        Timing {
            wall: self.wall + other.wall,
            cpu: self.cpu.zip(other.cpu).map(|(a, b)| a + b),
        }
    }
}

/// How a child ended.
#[derive(Debug, Clone)]
pub struct Finished {
    /// When the spawn began.
    pub started: Instant,
    /// When its exit was seen.
    pub ended: Instant,
    /// Exit code, or 128 + signal.
    pub status: i32,
    /// CPU time of the child and the descendants it waited for.
    pub cpu: Duration,
    /// Its stdout.
    pub stdout: Vec<u8>,
    /// Its stderr.
    pub stderr: Vec<u8>,
}

impl Finished {
    /// Spawn to exit.
    pub fn wall(&self) -> Duration {
        self.ended.duration_since(self.started)
    }

    /// Wall and CPU time.
    pub fn timing(&self) -> Timing {
        Timing {
            wall: self.wall(),
            cpu: Some(self.cpu),
        }
    }

    /// Stdout and stderr as one trimmed text, for error messages.
    pub fn output_text(&self) -> String {
        let out = String::from_utf8_lossy(&self.stdout);
        let err = String::from_utf8_lossy(&self.stderr);
        format!("stdout: {} stderr: {}", out.trim(), err.trim())
    }
}

/// Spawns `launch` inside the namespace `ns` (entered by this thread only for the spawn).
pub fn start(ns: &NsFile, home: &NsFile, launch: &Launch) -> Result<Running> {
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group, so a timeout also kills what it started (an IPAM plugin).
        .process_group(0);
    let (mut child, started) = {
        let _inside = ns.enter(home)?;
        let started = Instant::now();
        let child = cmd
            .spawn()
            .map_err(|e| BenchError::sys(format!("spawn {}", launch.program.display()), e))?;
        (child, started)
    };
    if let Some(mut stdin) = child.stdin.take() {
        // EPIPE is the child's business (VERSION never reads stdin); the exit status tells.
        let _ = stdin.write_all(&launch.stdin);
    }
    let pidfd = pidfd_open(child.id())
        .map_err(|e| BenchError::sys(format!("pidfd_open {}", child.id()), e))?;
    Ok(Running {
        child,
        pidfd,
        started,
        program: launch.program.clone(),
    })
}

impl Running {
    /// Waits for the exit (killing the group at `deadline`) and collects the output.
    pub fn wait(mut self, deadline: Instant) -> Result<Finished> {
        let exited = wait_readable(&self.pidfd, deadline);
        let ended = Instant::now();
        let pid = libc::pid_t::try_from(self.child.id()).unwrap_or(0);
        if !exited && pid > 0 {
            // SAFETY: plain syscall; the negative id addresses only the group this child leads.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let (status, cpu) = reap(pid);
        if !exited {
            return Err(BenchError::Timeout {
                what: self.program.display().to_string(),
                after: deadline.saturating_duration_since(self.started),
            });
        }
        Ok(Finished {
            started: self.started,
            ended,
            status,
            cpu,
            stdout: read_pipe(self.child.stdout.take()),
            stderr: read_pipe(self.child.stderr.take()),
        })
    }
}

/// Spawns and waits for one exec.
pub fn run(ns: &NsFile, home: &NsFile, launch: &Launch) -> Result<Finished> {
    start(ns, home, launch)?.wait(Instant::now() + EXEC_TIMEOUT)
}

/// Like [`run`], but a non-zero exit is an error naming `what`.
pub fn run_ok(ns: &NsFile, home: &NsFile, launch: &Launch, what: &str) -> Result<Finished> {
    let done = run(ns, home, launch)?;
    if done.status != 0 {
        return Err(BenchError::Failed {
            what: what.to_owned(),
            status: done.status,
            detail: done.output_text(),
        });
    }
    Ok(done)
}

fn pidfd_open(pid: u32) -> std::io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::c_long, 0 as libc::c_long) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| std::io::Error::other("pidfd out of range"))?;
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Polls the pidfd until the process exits or `deadline` passes; true if it exited.
fn wait_readable(pidfd: &OwnedFd, deadline: Instant) -> bool {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        let mut pfd = libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd on our stack, count 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc > 0 {
            return true;
        }
        if rc == 0 {
            return false;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return false;
        }
    }
}

/// Reaps `pid`; returns its exit code (128 + signal when a signal ended it) and the CPU time
/// of it and the children it waited for. (Its `ru_maxrss` is not used: see the module doc.)
fn reap(pid: libc::pid_t) -> (i32, Duration) {
    if pid <= 0 {
        return (-1, Duration::ZERO);
    }
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value for this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our own child; `status` and `ru` are valid out-pointers.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if rc == pid {
            break;
        }
        if rc < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return (-1, Duration::ZERO);
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        -1
    };
    (code, cpu_time(&ru))
}

fn cpu_time(ru: &libc::rusage) -> Duration {
    let tv = |t: libc::timeval| {
        let secs = u64::try_from(t.tv_sec).unwrap_or(0);
        let micros = u64::try_from(t.tv_usec).unwrap_or(0);
        Duration::from_secs(secs) + Duration::from_micros(micros)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn read_pipe(pipe: Option<impl Read>) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(mut p) = pipe {
        // What arrived before a read error is still worth showing.
        let _ = p.read_to_end(&mut buf);
    }
    buf
}

/// True if `path` is an executable file.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
