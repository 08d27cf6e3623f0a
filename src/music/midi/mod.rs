//! Standard MIDI files in and out: every track and channel, tempo map, time signatures, PPQ and
//! SMPTE divisions, programs per channel. Reading is our own tolerant parser (damaged tracks are
//! read past their damage and the damage is reported); writing goes through midly.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use super::note::{Note, NoteSeq, TempoChange, TempoMap, TimeSig};

mod track;
mod write;

use track::*;
pub use write::{to_bytes, write_file};

/// No event may lie further out than this (about 14 hours at 120 BPM); a file that says otherwise
/// has a corrupt delta time, and believing it would make tokenizers emit millions of empty bars.
pub const MAX_BEATS: f64 = 100_000.0;

/// Ticks per quarter note for files we write from scratch (divisible by 12 and 16).
pub const DEFAULT_PPQ: u16 = 480;

/// The largest file read as MIDI. Real MIDI files are at most a few MiB; anything bigger is
/// something else (a disk image, `/dev/zero` behind a link) and reading it whole would only
/// exhaust memory.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// What is wrong with a MIDI file, without the file's name.
#[derive(Debug, thiserror::Error)]
pub enum MidiProblem {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file ({0}); only regular files are read as MIDI")]
    NotAFile(&'static str),
    #[error("larger than {} MiB (not a MIDI file?)", MAX_FILE_BYTES >> 20)]
    TooLarge,
    #[error("empty file (0 bytes)")]
    Empty,
    #[error("not a MIDI file (no MThd header)")]
    NotMidi,
    #[error("truncated: {0}")]
    Truncated(String),
    #[error("format 2 (sequential tracks) is not supported; convert it to format 1")]
    Format2,
    #[error("corrupt: {0}")]
    Corrupt(String),
    #[error("event at beat {0:.0} is past the {MAX_BEATS}-beat limit (corrupt delta time?)")]
    TooLong(f64),
    #[error("cannot write: {0}")]
    Write(String),
}

/// A MIDI problem with the file it came from: displays as one line, `FILE: problem`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct MidiError {
    pub path: PathBuf,
    pub problem: MidiProblem,
}

/// What the reader stepped over in damaged tracks. A strict reader stops a track at its first bad
/// event and keeps nothing after it; we skip the bad bytes, carry on at the next event that makes
/// sense, and count what was skipped so the file gets a warning instead of silently losing notes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Damage {
    /// Bytes that could not start an event (a data byte with no running status to apply it to,
    /// a meta or sysex event whose length runs past its track...), skipped up to the next byte
    /// that starts a plausible event.
    pub stray_bytes: usize,
    /// System common and real-time messages (0xF1-0xFE): they belong on a cable, not in a file,
    /// and are stepped over with their data bytes.
    pub system_messages: usize,
    /// Channel messages with a data byte of 128 or more, dropped whole.
    pub bad_messages: usize,
    /// Delta times longer than the 4 bytes a variable-length number may take.
    pub bad_deltas: usize,
    /// Tracks that end in the middle of an event.
    pub cut_tracks: usize,
    /// Events (an end of track included) past [`MAX_BEATS`], where a corrupt delta time sent
    /// the rest of their track.
    pub past_limit: usize,
    /// A format number other than 0, 1 or 2 in the header (read as format 1).
    pub bad_format: Option<u16>,
    /// The damaged tracks, numbered from 1 in file order.
    pub tracks: Vec<usize>,
}

