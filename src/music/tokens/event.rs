//! Event tokens (REMI-style), ours, so that rhythm survives: `Bar_<sig>`, `Pos_<step>`,
//! `[Prog_<p>]`, `Pitch_<key>` or `Drum_<key>`, `Dur_<steps>`, `Vel_<bin>`, on a grid of 12 steps
//! per beat (16ths, triplets, swing and 6/8 all fit).

use serde::{Deserialize, Serialize};

use super::{Token, TokenError, Tokenizer};
use crate::music::{Note, NoteSeq, TimeSig, DRUM_CHANNEL};

/// Grid steps per quarter-note beat.
pub const STEPS_PER_BEAT: u32 = 12;
/// Longest bar a `Bar` token can describe, in steps (8 quarter notes); longer or odd time
/// signatures are written as 4/4 bars, which keeps every onset exact.
const MAX_BAR_STEPS: u32 = 96;
const VELOCITY_BINS: u8 = 32;

/// Settings of the event tokenizer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventConfig {
    /// Emit `Prog_<p>` before notes whose instrument differs from the previous note's.
    pub programs: bool,
    /// Keep drum notes (channel 10) as `Drum_<key>` tokens; otherwise they are dropped.
    pub drums: bool,
    /// Start each piece with `Style_<label>`.
    pub styles: bool,
}

impl EventConfig {
    /// Programs and drums on: for genre work, where instruments and drums carry the style.
    pub fn full() -> Self {
        EventConfig {
            programs: true,
            drums: true,
            styles: true,
        }
    }
}

pub struct EventTokenizer {
    config: EventConfig,
    durations: Vec<u16>,
}

/// Every duration a `Dur` token can hold, in steps: each step up to 8 beats, each beat up to 32,
/// each 4 beats up to 64.
fn duration_table() -> Vec<u16> {
    let mut d: Vec<u16> = (1..=96).collect();
    d.extend((108..=384).step_by(12));
    d.extend((432..=768).step_by(48));
    d
}

/// Time signatures a `Bar` token can describe.
fn bar_signatures() -> Vec<(u8, u8)> {
    let mut out = Vec::new();
    for den in [2u8, 4, 8, 16] {
        for num in 1..=16u8 {
            if bar_steps(num, den).is_some() {
                out.push((num, den));
            }
        }
    }
    out
}

/// Bar length in grid steps of a time signature; `None` for odd or over-long signatures.
pub(crate) fn bar_steps(num: u8, den: u8) -> Option<u32> {
    let total = num as u32 * 4 * STEPS_PER_BEAT;
    (matches!(den, 2 | 4 | 8 | 16) && num > 0 && total.is_multiple_of(den as u32))
        .then(|| total / den as u32)
        .filter(|&s| s <= MAX_BAR_STEPS)
}

/// The velocity a bin stands for.
pub fn velocity_of_bin(bin: u8) -> u8 {
    (bin.min(VELOCITY_BINS - 1) * 4 + 2).clamp(1, 127)
}

pub fn bin_of_velocity(v: u8) -> u8 {
    (v / 4).min(VELOCITY_BINS - 1)
}

fn to_steps(beats: f64) -> i64 {
    (beats * STEPS_PER_BEAT as f64).round() as i64
}

/// The bar lines of a piece in steps: a time signature takes effect at the first bar line at or
/// after the point where it is set.
fn bar_lines(sigs: &[TimeSig], until: i64) -> Vec<(i64, u8, u8, u32)> {
    let mut out = Vec::new();
    let mut at = 0i64;
    let mut sig_i = 0;
    let (mut num, mut den) = (4u8, 4u8);
    while at < until || out.is_empty() {
        while sig_i < sigs.len() && to_steps(sigs[sig_i].beat) <= at {
            num = sigs[sig_i].numerator;
            den = sigs[sig_i].denominator;
            sig_i += 1;
        }
        let (n, d, len) = match bar_steps(num, den) {
            Some(len) => (num, den, len),
            None => (4, 4, 4 * STEPS_PER_BEAT),
        };
        out.push((at, n, d, len));
        at += len as i64;
    }
    out
}

