//! Choosing addresses: the round-robin walk over a range set and the requested-address rules.
//!
//! Pure: the store is reached only through the `reserve` callback, so every rule is unit-tested
//! without files. The walk is the reference's `RangeIter`:
//! - start after the set's last reserved address if the set still contains it, otherwise at
//!   `rangeStart` of the first range;
//! - after a range's `rangeEnd` continue at the next range's `rangeStart`, wrapping around;
//! - skip each range's gateway; stop after one full lap.
//!
//! So a crash-looping pod does not get its old address back until the whole set has been used
//! (the reference's rationale), and reference and we advance one shared cursor
//! (`last_reserved_ip.N`) when they share a store.

use std::net::IpAddr;

use crate::addr;
use crate::error::Error;
use crate::range::Range;
use crate::range_set::RangeSet;

/// An address handed out, with what the result needs alongside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// The address.
    pub ip: IpAddr,
    /// The prefix length of its range's subnet.
    pub prefix: u8,
    /// Its range's gateway.
    pub gateway: IpAddr,
}

impl Allocation {
    fn new(ip: IpAddr, range: &Range) -> Allocation {
        Allocation {
            ip,
            prefix: range.subnet().prefix(),
            gateway: range.gateway(),
        }
    }
}

/// What one ADD asks of one range set.
#[derive(Clone, Copy, Debug)]
pub struct Ask<'a> {
    /// The requested address that falls in this set, if any.
    pub requested: Option<IpAddr>,
    /// Addresses the attachment already holds (any set); used to refuse a second ADD.
    pub held: &'a [IpAddr],
    /// The container ID, for the duplicate-allocation message.
    pub id: &'a str,
    /// The set's round-robin cursor (`last_reserved_ip.N`), if readable.
    pub last_reserved: Option<IpAddr>,
}

/// Allocates one address of `set`. `reserve(ip)` must atomically claim `ip` and return false
/// if it is already taken; its errors stop the allocation.
pub fn allocate<F>(set: &RangeSet, ask: &Ask<'_>, mut reserve: F) -> Result<Allocation, Error>
where
    F: FnMut(IpAddr) -> Result<bool, Error>,
{
    if let Some(ip) = ask.requested {
        let ip = addr::canonical(ip);
        let range = set
            .range_for(ip)
            .ok_or_else(|| Error::RequestedLeftover(vec![ip]))?;
        if ip == range.gateway() {
            return Err(Error::RequestedGateway(ip));
        }
        if !reserve(ip)? {
            return Err(Error::RequestedTaken {
                ip,
                set: set.to_string(),
            });
        }
        return Ok(Allocation::new(ip, range));
    }
    // Spec: a runtime must not ADD the same attachment twice; the reference refuses (v0.8.2).
    if let Some(&ip) = ask.held.iter().find(|ip| set.contains(**ip)) {
        return Err(Error::Duplicate {
            ip,
            id: ask.id.to_owned(),
        });
    }
    for (ip, range) in RoundRobin::new(set, ask.last_reserved) {
        if reserve(ip)? {
            return Ok(Allocation::new(ip, range));
        }
    }
    Err(Error::Exhausted(set.to_string()))
}

/// Splits requested addresses among range sets: each set takes the first (in request order)
/// not yet taken address it contains. Duplicates count once. Returns the per-set choice and
/// the addresses no set took.
pub fn assign_requests(
    sets: &[RangeSet],
    requested: &[IpAddr],
) -> (Vec<Option<IpAddr>>, Vec<IpAddr>) {
    let mut left: Vec<IpAddr> = Vec::with_capacity(requested.len());
    for ip in requested.iter().map(|ip| addr::canonical(*ip)) {
        if !left.contains(&ip) {
            left.push(ip);
        }
    }
    let chosen = sets
        .iter()
        .map(|set| {
            let pos = left.iter().position(|ip| set.contains(*ip))?;
            Some(left.remove(pos))
        })
        .collect();
    (chosen, left)
}

/// The round-robin walk over a set, yielding each candidate address with its range.
#[derive(Debug)]
pub struct RoundRobin<'a> {
    ranges: &'a [Range],
    idx: usize,
    /// The last address yielded (or the cursor to start after).
    cur: Option<u128>,
    /// The first address of the lap; seeing it again ends the walk.
    first: Option<u128>,
    done: bool,
}

