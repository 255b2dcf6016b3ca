//! Reachability probes with iputils `ping`, always bounded in time.

use std::net::IpAddr;
use std::time::Duration;

use crate::error::{Result, SandboxError};
use crate::netns::Ns;

/// How to ping. The default is three attempts of one echo each, waiting 1 s per attempt, so
/// a negative answer costs about 3 s and a positive one survives a first lost packet (ARP
/// resolution, a port still coming up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    /// Echo payload size in bytes (`-s`); `None` keeps ping's 56.
    pub size: Option<u32>,
    /// Forbid fragmentation (`-M do`), for MTU tests: an oversize echo then fails locally or
    /// at the first hop with a smaller MTU instead of being fragmented.
    pub dont_fragment: bool,
    /// Source interface or address (`-I`).
    pub interface: Option<String>,
    /// How many single-echo attempts before giving up.
    pub attempts: u32,
    /// How long each attempt waits for the reply (`-W`, whole seconds, at least 1).
    pub wait: Duration,
}

impl Default for Ping {
    fn default() -> Self {
        Self {
            size: None,
            dont_fragment: false,
            interface: None,
            attempts: 3,
            wait: Duration::from_secs(1),
        }
    }
}

impl Ping {
    /// One attempt only: for asserting that something is *not* reachable, quickly.
    pub fn once() -> Self {
        Self {
            attempts: 1,
            ..Self::default()
        }
    }

    /// Payload of `size` bytes with fragmentation forbidden.
    pub fn sized_df(size: u32) -> Self {
        Self {
            size: Some(size),
            dont_fragment: true,
            ..Self::default()
        }
    }

    fn argv(&self, addr: IpAddr) -> Vec<String> {
        let family = if addr.is_ipv4() { "-4" } else { "-6" };
        let wait = self.wait.as_secs().max(1).to_string();
        let mut argv: Vec<String> = ["ping", family, "-n", "-q", "-c", "1", "-W", &wait]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        if let Some(size) = self.size {
            argv.extend(["-s".to_owned(), size.to_string()]);
        }
        if self.dont_fragment {
            argv.extend(["-M".to_owned(), "do".to_owned()]);
        }
        if let Some(dev) = &self.interface {
            argv.extend(["-I".to_owned(), dev.clone()]);
        }
        argv.push(addr.to_string());
        argv
    }
}

impl Ns {
    /// Whether `addr` answers an ICMP echo from this namespace (default [`Ping`]).
    pub fn ping(&self, addr: &str) -> Result<bool> {
        self.ping_with(addr, &Ping::default())
    }

    /// Whether `addr` answers, pinging as `opts` says. Exit 1 (no reply) and exit 2 (e.g.
    /// "Network is unreachable", "Message too long" with DF) both mean `false`; only a ping
    /// that cannot be started, or hangs past its bound, is an error.
    pub fn ping_with(&self, addr: &str, opts: &Ping) -> Result<bool> {
        let ip: IpAddr = addr
            .parse()
            .map_err(|e| SandboxError::invalid("ping address", format!("{addr:?}: {e}")))?;
        let argv = opts.argv(ip);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        for attempt in 0..opts.attempts.max(1) {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
            if self.exec(&argv)?.status.success() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_is_bounded_and_complete() {
        let opts = Ping {
            interface: Some("eth0".into()),
            ..Ping::sized_df(1472)
        };
        let argv = opts.argv("fd00::1".parse().unwrap()).join(" ");
        assert_eq!(
            argv,
            "ping -6 -n -q -c 1 -W 1 -s 1472 -M do -I eth0 fd00::1"
        );
    }
}
