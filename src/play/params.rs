//! Playing parameters that change live: the control side stores them in atomics, the scheduler
//! thread reads a snapshot before each event, so a change takes effect from the next event.

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

use super::scale::Scale;

/// A snapshot of the live parameters, as plain values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Tempo in BPM; `None` follows the source's own tempo map.
    pub tempo: Option<f64>,
    /// Delay of every second `swing_unit`, as a fraction of the unit: 0 is straight, 1/3 is
    /// triplet swing. Clamped to 0..=0.9.
    pub swing: f64,
    /// Swing unit in beats (0.5: eighths, 0.25: sixteenths).
    pub swing_unit: f64,
    /// Semitones added to every pitched (non-drum) note.
    pub transpose: i32,
    /// Factor on every velocity.
    pub velocity_scale: f64,
    /// Send every pitched note on this channel instead of its own.
    pub channel: Option<u8>,
    /// Program for every pitched channel instead of the source's.
    pub program: Option<u8>,
    /// Quantize pitched notes to this scale.
    pub scale: Option<Scale>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            tempo: None,
            swing: 0.0,
            swing_unit: 0.5,
            transpose: 0,
            velocity_scale: 1.0,
            channel: None,
            program: None,
            scale: None,
        }
    }
}

/// The live parameters, shared between the control side and the scheduler thread.
#[derive(Debug)]
pub struct LiveParams {
    tempo: AtomicU64,
    swing: AtomicU64,
    swing_unit: AtomicU64,
    transpose: AtomicI32,
    velocity_scale: AtomicU64,
    channel: AtomicI32,
    program: AtomicI32,
    scale: AtomicU32,
}

impl Default for LiveParams {
    fn default() -> Self {
        Self::new(Params::default())
    }
}

fn f(v: f64) -> AtomicU64 {
    AtomicU64::new(v.to_bits())
}

impl LiveParams {
    pub fn new(p: Params) -> Self {
        let lp = LiveParams {
            tempo: f(0.0),
            swing: f(0.0),
            swing_unit: f(0.5),
            transpose: AtomicI32::new(0),
            velocity_scale: f(1.0),
            channel: AtomicI32::new(-1),
            program: AtomicI32::new(-1),
            scale: AtomicU32::new(0),
        };
        lp.set(p);
        lp
    }

    /// Stores every parameter of `p`.
    pub fn set(&self, p: Params) {
        self.set_tempo(p.tempo);
        self.set_swing(p.swing, p.swing_unit);
        self.set_transpose(p.transpose);
        self.set_velocity_scale(p.velocity_scale);
        self.set_channel(p.channel);
        self.set_program(p.program);
        self.set_scale(p.scale);
    }

    pub fn set_tempo(&self, bpm: Option<f64>) {
        let v = bpm
            .filter(|b| b.is_finite())
            .map_or(0.0, |b| b.clamp(1.0, 1000.0));
        self.tempo.store(v.to_bits(), Ordering::Relaxed);
    }

    pub fn set_swing(&self, amount: f64, unit_beats: f64) {
        let amount = if amount.is_finite() {
            amount.clamp(0.0, 0.9)
        } else {
            0.0
        };
        let unit = if unit_beats.is_finite() && unit_beats > 0.0 {
            unit_beats
        } else {
            0.5
        };
        self.swing.store(amount.to_bits(), Ordering::Relaxed);
        self.swing_unit.store(unit.to_bits(), Ordering::Relaxed);
    }

    pub fn set_transpose(&self, semitones: i32) {
        self.transpose
            .store(semitones.clamp(-127, 127), Ordering::Relaxed);
    }

    pub fn set_velocity_scale(&self, scale: f64) {
        let v = if scale.is_finite() {
            scale.clamp(0.0, 4.0)
        } else {
            1.0
        };
        self.velocity_scale.store(v.to_bits(), Ordering::Relaxed);
    }

    pub fn set_channel(&self, channel: Option<u8>) {
        self.channel
            .store(channel.map_or(-1, |c| (c & 0x0f) as i32), Ordering::Relaxed);
    }

    pub fn set_program(&self, program: Option<u8>) {
        self.program
            .store(program.map_or(-1, |p| (p & 0x7f) as i32), Ordering::Relaxed);
    }

    pub fn set_scale(&self, scale: Option<Scale>) {
        self.scale
            .store(scale.map_or(0, |s| s.pack()), Ordering::Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> Params {
        let g = |a: &AtomicU64| f64::from_bits(a.load(Ordering::Relaxed));
        let tempo = g(&self.tempo);
        let opt = |v: i32| (v >= 0).then_some(v as u8);
        Params {
            tempo: (tempo > 0.0).then_some(tempo),
            swing: g(&self.swing),
            swing_unit: g(&self.swing_unit),
            transpose: self.transpose.load(Ordering::Relaxed),
            velocity_scale: g(&self.velocity_scale),
            channel: opt(self.channel.load(Ordering::Relaxed)),
            program: opt(self.program.load(Ordering::Relaxed)),
            scale: Scale::unpack(self.scale.load(Ordering::Relaxed)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::play::scale::Mode;

    #[test]
    fn snapshot_returns_what_was_set_clamped() {
        let lp = LiveParams::default();
        assert_eq!(lp.snapshot(), Params::default());
        let p = Params {
            tempo: Some(140.0),
            swing: 0.25,
            swing_unit: 0.25,
            transpose: -5,
            velocity_scale: 0.5,
            channel: Some(3),
            program: Some(33),
            scale: Some(Scale::new(2, Mode::Dorian)),
        };
        lp.set(p);
        assert_eq!(lp.snapshot(), p);
        lp.set_tempo(Some(f64::NAN));
        lp.set_swing(5.0, -1.0);
        let s = lp.snapshot();
        assert_eq!(s.tempo, None);
        assert_eq!((s.swing, s.swing_unit), (0.9, 0.5));
    }
}
