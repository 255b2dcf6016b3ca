//! A range set: the ranges one address per ADD is drawn from, as one pool.
//!
//! A set is non-empty, holds one family, and its ranges do not overlap (the reference's
//! `RangeSet.Canonicalize`). Rules between sets (no overlap across sets, one set per family
//! before 0.3.0) live in `config`, because they need the whole list and the config's version.

use std::fmt;
use std::net::IpAddr;

use crate::addr::Family;
use crate::error::Error;
use crate::range::{Range, RangeSpec};

/// A validated, non-empty, single-family list of non-overlapping ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeSet {
    ranges: Vec<Range>,
}

impl RangeSet {
    /// Validates the ranges of one set, in the reference's order of checks.
    pub fn new(specs: &[RangeSpec]) -> Result<RangeSet, Error> {
        if specs.is_empty() {
            return Err(Error::EmptyRangeSet);
        }
        let mut ranges: Vec<Range> = Vec::with_capacity(specs.len());
        for spec in specs {
            let range = Range::new(spec)?;
            if ranges
                .first()
                .is_some_and(|first| first.family() != range.family())
            {
                return Err(Error::MixedFamilies);
            }
            ranges.push(range);
        }
        for (i, a) in ranges.iter().enumerate() {
            if let Some(b) = ranges[i + 1..].iter().find(|b| a.overlaps(b)) {
                return Err(Error::RangesOverlap(a.to_string(), b.to_string()));
            }
        }
        Ok(RangeSet { ranges })
    }

    /// The ranges, in config order (never empty).
    pub fn ranges(&self) -> &[Range] {
        &self.ranges
    }

    /// The family of every range in the set.
    pub fn family(&self) -> Family {
        self.ranges[0].family()
    }

    /// The range holding `ip`, if any.
    pub fn range_for(&self, ip: IpAddr) -> Option<&Range> {
        self.ranges.iter().find(|r| r.contains(ip))
    }

    /// True if some range of the set holds `ip`.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.range_for(ip).is_some()
    }

    /// True if any range of `self` overlaps any range of `other`.
    pub fn overlaps(&self, other: &RangeSet) -> bool {
        self.ranges
            .iter()
            .any(|a| other.ranges.iter().any(|b| a.overlaps(b)))
    }
}

impl fmt::Display for RangeSet {
    /// `start-end,start-end`, the form in the reference's error texts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Cidr;

    fn spec(subnet: &str) -> RangeSpec {
        RangeSpec {
            subnet: Some(Cidr::parse(subnet).expect("test cidr")),
            ..RangeSpec::default()
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn a_set_is_a_pool_of_ranges() {
        let set = RangeSet::new(&[spec("10.1.2.0/24"), spec("10.2.2.0/24")]).expect("valid");
        assert_eq!(set.to_string(), "10.1.2.1-10.1.2.254,10.2.2.1-10.2.2.254");
        assert_eq!(set.family(), Family::V4);
        assert!(set.contains(ip("10.2.2.77")));
        assert!(!set.contains(ip("10.3.2.77")));
        assert_eq!(
            set.range_for(ip("10.2.2.9")).map(Range::gateway),
            Some(ip("10.2.2.1"))
        );
    }

    #[test]
    fn reference_error_texts() {
        let text = |specs: &[RangeSpec]| RangeSet::new(specs).map_err(|e| e.to_string());
        assert_eq!(text(&[]), Err("empty range set".into()));
        assert_eq!(
            text(&[spec("10.1.2.0/24"), spec("fd00::/64")]),
            Err("mixed address families".into())
        );
        assert_eq!(
            text(&[spec("10.1.2.0/24"), spec("10.1.2.0/25")]),
            Err("subnets 10.1.2.1-10.1.2.254 and 10.1.2.1-10.1.2.126 overlap".into())
        );
        // The range's own error comes through unchanged.
        assert_eq!(
            text(&[spec("10.1.2.0/24"), spec("10.1.3.0/31")]),
            Err("Network 10.1.3.0/31 too small to allocate from".into())
        );
    }

    #[test]
    fn sets_overlap_when_any_ranges_do() {
        let a = RangeSet::new(&[spec("10.1.2.0/24"), spec("10.5.0.0/16")]).expect("valid");
        let b = RangeSet::new(&[spec("10.5.7.0/24")]).expect("valid");
        let c = RangeSet::new(&[spec("10.6.7.0/24")]).expect("valid");
        let v6 = RangeSet::new(&[spec("fd00::/64")]).expect("valid");
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        assert!(!a.overlaps(&v6));
    }
}