impl Damage {
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty() && self.bad_format.is_none()
    }

    /// The one warning line for damaged tracks.
    fn line(&self) -> String {
        let mut parts = Vec::new();
        let mut part = |n: usize, what: &str| {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        };
        part(self.stray_bytes, "unreadable byte(s) skipped");
        part(
            self.system_messages,
            "system message(s) (0xF1-0xFE) ignored",
        );
        part(
            self.bad_messages,
            "message(s) with a data byte over 127 dropped",
        );
        part(self.bad_deltas, "delta time(s) longer than 4 bytes");
        part(self.cut_tracks, "track(s) cut off inside an event");
        part(
            self.past_limit,
            &format!("event(s) past the {MAX_BEATS}-beat limit ignored (corrupt delta time?)"),
        );
        const SHOWN: usize = 8;
        let mut tracks: Vec<String> = self
            .tracks
            .iter()
            .take(SHOWN)
            .map(|t| t.to_string())
            .collect();
        if self.tracks.len() > SHOWN {
            tracks.push(format!("and {} more", self.tracks.len() - SHOWN));
        }
        format!(
            "damaged track data in track(s) {}: {}; notes there may be missing or wrong",
            tracks.join(", "),
            parts.join(", ")
        )
    }
}

/// A piece read from a file, with what was odd about it.
#[derive(Clone, Debug)]
pub struct MidiRead {
    pub seq: NoteSeq,
    /// Notes never switched off: closed at the next note-on of their key (as a synth would) or
    /// at the end of their track.
    pub unterminated: usize,
    pub tracks: usize,
    /// What was skipped in damaged tracks (empty for a sound file).
    pub damage: Damage,
    /// Note-offs with no note of their key sounding.
    pub unmatched_offs: usize,
}

impl MidiRead {
    /// One line per oddity worth a warning.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.unterminated > 0 {
            w.push(format!(
                "{} note(s) never switched off, closed at the next note of their key or the end of their track",
                self.unterminated
            ));
        }
        // A few stray note-offs are common (a doubled off, an off for a note cut by a retrigger);
        // many of them mean a damaged status byte turned a run of notes into note-offs.
        if self.unmatched_offs >= 8 && self.unmatched_offs * 20 > self.seq.notes.len() {
            w.push(format!(
                "{} note-off(s) for notes not sounding (a damaged status byte turns a run of notes into note-offs)",
                self.unmatched_offs
            ));
        }
        if let Some(f) = self.damage.bad_format {
            w.push(format!(
                "header gives format {f} (only 0, 1 and 2 exist); read as format 1"
            ));
        }
        if !self.damage.tracks.is_empty() {
            w.push(self.damage.line());
        }
        w
    }
}

/// The bytes of a file to be read as MIDI: only a regular file, and at most [`MAX_FILE_BYTES`],
/// so a FIFO cannot block the caller and a device cannot fill its memory. The corpus loader
/// reads through this too.
pub fn file_bytes(path: &Path) -> Result<Vec<u8>, MidiError> {
    use crate::fsx::ReadError;
    crate::fsx::read_regular(path, MAX_FILE_BYTES).map_err(|e| MidiError {
        path: path.to_path_buf(),
        problem: match e {
            ReadError::Io(e) => MidiProblem::Io(e),
            ReadError::NotAFile(kind) => MidiProblem::NotAFile(kind),
            ReadError::TooLarge => MidiProblem::TooLarge,
        },
    })
}

/// Reads a MIDI file from disk.
pub fn read_file(path: &Path) -> Result<MidiRead, MidiError> {
    let bytes = file_bytes(path)?;
    read_bytes(&bytes).map_err(|problem| MidiError {
        path: path.to_path_buf(),
        problem,
    })
}

