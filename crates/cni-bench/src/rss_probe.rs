//! `cni-bench rss-probe PROGRAM STDOUT_FILE`: runs one plugin exec and reports the peak memory
//! of its whole process tree (the plugin and the IPAM plugin it execs) as one JSON line.
//!
//! Two numbers, two methods:
//! - `wait4_maxrss_kib`: `ru_maxrss` from `wait4` on the plugin. Linux folds the peak of every
//!   child the plugin waited for into it (RUSAGE_CHILDREN semantics), so it is the peak of the
//!   largest single process of the tree. It also includes the peak of the memory the child had
//!   *before* exec: a child forked or vforked from a big process starts with that process's
//!   pages, and the kernel records their high-water mark at exec (`exec_mmap`). That is why
//!   this runs as its own small process, forks (not vfork, which would share our whole
//!   footprint), and why the benchmark process never measures this itself.
//! - `processes`: each process's `VmHWM` read from `/proc/<pid>/status` when it stops at
//!   `PTRACE_EVENT_EXIT`, before its memory is torn down. That is the high-water mark of the
//!   image after exec only, so nothing carries over; the sum over the tree bounds what the tree
//!   held at once (the plugin is alive while its IPAM child runs).
//!
//! The child gets this process's environment and stdin; its stdout goes to STDOUT_FILE.
//! Tracing slows the child, so the benchmark never times a probed run. A 60 s alarm ends a
//! stuck run; `PTRACE_O_EXITKILL` then takes the tracees with it.

use std::collections::{BTreeMap, HashSet};
use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;

use serde::{Deserialize, Serialize};

/// ptrace's unused address and data arguments (variadic: they must be pointer-sized).
const NULL: *mut libc::c_void = std::ptr::null_mut();

/// One process of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessPeak {
    /// Its `comm` (the binary's name, at most 15 bytes).
    pub name: String,
    /// Its peak RSS after exec, KiB.
    pub hwm_kib: u64,
    /// Anonymous memory (heap, stacks) resident at exit, KiB.
    pub anon_kib: u64,
    /// File pages (its binary, libraries) resident at exit, KiB.
    pub file_kib: u64,
}

/// What the probe prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// The plugin's exit status (128 + signal).
    pub status: i32,
    /// `ru_maxrss` of the plugin from `wait4`, KiB.
    pub wait4_maxrss_kib: u64,
    /// Every process of the tree, in the order they exited.
    pub processes: Vec<ProcessPeak>,
}

impl ProbeReport {
    /// The sum of the per-process peaks.
    pub fn tree_kib(&self) -> u64 {
        self.processes.iter().map(|p| p.hwm_kib).sum()
    }
}

/// The probe's entry point; returns the process exit code.
pub fn main(args: &[OsString]) -> i32 {
    match probe(args) {
        Ok(report) => match serde_json::to_string(&report) {
            Ok(line) => {
                println!("{line}");
                0
            }
            Err(e) => {
                eprintln!("rss-probe: {e}");
                2
            }
        },
        Err(e) => {
            eprintln!("rss-probe: {e}");
            2
        }
    }
}

