//! Notes and note sequences. Times are kept in beats (quarter notes) and in seconds; the tempo
//! map converts between them.

use serde::{Deserialize, Serialize};

/// General MIDI's percussion channel (channel 10, zero-based 9).
pub const DRUM_CHANNEL: u8 = 9;

/// Default tempo when a file gives none: 120 BPM.
pub const DEFAULT_MICROS_PER_BEAT: u32 = 500_000;

/// One sounding note.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// MIDI key number, 0..=127.
    pub pitch: u8,
    /// Note-on velocity, 1..=127.
    pub velocity: u8,
    /// Zero-based MIDI channel, 0..=15.
    pub channel: u8,
    /// General MIDI program (instrument) active on the channel at the onset.
    pub program: u8,
    /// Onset in beats (quarter notes) from the start of the piece.
    pub start: f64,
    /// Length in beats.
    pub duration: f64,
    /// Onset in seconds.
    pub start_secs: f64,
    /// Length in seconds.
    pub duration_secs: f64,
}

impl Note {
    /// A note given in beats; the times in seconds are filled in by [`NoteSeq::retime`].
    pub fn new(pitch: u8, velocity: u8, start: f64, duration: f64) -> Self {
        Note {
            pitch,
            velocity,
            channel: 0,
            program: 0,
            start,
            duration,
            start_secs: 0.0,
            duration_secs: 0.0,
        }
    }

    pub fn end(&self) -> f64 {
        self.start + self.duration
    }

    pub fn is_drum(&self) -> bool {
        self.channel == DRUM_CHANNEL
    }
}

/// A tempo that holds from `beat` until the next change.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TempoChange {
    pub beat: f64,
    pub micros_per_beat: u32,
}

impl TempoChange {
    pub fn bpm(&self) -> f64 {
        60_000_000.0 / self.micros_per_beat as f64
    }
}

/// Piecewise-constant tempo. Always starts with a change at beat 0. Saved as its list of
/// changes; the seconds at each change are derived whenever a map is built.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<TempoChange>", into = "Vec<TempoChange>")]
pub struct TempoMap {
    changes: Vec<TempoChange>,
    /// Seconds at each change, precomputed.
    secs: Vec<f64>,
}

impl From<Vec<TempoChange>> for TempoMap {
    fn from(changes: Vec<TempoChange>) -> Self {
        TempoMap::new(changes)
    }
}

impl From<TempoMap> for Vec<TempoChange> {
    fn from(map: TempoMap) -> Self {
        map.changes
    }
}

impl Default for TempoMap {
    fn default() -> Self {
        TempoMap::constant_micros(DEFAULT_MICROS_PER_BEAT)
    }
}

impl TempoMap {
    /// A map from changes in any order; a later change at the same beat wins, and a change at
    /// beat 0 at the default tempo is added when the first one starts later.
    pub fn new(mut changes: Vec<TempoChange>) -> Self {
        changes.retain(|c| c.micros_per_beat > 0 && c.beat.is_finite() && c.beat >= 0.0);
        changes.sort_by(|a, b| a.beat.total_cmp(&b.beat));
        let mut out: Vec<TempoChange> = Vec::with_capacity(changes.len() + 1);
        for c in changes {
            match out.last_mut() {
                Some(last) if last.beat == c.beat => *last = c,
                Some(last) if last.micros_per_beat == c.micros_per_beat => {}
                _ => out.push(c),
            }
        }
        if out.first().is_none_or(|c| c.beat > 0.0) {
            out.insert(
                0,
                TempoChange {
                    beat: 0.0,
                    micros_per_beat: DEFAULT_MICROS_PER_BEAT,
                },
            );
        }
        let mut map = TempoMap {
            changes: out,
            secs: Vec::new(),
        };
        map.precompute();
        map
    }

    pub fn constant_bpm(bpm: f64) -> Self {
        Self::constant_micros((60_000_000.0 / bpm.clamp(1.0, 1000.0)).round() as u32)
    }

    pub fn constant_micros(micros_per_beat: u32) -> Self {
        Self::new(vec![TempoChange {
            beat: 0.0,
            micros_per_beat,
        }])
    }

    fn precompute(&mut self) {
        self.secs.clear();
        let mut t = 0.0;
        for (i, c) in self.changes.iter().enumerate() {
            if i > 0 {
                let prev = &self.changes[i - 1];
                t += (c.beat - prev.beat) * prev.micros_per_beat as f64 / 1e6;
            }
            self.secs.push(t);
        }
    }

    pub fn changes(&self) -> &[TempoChange] {
        &self.changes
    }

    fn index_at_beat(&self, beat: f64) -> usize {
        self.changes
            .partition_point(|c| c.beat <= beat)
            .saturating_sub(1)
    }

    /// Seconds from the start at `beat`.
    pub fn seconds_at(&self, beat: f64) -> f64 {
        let i = self.index_at_beat(beat);
        let c = &self.changes[i];
        self.secs[i] + (beat - c.beat) * c.micros_per_beat as f64 / 1e6
    }

    /// Beats from the start at `secs` seconds.
    pub fn beat_at(&self, secs: f64) -> f64 {
        let i = self.secs.partition_point(|&s| s <= secs).saturating_sub(1);
        let c = &self.changes[i];
        c.beat + (secs - self.secs[i]) * 1e6 / c.micros_per_beat as f64
    }

    /// Tempo in BPM at `beat`.
    pub fn bpm_at(&self, beat: f64) -> f64 {
        self.changes[self.index_at_beat(beat)].bpm()
    }
}

