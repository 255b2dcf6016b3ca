//! Order statistics of a set of samples: median, p90, p99 by nearest rank, no interpolation,
//! so every number reported is a time some run really took.

use std::time::Duration;

use serde::Serialize;

/// The summary of one series, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// How many samples.
    pub n: usize,
    /// Median.
    pub median_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Fastest.
    pub min_ms: f64,
}

impl Summary {
    /// Summarises `samples`; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        if ms.is_empty() {
            return None;
        }
        ms.sort_by(f64::total_cmp);
        Some(Summary {
            n: ms.len(),
            median_ms: nearest_rank(&ms, 50.0),
            p90_ms: nearest_rank(&ms, 90.0),
            p99_ms: nearest_rank(&ms, 99.0),
            min_ms: ms[0],
        })
    }
}

/// The nearest-rank percentile of sorted, non-empty `sorted`.
fn nearest_rank(sorted: &[f64], pct: f64) -> f64 {
    let n = sorted.len() as f64;
    // Rank ceil(p/100 * n), 1-based; at least the first sample.
    let rank = ((pct / 100.0) * n).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// The median of plain numbers (KiB, bytes), by nearest rank; `None` when empty.
pub fn median_u64(values: &[u64]) -> Option<u64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = v.len().div_ceil(2);
    v.get(rank.checked_sub(1)?).copied()
}

/// `a / b`, or `None` when `b` is zero.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let s = Summary::of(&ms(&(1..=100).collect::<Vec<_>>())).unwrap();
        assert_eq!(
            (s.median_ms, s.p90_ms, s.p99_ms, s.min_ms),
            (50.0, 90.0, 99.0, 1.0)
        );
        let s = Summary::of(&ms(&[7, 3, 5])).unwrap();
        assert_eq!((s.n, s.median_ms, s.p90_ms, s.p99_ms), (3, 5.0, 7.0, 7.0));
        let one = Summary::of(&ms(&[4])).unwrap();
        assert_eq!((one.median_ms, one.p99_ms), (4.0, 4.0));
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn median_of_numbers_and_ratios() {
        assert_eq!(median_u64(&[5, 1, 3]), Some(3));
        assert_eq!(median_u64(&[4, 1]), Some(1));
        assert_eq!(median_u64(&[]), None);
        assert_eq!(ratio(1.0, 4.0), Some(0.25));
        assert_eq!(ratio(1.0, 0.0), None);
    }
}
