//! A histogram of durations in fixed buckets: an atomic count per bucket
//! and an atomic sum, so that an observation on the scan path costs a
//! clock read and three relaxed additions, and never a lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::exposition::Exposition;

/// Upper bounds of the buckets, in microseconds, and as the `le` label
/// writes them (in seconds). A scan is handed over in-process: tens of
/// microseconds normally, milliseconds when the core's lock is contended;
/// anything near a second is a fault.
const BOUNDS: [(u64, &str); 13] = [
    (50, "0.00005"),
    (100, "0.0001"),
    (250, "0.00025"),
    (500, "0.0005"),
    (1_000, "0.001"),
    (2_500, "0.0025"),
    (5_000, "0.005"),
    (10_000, "0.01"),
    (25_000, "0.025"),
    (50_000, "0.05"),
    (100_000, "0.1"),
    (250_000, "0.25"),
    (1_000_000, "1"),
];

/// Observations of a duration.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket, not cumulative; the last is above every
    /// bound.
    buckets: [AtomicU64; BOUNDS.len() + 1],
    /// The sum of every observation, in nanoseconds (584 years' worth).
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// Counts one observation of `duration`.
    pub fn observe(&self, duration: Duration) {
        let micros = duration.as_micros();
        let bucket = BOUNDS
            .iter()
            .position(|(bound, _)| micros <= u128::from(*bound))
            .unwrap_or(BOUNDS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Writes the histogram's samples, named `name_bucket`, `name_sum`,
    /// `name_count`, each with `labels` (the family is started already).
    /// The count is the `+Inf` bucket, so the two always agree.
    pub fn write(&self, out: &mut Exposition, name: &str, labels: &[(&str, &str)]) {
        let bucket = format!("{name}_bucket");
        let mut with_le = labels.to_vec();
        with_le.push(("le", ""));
        let le = with_le.len() - 1;
        let mut cumulative = 0;
        for (i, (_, bound)) in BOUNDS.iter().enumerate() {
            cumulative += self.buckets[i].load(Ordering::Relaxed);
            with_le[le].1 = bound;
            out.sample(&bucket, &with_le, cumulative);
        }
        cumulative += self.buckets[BOUNDS.len()].load(Ordering::Relaxed);
        with_le[le].1 = "+Inf";
        out.sample(&bucket, &with_le, cumulative);
        let seconds = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        out.sample(&format!("{name}_sum"), labels, seconds);
        out.sample(&format!("{name}_count"), labels, cumulative);
    }
}

#[cfg(test)]
mod tests {
    use super::super::exposition::tests::parse;
    use super::super::exposition::{Exposition, Kind};
    use super::*;

    #[test]
    fn observations_land_in_cumulative_buckets_with_sum_and_count() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(30)); // <= 50 µs
        h.observe(Duration::from_micros(50)); // on a bound: in it
        h.observe(Duration::from_micros(700)); // <= 1 ms
        h.observe(Duration::from_secs(3)); // above every bound
        let mut out = Exposition::new();
        out.family("t_seconds", Kind::Histogram, "test");
        h.write(&mut out, "t_seconds", &[("to", "code")]);
        let samples = parse(&out.finish());
        let bucket = |le: &str| {
            samples
                .iter()
                .find(|(n, l, _)| n == "t_seconds_bucket" && l[1].1 == le)
                .map(|(_, l, v)| {
                    assert_eq!(l[0], ("to".into(), "code".into()));
                    v.clone()
                })
                .unwrap()
        };
        assert_eq!(bucket("0.00005"), "2");
        assert_eq!(bucket("0.0005"), "2");
        assert_eq!(bucket("0.001"), "3");
        assert_eq!(bucket("1"), "3");
        assert_eq!(bucket("+Inf"), "4");
        let value = |name: &str| {
            samples
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, _, v)| v.clone())
                .unwrap()
        };
        assert_eq!(value("t_seconds_count"), "4");
        let sum: f64 = value("t_seconds_sum").parse().unwrap();
        assert!((sum - 3.00078).abs() < 1e-9, "{sum}");
        // Buckets in increasing order of `le`, +Inf last.
        let les: Vec<f64> = samples
            .iter()
            .filter(|(n, _, _)| n == "t_seconds_bucket")
            .map(|(_, l, _)| l[1].1.replace("+Inf", "inf").parse().unwrap())
            .collect();
        assert!(les.windows(2).all(|w| w[0] < w[1]), "{les:?}");
        assert_eq!(les.len(), BOUNDS.len() + 1);
    }

    #[test]
    fn every_le_label_is_its_bound_in_seconds() {
        for (micros, le) in BOUNDS {
            let seconds: f64 = le.parse().unwrap();
            assert!((seconds * 1e6 - micros as f64).abs() < 1e-6, "{le}");
        }
    }
}
