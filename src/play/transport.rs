//! Beats and seconds: the transport (an anchor and a tempo), swing as a warp of the beat line,
//! and bar:beat positions across time-signature changes. Pure functions, no clock.

use crate::music::TimeSig;

/// Beats to seconds: `beat` falls on `secs`, and the tempo holds from there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transport {
    pub anchor_secs: f64,
    pub anchor_beat: f64,
    pub bpm: f64,
}

impl Transport {
    pub fn secs_at(&self, beat: f64) -> f64 {
        self.anchor_secs + (beat - self.anchor_beat) * 60.0 / self.bpm
    }

    pub fn beat_at(&self, secs: f64) -> f64 {
        self.anchor_beat + (secs - self.anchor_secs) * self.bpm / 60.0
    }

    /// A new tempo from `secs` on.
    pub fn retempo(&mut self, secs: f64, bpm: f64) {
        self.anchor_beat = self.beat_at(secs);
        self.anchor_secs = secs;
        self.bpm = bpm;
    }
}

/// Moves every second `unit` later by `amount * unit`, stretching the first half of each pair of
/// units and squeezing the second, so the mapping stays continuous and increasing.
pub fn swing_beat(beat: f64, amount: f64, unit: f64) -> f64 {
    if amount <= 0.0 || unit <= 0.0 {
        return beat;
    }
    let cell = 2.0 * unit;
    let base = (beat / cell).floor() * cell;
    let p = beat - base;
    let mid = unit * (1.0 + amount);
    if p < unit {
        base + p * (1.0 + amount)
    } else {
        base + mid + (p - unit) * (1.0 - amount)
    }
}

/// 1-based bar and beat within the bar (in quarter notes, 1-based, fractional) at `beat`.
pub fn bar_beat(beat: f64, sigs: &[TimeSig]) -> (u32, f64) {
    let default = TimeSig {
        beat: 0.0,
        numerator: 4,
        denominator: 4,
    };
    let (mut bar, mut start, mut i) = (1u32, 0.0, 0);
    loop {
        let sig = sigs.get(i).copied().unwrap_or(default);
        let len = sig.bar_beats().max(1e-6);
        let next_sig = sigs.get(i + 1).map_or(f64::INFINITY, |s| s.beat);
        if beat < next_sig - 1e-9 {
            let bars = ((beat - start) / len + 1e-9).floor().max(0.0);
            return (bar + bars as u32, beat - start - bars * len + 1.0);
        }
        // A signature change mid-bar starts a new bar, so a partial bar counts as one.
        bar += ((next_sig - start) / len - 1e-9).ceil().max(0.0) as u32;
        start = next_sig;
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_maps_both_ways_and_retempos_in_place() {
        let mut t = Transport {
            anchor_secs: 10.0,
            anchor_beat: 0.0,
            bpm: 120.0,
        };
        assert_eq!(t.secs_at(4.0), 12.0);
        assert_eq!(t.beat_at(11.0), 2.0);
        t.retempo(11.0, 60.0);
        assert_eq!((t.anchor_beat, t.anchor_secs), (2.0, 11.0));
        assert_eq!(t.secs_at(3.0), 12.0);
    }

    #[test]
    fn swing_is_continuous_and_increasing() {
        let mut last = -1.0;
        for i in 0..400 {
            let b = i as f64 / 100.0;
            let w = swing_beat(b, 0.4, 0.5);
            assert!(w > last, "not increasing at {b}");
            assert!((w - b).abs() <= 0.2 + 1e-12);
            last = w;
        }
        assert_eq!(swing_beat(1.0, 0.4, 0.5), 1.0);
    }

    #[test]
    fn bar_beat_counts_bars_across_signature_changes() {
        let sigs = [
            TimeSig {
                beat: 0.0,
                numerator: 4,
                denominator: 4,
            },
            TimeSig {
                beat: 6.0,
                numerator: 3,
                denominator: 4,
            },
        ];
        assert_eq!(bar_beat(0.0, &sigs), (1, 1.0));
        assert_eq!(bar_beat(5.5, &sigs), (2, 2.5));
        assert_eq!(bar_beat(6.0, &sigs), (3, 1.0));
        assert_eq!(bar_beat(10.0, &sigs), (4, 2.0));
        assert_eq!(bar_beat(9.0, &[]), (3, 2.0));
    }
}
