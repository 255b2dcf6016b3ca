//! Small value types the operations take and return, each valid by construction.
//!
//! They exist so plugins never name netlink-packet-* types, and so a value that reached the
//! kernel layer is already known to fit its field (a VNI below 2^24, a VLAN id in 1..=4094).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `00:00:00:00:00:00`, the key of a VXLAN device's default (flood) FDB entries.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// The six octets.
    pub fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// True for an individual (not group) address, the only kind a link may own: the kernel
    /// answers EADDRNOTAVAIL otherwise (multus#1378).
    pub fn is_unicast(&self) -> bool {
        self.0[0] & 1 == 0
    }

    /// The address from a netlink attribute, if it has Ethernet length.
    pub(crate) fn from_slice(bytes: &[u8]) -> Option<MacAddr> {
        Some(MacAddr(bytes.try_into().ok()?))
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(octets: [u8; 6]) -> Self {
        MacAddr(octets)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// The text was not six hex octets separated by `:` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address {0:?}")]
pub struct ParseMacError(String);

impl FromStr for MacAddr {
    type Err = ParseMacError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseMacError(s.to_string());
        let separator = if s.contains('-') { '-' } else { ':' };
        let mut octets = [0u8; 6];
        let mut parts = s.split(separator);
        for octet in &mut octets {
            let part = parts.next().ok_or_else(err)?;
            if part.len() != 2 {
                return Err(err());
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(octets))
    }
}

/// A VXLAN network identifier: 24 bits (the kernel answers ERANGE above).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vni(u32);

impl Vni {
    /// The largest VNI, 2^24 - 1.
    pub const MAX: u32 = (1 << 24) - 1;

    /// A VNI, if `id` fits in 24 bits.
    pub fn new(id: u32) -> Option<Vni> {
        (id <= Self::MAX).then_some(Vni(id))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Vni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An 802.1Q VLAN id usable on a bridge port: 1..=4094 (0 and 4095 are reserved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VlanId(u16);

impl VlanId {
    /// A VLAN id, if `id` is in 1..=4094.
    pub fn new(id: u16) -> Option<VlanId> {
        (1..=4094).contains(&id).then_some(VlanId(id))
    }

    /// The number.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for VlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An IP family, for per-family dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpFamily {
    /// IPv4 (`AF_INET`).
    V4,
    /// IPv6 (`AF_INET6`).
    V6,
}

impl IpFamily {
    /// The family of an address.
    pub fn of(ip: &IpAddr) -> IpFamily {
        match ip {
            IpAddr::V4(_) => IpFamily::V4,
            IpAddr::V6(_) => IpFamily::V6,
        }
    }
}

/// A route or address scope (`rtm_scope`); CNI 1.1 carries it as a plain integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scope(pub u8);

impl Scope {
    /// Reaches anywhere (the default).
    pub const UNIVERSE: Scope = Scope(0);
    /// Site-local (IPv6 only).
    pub const SITE: Scope = Scope(200);
    /// Directly attached to the link (`ip route ... scope link`).
    pub const LINK: Scope = Scope(253);
    /// This host only.
    pub const HOST: Scope = Scope(254);
    /// No destination; in a delete request it means "any scope".
    pub const NOWHERE: Scope = Scope(255);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_round_trips_and_rejects_garbage() {
        let mac: MacAddr = "02:AB:cd:00:00:0f".parse().expect("valid");
        assert_eq!(mac.to_string(), "02:ab:cd:00:00:0f");
        assert_eq!("02-ab-cd-00-00-0f".parse::<MacAddr>(), Ok(mac));
        for bad in [
            "",
            "02:ab:cd:00:00",
            "02:ab:cd:00:00:0f:01",
            "2:ab:cd:00:00:0f",
            "zz:ab:cd:00:00:0f",
        ] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad:?}");
        }
        assert!(mac.is_unicast());
        assert!(
            !"f1:00:00:00:00:01"
                .parse::<MacAddr>()
                .expect("valid")
                .is_unicast()
        );
    }

    #[test]
    fn bounded_ids() {
        assert_eq!(Vni::new(Vni::MAX).map(Vni::get), Some(16_777_215));
        assert_eq!(Vni::new(1 << 24), None);
        assert_eq!(VlanId::new(0), None);
        assert_eq!(VlanId::new(4095), None);
        assert_eq!(VlanId::new(4094).map(VlanId::get), Some(4094));
    }
}