impl<'a> RoundRobin<'a> {
    /// A walk starting after `last_reserved` if the set contains it, else at the beginning.
    pub fn new(set: &'a RangeSet, last_reserved: Option<IpAddr>) -> RoundRobin<'a> {
        let ranges = set.ranges();
        let resume = last_reserved
            .map(addr::canonical)
            .and_then(|ip| ranges.iter().position(|r| r.contains(ip)).map(|i| (i, ip)));
        match resume {
            Some((idx, ip)) => RoundRobin {
                ranges,
                idx,
                cur: Some(addr::to_bits(ip)),
                first: None,
                done: false,
            },
            None => RoundRobin {
                ranges,
                idx: 0,
                cur: None,
                first: None,
                done: false,
            },
        }
    }
}

impl<'a> Iterator for RoundRobin<'a> {
    type Item = (IpAddr, &'a Range);

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let range = &self.ranges[self.idx];
            let cur = match self.cur {
                None => range.start_bits(),
                Some(c) if c == range.end_bits() => {
                    self.idx = (self.idx + 1) % self.ranges.len();
                    self.ranges[self.idx].start_bits()
                }
                Some(c) => c + 1,
            };
            self.cur = Some(cur);
            match self.first {
                None => self.first = Some(cur),
                Some(first) if first == cur => {
                    self.done = true;
                    break;
                }
                Some(_) => {}
            }
            let range = &self.ranges[self.idx];
            let ip = addr::from_bits(range.family(), cur);
            if ip != range.gateway() {
                return Some((ip, range));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::addr::Cidr;
    use crate::range::RangeSpec;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    fn range(subnet: &str, start: Option<&str>, end: Option<&str>) -> RangeSpec {
        RangeSpec {
            subnet: Some(Cidr::parse(subnet).expect("test cidr")),
            range_start: start.map(ip),
            range_end: end.map(ip),
            gateway: None,
        }
    }

    fn set(specs: &[RangeSpec]) -> RangeSet {
        RangeSet::new(specs).expect("valid set")
    }

    fn walk(set: &RangeSet, last: Option<&str>) -> Vec<String> {
        RoundRobin::new(set, last.map(ip))
            .map(|(ip, _)| ip.to_string())
            .collect()
    }

    /// `reserve` backed by an in-memory set of taken addresses.
    fn taken(list: &[&str]) -> HashSet<IpAddr> {
        list.iter().map(|s| ip(s)).collect()
    }

    fn ask<'a>(requested: Option<&str>, held: &'a [IpAddr], last: Option<&str>) -> Ask<'a> {
        Ask {
            requested: requested.map(ip),
            held,
            id: "ctr",
            last_reserved: last.map(ip),
        }
    }

    fn run(
        set: &RangeSet,
        ask: &Ask<'_>,
        used: &mut HashSet<IpAddr>,
    ) -> Result<Allocation, String> {
        allocate(set, ask, |ip| Ok(used.insert(ip))).map_err(|e| e.to_string())
    }

    #[test]
    fn first_address_is_after_the_gateway_v4_and_v6() {
        // The reference's expectations (host_local_test.go).
        let v4 = set(&[range("10.1.2.0/24", None, None)]);
        let v6 = set(&[range("2001:db8:1::/64", None, None)]);
        let mut used = HashSet::new();
        let a = run(&v4, &ask(None, &[], None), &mut used).expect("allocates");
        assert_eq!(
            (a.ip, a.prefix, a.gateway),
            (ip("10.1.2.2"), 24, ip("10.1.2.1"))
        );
        let a = run(&v6, &ask(None, &[], None), &mut used).expect("allocates");
        assert_eq!(
            (a.ip, a.prefix, a.gateway),
            (ip("2001:db8:1::2"), 64, ip("2001:db8:1::1"))
        );
    }

    #[test]
    fn walk_is_round_robin_across_ranges_and_wraps_once() {
        let s = set(&[
            range("10.1.2.0/29", None, None),
            range("10.2.2.0/29", Some("10.2.2.4"), Some("10.2.2.5")),
        ]);
        assert_eq!(
            walk(&s, None),
            [
                "10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6", "10.2.2.4", "10.2.2.5"
            ]
        );
        // After the last of range 0 comes the first of range 1 (reference allocator_test).
        assert_eq!(
            walk(&s, Some("10.1.2.6")),
            [
                "10.2.2.4", "10.2.2.5", "10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"
            ]
        );
        // From the middle: the cursor itself comes last.
        assert_eq!(
            walk(&s, Some("10.1.2.3")).first().map(String::as_str),
            Some("10.1.2.4")
        );
        assert_eq!(
            walk(&s, Some("10.1.2.3")).last().map(String::as_str),
            Some("10.1.2.3")
        );
        // A cursor outside the set (ranges reordered) restarts at the beginning.
        assert_eq!(
            walk(&s, Some("10.9.9.9")).first().map(String::as_str),
            Some("10.1.2.2")
        );
    }

