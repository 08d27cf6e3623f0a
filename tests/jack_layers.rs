//! A layer with `port PORT` plays to that port alone, through a real JACK server (run with
//! `scripts/with-jack.sh cargo test --features jack`): the main output gets every channel but
//! the layer's, the layer's port only the layer's channel.
#![cfg(feature = "jack")]

mod common;

use std::time::Duration;

use common::{bundled_model, engine, run, until};
use improv::play::{InputEvent, MidiIn, MonotonicClock};

fn note_on_channels(input: &mut MidiIn) -> Vec<u8> {
    std::thread::sleep(Duration::from_millis(300));
    let mut got: Vec<InputEvent> = Vec::new();
    input.drain(&mut got);
    got.iter()
        .filter_map(|e| e.msg.as_note_on().map(|(c, ..)| c))
        .collect()
}

#[test]
fn a_layer_with_a_port_plays_there_alone() {
    let home = tempfile::tempdir().unwrap();
    let tag = std::process::id();
    let (main_port, bass_port) = (format!("t{tag}-main"), format!("t{tag}-bass"));
    let mut main_in = MidiIn::virtual_port(&main_port, MonotonicClock::shared()).unwrap();
    let mut bass_in = MidiIn::virtual_port(&bass_port, MonotonicClock::shared()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let e = engine(home.path());
    for line in [
        format!("model load {}", bundled_model().display()),
        "tempo 240".into(),
        "channel 1".into(),
        format!("connect {main_port}"),
        format!("layer bass channel 3 port {bass_port}"),
        "play".into(),
    ] {
        run(&e, &line).unwrap();
    }
    until(&e, "bass notes", |s| {
        s.layers.first().is_some_and(|l| l.notes > 8)
    });
    run(&e, "stop").unwrap();
    until(&e, "the end", |s| !s.transport.playing);
    let (main, bass) = (
        note_on_channels(&mut main_in),
        note_on_channels(&mut bass_in),
    );
    assert!(!main.is_empty() && main.iter().all(|c| *c != 2), "{main:?}");
    assert!(!bass.is_empty() && bass.iter().all(|c| *c == 2), "{bass:?}");
}

#[test]
fn after_a_crash_the_next_start_sends_all_notes_off_to_the_ports_it_had() {
    let home = tempfile::tempdir().unwrap();
    let port = format!("t{}-crash", std::process::id());
    let mut synth = MidiIn::virtual_port(&port, MonotonicClock::shared()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let first = engine(home.path());
    run(&first, &format!("connect {port}")).unwrap();
    assert!(
        std::fs::read_dir(home.path().join("outputs"))
            .unwrap()
            .count()
            == 1
    );
    // All notes off (CC 123) on the 16 channels, as the synth's port receives them.
    let ccs = |input: &mut MidiIn| {
        std::thread::sleep(Duration::from_millis(300));
        let mut got: Vec<InputEvent> = Vec::new();
        input.drain(&mut got);
        got.iter()
            .filter_map(|e| e.msg.as_control())
            .filter(|(_, cc, _)| *cc == 123)
            .count()
    };
    assert_eq!(ccs(&mut synth), 0, "nothing yet: the set has not crashed");
    std::mem::forget(first); // killed: no clean exit, the marker stays
    let second = engine(home.path());
    until(&second, "the marker to go", |_| {
        std::fs::read_dir(home.path().join("outputs")).map_or(true, |d| d.count() == 0)
    });
    assert_eq!(ccs(&mut synth), 16, "all notes off at the next start");
    second.shutdown();
}

#[test]
fn a_port_whose_program_quits_is_said_and_dropped() {
    let home = tempfile::tempdir().unwrap();
    let port = format!("t{}-gone", std::process::id());
    let synth = MidiIn::virtual_port(&port, MonotonicClock::shared()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let e = engine(home.path());
    run(&e, &format!("connect {port}")).unwrap();
    drop(synth); // the synth quits: sending to its port would still succeed
    let start = std::time::Instant::now();
    let mut said = None;
    while said.is_none() && start.elapsed() < Duration::from_secs(10) {
        while let Ok(ev) = e.events().try_recv() {
            if let improv::engine::Event::Error { text } = ev {
                if text.contains("went away") {
                    said = Some(text);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let said = said.expect("the engine said the port went away");
    assert!(said.contains(&port), "{said}");
    assert!(until(&e, "the sink to go", |s| s.sinks.is_empty())
        .sinks
        .is_empty());
    e.shutdown();
}
