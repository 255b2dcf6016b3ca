//! One range: a subnet, the slice of it handed out, and its gateway.
//!
//! [`Range::new`] applies the reference's `Range.Canonicalize` rules in the reference's order,
//! so the same bad config fails with the same first message:
//! - the subnet must exist, leave room (prefix <= bits - 2) and have no host bits;
//! - the gateway defaults to network + 1 and is never handed out (the iterator skips it);
//! - `rangeStart` defaults to network + 1 (not + 2: the first address is .2 only because the
//!   default gateway .1 is skipped, which matters when the gateway is set elsewhere);
//! - `rangeEnd` defaults to the last address, minus one for IPv4 (the broadcast address).
//!
//! A configured gateway outside the subnet is accepted, as by the reference since v1.0.
//! Not here: several ranges together (`range_set`), config decoding (`config`).

use std::fmt;
use std::net::IpAddr;

use crate::addr::{self, Cidr, Family, Subnet};
use crate::error::Error;

/// A range as written in the config, addresses already parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeSpec {
    /// `subnet`.
    pub subnet: Option<Cidr>,
    /// `rangeStart`, inclusive.
    pub range_start: Option<IpAddr>,
    /// `rangeEnd`, inclusive.
    pub range_end: Option<IpAddr>,
    /// `gateway`.
    pub gateway: Option<IpAddr>,
}

/// A validated range: `start <= end`, both inside `subnet`, one family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    subnet: Subnet,
    start: u128,
    end: u128,
    gateway: IpAddr,
}

impl Range {
    /// Validates a configured range and fills in its defaults.
    pub fn new(spec: &RangeSpec) -> Result<Range, Error> {
        let cidr = spec.subnet.ok_or(Error::NoSubnet)?;
        let family = cidr.family();
        // A mapped IPv4 subnet carries a 128-bit mask in Go; the size check sees that width.
        let mask_bits = if cidr.mapped { 128 } else { family.bits() };
        if cidr.prefix > mask_bits - 2 {
            return Err(Error::TooSmall(format!("{}/{}", cidr.addr, cidr.prefix)));
        }
        if cidr.mapped {
            return Err(Error::MaskMismatch);
        }
        let network = addr::to_bits(cidr.addr) & addr::mask(family, cidr.prefix);
        if network != addr::to_bits(cidr.addr) {
            return Err(Error::HostBits {
                prefix: cidr.prefix,
                network: addr::from_bits(family, network),
            });
        }
        let subnet = Subnet::new(family, network, cidr.prefix);
        let gateway = spec
            .gateway
            .unwrap_or_else(|| addr::from_bits(family, network + 1));

        // The reference checks rangeStart against the configured rangeEnd (if any), then
        // rangeEnd against the final start, so an inverted pair reports the start; same here.
        let last = subnet.last_bits();
        let within = |ip: IpAddr, lo: u128, hi: u128| {
            subnet.contains(ip) && (lo..=hi).contains(&addr::to_bits(ip))
        };
        let given_end = spec.range_end.map(addr::canonical);
        let start_limit = given_end
            .filter(|e| Family::of(*e) == family)
            .map_or(last, addr::to_bits);
        let start = match spec.range_start.map(addr::canonical) {
            None => network + 1,
            Some(s) if within(s, network, start_limit) => addr::to_bits(s),
            Some(s) => {
                return Err(Error::StartOutside {
                    start: s,
                    subnet: subnet.to_string(),
                });
            }
        };
        let end = match given_end {
            None if family == Family::V4 => last - 1,
            None => last,
            Some(e) if within(e, start, last) => addr::to_bits(e),
            Some(e) => {
                return Err(Error::EndOutside {
                    end: e,
                    subnet: subnet.to_string(),
                });
            }
        };
        Ok(Range {
            subnet,
            start,
            end,
            gateway,
        })
    }

    /// The subnet.
    pub fn subnet(&self) -> &Subnet {
        &self.subnet
    }

    /// The address family.
    pub fn family(&self) -> Family {
        self.subnet.family()
    }

    /// The gateway (never handed out).
    pub fn gateway(&self) -> IpAddr {
        self.gateway
    }

    /// The first address that may be handed out, as a number.
    pub fn start_bits(&self) -> u128 {
        self.start
    }

    /// The last address that may be handed out, as a number.
    pub fn end_bits(&self) -> u128 {
        self.end
    }

    /// The first address of the range.
    pub fn start(&self) -> IpAddr {
        addr::from_bits(self.family(), self.start)
    }

    /// The last address of the range.
    pub fn end(&self) -> IpAddr {
        addr::from_bits(self.family(), self.end)
    }

    /// True if `ip` is inside `[start, end]` of this range (the gateway counts as inside).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = addr::canonical(ip);
        let bits = addr::to_bits(ip);
        self.subnet.contains(ip) && bits >= self.start && bits <= self.end
    }

    /// True if the two ranges share an address (ranges of different families never do).
    pub fn overlaps(&self, other: &Range) -> bool {
        self.family() == other.family()
            && (self.contains(other.start())
                || self.contains(other.end())
                || other.contains(self.start())
                || other.contains(self.end()))
    }

    /// How many addresses could be handed out: the range minus its gateway. Saturates for a
    /// whole IPv6 space, which is more than anyone can exhaust.
    pub fn capacity(&self) -> u128 {
        let size = (self.end - self.start).saturating_add(1);
        if self.contains(self.gateway) {
            size - 1
        } else {
            size
        }
    }
}

