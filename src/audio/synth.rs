//! The built-in synth: polyphonic with a voice limit, a few timbres chosen by General MIDI program
//! (electric piano, bass, pad, drums), envelopes that never jump, so nothing clicks. Everything is
//! preallocated: `handle` and `render` never allocate, so they can run in the audio callback.

use crate::music::DRUM_CHANNEL;
use crate::play::msg::{MidiMsg, CC_ALL_NOTES_OFF, CC_ALL_SOUND_OFF};

use super::voice::{Timbre, Voice};

/// Voices that may sound at once before the oldest is faded out to make room.
pub const DEFAULT_VOICE_LIMIT: usize = 24;
/// Physical voices: room for the limit plus notes still fading out.
const SLOTS: usize = 64;

/// The instrument for a channel and program.
pub fn timbre_for(channel: u8, program: u8) -> Timbre {
    match (channel, program) {
        (DRUM_CHANNEL, _) => Timbre::Drums,
        (_, 32..=39) => Timbre::Bass,
        (_, 40..=55) | (_, 88..=95) => Timbre::Pad,
        _ => Timbre::EPiano,
    }
}

pub struct Synth {
    sample_rate: f32,
    voices: [Voice; SLOTS],
    programs: [u8; 16],
    voice_limit: usize,
    age: u64,
    gain: f32,
}

impl Synth {
    pub fn new(sample_rate: u32) -> Self {
        Synth {
            sample_rate: sample_rate as f32,
            voices: [Voice::default(); SLOTS],
            programs: [0; 16],
            voice_limit: DEFAULT_VOICE_LIMIT,
            age: 0,
            gain: 0.25,
        }
    }

    pub fn with_voice_limit(mut self, limit: usize) -> Self {
        self.voice_limit = limit.clamp(1, SLOTS / 2);
        self
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate as u32
    }

    /// Voices not yet released.
    pub fn held_voices(&self) -> usize {
        self.voices.iter().filter(|v| v.is_held()).count()
    }

    /// Voices making any sound (held or fading out).
    pub fn active_voices(&self) -> usize {
        self.voices.iter().filter(|v| v.is_active()).count()
    }

    /// Applies one MIDI message.
    pub fn handle(&mut self, msg: MidiMsg) {
        if let Some((ch, pitch, vel)) = msg.as_note_on() {
            self.note_on(ch, pitch, vel);
        } else if let Some((ch, pitch)) = msg.as_note_off() {
            for v in self.voices.iter_mut() {
                if v.is_held() && v.channel == ch && v.pitch == pitch {
                    v.release(self.sample_rate);
                }
            }
        } else if let Some((ch, prog)) = msg.as_program() {
            self.programs[ch as usize] = prog;
        } else if let Some((ch, cc, _)) = msg.as_control() {
            if cc == CC_ALL_NOTES_OFF || cc == CC_ALL_SOUND_OFF {
                let fast = cc == CC_ALL_SOUND_OFF;
                for v in self.voices.iter_mut().filter(|v| v.channel == ch) {
                    if fast {
                        v.fade(self.sample_rate);
                    } else if v.is_held() {
                        v.release(self.sample_rate);
                    }
                }
            }
        }
    }

    fn note_on(&mut self, ch: u8, pitch: u8, vel: u8) {
        let sr = self.sample_rate;
        // Over the limit: fade out the oldest held voice (a few ms, no click).
        if self.held_voices() >= self.voice_limit {
            if let Some(v) = self
                .voices
                .iter_mut()
                .filter(|v| v.is_held())
                .min_by_key(|v| v.age)
            {
                v.fade(sr);
            }
        }
        let slot = match self.voices.iter().position(|v| !v.is_active()) {
            Some(i) => i,
            // Every slot still fading: reuse the quietest.
            None => self
                .voices
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.level().total_cmp(&b.1.level()))
                .map_or(0, |(i, _)| i),
        };
        self.age += 1;
        let timbre = timbre_for(ch, self.programs[ch as usize]);
        self.voices[slot].start(timbre, ch, pitch, vel, self.age, sr);
    }

    /// Renders interleaved frames of `channels` channels into `out` (overwriting it).
    pub fn render(&mut self, out: &mut [f32], channels: usize) {
        let channels = channels.max(1);
        for frame in out.chunks_mut(channels) {
            let mut x = 0.0;
            for v in self.voices.iter_mut() {
                if v.is_active() {
                    x += v.next_sample(self.sample_rate);
                }
            }
            // Gentle saturation keeps dense chords below full scale without a hard clip.
            let y = (x * self.gain).tanh();
            frame.fill(y);
        }
    }
}

#[cfg(test)]
#[path = "synth_tests.rs"]
mod tests;