/// Checks the chunk structure before the tracks are read, so a cut-off file is an error rather
/// than a silently shortened piece.
/// Reads a MIDI file from memory.
pub fn read_bytes(bytes: &[u8]) -> Result<MidiRead, MidiProblem> {
    let bytes = if bytes.starts_with(b"RIFF") {
        unwrap_riff(bytes)?
    } else {
        bytes
    };
    check_chunks(bytes)?;
    // check_chunks saw a 14-byte header with a length of at least 6.
    let format = be16(bytes, 8);
    if format == 2 {
        return Err(MidiProblem::Format2);
    }
    let division = match be16(bytes, 12) {
        d if d & 0x8000 == 0 => Division::Metrical(d),
        d => {
            // The high byte is minus the frame rate; 29 means 30 drop-frame (29.97).
            let fps: f32 = match (d >> 8) as u8 as i8 {
                -24 => 24.0,
                -25 => 25.0,
                -29 => 30.0 / 1.001,
                -30 => 30.0,
                n => {
                    return Err(MidiProblem::Corrupt(format!(
                        "SMPTE division with {} frames per second (only 24, 25, 29 and 30 exist)",
                        -(n as i32)
                    )))
                }
            };
            Division::Timecode((fps as f64 * (d & 0xFF).max(1) as f64).max(1.0))
        }
    };

    let Parsed {
        mut events,
        mut track_end,
        mut damage,
    } = parse_tracks(bytes);
    if format > 2 {
        // A damaged header: the tracks are still there, and most files are format 1.
        damage.bad_format = Some(format);
    }
    // Merge all tracks into one list ordered by tick, then track, then position in the track.
    events.sort_by_key(|e| (e.0, e.1));

    // Tick -> beat and tick -> seconds.
    let tempo_ticks: Vec<(u64, u32)> = events
        .iter()
        .filter_map(|(t, _, e)| match e {
            Ev::Tempo(m) if *m > 0 => Some((*t, *m)),
            _ => None,
        })
        .collect();
    let (tempo, ppq, to_beat): (TempoMap, u16, Box<dyn Fn(u64) -> f64>) = match division {
        Division::Metrical(ppq) => {
            let ppq = ppq.max(1);
            let map = TempoMap::new(
                tempo_ticks
                    .iter()
                    .map(|&(t, m)| TempoChange {
                        beat: t as f64 / ppq as f64,
                        micros_per_beat: m,
                    })
                    .collect(),
            );
            (map, ppq, Box::new(move |t| t as f64 / ppq as f64))
        }
        Division::Timecode(per_sec) => {
            // Ticks are fixed fractions of a second; tempo events only say where the beats fall.
            let mut changes = Vec::new();
            let (mut beat, mut secs, mut mpb) = (0.0f64, 0.0f64, 500_000u32);
            for &(t, m) in &tempo_ticks {
                let s = t as f64 / per_sec;
                beat += (s - secs) * 1e6 / mpb as f64;
                secs = s;
                mpb = m;
                changes.push(TempoChange {
                    beat,
                    micros_per_beat: m,
                });
            }
            let map = TempoMap::new(changes);
            let m2 = map.clone();
            (
                map,
                DEFAULT_PPQ,
                Box::new(move |t| m2.beat_at(t as f64 / per_sec)),
            )
        }
    };

    // A corrupt delta time sends the rest of its track hours or years out. Those events are
    // dropped (and said so); only a file with no note left before the limit is refused.
    let past = |t: u64| to_beat(t) > MAX_BEATS;
    if track_end.iter().any(|&t| past(t)) {
        let last = track_end.iter().map(|&t| to_beat(t)).fold(0.0, f64::max);
        let mut dropped = vec![0usize; track_end.len()];
        events.retain(|&(t, ti, _)| {
            let keep = !past(t);
            dropped[ti] += !keep as usize;
            keep
        });
        if !events.iter().any(|e| matches!(e.2, Ev::On(..))) {
            return Err(MidiProblem::TooLong(last));
        }
        let mut kept_end = vec![0u64; track_end.len()];
        for &(t, ti, _) in &events {
            kept_end[ti] = kept_end[ti].max(t);
        }
        for (ti, end) in track_end.iter_mut().enumerate() {
            if past(*end) {
                *end = kept_end[ti];
                damage.past_limit += dropped[ti] + 1;
                damage.tracks.push(ti + 1);
            }
        }
        damage.tracks.sort_unstable();
        damage.tracks.dedup();
    }

    let (time_sigs, notes, unterminated, unmatched_offs) =
        pair_notes(&events, &track_end, &to_beat);
    let end = track_end.iter().map(|&t| to_beat(t)).fold(0.0, f64::max);
    let mut seq = NoteSeq {
        notes,
        tempo,
        time_sigs,
        ppq,
        end,
    };
    seq.finish();
    Ok(MidiRead {
        seq,
        unterminated,
        tracks: track_end.len(),
        damage,
        unmatched_offs,
    })
}

