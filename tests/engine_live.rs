//! `play` with a model streams live through the engine API: it goes on past the length of a
//! generated piece, takes latent and sampling changes (quantized ones on the stream's bar line),
//! and `stop` leaves no note sounding in the recording.

mod common;

use common::{bundled_model, engine, run, until};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use improv::engine::{EngineHandle, Snapshot};

/// An engine with the bundled model, recording to `file`, streaming.
fn streaming(home: &Path, file: &Path) -> EngineHandle {
    let e = engine(home);
    for line in [
        &format!("model load {}", bundled_model().display()),
        "tempo 240",
        "seed 3",
        &format!("record start {}", file.display()),
        "play",
    ] {
        run(&e, line).unwrap();
    }
    until(&e, "the stream", |s| {
        s.live.as_ref().is_some_and(|l| l.notes > 0)
    });
    e
}

fn changes(s: &Snapshot) -> u64 {
    s.live.as_ref().map_or(0, |l| l.changes_applied)
}

#[test]
fn play_streams_past_a_piece_and_stop_leaves_no_hanging_note() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("live.mid");
    let e = engine(home.path());
    run(&e, &format!("model load {}", bundled_model().display())).unwrap();
    run(&e, "gen bars 1").unwrap();
    let piece = e.snapshot().piece.expect("a piece").beats;
    run(&e, "tempo 240").unwrap();
    run(&e, &format!("record start {}", file.display())).unwrap();
    run(&e, "play").unwrap();
    let s = until(&e, "the playhead past the piece", |s| {
        s.transport.position > piece + 4.0
    });
    assert!(s.transport.playing, "the stream ended: {:?}", s.transport);
    let live = s.live.clone().expect("streaming");
    assert!(live.notes > 0 && live.tokens > 0, "{live:?}");
    // The loaded weights play, labelled with their training step.
    let m = s.model.as_ref().unwrap();
    assert_eq!(m.playing_weights, Some(m.step as u64));
    assert!(
        s.notes.iter().any(|n| n.start > piece),
        "the roll shows streamed notes past the piece: {:?}",
        s.notes
    );
    run(&e, "stop").unwrap();
    until(&e, "the end", |s| !s.transport.playing);
    assert!(e.snapshot().live.is_none());
    run(&e, "record stop").unwrap();

    let bytes = std::fs::read(&file).unwrap();
    let smf = midly::Smf::parse(&bytes).unwrap();
    let mut sounding: HashMap<(u8, u8), i32> = HashMap::new();
    let mut ons = 0;
    for ev in smf.tracks.iter().flatten() {
        if let midly::TrackEventKind::Midi { channel, message } = ev.kind {
            let c = channel.as_int();
            match message {
                midly::MidiMessage::NoteOn { key, vel } if vel > 0 => {
                    ons += 1;
                    *sounding.entry((c, key.as_int())).or_default() += 1;
                }
                midly::MidiMessage::NoteOn { key, .. }
                | midly::MidiMessage::NoteOff { key, .. } => {
                    *sounding.entry((c, key.as_int())).or_default() -= 1;
                }
                _ => {}
            }
        }
    }
    assert!(ons > 0, "nothing recorded");
    let hanging: Vec<_> = sounding.iter().filter(|(_, n)| **n > 0).collect();
    assert!(hanging.is_empty(), "notes left sounding: {hanging:?}");
}

#[test]
fn changes_while_streaming_reach_the_stream() {
    let home = tempfile::tempdir().unwrap();
    let e = streaming(home.path(), &home.path().join("a.mid"));
    let before = changes(&e.snapshot());
    run(&e, "latent set 3 2.5").unwrap();
    let s = until(&e, "the latent change", |s| changes(s) > before);
    let beat = s.live.as_ref().and_then(|l| l.applied_beat).unwrap();
    run(&e, "temperature 0.6").unwrap();
    let s = until(&e, "the temperature change", |s| changes(s) > before + 1);
    let later = s.live.as_ref().and_then(|l| l.applied_beat).unwrap();
    assert!(later >= beat, "{later} < {beat}");
    // Notes go on from the new controls.
    until(&e, "notes after the change", |s| {
        s.notes.iter().any(|n| n.start >= later)
    });
    // A refused value is one line naming the command, and the music goes on.
    let err = run(&e, "latent set 99 1").unwrap_err();
    assert!(err.starts_with("latent"), "{err}");
    assert!(e.snapshot().transport.playing);
    // A model loaded while streaming: the stream starts again from it.
    run(&e, &format!("model load {}", bundled_model().display())).unwrap();
    until(&e, "the new stream", |s| {
        s.transport.playing && s.live.as_ref().is_some_and(|l| l.notes > 0)
    });
    run(&e, "stop").unwrap();
}

#[test]
fn at_bar_latent_sample_lands_on_a_bar_line() {
    let home = tempfile::tempdir().unwrap();
    let e = streaming(home.path(), &home.path().join("b.mid"));
    let before = changes(&e.snapshot());
    let asked = e.snapshot().transport.position;
    run(&e, "at bar latent sample").unwrap();
    let s = until(&e, "the quantized change", |s| changes(s) > before);
    let beat = s.live.as_ref().and_then(|l| l.applied_beat).unwrap();
    assert!(beat > asked, "{beat} <= {asked}");
    assert_eq!(beat.rem_euclid(4.0), 0.0, "not on a 4/4 bar line: {beat}");
    run(&e, "at beat temperature 0.8").unwrap();
    let s = until(&e, "the beat change", |s| changes(s) > before + 1);
    let beat = s.live.as_ref().and_then(|l| l.applied_beat).unwrap();
    assert_eq!(beat.fract(), 0.0, "not on a beat: {beat}");
    // A walk steps the stream's latent on its bar lines.
    run(&e, "latent walk 0.3").unwrap();
    let s = until(&e, "a walk step", |s| changes(s) > before + 3);
    let beat = s.live.as_ref().and_then(|l| l.applied_beat).unwrap();
    assert_eq!(
        beat.rem_euclid(4.0),
        0.0,
        "a walk step off the bar line: {beat}"
    );
    run(&e, "panic").unwrap();
    until(&e, "the end", |s| !s.transport.playing);
}

#[test]
fn training_weights_are_heard_while_streaming() {
    let home = tempfile::tempdir().unwrap();
    let e = streaming(home.path(), &home.path().join("c.mid"));
    let base = e.snapshot().model.unwrap().step as u64;
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/classical");
    run(&e, &format!("load corpus {}", corpus.display())).unwrap();
    run(&e, "train steps 6 swap 2").unwrap();
    let s = until(&e, "notes from the trained weights", |s| {
        s.model
            .as_ref()
            .and_then(|m| m.playing_weights)
            .is_some_and(|w| w > base)
    });
    assert!(s.transport.playing);
    run(&e, "train stop").ok();
    run(&e, "stop").unwrap();
}
