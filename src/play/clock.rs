//! One monotonic clock for the whole player, read as seconds since its origin, with sleeps to
//! absolute deadlines (a sleep per note would add up its wake-up errors and drift).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A source of time in seconds since some origin.
pub trait Clock: Send + Sync {
    fn now(&self) -> f64;
    /// Blocks until `deadline` (seconds since the origin); returns at once if it has passed.
    fn sleep_until(&self, deadline: f64);
}

/// `CLOCK_MONOTONIC`, slept on with `clock_nanosleep(TIMER_ABSTIME)`.
#[derive(Clone, Copy, Debug)]
pub struct MonotonicClock {
    origin_ns: u64,
}

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl MonotonicClock {
    pub fn new() -> Self {
        MonotonicClock {
            origin_ns: monotonic_ns(),
        }
    }

    /// The same clock, as an `Arc<dyn Clock>`.
    pub fn shared() -> Arc<dyn Clock> {
        Arc::new(Self::new())
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> f64 {
        monotonic_ns().saturating_sub(self.origin_ns) as f64 * 1e-9
    }

    fn sleep_until(&self, deadline: f64) {
        if deadline.is_nan() || deadline <= 0.0 {
            return;
        }
        let abs = self.origin_ns + (deadline * 1e9) as u64;
        let ts = libc::timespec {
            tv_sec: (abs / 1_000_000_000) as libc::time_t,
            tv_nsec: (abs % 1_000_000_000) as libc::c_long,
        };
        loop {
            // SAFETY: `ts` is a valid timespec; the remaining-time pointer may be null with
            // TIMER_ABSTIME.
            let rc = unsafe {
                libc::clock_nanosleep(
                    libc::CLOCK_MONOTONIC,
                    libc::TIMER_ABSTIME,
                    &ts,
                    std::ptr::null_mut(),
                )
            };
            if rc != libc::EINTR {
                break;
            }
        }
    }
}

/// A clock that moves only when told to, for tests. Sleeping jumps it exactly to the deadline.
#[derive(Debug, Default)]
pub struct FakeClock {
    secs: AtomicU64,
}

impl FakeClock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&self, secs: f64) {
        self.secs.store(secs.to_bits(), Ordering::SeqCst);
    }

    pub fn advance(&self, by: Duration) {
        self.set(self.now() + by.as_secs_f64());
    }
}

impl Clock for FakeClock {
    fn now(&self) -> f64 {
        f64::from_bits(self.secs.load(Ordering::SeqCst))
    }

    fn sleep_until(&self, deadline: f64) {
        if deadline > self.now() {
            self.set(deadline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_clock_sleeps_to_absolute_deadlines() {
        let c = MonotonicClock::new();
        let start = c.now();
        for i in 1..=5 {
            let deadline = start + i as f64 * 0.002;
            c.sleep_until(deadline);
            assert!(c.now() >= deadline, "woke before deadline {i}");
        }
        // A deadline in the past returns at once.
        let before = c.now();
        c.sleep_until(0.0);
        assert!(c.now() - before < 0.5);
    }

    #[test]
    fn fake_clock_moves_only_when_told() {
        let c = FakeClock::new();
        assert_eq!(c.now(), 0.0);
        c.advance(Duration::from_millis(250));
        assert_eq!(c.now(), 0.25);
        c.sleep_until(1.5);
        assert_eq!(c.now(), 1.5);
        c.sleep_until(1.0);
        assert_eq!(c.now(), 1.5);
    }
}