/// Turns the merged events into notes (and time signatures): returns them with the count of
/// notes never switched off and of note-offs that found no note to end.
///
/// Keys whose note-ons outnumber their note-offs are played the way a synth plays them: a new
/// note-on ends the one still sounding (MMA's strummed guitars do this). Elsewhere a note-off
/// closes the oldest open note of its key, so overlapping repeats keep their lengths.
///
/// Open notes are kept per (channel, key), oldest first, so each event costs O(1) however many
/// notes are held elsewhere (a single list made a file of many held notes quadratic).
fn pair_notes(
    events: &[(u64, usize, Ev)],
    track_end: &[u64],
    to_beat: &dyn Fn(u64) -> f64,
) -> (Vec<TimeSig>, Vec<Note>, usize, usize) {
    let slot = |ch: u8, key: u8| (ch as usize & 15) << 7 | (key as usize & 127);
    let mut balance = vec![0i64; 16 * 128];
    for (_, _, e) in events {
        match *e {
            Ev::On(ch, key, _) => balance[slot(ch, key)] += 1,
            Ev::Off(ch, key) => balance[slot(ch, key)] -= 1,
            _ => {}
        }
    }
    let retrigger = |ch: u8, key: u8| balance[slot(ch, key)] > 0;

    let mut time_sigs: Vec<TimeSig> = Vec::new();
    let mut programs = [0u8; 16];
    let mut open: Vec<VecDeque<OpenNote>> = vec![VecDeque::new(); 16 * 128];
    let mut order = 0u64;
    let mut notes: Vec<Note> = Vec::new();
    let (mut unterminated, mut unmatched) = (0, 0);
    let push = |notes: &mut Vec<Note>, ch: u8, key: u8, o: OpenNote, off: u64| {
        let (_, on, vel, prog, _) = o;
        if off > on {
            let start = to_beat(on);
            notes.push(Note {
                pitch: key,
                velocity: vel,
                channel: ch,
                program: prog,
                start,
                duration: to_beat(off) - start,
                start_secs: 0.0,
                duration_secs: 0.0,
            });
        }
    };
    for &(tick, ti, e) in events {
        match e {
            Ev::Tempo(_) => {}
            Ev::TimeSig(n, d) => {
                let beat = to_beat(tick);
                match time_sigs.last_mut() {
                    Some(last) if last.beat == beat => {
                        last.numerator = n;
                        last.denominator = d;
                    }
                    _ => time_sigs.push(TimeSig {
                        beat,
                        numerator: n,
                        denominator: d,
                    }),
                }
            }
            Ev::Program(ch, p) => programs[ch as usize] = p,
            Ev::On(ch, key, vel) => {
                let q = &mut open[slot(ch, key)];
                if retrigger(ch, key) {
                    while let Some(o) = q.pop_front() {
                        unterminated += 1;
                        push(&mut notes, ch, key, o, tick);
                    }
                }
                q.push_back((order, tick, vel, programs[ch as usize], ti));
                order += 1;
            }
            Ev::Off(ch, key) => match open[slot(ch, key)].pop_front() {
                Some(o) => push(&mut notes, ch, key, o, tick),
                None => unmatched += 1,
            },
        }
    }
    // Notes still sounding end with their track, in the order they began.
    let mut left: Vec<(u8, u8, OpenNote)> = open
        .iter()
        .enumerate()
        .flat_map(|(s, q)| q.iter().map(move |&o| ((s >> 7) as u8, (s & 127) as u8, o)))
        .collect();
    left.sort_by_key(|&(_, _, o)| o.0);
    for (ch, key, o) in left {
        unterminated += 1;
        push(&mut notes, ch, key, o, track_end[o.4]);
    }

    if time_sigs.first().is_none_or(|t| t.beat > 0.0) {
        time_sigs.insert(
            0,
            TimeSig {
                beat: 0.0,
                numerator: 4,
                denominator: 4,
            },
        );
    }
    (time_sigs, notes, unterminated, unmatched)
}

#[cfg(test)]
mod tests;
