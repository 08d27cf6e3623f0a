//! The reader against what it replaced, on every bundled file: midly's strict parser for the
//! events of each track, and the single-list note pairing for the notes.

use super::*;
use midly::{MetaMessage, MidiMessage, TrackEventKind};
use std::path::PathBuf;

fn bundled_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "mid" || e == "midi") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&crate::paths::bundled_corpus(), &mut out);
    out.sort();
    assert!(out.len() > 500, "{} bundled files", out.len());
    out
}

/// The kept events of every track as midly reads them.
fn midly_events(bytes: &[u8]) -> (Vec<(u64, usize, Ev)>, Vec<u64>) {
    let (_, tracks) = midly::parse(bytes).unwrap();
    let (mut events, mut ends) = (Vec::new(), Vec::new());
    for (ti, track) in tracks.enumerate() {
        let mut tick = 0u64;
        for ev in track.unwrap() {
            let ev = ev.unwrap();
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
        ends.push(tick);
    }
    (events, ends)
}

#[test]
fn every_bundled_file_reads_as_midly_reads_it() {
    for path in bundled_files() {
        let bytes = std::fs::read(&path).unwrap();
        let parsed = parse_tracks(&bytes);
        let (events, ends) = midly_events(&bytes);
        assert!(parsed.damage.is_empty(), "{}", path.display());
        assert!(parsed.events == events, "{}", path.display());
        assert_eq!(parsed.track_end, ends, "{}", path.display());
    }
}

/// The pairing this module used before per-key queues: one list of open notes, searched.
fn pair_with_one_list(
    events: &[(u64, usize, Ev)],
    track_end: &[u64],
    to_beat: &dyn Fn(u64) -> f64,
) -> (Vec<Note>, usize) {
    let slot = |ch: u8, key: u8| (ch as usize & 15) << 7 | (key as usize & 127);
    let mut balance = [0i32; 16 * 128];
    for (_, _, e) in events {
        match *e {
            Ev::On(ch, key, _) => balance[slot(ch, key)] += 1,
            Ev::Off(ch, key) => balance[slot(ch, key)] -= 1,
            _ => {}
        }
    }
    let mut programs = [0u8; 16];
    let mut open: Vec<(u8, u8, u64, u8, u8, usize)> = Vec::new();
    let (mut notes, mut unterminated) = (Vec::new(), 0);
    let push = |notes: &mut Vec<Note>, o: (u8, u8, u64, u8, u8, usize), off: u64| {
        if off > o.2 {
            let mut n = Note::new(o.1, o.3, to_beat(o.2), to_beat(off) - to_beat(o.2));
            n.channel = o.0;
            n.program = o.4;
            notes.push(n);
        }
    };
    for &(tick, ti, e) in events {
        match e {
            Ev::Program(ch, p) => programs[ch as usize] = p,
            Ev::On(ch, key, vel) => {
                if balance[slot(ch, key)] > 0 {
                    while let Some(i) = open.iter().position(|o| o.0 == ch && o.1 == key) {
                        unterminated += 1;
                        push(&mut notes, open.remove(i), tick);
                    }
                }
                open.push((ch, key, tick, vel, programs[ch as usize], ti));
            }
            Ev::Off(ch, key) => {
                if let Some(i) = open.iter().position(|o| o.0 == ch && o.1 == key) {
                    push(&mut notes, open.remove(i), tick);
                }
            }
            _ => {}
        }
    }
    for o in open {
        unterminated += 1;
        push(&mut notes, o, track_end[o.5]);
    }
    (notes, unterminated)
}

/// Every field of every note, in order.
fn fields(notes: &[Note]) -> Vec<(u8, u8, u8, u8, u64, u64)> {
    notes
        .iter()
        .map(|n| {
            let (a, b, c, d) = (n.pitch, n.velocity, n.channel, n.program);
            (a, b, c, d, n.start.to_bits(), n.duration.to_bits())
        })
        .collect()
}

#[test]
fn queue_pairing_gives_the_notes_list_pairing_gave_on_every_bundled_file() {
    let mut unterminated_files = 0;
    for path in bundled_files() {
        let bytes = std::fs::read(&path).unwrap();
        let mut p = parse_tracks(&bytes);
        p.events.sort_by_key(|e| (e.0, e.1));
        let ppq = be16(&bytes, 12).max(1) as f64;
        let to_beat = move |t: u64| t as f64 / ppq;
        let (_, notes, unterminated, _) = pair_notes(&p.events, &p.track_end, &to_beat);
        let (want, want_unterminated) = pair_with_one_list(&p.events, &p.track_end, &to_beat);
        assert_eq!(fields(&notes), fields(&want), "{}", path.display());
        assert_eq!(unterminated, want_unterminated, "{}", path.display());
        unterminated_files += (unterminated > 0) as usize;
    }
    // The retrigger and end-of-track paths were exercised too.
    assert!(unterminated_files > 0);
}