    #[test]
    fn walk_never_yields_gateway_or_broadcast() {
        let s = set(&[range("10.1.2.0/30", None, None)]);
        assert_eq!(walk(&s, None), ["10.1.2.2"]);
        assert_eq!(walk(&s, Some("10.1.2.2")), ["10.1.2.2"]);
        // A range holding only its gateway yields nothing and terminates.
        let only_gw = set(&[range("10.1.2.0/30", Some("10.1.2.1"), Some("10.1.2.1"))]);
        assert!(walk(&only_gw, None).is_empty());
        assert!(walk(&only_gw, Some("10.1.2.1")).is_empty());
        let v6 = set(&[range("fd00::/126", None, None)]);
        assert_eq!(walk(&v6, None), ["fd00::2", "fd00::3"]);
    }

    #[test]
    fn round_robin_skips_taken_and_resumes_after_the_cursor() {
        let s = set(&[range("10.1.2.0/24", None, None)]);
        let mut used = taken(&["10.1.2.5", "10.1.2.6"]);
        let a = run(&s, &ask(None, &[], Some("10.1.2.4")), &mut used).expect("allocates");
        assert_eq!(a.ip, ip("10.1.2.7"));
        // At the end of the range it wraps to the start, skipping the gateway.
        let a = run(&s, &ask(None, &[], Some("10.1.2.254")), &mut used).expect("allocates");
        assert_eq!(a.ip, ip("10.1.2.2"));
    }

    #[test]
    fn exhausted_set_names_every_range() {
        let s = set(&[
            range("10.1.2.0/30", None, None),
            range("10.1.3.0/30", None, None),
        ]);
        let mut used = taken(&["10.1.2.2", "10.1.3.2"]);
        assert_eq!(
            run(&s, &ask(None, &[], None), &mut used),
            Err(
                "no IP addresses available in range set: 10.1.2.1-10.1.2.2,10.1.3.1-10.1.3.2"
                    .into()
            )
        );
    }

    #[test]
    fn requested_address_rules() {
        let s = set(&[range("10.1.2.0/24", None, None)]);
        let mut used = taken(&["10.1.2.9"]);
        let a = run(&s, &ask(Some("10.1.2.77"), &[], None), &mut used).expect("allocates");
        assert_eq!(a.ip, ip("10.1.2.77"));
        assert_eq!(
            run(&s, &ask(Some("10.1.2.1"), &[], None), &mut used),
            Err("requested ip 10.1.2.1 is subnet's gateway".into())
        );
        assert_eq!(
            run(&s, &ask(Some("10.1.2.9"), &[], None), &mut used),
            Err(
                "requested IP address 10.1.2.9 is not available in range set 10.1.2.1-10.1.2.254"
                    .into()
            )
        );
        // A request is not refused as a duplicate (the reference skips that check for it).
        let held = [ip("10.1.2.77")];
        let a = run(&s, &ask(Some("10.1.2.78"), &held, None), &mut used).expect("allocates");
        assert_eq!(a.ip, ip("10.1.2.78"));
    }

    #[test]
    fn second_add_of_the_same_attachment_is_refused() {
        let s = set(&[range("10.1.2.0/24", None, None)]);
        let held = [ip("fd00::5"), ip("10.1.2.3")];
        let mut used = HashSet::new();
        assert_eq!(
            run(&s, &ask(None, &held, None), &mut used),
            Err("10.1.2.3 has been allocated to ctr, duplicate allocation is not allowed".into())
        );
        // Holding an address of another set does not count.
        let held = [ip("fd00::5")];
        assert!(run(&s, &ask(None, &held, None), &mut used).is_ok());
    }

    #[test]
    fn reserve_errors_stop_the_walk() {
        let s = set(&[range("10.1.2.0/24", None, None)]);
        let res = allocate(&s, &ask(None, &[], None), |_| {
            Err(Error::io("probe", std::io::Error::other("disk on fire")))
        });
        assert_eq!(
            res.map_err(|e| e.to_string()),
            Err("probe: disk on fire".into())
        );
    }

    #[test]
    fn requests_are_split_among_sets_one_each() {
        let sets = [
            set(&[range("10.1.0.0/24", None, None)]),
            set(&[range("10.2.0.0/24", None, None)]),
            set(&[range("fd00::/64", None, None)]),
        ];
        let req = [
            ip("10.1.0.10"),
            ip("10.1.0.11"),
            ip("fd00::9"),
            ip("::ffff:10.1.0.10"),
            ip("10.9.0.1"),
        ];
        let (chosen, left) = assign_requests(&sets, &req);
        assert_eq!(chosen, [Some(ip("10.1.0.10")), None, Some(ip("fd00::9"))]);
        assert_eq!(left, [ip("10.1.0.11"), ip("10.9.0.1")]);
        assert_eq!(
            Error::RequestedLeftover(left).to_string(),
            "failed to allocate all requested IPs: 10.1.0.11 10.9.0.1"
        );
    }
}
