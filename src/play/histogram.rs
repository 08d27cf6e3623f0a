//! A lock-free histogram of durations (by default 5 µs buckets up to 10 ms) that a real-time
//! thread records into without allocating and anyone reads percentiles from.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const BUCKET_NS: u64 = 5_000;
const BUCKETS: usize = 2_000;

#[derive(Debug)]
pub struct Histogram {
    bucket_ns: u64,
    max_ns: AtomicU64,
    /// The last bucket holds everything beyond the range.
    buckets: Box<[AtomicU32]>,
}

/// Percentiles in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    /// How many took longer than 1 ms and than 2 ms.
    pub over_1ms: u64,
    pub over_2ms: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::with_bucket(BUCKET_NS)
    }
}

impl Histogram {
    /// 2,000 buckets of `bucket_ns` each.
    pub fn with_bucket(bucket_ns: u64) -> Self {
        Histogram {
            bucket_ns: bucket_ns.max(1),
            max_ns: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// Counts one duration; negative ones count as 0.
    pub fn record(&self, ns: i64) {
        let ns = ns.max(0) as u64;
        let b = ((ns / self.bucket_ns) as usize).min(BUCKETS - 1);
        self.buckets[b].fetch_add(1, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }

    /// Percentiles so far (bucket upper edges, so they err on the high side).
    pub fn percentiles(&self) -> Percentiles {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|c| c.load(Ordering::Relaxed) as u64)
            .collect();
        let count: u64 = counts.iter().sum();
        let max_us = self.max_ns.load(Ordering::Relaxed) as f64 / 1e3;
        let pct = |q: f64| {
            let want = ((count as f64) * q).ceil().max(1.0) as u64;
            let mut acc = 0;
            for (i, c) in counts.iter().enumerate() {
                acc += c;
                if acc >= want {
                    return (((i as u64 + 1) * self.bucket_ns) as f64 / 1e3).min(max_us);
                }
            }
            max_us
        };
        let over = |ns: u64| -> u64 {
            let from = (ns / self.bucket_ns) as usize;
            counts.iter().skip(from.min(BUCKETS)).sum()
        };
        Percentiles {
            count,
            p50_us: pct(0.5),
            p99_us: pct(0.99),
            max_us,
            over_1ms: over(1_000_000),
            over_2ms: over(2_000_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_from_buckets() {
        let h = Histogram::default();
        for i in 0..100 {
            h.record(i * 10_000); // 0, 10, ..., 990 µs
        }
        h.record(-5);
        let p = h.percentiles();
        assert_eq!(p.count, 101);
        assert_eq!(p.max_us, 990.0);
        assert!((490.0..=510.0).contains(&p.p50_us), "{p:?}");
        assert!((970.0..=990.0).contains(&p.p99_us), "{p:?}");
        assert_eq!((p.over_1ms, p.over_2ms), (0, 0));
        h.record(50_000_000);
        h.record(1_500_000);
        let p = h.percentiles();
        assert_eq!(p.max_us, 50_000.0);
        assert_eq!((p.over_1ms, p.over_2ms), (2, 1));
        let coarse = Histogram::with_bucket(100_000);
        coarse.record(150_000_000);
        coarse.record(20_000_000);
        assert_eq!(coarse.percentiles().p50_us, 20_100.0);
    }
}