impl fmt::Display for Range {
    /// `start-end`, the form the reference's error texts use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start(), self.end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    fn spec(subnet: &str) -> RangeSpec {
        RangeSpec {
            subnet: Some(Cidr::parse(subnet).expect("test cidr")),
            ..RangeSpec::default()
        }
    }

    fn err(spec: &RangeSpec) -> String {
        match Range::new(spec) {
            Ok(r) => panic!("expected an error, got {r}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn ipv4_defaults_skip_network_and_broadcast() {
        let r = Range::new(&spec("10.1.2.0/24")).expect("valid");
        assert_eq!(r.to_string(), "10.1.2.1-10.1.2.254");
        assert_eq!(r.gateway(), ip("10.1.2.1"));
        assert_eq!(r.subnet().to_string(), "10.1.2.0/24");
        assert_eq!(r.capacity(), 253);
    }

    #[test]
    fn small_ipv4_subnets_keep_their_defaults() {
        let r = Range::new(&spec("10.1.2.0/30")).expect("valid");
        assert_eq!(r.to_string(), "10.1.2.1-10.1.2.2");
        assert_eq!(r.capacity(), 1);
        let r = Range::new(&spec("192.168.0.0/16")).expect("valid");
        assert_eq!(r.to_string(), "192.168.0.1-192.168.255.254");
    }

    #[test]
    fn ipv6_defaults_end_at_the_all_ones_address() {
        let r = Range::new(&spec("2001:db8:1::/64")).expect("valid");
        assert_eq!(
            r.to_string(),
            "2001:db8:1::1-2001:db8:1:0:ffff:ffff:ffff:ffff"
        );
        assert_eq!(r.gateway(), ip("2001:db8:1::1"));
        let all = Range::new(&spec("::/0")).expect("valid");
        assert_eq!(all.capacity(), u128::MAX - 1);
    }

    #[test]
    fn explicit_start_end_gateway_are_kept() {
        let mut s = spec("10.1.2.0/24");
        s.range_start = Some(ip("10.1.2.10"));
        s.range_end = Some(ip("10.1.2.20"));
        s.gateway = Some(ip("10.1.2.254"));
        let r = Range::new(&s).expect("valid");
        assert_eq!(r.to_string(), "10.1.2.10-10.1.2.20");
        assert_eq!(r.gateway(), ip("10.1.2.254"));
        assert_eq!(r.capacity(), 11);
        assert!(r.contains(ip("10.1.2.10")) && r.contains(ip("10.1.2.20")));
        assert!(!r.contains(ip("10.1.2.9")) && !r.contains(ip("10.1.2.21")));
    }

    #[test]
    fn gateway_outside_the_subnet_is_accepted_like_the_reference() {
        let mut s = spec("10.1.2.0/24");
        s.gateway = Some(ip("10.9.9.9"));
        let r = Range::new(&s).expect("valid");
        assert_eq!(r.start(), ip("10.1.2.1"));
        assert_eq!(r.capacity(), 254);
    }

    #[test]
    fn reference_error_texts() {
        assert_eq!(err(&RangeSpec::default()), "IP <nil> not v4 nor v6");
        assert_eq!(
            err(&spec("10.1.2.0/31")),
            "Network 10.1.2.0/31 too small to allocate from"
        );
        assert_eq!(
            err(&spec("10.1.2.0/32")),
            "Network 10.1.2.0/32 too small to allocate from"
        );
        assert_eq!(
            err(&spec("fd00::/127")),
            "Network fd00::/127 too small to allocate from"
        );
        assert_eq!(
            err(&spec("::ffff:10.0.0.0/104")),
            "IPNet IP and Mask version mismatch"
        );
        assert_eq!(
            err(&spec("10.1.2.5/24")),
            "Network has host bits set. For a subnet mask of length 24 the network address is 10.1.2.0"
        );
        let mut s = spec("10.1.2.0/24");
        s.range_start = Some(ip("10.1.3.4"));
        assert_eq!(err(&s), "RangeStart 10.1.3.4 not in network 10.1.2.0/24");
        let mut s = spec("10.1.2.0/24");
        s.range_end = Some(ip("10.1.3.4"));
        assert_eq!(err(&s), "RangeEnd 10.1.3.4 not in network 10.1.2.0/24");
        let mut s = spec("10.1.2.0/24");
        s.range_end = Some(ip("fd00::1"));
        assert_eq!(err(&s), "RangeEnd fd00::1 not in network 10.1.2.0/24");
        // Inverted start/end: the reference reports the start (checked against the end).
        let mut s = spec("10.1.2.0/24");
        s.range_start = Some(ip("10.1.2.4"));
        s.range_end = Some(ip("10.1.2.3"));
        assert_eq!(err(&s), "RangeStart 10.1.2.4 not in network 10.1.2.0/24");
    }

    #[test]
    fn overlap_rules() {
        let a = Range::new(&spec("10.1.2.0/24")).expect("valid");
        let b = Range::new(&spec("10.1.2.0/25")).expect("valid");
        let c = Range::new(&spec("10.1.3.0/24")).expect("valid");
        let d = Range::new(&spec("fd00::/64")).expect("valid");
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c) && !c.overlaps(&a));
        assert!(!a.overlaps(&d));
        // Same subnet, disjoint slices: no overlap.
        let mut lo = spec("10.1.4.0/24");
        lo.range_end = Some(ip("10.1.4.100"));
        let mut hi = spec("10.1.4.0/24");
        hi.range_start = Some(ip("10.1.4.101"));
        let (lo, hi) = (
            Range::new(&lo).expect("valid"),
            Range::new(&hi).expect("valid"),
        );
        assert!(!lo.overlaps(&hi));
    }
}
