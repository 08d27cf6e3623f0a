//! Layers and loops through the engine API, on the real clock at a quick tempo: two layers play
//! on their own channels beside the main voice, `mute` silences one until `unmute`, `layer NAME
//! off` removes one, sessions keep them; `loop` holds the generator and repeats, `unloop` goes
//! on; `loop` keeps a fixed piece playing past its end; no note is left hanging. (The exact
//! bar-by-bar behaviour is tested on a simulated clock in `src/play/mixer_tests.rs`.)

mod common;

use common::{bundled_model, engine, run, until};
use std::collections::HashMap;
use std::path::Path;

use improv::engine::{EngineHandle, Snapshot};

fn layer_notes(s: &Snapshot, name: &str) -> u64 {
    s.layers
        .iter()
        .find(|l| l.name == name)
        .map_or(0, |l| l.notes)
}

/// Note-ons per channel in a recorded MIDI file, and the notes left sounding at its end.
fn recorded(file: &Path) -> (HashMap<u8, usize>, usize) {
    let bytes = std::fs::read(file).unwrap();
    let smf = midly::Smf::parse(&bytes).unwrap();
    let mut sounding: HashMap<(u8, u8), i32> = HashMap::new();
    let mut ons: HashMap<u8, usize> = HashMap::new();
    for ev in smf.tracks.iter().flatten() {
        if let midly::TrackEventKind::Midi { channel, message } = ev.kind {
            let c = channel.as_int();
            match message {
                midly::MidiMessage::NoteOn { key, vel } if vel > 0 => {
                    *ons.entry(c).or_default() += 1;
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
    (ons, sounding.values().filter(|n| **n > 0).count())
}

fn start(e: &EngineHandle, file: &Path, extra: &[&str]) {
    run(e, &format!("model load {}", bundled_model().display())).unwrap();
    for line in ["tempo 240", "seed 3", "channel 1"]
        .into_iter()
        .chain(extra.iter().copied())
    {
        run(e, line).unwrap();
    }
    run(e, &format!("record start {}", file.display())).unwrap();
    run(e, "play").unwrap();
}

#[test]
fn layers_play_on_their_channels_mute_and_come_back_from_a_session() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("layers.mid");
    let e = engine(home.path());
    start(
        &e,
        &file,
        &[
            "layer bass channel 3 octave -1 program 33",
            "layer lead channel 5 temperature 0.8",
        ],
    );
    until(&e, "notes from both layers", |s| {
        layer_notes(s, "bass") > 0 && layer_notes(s, "lead") > 0
    });
    run(&e, "mute bass").unwrap();
    let s = until(&e, "the bass muted at a bar line", |s| {
        s.layers.iter().any(|l| l.name == "bass" && l.muted)
    });
    let muted_at = layer_notes(&s, "bass");
    run(&e, "wait bars 2").unwrap();
    assert_eq!(
        layer_notes(&e.snapshot(), "bass"),
        muted_at,
        "a muted layer played"
    );
    run(&e, "unmute bass").unwrap();
    until(&e, "the bass again", |s| layer_notes(s, "bass") > muted_at);
    run(&e, "mute main").unwrap();
    until(&e, "the main voice muted", |s| s.main_muted);
    run(&e, "unmute main").unwrap();
    until(&e, "the main voice back", |s| !s.main_muted);
    run(&e, "layer lead off").unwrap();
    let s = e.snapshot();
    assert_eq!(s.layers.len(), 1);
    assert_eq!((s.layers[0].channel, s.layers[0].program), (3, Some(33)));
    run(&e, "stop").unwrap();
    until(&e, "the end", |s| !s.transport.playing);
    run(&e, "record stop").unwrap();
    let (ons, hanging) = recorded(&file);
    assert_eq!(hanging, 0, "notes left sounding");
    for c in [0u8, 2, 4] {
        assert!(
            ons.get(&c).is_some_and(|n| *n > 0),
            "nothing on {c}: {ons:?}"
        );
    }

    run(&e, "mute bass").unwrap();
    run(&e, "layer pad channel 7 transpose 5 seed 11").unwrap();
    run(&e, "session save gig").unwrap();
    let again = engine(home.path());
    run(&again, "session load gig").unwrap();
    let s = again.snapshot();
    let got: Vec<_> = s
        .layers
        .iter()
        .map(|l| (l.name.as_str(), l.channel, l.program, l.muted))
        .collect();
    assert_eq!(
        got,
        [("bass", 3, Some(33), true), ("pad", 7, None, false)],
        "{:?}",
        s.layers
    );
}

#[test]
fn a_loop_holds_the_generator_and_unloop_lets_it_go_on() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("loop.mid");
    let e = engine(home.path());
    start(&e, &file, &[]);
    until(&e, "the stream", |s| {
        s.live.as_ref().is_some_and(|l| l.notes > 8)
    });
    run(&e, "loop 1").unwrap();
    until(&e, "the loop", |s| s.transport.loop_bars == Some(1));
    // The generator works a little ahead of where it paused, then waits.
    run(&e, "wait bars 3").unwrap();
    let tokens = |s: &Snapshot| s.live.as_ref().map_or(0, |l| l.tokens);
    let held = tokens(&e.snapshot());
    run(&e, "wait bars 2").unwrap();
    let s = e.snapshot();
    assert_eq!(tokens(&s), held, "the generator went on while looping");
    assert!(s.transport.playing);
    run(&e, "unloop").unwrap();
    until(&e, "the end of the loop", |s| {
        s.transport.loop_bars.is_none()
    });
    until(&e, "new tokens", |s| tokens(s) > held);
    run(&e, "stop").unwrap();
    until(&e, "the end", |s| !s.transport.playing);
    run(&e, "record stop").unwrap();
    assert_eq!(recorded(&file).1, 0, "notes left sounding");
    assert!(run(&e, "unloop")
        .unwrap_err()
        .starts_with("unloop: not playing"));
}

#[test]
fn a_loop_keeps_a_piece_playing_past_its_end() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    run(&e, &format!("model load {}", bundled_model().display())).unwrap();
    run(&e, "gen bars 2").unwrap();
    let beats = e.snapshot().piece.unwrap().beats;
    run(&e, "tempo 480").unwrap();
    run(
        &e,
        &format!("record start {}", home.path().join("p.mid").display()),
    )
    .unwrap();
    run(&e, "play piece").unwrap();
    run(&e, "loop 1").unwrap();
    until(&e, "the loop", |s| s.transport.loop_bars == Some(1));
    let s = until(&e, "the playhead past the piece's end", |s| {
        s.transport.position > beats + 8.0
    });
    assert!(s.transport.playing, "{:?}", s.transport);
    run(&e, "stop").unwrap();
}

#[test]
fn the_example_layers_script_parses() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/layers.improv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut commands = 0;
    for line in text.lines().filter(|l| !improv::engine::is_blank(l)) {
        improv::engine::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        commands += 1;
    }
    assert!(commands > 10);
}
