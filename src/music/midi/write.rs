//! Writing a piece as a standard MIDI file (through midly), atomically.

use std::path::Path;

use midly::num::{u15, u24, u28, u4, u7};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use super::{MidiError, MidiProblem, DEFAULT_PPQ};
use crate::music::note::{Note, NoteSeq};

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
    crate::fsx::write_atomic(path, &bytes).map_err(|e| wrap(MidiProblem::Write(e.to_string())))
}