impl EventTokenizer {
    pub fn new(config: EventConfig) -> Self {
        EventTokenizer {
            config,
            durations: duration_table(),
        }
    }

    /// The representable duration nearest to `steps` (ties go to the shorter).
    fn nearest_duration(&self, steps: i64) -> u16 {
        let s = steps.clamp(1, u16::MAX as i64) as u16;
        let i = self.durations.partition_point(|&d| d < s);
        match (self.durations.get(i.wrapping_sub(1)), self.durations.get(i)) {
            (Some(&lo), Some(&hi)) => {
                if s - lo <= hi - s {
                    lo
                } else {
                    hi
                }
            }
            (Some(&lo), None) => lo,
            (None, Some(&hi)) => hi,
            (None, None) => 1,
        }
    }
}

impl Tokenizer for EventTokenizer {
    fn name(&self) -> &'static str {
        "event"
    }

    fn encode(&self, seq: &NoteSeq, style: Option<&str>) -> Result<Vec<Token>, TokenError> {
        // (onset step, drum, program, pitch, duration steps, velocity bin)
        let mut notes: Vec<(i64, bool, u8, u8, u16, u8)> = seq
            .notes
            .iter()
            .filter(|n| self.config.drums || !n.is_drum())
            .map(|n| {
                let start = to_steps(n.start).max(0);
                let dur = self.nearest_duration(to_steps(n.end()) - to_steps(n.start));
                let program = if self.config.programs && !n.is_drum() {
                    n.program
                } else {
                    0
                };
                (
                    start,
                    n.is_drum(),
                    program,
                    n.pitch,
                    dur,
                    bin_of_velocity(n.velocity),
                )
            })
            .collect();
        notes.sort_unstable();
        notes.dedup_by_key(|n| (n.0, n.1, n.2, n.3));

        let mut out = Vec::with_capacity(notes.len() * 4 + 16);
        if self.config.styles {
            out.push(Token::Style(
                style.ok_or(TokenError::MissingStyle)?.to_string(),
            ));
        }
        let until = notes.iter().map(|n| n.0 + 1).max().unwrap_or(0);
        let mut k = 0;
        let mut program: Option<u8> = None;
        for (bar_start, num, den, len) in bar_lines(&seq.time_sigs, until) {
            out.push(Token::Bar { num, den });
            let bar_end = bar_start + len as i64;
            let mut last_pos = None;
            while k < notes.len() && notes[k].0 < bar_end {
                let (start, drum, prog, key, dur, vel) = notes[k];
                let pos = (start - bar_start) as u16;
                if last_pos != Some(pos) {
                    out.push(Token::Pos(pos));
                    last_pos = Some(pos);
                }
                if drum {
                    out.push(Token::Drum(key));
                } else {
                    if self.config.programs && program != Some(prog) {
                        out.push(Token::Program(prog));
                        program = Some(prog);
                    }
                    out.push(Token::Pitch(key));
                }
                out.push(Token::Dur(dur));
                out.push(Token::Vel(vel));
                k += 1;
            }
        }
        Ok(out)
    }

    fn decode(&self, tokens: &[Token]) -> NoteSeq {
        let mut notes = Vec::new();
        let mut time_sigs: Vec<TimeSig> = Vec::new();
        let mut bar_start: Option<i64> = None;
        let mut bar_len = 4 * STEPS_PER_BEAT as i64;
        let mut pos = 0i64;
        let mut program = 0u8;
        // A note under construction: (drum, key), then its duration.
        let mut pending: Option<(bool, u8)> = None;
        let mut pending_dur: Option<u16> = None;
        // Channels for programs in order of first use, skipping the drum channel.
        let mut channels: Vec<u8> = Vec::new();
        for t in tokens {
            match *t {
                Token::Bar { num, den } => {
                    let len = bar_steps(num, den).unwrap_or(4 * STEPS_PER_BEAT) as i64;
                    let start = bar_start.map_or(0, |s| s + bar_len);
                    let beat = start as f64 / STEPS_PER_BEAT as f64;
                    if time_sigs
                        .last()
                        .is_none_or(|ts| ts.numerator != num || ts.denominator != den)
                    {
                        time_sigs.push(TimeSig {
                            beat,
                            numerator: num,
                            denominator: den,
                        });
                    }
                    bar_start = Some(start);
                    bar_len = len;
                    pos = 0;
                    pending = None;
                }
                Token::Pos(p) if (p as i64) < bar_len => {
                    pos = p as i64;
                    pending = None;
                }
                Token::Program(p) => program = p,
                Token::Pitch(k) => {
                    pending = Some((false, k));
                    pending_dur = None;
                }
                Token::Drum(k) => {
                    pending = Some((true, k));
                    pending_dur = None;
                }
                Token::Dur(d) if pending.is_some() => pending_dur = Some(d),
                Token::Vel(v) => {
                    if let (Some((drum, key)), Some(dur)) = (pending.take(), pending_dur.take()) {
                        let channel =
                            if drum {
                                DRUM_CHANNEL
                            } else if !self.config.programs {
                                0
                            } else {
                                let i = channels.iter().position(|&p| p == program).unwrap_or_else(
                                    || {
                                        channels.push(program);
                                        channels.len() - 1
                                    },
                                );
                                let ch = if i >= DRUM_CHANNEL as usize { i + 1 } else { i };
                                ch.min(15) as u8
                            };
                        let onset = bar_start.unwrap_or(0) + pos;
                        let mut n = Note::new(
                            key,
                            velocity_of_bin(v),
                            onset as f64 / STEPS_PER_BEAT as f64,
                            dur as f64 / STEPS_PER_BEAT as f64,
                        );
                        n.channel = channel;
                        n.program = if drum { 0 } else { program };
                        notes.push(n);
                    }
                }
                _ => {}
            }
        }
        if time_sigs.is_empty() {
            time_sigs.push(TimeSig {
                beat: 0.0,
                numerator: 4,
                denominator: 4,
            });
        }
        let bars_end = bar_start.map_or(0, |s| s + bar_len) as f64 / STEPS_PER_BEAT as f64;
        let mut seq = NoteSeq {
            notes,
            time_sigs,
            end: bars_end,
            ..NoteSeq::default()
        };
        seq.finish();
        seq
    }

    fn fixed_vocab(&self) -> Option<Vec<Token>> {
        let mut v: Vec<Token> = bar_signatures()
            .into_iter()
            .map(|(num, den)| Token::Bar { num, den })
            .collect();
        v.extend((0..MAX_BAR_STEPS as u16).map(Token::Pos));
        if self.config.programs {
            v.extend((0..128).map(Token::Program));
        }
        v.extend((0..128).map(Token::Pitch));
        if self.config.drums {
            v.extend((0..128).map(Token::Drum));
        }
        v.extend(self.durations.iter().map(|&d| Token::Dur(d)));
        v.extend((0..VELOCITY_BINS).map(Token::Vel));
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_of_four_quarters() {
        let seq = NoteSeq::from_notes(
            (0..4)
                .map(|i| Note::new(60 + i, 80, i as f64, 1.0))
                .collect(),
            120.0,
        );
        let tk = EventTokenizer::new(EventConfig::default());
        let text: Vec<String> = tk
            .encode(&seq, None)
            .unwrap()
            .iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(
            text[..5],
            ["Bar_4/4", "Pos_0", "Pitch_60", "Dur_12", "Vel_20"]
        );
        assert_eq!(text.len(), 1 + 4 * 4);
    }

    #[test]
    fn durations_snap_to_the_table() {
        let tk = EventTokenizer::new(EventConfig::default());
        assert_eq!(tk.nearest_duration(0), 1);
        assert_eq!(tk.nearest_duration(96), 96);
        assert_eq!(tk.nearest_duration(100), 96);
        assert_eq!(tk.nearest_duration(103), 108);
        assert_eq!(tk.nearest_duration(5000), 768);
    }

    #[test]
    fn vocab_covers_what_encode_emits() {
        let tk = EventTokenizer::new(EventConfig::full());
        let vocab = tk.fixed_vocab().unwrap();
        assert!(vocab.contains(&Token::Bar { num: 6, den: 8 }));
        assert!(vocab.contains(&Token::Drum(36)));
        assert!(vocab.contains(&Token::Pos(95)));
        assert!(!vocab.contains(&Token::Pos(96)));
    }
}