/// A time signature that holds from `beat` (in quarter notes) until the next one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeSig {
    /// Onset in quarter-note beats.
    pub beat: f64,
    pub numerator: u8,
    pub denominator: u8,
}

impl TimeSig {
    /// Length of one bar in quarter-note beats.
    pub fn bar_beats(&self) -> f64 {
        self.numerator as f64 * 4.0 / self.denominator as f64
    }
}

/// A piece: notes sorted by onset, its tempo map and time signatures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoteSeq {
    pub notes: Vec<Note>,
    pub tempo: TempoMap,
    /// Sorted by beat; the first one is at beat 0 (4/4 if the file gives none).
    pub time_sigs: Vec<TimeSig>,
    /// Ticks per quarter note to use when writing (the file's own when it was read).
    pub ppq: u16,
    /// End of the piece in beats (at least the end of the last note).
    pub end: f64,
}

impl Default for NoteSeq {
    fn default() -> Self {
        NoteSeq {
            notes: Vec::new(),
            tempo: TempoMap::default(),
            time_sigs: vec![TimeSig {
                beat: 0.0,
                numerator: 4,
                denominator: 4,
            }],
            ppq: 480,
            end: 0.0,
        }
    }
}

impl NoteSeq {
    /// A piece from notes in beats at a constant tempo in 4/4.
    pub fn from_notes(notes: Vec<Note>, bpm: f64) -> Self {
        let mut seq = NoteSeq {
            notes,
            tempo: TempoMap::constant_bpm(bpm),
            ..NoteSeq::default()
        };
        seq.finish();
        seq
    }

    /// Sorts the notes, fills in their times in seconds and the end of the piece.
    pub fn finish(&mut self) {
        self.sort();
        self.retime();
        let last = self.notes.iter().map(Note::end).fold(0.0, f64::max);
        self.end = self.end.max(last);
    }

    /// Canonical order: onset, then channel, then pitch.
    pub fn sort(&mut self) {
        self.notes.sort_by(|a, b| {
            a.start
                .total_cmp(&b.start)
                .then(a.channel.cmp(&b.channel))
                .then(a.pitch.cmp(&b.pitch))
                .then(a.duration.total_cmp(&b.duration))
        });
    }

    /// Recomputes every note's times in seconds from its times in beats.
    pub fn retime(&mut self) {
        for n in &mut self.notes {
            let s = self.tempo.seconds_at(n.start);
            n.start_secs = s;
            n.duration_secs = self.tempo.seconds_at(n.end()) - s;
        }
    }

    /// Length in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.tempo.seconds_at(self.end)
    }

    /// The time signature in force at `beat`.
    pub fn time_sig_at(&self, beat: f64) -> TimeSig {
        let i = self
            .time_sigs
            .partition_point(|t| t.beat <= beat)
            .saturating_sub(1);
        self.time_sigs.get(i).copied().unwrap_or(TimeSig {
            beat: 0.0,
            numerator: 4,
            denominator: 4,
        })
    }

    /// Start of every bar (in beats, with its time signature) up to the end of the piece.
    pub fn bars(&self) -> Vec<(f64, TimeSig)> {
        let mut out = Vec::new();
        let mut beat = 0.0;
        loop {
            let ts = self.time_sig_at(beat);
            // A time signature that changes mid-bar starts a new bar where it changes.
            let next_change = self
                .time_sigs
                .iter()
                .map(|t| t.beat)
                .find(|&b| b > beat + 1e-9)
                .unwrap_or(f64::INFINITY);
            out.push((beat, ts));
            let next = (beat + ts.bar_beats()).min(next_change);
            if next >= self.end - 1e-9 {
                break;
            }
            beat = next;
        }
        out
    }

    /// Transposes every pitched (non-drum) note by `semitones`; `None` if one would leave 0..=127.
    pub fn transposed(&self, semitones: i32) -> Option<NoteSeq> {
        let mut out = self.clone();
        for n in &mut out.notes {
            if n.is_drum() {
                continue;
            }
            let p = n.pitch as i32 + semitones;
            if !(0..=127).contains(&p) {
                return None;
            }
            n.pitch = p as u8;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tempo_map_converts_both_ways() {
        let map = TempoMap::new(vec![
            TempoChange {
                beat: 0.0,
                micros_per_beat: 500_000,
            },
            TempoChange {
                beat: 4.0,
                micros_per_beat: 1_000_000,
            },
        ]);
        assert_eq!(map.seconds_at(4.0), 2.0);
        assert_eq!(map.seconds_at(6.0), 4.0);
        assert_eq!(map.beat_at(4.0), 6.0);
        assert_eq!(map.beat_at(1.0), 2.0);
        assert_eq!(map.bpm_at(5.0), 60.0);
        let back: TempoMap = serde_json::from_str(&serde_json::to_string(&map).unwrap()).unwrap();
        assert_eq!(back.seconds_at(6.0), 4.0);
    }

    #[test]
    fn bars_follow_time_signature_changes() {
        let mut seq = NoteSeq::from_notes(vec![Note::new(60, 80, 0.0, 10.0)], 120.0);
        seq.time_sigs = vec![
            TimeSig {
                beat: 0.0,
                numerator: 4,
                denominator: 4,
            },
            TimeSig {
                beat: 4.0,
                numerator: 6,
                denominator: 8,
            },
        ];
        let starts: Vec<f64> = seq.bars().iter().map(|b| b.0).collect();
        assert_eq!(starts, vec![0.0, 4.0, 7.0]);
    }
}
