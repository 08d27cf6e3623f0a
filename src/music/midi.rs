//! Standard MIDI files in and out (midly): every track and channel, tempo map, time signatures,
//! PPQ and SMPTE divisions, programs per channel.

use std::path::{Path, PathBuf};

use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use super::note::{Note, NoteSeq, TempoChange, TempoMap, TimeSig};

/// No event may lie further out than this (about 14 hours at 120 BPM); a file that says otherwise
/// has a corrupt delta time, and believing it would make tokenizers emit millions of empty bars.
pub const MAX_BEATS: f64 = 100_000.0;

/// Ticks per quarter note for files we write from scratch (divisible by 12 and 16).
pub const DEFAULT_PPQ: u16 = 480;

/// What is wrong with a MIDI file, without the file's name.
#[derive(Debug, thiserror::Error)]
pub enum MidiProblem {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
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

/// A piece read from a file, with what was odd about it.
#[derive(Clone, Debug)]
pub struct MidiRead {
    pub seq: NoteSeq,
    /// Notes never switched off: closed at the next note-on of their key (as a synth would) or
    /// at the end of their track.
    pub unterminated: usize,
    pub tracks: usize,
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
        w
    }
}

/// Reads a MIDI file from disk.
pub fn read_file(path: &Path) -> Result<MidiRead, MidiError> {
    let wrap = |problem| MidiError {
        path: path.to_path_buf(),
        problem,
    };
    let bytes = std::fs::read(path).map_err(|e| wrap(MidiProblem::Io(e)))?;
    read_bytes(&bytes).map_err(wrap)
}

/// Checks the chunk structure before midly sees it, so a cut-off file is an error rather than a
/// silently shortened piece.
fn check_chunks(bytes: &[u8]) -> Result<(), MidiProblem> {
    if bytes.is_empty() {
        return Err(MidiProblem::Empty);
    }
    if bytes.starts_with(b"RIFF") {
        return Ok(()); // RMID wrapper: midly unwraps it and checks the inner file.
    }
    if !bytes.starts_with(b"MThd") {
        return Err(MidiProblem::NotMidi);
    }
    let be32 =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    if bytes.len() < 14 {
        return Err(MidiProblem::Truncated(format!(
            "header needs 14 bytes, file has {}",
            bytes.len()
        )));
    }
    let header_len = be32(4) as usize;
    if header_len < 6 {
        return Err(MidiProblem::Corrupt(format!(
            "header length {header_len} < 6"
        )));
    }
    let announced = u16::from_be_bytes([bytes[10], bytes[11]]) as usize;
    let mut pos = 8usize.saturating_add(header_len);
    let mut tracks = 0usize;
    while pos < bytes.len() {
        let rest = bytes.len() - pos;
        if rest < 8 {
            if bytes[pos..].iter().all(|&b| b == 0) {
                break;
            }
            return Err(MidiProblem::Truncated(format!(
                "{rest} stray byte(s) after the last chunk"
            )));
        }
        let len = be32(pos + 4) as usize;
        let is_track = &bytes[pos..pos + 4] == b"MTrk";
        if len > rest - 8 {
            if is_track && tracks < announced {
                return Err(MidiProblem::Truncated(format!(
                    "track {} declares {len} bytes but only {} remain",
                    tracks + 1,
                    rest - 8
                )));
            }
            break; // junk past the announced tracks; midly ignores it too
        }
        if is_track {
            tracks += 1;
        }
        pos += 8 + len;
    }
    if tracks < announced {
        return Err(MidiProblem::Truncated(format!(
            "header announces {announced} track(s), file has {tracks}"
        )));
    }
    Ok(())
}

/// A sounding note: (channel, key, on tick, velocity, program, track).
type OpenNote = (u8, u8, u64, u8, u8, usize);

enum Ev {
    Tempo(u32),
    TimeSig(u8, u8),
    Program(u8, u8),
    On(u8, u8, u8),
    Off(u8, u8),
}