fn probe(args: &[OsString]) -> Result<ProbeReport, String> {
    let [program, stdout_path] = args else {
        return Err("usage: cni-bench rss-probe PROGRAM STDOUT_FILE".into());
    };
    let c = |s: &[u8]| CString::new(s).map_err(|e| e.to_string());
    let prog = c(program.as_bytes())?;
    let out = c(stdout_path.as_bytes())?;
    let env: Vec<CString> = std::env::vars_os()
        .map(|(k, v)| c(&[k.as_bytes(), b"=", v.as_bytes()].concat()))
        .collect::<Result<_, _>>()?;
    let argv = [prog.as_ptr(), std::ptr::null()];
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());

    // SAFETY: alarm has no preconditions; SIGALRM's default action ends this process.
    unsafe { libc::alarm(60) };
    // SAFETY: open with a NUL-terminated path; the result is checked.
    let out_fd = unsafe {
        libc::open(
            out.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
            0o600,
        )
    };
    if out_fd < 0 {
        return Err(format!(
            "open stdout file: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: this process is single-threaded here (the probe starts no threads), so the
    // child may run any code; it only makes async-signal-safe calls anyway.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        // SAFETY: in the child: dup2, ptrace(TRACEME), raise and execve on pointers prepared
        // before the fork; _exit if exec fails. No allocation, no locks.
        unsafe {
            libc::dup2(out_fd, 1);
            libc::ptrace(libc::PTRACE_TRACEME, 0 as libc::pid_t, NULL, NULL);
            libc::raise(libc::SIGSTOP);
            libc::execve(prog.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(127);
        }
    }
    trace(pid)
}

/// Follows the tree rooted at `root` (stopped at its initial SIGSTOP) until every tracee is
/// gone, reading each process's `VmHWM` at its exit stop.
fn trace(root: libc::pid_t) -> Result<ProbeReport, String> {
    let mut status = 0;
    // SAFETY: waits for our own child; `status` is a valid out-pointer.
    if unsafe { libc::waitpid(root, &mut status, libc::__WALL) } != root {
        return Err(format!(
            "wait for the child: {}",
            std::io::Error::last_os_error()
        ));
    }
    let options = libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC
        | libc::PTRACE_O_TRACEEXIT
        | libc::PTRACE_O_EXITKILL;
    let data = options as usize as *mut libc::c_void;
    // SAFETY: the child is our tracee and stopped; `data` carries the option bits by value.
    if unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, root, NULL, data) } < 0 {
        return Err(format!(
            "PTRACE_SETOPTIONS: {}",
            std::io::Error::last_os_error()
        ));
    }
    resume(root, 0);
    let mut seen: HashSet<libc::pid_t> = HashSet::from([root]);
    // Per thread group: name and the highest VmHWM read at any of its threads' exits.
    let mut peaks: BTreeMap<libc::pid_t, ProcessPeak> = BTreeMap::new();
    let mut order: Vec<libc::pid_t> = Vec::new();
    let mut root_end: Option<(i32, u64)> = None;
    loop {
        // SAFETY: an all-zero rusage is a valid value for this plain C struct.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: valid out-pointers; waits for tracees and children only.
        let pid = unsafe { libc::wait4(-1, &mut status, libc::__WALL, &mut ru) };
        if pid < 0 {
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => continue,
                _ => break, // ECHILD: everything is gone.
            }
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            if pid == root {
                let code = if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    128 + libc::WTERMSIG(status)
                };
                root_end = Some((code, u64::try_from(ru.ru_maxrss).unwrap_or(0)));
            }
            continue;
        }
        if !libc::WIFSTOPPED(status) {
            continue;
        }
        let sig = libc::WSTOPSIG(status);
        let event = (status >> 16) & 0xff;
        let first_stop = seen.insert(pid);
        if event == libc::PTRACE_EVENT_EXIT {
            if let Some((tgid, peak)) = read_peak(pid) {
                let entry = peaks.entry(tgid).or_insert_with(|| {
                    order.push(tgid);
                    peak.clone()
                });
                entry.hwm_kib = entry.hwm_kib.max(peak.hwm_kib);
            }
            resume(pid, 0);
        } else if event != 0 || (sig == libc::SIGSTOP && first_stop) || sig == libc::SIGTRAP {
            // Fork/clone/exec events, a new tracee's first stop: not signals for the tracee.
            resume(pid, 0);
        } else {
            // A real signal (Go's runtime preempts with SIGURG): deliver it.
            resume(pid, sig);
        }
    }
    let (status, wait4_maxrss_kib) = root_end.ok_or("the plugin's exit was not seen")?;
    let processes = order.iter().filter_map(|t| peaks.remove(t)).collect();
    Ok(ProbeReport {
        status,
        wait4_maxrss_kib,
        processes,
    })
}

fn resume(pid: libc::pid_t, sig: libc::c_int) {
    let data = sig as usize as *mut libc::c_void;
    // SAFETY: `pid` is a stopped tracee of ours (a vanished one yields ESRCH, which is fine);
    // `data` carries the signal number by value.
    unsafe { libc::ptrace(libc::PTRACE_CONT, pid, NULL, data) };
}

/// `(Tgid, peak)` of thread `tid`, from `/proc/<tid>/status`, named after its process (a
/// thread's own name can be anything, e.g. a worker's).
fn read_peak(tid: libc::pid_t) -> Option<(libc::pid_t, ProcessPeak)> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    let (tgid, mut peak) = parse_status(&text)?;
    if let Ok(comm) = std::fs::read_to_string(format!("/proc/{tgid}/comm")) {
        peak.name = comm.trim().to_owned();
    }
    Some((tgid, peak))
}

fn parse_status(text: &str) -> Option<(libc::pid_t, ProcessPeak)> {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
    };
    let name = field("Name:")?;
    let tgid = field("Tgid:")?.parse().ok()?;
    let kib = |key: &str| -> Option<u64> { field(key)?.trim_end_matches("kB").trim().parse().ok() };
    let peak = ProcessPeak {
        name,
        hwm_kib: kib("VmHWM:")?,
        anon_kib: kib("RssAnon:").unwrap_or(0),
        file_kib: kib("RssFile:").unwrap_or(0),
    };
    Some((tgid, peak))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read() {
        let text = "Name:\thost-local\nUmask:\t0022\nTgid:\t4242\nPid:\t4243\nVmPeak:\t 9000 kB\nVmHWM:\t    2112 kB\nVmRSS:\t 2000 kB\nRssAnon:\t  300 kB\nRssFile:\t 1700 kB\n";
        let (tgid, peak) = parse_status(text).unwrap();
        assert_eq!(tgid, 4242);
        assert_eq!(peak.name, "host-local");
        assert_eq!(
            (peak.hwm_kib, peak.anon_kib, peak.file_kib),
            (2112, 300, 1700)
        );
        assert!(parse_status("Name:\tx\n").is_none());
    }
}
