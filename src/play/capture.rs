//! Call and response: the notes a performer just played on a MIDI input, captured for a number
//! of bars from their first note-on and turned into a piece (beats at a given tempo), ready to be
//! encoded and continued by a model.

use std::sync::Arc;
use std::time::Duration;

use crate::music::{Note, NoteSeq};

use super::clock::Clock;
use super::midi_port::{InputEvent, MidiIn};

/// A capture that heard nothing.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CaptureError {
    #[error("no note arrived on {port} within {secs} s")]
    Silent { port: String, secs: f64 },
}

/// The notes of `events` (note-on/off pairs, stamped in seconds) from `start` seconds on, in beats
/// at `bpm`; notes still held at `end` seconds end there. Notes starting at or after `end` are
/// left out.
pub fn notes_from_events(events: &[InputEvent], start: f64, end: f64, bpm: f64) -> NoteSeq {
    let beat = |t: f64| (t - start) * bpm / 60.0;
    let mut held: Vec<(u8, u8, f64, u8)> = Vec::new();
    let mut notes = Vec::new();
    let close = |n: (u8, u8, f64, u8), at: f64, notes: &mut Vec<Note>| {
        let (channel, pitch, on, velocity) = n;
        let mut note = Note::new(pitch, velocity, beat(on), (beat(at) - beat(on)).max(1e-3));
        note.channel = channel;
        notes.push(note);
    };
    for e in events.iter().filter(|e| e.at >= start) {
        if let Some((ch, pitch, vel)) = e.msg.as_note_on() {
            if e.at < end {
                // A second note-on of a held key ends the first.
                if let Some(i) = held.iter().position(|h| h.0 == ch && h.1 == pitch) {
                    close(held.swap_remove(i), e.at, &mut notes);
                }
                held.push((ch, pitch, e.at, vel));
            }
        } else if let Some((ch, pitch)) = e.msg.as_note_off() {
            if let Some(i) = held.iter().position(|h| h.0 == ch && h.1 == pitch) {
                close(held.swap_remove(i), e.at.min(end), &mut notes);
            }
        }
    }
    for h in held {
        close(h, end, &mut notes);
    }
    let mut seq = NoteSeq::from_notes(notes, bpm);
    seq.end = seq.end.max(beat(end));
    seq
}

/// Listens on `input` until the first note-on (at most `wait_secs`), then for `beats` beats at
/// `bpm` more, and returns what was played, beat 0 at the first note-on.
pub fn capture(
    input: &mut MidiIn,
    clock: &Arc<dyn Clock>,
    beats: f64,
    bpm: f64,
    wait_secs: f64,
) -> Result<NoteSeq, CaptureError> {
    let mut events = Vec::new();
    let asked = clock.now();
    let first = loop {
        input.drain(&mut events);
        if let Some(e) = events.iter().find(|e| e.msg.as_note_on().is_some()) {
            break e.at;
        }
        if clock.now() - asked > wait_secs {
            return Err(CaptureError::Silent {
                port: input.name.clone(),
                secs: wait_secs,
            });
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let end = first + beats * 60.0 / bpm;
    while clock.now() < end {
        std::thread::sleep(Duration::from_millis(2));
    }
    input.drain(&mut events);
    Ok(notes_from_events(&events, first, end, bpm))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::play::msg::MidiMsg;

    #[test]
    fn pairs_on_and_off_and_cuts_at_the_end() {
        let ev = |at: f64, msg: MidiMsg| InputEvent { at, msg };
        let events = [
            ev(9.0, MidiMsg::note_on(0, 50, 90)),
            ev(10.0, MidiMsg::note_on(0, 60, 100)),
            ev(10.25, MidiMsg::note_on(0, 64, 80)),
            ev(10.5, MidiMsg::note_off(0, 60)),
            ev(11.0, MidiMsg::note_off(0, 64)),
            ev(11.5, MidiMsg::note_on(1, 67, 70)),
            ev(13.0, MidiMsg::note_on(0, 72, 70)),
        ];
        let seq = notes_from_events(&events, 10.0, 12.0, 120.0);
        let got: Vec<(u8, f64, f64, u8)> = seq
            .notes
            .iter()
            .map(|n| (n.pitch, n.start, n.duration, n.channel))
            .collect();
        assert_eq!(
            got,
            vec![(60, 0.0, 1.0, 0), (64, 0.5, 1.5, 0), (67, 3.0, 1.0, 1)]
        );
        assert_eq!(seq.end, 4.0);
    }
}