/// Reads a MIDI file from memory.
pub fn read_bytes(bytes: &[u8]) -> Result<MidiRead, MidiProblem> {
    check_chunks(bytes)?;
    let corrupt = |e: midly::Error| MidiProblem::Corrupt(e.to_string());
    // midly's lazy reader: events are decoded as we walk them, with no per-track vectors.
    let (header, tracks) = midly::parse(bytes).map_err(corrupt)?;
    if header.format == Format::Sequential {
        return Err(MidiProblem::Format2);
    }

    // Merge all tracks into one list ordered by tick, then track, then position in the track.
    let mut events: Vec<(u64, usize, Ev)> = Vec::with_capacity(bytes.len() / 4);
    let mut track_end = Vec::new();
    for (ti, track) in tracks.enumerate() {
        let mut tick = 0u64;
        for ev in track.map_err(corrupt)? {
            let ev = ev.map_err(corrupt)?;
            tick += ev.delta.as_int() as u64;
            let e = match ev.kind {
                TrackEventKind::Midi { channel, message } => {
                    let ch = channel.as_int();
                    match message {
                        MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                            Ev::On(ch, key.as_int(), vel.as_int())
                        }
                        MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                            Ev::Off(ch, key.as_int())
                        }
                        MidiMessage::ProgramChange { program } => Ev::Program(ch, program.as_int()),
                        _ => continue,
                    }
                }
                TrackEventKind::Meta(MetaMessage::Tempo(t)) => Ev::Tempo(t.as_int()),
                TrackEventKind::Meta(MetaMessage::TimeSignature(n, d, _, _)) => {
                    if n == 0 || d > 6 {
                        continue;
                    }
                    Ev::TimeSig(n, 1 << d)
                }
                _ => continue,
            };
            events.push((tick, ti, e));
        }
        track_end.push(tick);
    }
    events.sort_by_key(|e| (e.0, e.1));

    // Tick -> beat and tick -> seconds.
    let tempo_ticks: Vec<(u64, u32)> = events
        .iter()
        .filter_map(|(t, _, e)| match e {
            Ev::Tempo(m) if *m > 0 => Some((*t, *m)),
            _ => None,
        })
        .collect();
    let (tempo, ppq, to_beat): (TempoMap, u16, Box<dyn Fn(u64) -> f64>) = match header.timing {
        Timing::Metrical(ppq) => {
            let ppq = ppq.as_int().max(1);
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
        Timing::Timecode(fps, sub) => {
            // Ticks are fixed fractions of a second; tempo events only say where the beats fall.
            let per_sec = (fps.as_f32() as f64 * sub.max(1) as f64).max(1.0);
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

    if let Some(last) = track_end.iter().max() {
        let b = to_beat(*last);
        if b > MAX_BEATS {
            return Err(MidiProblem::TooLong(b));
        }
    }

    // Keys whose note-ons outnumber their note-offs are played the way a synth plays them: a new
    // note-on ends the one still sounding (MMA's strummed guitars do this). Elsewhere a note-off
    // closes the oldest open note of its key, so overlapping repeats keep their lengths.
    let slot = |ch: u8, key: u8| (ch as usize & 15) << 7 | (key as usize & 127);
    let mut balance = [0i32; 16 * 128];
    for (_, _, e) in &events {
        match *e {
            Ev::On(ch, key, _) => balance[slot(ch, key)] += 1,
            Ev::Off(ch, key) => balance[slot(ch, key)] -= 1,
            _ => {}
        }
    }
    let retrigger = |ch: u8, key: u8| balance[slot(ch, key)] > 0;

    let mut time_sigs: Vec<TimeSig> = Vec::new();
    let mut programs = [0u8; 16];
    // Sounding notes, oldest first (rarely more than a few dozen, so a list beats a map).
    let mut open: Vec<OpenNote> = Vec::new();
    let mut notes: Vec<Note> = Vec::new();
    let mut unterminated = 0;
    let push = |notes: &mut Vec<Note>, ch: u8, key: u8, vel: u8, prog: u8, on: u64, off: u64| {
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
    for (tick, ti, e) in &events {
        match *e {
            Ev::Tempo(_) => {}
            Ev::TimeSig(n, d) => {
                let beat = to_beat(*tick);
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
                if retrigger(ch, key) {
                    while let Some(i) = open.iter().position(|o| o.0 == ch && o.1 == key) {
                        let o = open.remove(i);
                        unterminated += 1;
                        push(&mut notes, ch, key, o.3, o.4, o.2, *tick);
                    }
                }
                open.push((ch, key, *tick, vel, programs[ch as usize], *ti));
            }
            Ev::Off(ch, key) => {
                if let Some(i) = open.iter().position(|o| o.0 == ch && o.1 == key) {
                    let o = open.remove(i);
                    push(&mut notes, ch, key, o.3, o.4, o.2, *tick);
                }
            }
        }
    }
    for (ch, key, on, vel, prog, ti) in open {
        unterminated += 1;
        push(&mut notes, ch, key, vel, prog, on, track_end[ti]);
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
    })
}

/// Ordering of simultaneous events in a written track: programs, then note-offs, then note-ons.
fn sort_key(kind: &TrackEventKind) -> u8 {
    match kind {
        TrackEventKind::Meta(_) => 0,
        TrackEventKind::Midi {
            message: MidiMessage::ProgramChange { .. },
            ..
        } => 1,
        TrackEventKind::Midi {
            message: MidiMessage::NoteOff { .. },
            ..
        } => 2,
        _ => 3,
    }
}

/// Orders events into a track ending at `end` ticks (or at its last event, if later).
fn to_track(mut evs: Vec<(u64, TrackEventKind<'static>)>, end: u64) -> Vec<TrackEvent<'static>> {
    evs.sort_by_key(|(t, k)| (*t, sort_key(k)));
    let mut out = Vec::with_capacity(evs.len() + 1);
    let mut last = 0u64;
    for (t, kind) in evs {
        out.push(TrackEvent {
            delta: u28::new((t - last).min(u28::max_value().as_int() as u64) as u32),
            kind,
        });
        last = t;
    }
    out.push(TrackEvent {
        delta: u28::new(
            end.saturating_sub(last)
                .min(u28::max_value().as_int() as u64) as u32,
        ),
        kind: TrackEventKind::Meta(MetaMessage::EndOfTrack),
    });
    out
}

/// Encodes a piece as a format-1 file: a conductor track (tempo, time signatures) and one track
/// per channel, each starting with its program.
pub fn to_bytes(seq: &NoteSeq) -> Result<Vec<u8>, MidiProblem> {
    let ppq = if seq.ppq == 0 {
        DEFAULT_PPQ
    } else {
        seq.ppq.min(0x7fff)
    };
    let tick = |beat: f64| (beat.max(0.0) * ppq as f64).round() as u64;

    let mut conductor: Vec<(u64, TrackEventKind<'static>)> = Vec::new();
    for c in seq.tempo.changes() {
        conductor.push((
            tick(c.beat),
            TrackEventKind::Meta(MetaMessage::Tempo(u24::new(
                c.micros_per_beat.min(0xff_ffff),
            ))),
        ));
    }
    for ts in &seq.time_sigs {
        let pow = (ts.denominator.max(1) as f32).log2().round() as u8;
        conductor.push((
            tick(ts.beat),
            TrackEventKind::Meta(MetaMessage::TimeSignature(ts.numerator, pow, 24, 8)),
        ));
    }
    let end_tick = tick(seq.end);
    let mut tracks = vec![to_track(conductor, end_tick)];

    let mut channels: Vec<u8> = seq.notes.iter().map(|n| n.channel & 15).collect();
    channels.sort_unstable();
    channels.dedup();
    for ch in channels {
        let c = u4::new(ch);
        let mut evs: Vec<(u64, TrackEventKind<'static>)> = Vec::new();
        let mut program: Option<u8> = None;
        let mut notes: Vec<&Note> = seq.notes.iter().filter(|n| n.channel & 15 == ch).collect();
        notes.sort_by(|a, b| a.start.total_cmp(&b.start));
        for n in notes {
            let on = tick(n.start);
            let off = tick(n.end()).max(on + 1);
            if program != Some(n.program) {
                program = Some(n.program);
                evs.push((
                    on,
                    TrackEventKind::Midi {
                        channel: c,
                        message: MidiMessage::ProgramChange {
                            program: u7::new(n.program & 0x7f),
                        },
                    },
                ));
            }
            evs.push((
                on,
                TrackEventKind::Midi {
                    channel: c,
                    message: MidiMessage::NoteOn {
                        key: u7::new(n.pitch & 0x7f),
                        vel: u7::new(n.velocity.clamp(1, 127)),
                    },
                },
            ));
            evs.push((
                off,
                TrackEventKind::Midi {
                    channel: c,
                    message: MidiMessage::NoteOff {
                        key: u7::new(n.pitch & 0x7f),
                        vel: u7::new(0),
                    },
                },
            ));
        }
        tracks.push(to_track(evs, end_tick));
    }
    let smf = Smf {
        header: Header::new(Format::Parallel, Timing::Metrical(u15::new(ppq))),
        tracks,
    };
    let mut out = Vec::new();
    smf.write_std(&mut out)
        .map_err(|e| MidiProblem::Write(e.to_string()))?;
    Ok(out)
}

/// Writes a piece to `path` atomically.
pub fn write_file(seq: &NoteSeq, path: &Path) -> Result<(), MidiError> {
    let wrap = |problem| MidiError {
        path: path.to_path_buf(),
        problem,
    };
    let bytes = to_bytes(seq).map_err(wrap)?;
    crate::fsx::write_atomic(path, &bytes).map_err(|e| wrap(MidiProblem::Io(e)))
}
