//! Address arithmetic and parsing with the reference's (Go `net`) semantics.
//!
//! Every address is handled as a `u128` plus its [`Family`], so ranges, iteration and counting
//! are the same code for IPv4 and IPv6. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are folded
//! to IPv4 exactly like Go's `To4()`, which the reference calls on every address it reads: the
//! store file of such an address is named `a.b.c.d` there, so it must be here too.
//!
//! Not here: ranges and their rules (`range`), JSON decoding (`config`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::Error;

/// An address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4, 32 bits.
    V4,
    /// IPv6, 128 bits.
    V6,
}

impl Family {
    /// The family of an address (after [`canonical`]).
    pub fn of(ip: IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// Address width in bits.
    pub fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// The largest address value of this family.
    pub fn max(self) -> u128 {
        match self {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }
}

/// Folds an IPv4-mapped IPv6 address to IPv4 (Go's `canonicalizeIP`); other addresses unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        IpAddr::V4(_) => ip,
    }
}

/// The numeric value of an address.
pub fn to_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The address of `family` with numeric value `bits` (truncated to the family's width).
pub fn from_bits(family: Family, bits: u128) -> IpAddr {
    match family {
        // Truncation is the point: callers keep values within the family's range.
        Family::V4 => IpAddr::V4(Ipv4Addr::from((bits & family.max()) as u32)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

/// The netmask of a prefix length as a value of `family`'s width.
pub fn mask(family: Family, prefix: u8) -> u128 {
    let host_bits = u32::from(family.bits() - prefix);
    let host = if host_bits >= 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    family.max() & !host
}

/// Parses an address like Go's `net.ParseIP` followed by `To4()` folding.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().map(canonical)
}

/// Parses a store file name: an address written exactly as we and the reference write one
/// (Display, which is Go's `String()` after folding). Checked without allocating: a scan
/// does this for every name in the store.
pub fn parse_ip_name(name: &str) -> Option<IpAddr> {
    use std::io::Write;
    let ip = parse_ip(name)?;
    // The longest text is 45 bytes (IPv6 with an embedded IPv4 tail).
    let mut buf = [0u8; 48];
    let mut rest = &mut buf[..];
    write!(rest, "{ip}").ok()?;
    let len = 48 - rest.len();
    (buf.get(..len) == Some(name.as_bytes())).then_some(ip)
}

/// A CIDR as written: the address part is kept as given (Go's `types.IPNet` keeps it too), so
/// the range rules can report "host bits set" instead of silently masking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The address part, canonical.
    pub addr: IpAddr,
    /// The prefix length, at most the width of the family the text was written in.
    pub prefix: u8,
    /// True if an IPv4 address was written in IPv4-mapped IPv6 form: Go then pairs a 4-byte
    /// address with a 16-byte mask, which the reference rejects.
    pub mapped: bool,
}

impl Cidr {
    /// Parses `addr/prefix` like Go's `net.ParseCIDR`; the error text is Go's.
    pub fn parse(text: &str) -> Result<Cidr, Error> {
        let bad = || Error::BadCidr(text.to_owned());
        let (addr, prefix) = text.split_once('/').ok_or_else(bad)?;
        let parsed: IpAddr = addr.parse().map_err(|_| bad())?;
        // Go accepts only plain decimal digits here (no sign, no spaces).
        if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if prefix > Family::of(parsed).bits() {
            return Err(bad());
        }
        let addr = canonical(parsed);
        Ok(Cidr {
            addr,
            prefix,
            mapped: Family::of(addr) != Family::of(parsed),
        })
    }

    /// The family of the address part.
    pub fn family(&self) -> Family {
        Family::of(self.addr)
    }
}

/// A subnet: a network address with no host bits, and its prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subnet {
    network: u128,
    prefix: u8,
    family: Family,
}

impl Subnet {
    /// A subnet from a network value already checked to have no host bits.
    pub(crate) fn new(family: Family, network: u128, prefix: u8) -> Subnet {
        Subnet {
            network,
            prefix,
            family,
        }
    }

    /// The address family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The network address as a number.
    pub fn network_bits(&self) -> u128 {
        self.network
    }

    /// The last address of the subnet (the IPv4 broadcast address) as a number.
    pub fn last_bits(&self) -> u128 {
        self.network | (self.family.max() & !mask(self.family, self.prefix))
    }

    /// True if `ip` is inside the subnet (same family, same network bits).
    pub fn contains(&self, ip: IpAddr) -> bool {
        Family::of(ip) == self.family
            && to_bits(ip) & mask(self.family, self.prefix) == self.network
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            from_bits(self.family, self.network),
            self.prefix
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_are_addresses_as_written() {
        for name in [
            "10.1.2.2",
            "2001:db8::1",
            "fd00::1:2",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ] {
            assert_eq!(
                parse_ip_name(name).map(|ip| ip.to_string()),
                Some(name.into())
            );
        }
        for name in [
            "2001:DB8::1",
            "2001:db8:0::1",
            "::ffff:10.1.2.2",
            "10.1.2.2 ",
            "lock",
            "",
        ] {
            assert_eq!(parse_ip_name(name), None, "{name}");
        }
    }

    #[test]
    fn mapped_addresses_fold_to_ipv4() {
        assert_eq!(parse_ip("::ffff:10.1.2.3"), parse_ip("10.1.2.3"));
        assert_eq!(parse_ip("10.1.2.3").map(Family::of), Some(Family::V4));
        assert_eq!(parse_ip("nope"), None);
    }

    #[test]
    fn ipv6_text_is_the_canonical_form_go_writes() {
        // The store names files by address text; Go prints RFC 5952 text and so must we.
        for (input, want) in [
            (
                "2001:0db8:0000:0000:0001:0000:0000:0001",
                "2001:db8::1:0:0:1",
            ),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("2001:db8:1::2", "2001:db8:1::2"),
            ("fd00::", "fd00::"),
        ] {
            assert_eq!(
                parse_ip(input).map(|ip| ip.to_string()).as_deref(),
                Some(want)
            );
        }
    }

    #[test]
    fn cidr_parsing_keeps_the_address_and_rejects_garbage() {
        let c = Cidr::parse("10.1.2.5/24").expect("valid");
        assert_eq!(c.addr.to_string(), "10.1.2.5");
        assert_eq!(c.prefix, 24);
        assert!(!c.mapped);
        assert!(Cidr::parse("::ffff:10.0.0.0/104").expect("valid").mapped);
        for bad in [
            "foo",
            "",
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "fd00::/129",
        ] {
            assert_eq!(
                Cidr::parse(bad).map_err(|e| e.to_string()),
                Err(format!("invalid CIDR address: {bad}"))
            );
        }
    }

    #[test]
    fn subnet_bounds_and_membership() {
        let s = Subnet::new(Family::V4, to_bits("10.1.2.0".parse().expect("ip")), 24);
        assert_eq!(
            from_bits(Family::V4, s.last_bits()).to_string(),
            "10.1.2.255"
        );
        assert!(s.contains("10.1.2.77".parse().expect("ip")));
        assert!(!s.contains("10.1.3.0".parse().expect("ip")));
        assert!(!s.contains("::a01:200".parse().expect("ip")));
        assert_eq!(s.to_string(), "10.1.2.0/24");
        let all = Subnet::new(Family::V6, 0, 0);
        assert_eq!(all.last_bits(), u128::MAX);
        assert_eq!(mask(Family::V6, 0), 0);
        assert_eq!(mask(Family::V4, 32), u128::from(u32::MAX));
    }
}
