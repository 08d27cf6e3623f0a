//! One synth voice: an oscillator per timbre and an envelope whose every stage moves smoothly.

use std::f32::consts::TAU;

/// The built-in instruments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timbre {
    /// Two-operator FM, bright attack that mellows.
    #[default]
    EPiano,
    /// Sine with a few harmonics, short decay to a firm sustain.
    Bass,
    /// Detuned triangles with a slow attack and long release.
    Pad,
    /// Kick, snare, hats and toms from sines and noise, by key.
    Drums,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum Stage {
    #[default]
    Off,
    Attack,
    Decay,
    Release,
}

/// Attack, decay and release in seconds; sustain as a level.
struct Adsr {
    attack: f32,
    decay: f32,
    sustain: f32,
    release: f32,
}

const FADE_SECS: f32 = 0.004;
const SILENT: f32 = 1e-4;

fn adsr(t: Timbre) -> Adsr {
    match t {
        Timbre::EPiano => Adsr {
            attack: 0.003,
            decay: 1.6,
            sustain: 0.0,
            release: 0.25,
        },
        Timbre::Bass => Adsr {
            attack: 0.004,
            decay: 0.25,
            sustain: 0.6,
            release: 0.08,
        },
        Timbre::Pad => Adsr {
            attack: 0.35,
            decay: 0.8,
            sustain: 0.75,
            release: 0.7,
        },
        Timbre::Drums => Adsr {
            attack: 0.001,
            decay: 1.5,
            sustain: 0.0,
            release: 0.05,
        },
    }
}

/// Per-sample factor of an exponential approach that covers ~99% of the way in `secs`.
fn coef(secs: f32, sr: f32) -> f32 {
    (-4.6 / (secs.max(1e-4) * sr)).exp()
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Voice {
    pub channel: u8,
    pub pitch: u8,
    pub age: u64,
    timbre: Timbre,
    stage: Stage,
    level: f32,
    attack_step: f32,
    decay_coef: f32,
    sustain: f32,
    release_coef: f32,
    amp: f32,
    freq: f32,
    phase: [f32; 3],
    t: f32,
    noise: u32,
    drum_decay: f32,
    drum_level: f32,
}

impl Voice {
    pub fn is_active(&self) -> bool {
        self.stage != Stage::Off
    }

    pub fn is_held(&self) -> bool {
        matches!(self.stage, Stage::Attack | Stage::Decay)
    }

    pub fn level(&self) -> f32 {
        self.level
    }

    /// Starts a note; a reused voice ramps from its current level, so it does not click.
    pub fn start(&mut self, timbre: Timbre, ch: u8, pitch: u8, vel: u8, age: u64, sr: f32) {
        let env = adsr(timbre);
        let was_active = self.is_active();
        *self = Voice {
            channel: ch,
            pitch,
            age,
            timbre,
            stage: Stage::Attack,
            level: if was_active { self.level } else { 0.0 },
            attack_step: 1.0 / (env.attack * sr),
            decay_coef: coef(env.decay, sr),
            sustain: env.sustain,
            release_coef: coef(env.release, sr),
            amp: (vel as f32 / 127.0).powf(1.5),
            freq: 440.0 * ((pitch as f32 - 69.0) / 12.0).exp2(),
            phase: [0.0, 0.25, 0.5],
            t: 0.0,
            noise: 0x9e37_79b9 ^ (pitch as u32) << 8 ^ age as u32,
            drum_decay: coef(drum_length(pitch), sr),
            drum_level: 1.0,
        };
    }

    pub fn release(&mut self, sr: f32) {
        if self.timbre == Timbre::Drums {
            return; // one-shots ring out
        }
        self.stage = Stage::Release;
        self.release_coef = self.release_coef.min(coef(adsr(self.timbre).release, sr));
    }

    /// A quick fade to silence (voice stealing, all-sound-off).
    pub fn fade(&mut self, sr: f32) {
        if self.is_active() {
            self.stage = Stage::Release;
            self.release_coef = coef(FADE_SECS, sr);
        }
    }

    fn envelope(&mut self) -> f32 {
        match self.stage {
            Stage::Off => return 0.0,
            Stage::Attack => {
                self.level += self.attack_step;
                if self.level >= 1.0 {
                    self.level = 1.0;
                    self.stage = Stage::Decay;
                }
            }
            Stage::Decay => {
                self.level = self.sustain + (self.level - self.sustain) * self.decay_coef;
                if self.sustain == 0.0 && self.level < SILENT {
                    self.stage = Stage::Off;
                }
            }
            Stage::Release => {
                self.level *= self.release_coef;
                if self.level < SILENT {
                    self.stage = Stage::Off;
                }
            }
        }
        if self.stage == Stage::Off {
            self.level = 0.0;
        }
        self.level
    }

    fn noise(&mut self) -> f32 {
        let mut x = self.noise;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.noise = x;
        (x as f32 / u32::MAX as f32) * 2.0 - 1.0
    }

    fn advance(&mut self, i: usize, freq: f32, sr: f32) -> f32 {
        let p = self.phase[i];
        self.phase[i] = (p + freq / sr).fract();
        p
    }

    pub fn next_sample(&mut self, sr: f32) -> f32 {
        let env = self.envelope();
        let f = self.freq;
        let t = self.t;
        self.t += 1.0 / sr;
        let osc = match self.timbre {
            Timbre::EPiano => {
                let m = self.advance(1, f, sr);
                let c = self.advance(0, f, sr);
                let index = 1.8 * (-t * 4.0).exp() + 0.2;
                (TAU * c + index * (TAU * m).sin()).sin()
            }
            Timbre::Bass => {
                let p = self.advance(0, f, sr) * TAU;
                p.sin() + 0.45 * (2.0 * p).sin() + 0.2 * (3.0 * p).sin()
            }
            Timbre::Pad => {
                let mut s = 0.0;
                for (i, detune) in [1.0, 1.004, 0.996].into_iter().enumerate() {
                    let p = self.advance(i, f * detune, sr);
                    s += 1.0 - 4.0 * (p - 0.5).abs();
                }
                s * 0.4
            }
            Timbre::Drums => self.drum(t, sr),
        };
        osc * env * self.amp
    }

    /// Drum sounds by General MIDI key, with their own decay under the envelope.
    fn drum(&mut self, t: f32, sr: f32) -> f32 {
        let body = self.level_drum();
        match self.pitch {
            35 | 36 => {
                let f = 50.0 + 110.0 * (-t * 30.0).exp();
                let p = self.advance(0, f, sr);
                (TAU * p).sin() * body * 1.6
            }
            37..=40 => {
                let p = self.advance(0, 185.0, sr);
                (0.5 * (TAU * p).sin() + 0.7 * self.noise()) * body
            }
            42 | 44 | 46 | 49..=59 => {
                // Difference of successive noise samples: a crude high-pass for metal.
                let a = self.noise();
                let b = self.noise();
                0.5 * (a - b) * body
            }
            _ => {
                let f = 90.0 + (self.pitch as f32 - 41.0).max(0.0) * 12.0;
                let p = self.advance(0, f, sr);
                ((TAU * p).sin() + 0.2 * self.noise()) * body
            }
        }
    }

    fn level_drum(&mut self) -> f32 {
        self.drum_level *= self.drum_decay;
        self.drum_level
    }
}

/// How long a drum key rings, in seconds.
fn drum_length(pitch: u8) -> f32 {
    match pitch {
        35 | 36 => 0.35,
        37..=40 => 0.18,
        42 | 44 => 0.05,
        46 => 0.3,
        49..=59 => 0.9,
        _ => 0.3,
    }
}
