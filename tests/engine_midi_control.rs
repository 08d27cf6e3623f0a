//! MIDI learn and clock following with real MIDI messages, under a JACK server
//! (`scripts/with-jack.sh cargo test --features jack --test engine_midi_control`): a midir output
//! port plays the performer's controller and clock into the engine's input.
#![cfg(feature = "jack")]

mod common;

use common::{bundled_model, engine, run, until};
use std::time::{Duration, Instant};

use improv::engine::{Event, Level};
use improv::play::{MidiMsg, MidiPortSink, Sink};

fn send(port: &mut MidiPortSink, msg: MidiMsg) {
    port.send(msg, 0.0).unwrap();
}

#[test]
fn controllers_drive_latent_temperature_and_tempo() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    let name = format!("t{}-knobs", std::process::id());
    let mut knobs = MidiPortSink::virtual_port(&name, false).unwrap();
    // Maps made before the input is chosen start listening with it.
    run(&e, "map 74 latent 3").unwrap();
    run(&e, &format!("input {name}")).unwrap();

    // Without a model the latent knob cannot work: said once, not at every movement.
    for v in [10, 20, 30] {
        send(&mut knobs, MidiMsg::control(0, 74, v));
        std::thread::sleep(Duration::from_millis(60));
    }
    let mut warnings = Vec::new();
    let quiet = Instant::now() + Duration::from_millis(300);
    while let Ok(ev) = e.events().recv_deadline(quiet) {
        if let Event::Log {
            level: Level::Warn,
            text,
        } = ev
        {
            warnings.push(text);
        }
    }
    assert_eq!(
        warnings,
        ["map 74: latent: no model (model new KIND, or model load PATH)"]
    );

    run(&e, &format!("model load {}", bundled_model().display())).unwrap();
    run(&e, "map 71 temperature").unwrap();
    run(&e, "map 1 tempo").unwrap();

    send(&mut knobs, MidiMsg::control(0, 74, 127));
    until(&e, "latent 3 at +3", |s| s.latent[3] == 3.0);
    assert_eq!(e.snapshot().selected_dims.last(), Some(&3));
    send(&mut knobs, MidiMsg::control(0, 74, 0));
    until(&e, "latent 3 at -3", |s| s.latent[3] == -3.0);

    // A knob turned fast: only where it stops counts, on any channel.
    for v in 10..=64 {
        send(&mut knobs, MidiMsg::control(5, 74, v));
    }
    let mid = (-3.0 + 6.0 * 64.0 / 127.0) as f32;
    until(&e, "latent 3 where the knob stopped", |s| {
        s.latent[3] == mid
    });

    send(&mut knobs, MidiMsg::control(0, 71, 127));
    until(&e, "temperature 2", |s| s.sampling.temperature == 2.0);
    send(&mut knobs, MidiMsg::control(0, 71, 0));
    until(&e, "temperature 0.1", |s| s.sampling.temperature == 0.1);

    send(&mut knobs, MidiMsg::control(0, 1, 127));
    until(&e, "tempo 240", |s| s.params.tempo == Some(240.0));
    send(&mut knobs, MidiMsg::control(0, 1, 0));
    until(&e, "tempo 40", |s| s.params.tempo == Some(40.0));

    // Unmapped controllers and notes change nothing; an unmapped knob is ignored.
    run(&e, "map 1 off").unwrap();
    send(&mut knobs, MidiMsg::control(0, 1, 127));
    send(&mut knobs, MidiMsg::note_on(0, 60, 100));
    send(&mut knobs, MidiMsg::control(0, 71, 64));
    let t = (0.1 + 1.9 * 64.0 / 127.0) as f32;
    let s = until(&e, "temperature from cc 71", |s| {
        s.sampling.temperature == t
    });
    assert_eq!(s.params.tempo, Some(40.0));
}

#[test]
fn an_external_clock_sets_the_tempo_and_starts_and_stops_playing() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    run(&e, &format!("model load {}", bundled_model().display())).unwrap();
    let take = home.path().join("take.mid");
    run(&e, &format!("record start {}", take.display())).unwrap();
    let name = format!("t{}-clock", std::process::id());
    let mut clock = MidiPortSink::virtual_port(&name, false).unwrap();
    run(&e, &format!("clock in {name}")).unwrap();
    assert_eq!(e.snapshot().params.tempo, Some(120.0));

    // Start, then 24 ticks a beat at 100 BPM for 2 s, on absolute deadlines.
    send(&mut clock, MidiMsg::start());
    let tick = Duration::from_secs_f64(60.0 / 100.0 / 24.0);
    let t0 = Instant::now();
    for i in 0..80u32 {
        let due = t0 + tick * i;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        send(&mut clock, MidiMsg::clock());
    }
    let s = until(&e, "the clock's tempo", |s| {
        s.clock_in.as_ref().is_some_and(|c| c.bpm.is_some())
    });
    let c = s.clock_in.unwrap();
    let bpm = c.bpm.unwrap();
    assert!((bpm - 100.0).abs() < 1.0, "clock in measured {bpm:.2} BPM");
    assert!(c.running);
    assert!(c.port.contains(&name), "{}", c.port);
    let tempo = s.params.tempo.unwrap();
    assert!(
        (tempo - 100.0).abs() < 1.0,
        "the player's tempo is {tempo:.2}"
    );
    until(&e, "Start plays", |s| s.transport.playing);

    send(&mut clock, MidiMsg::stop());
    until(&e, "Stop stops", |s| !s.transport.playing);

    // Not following any more: the clock's ticks leave the tempo alone.
    run(&e, "clock in off").unwrap();
    assert_eq!(e.snapshot().clock_in, None);
    run(&e, "tempo 90").unwrap();
    for _ in 0..48 {
        send(&mut clock, MidiMsg::clock());
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(e.snapshot().params.tempo, Some(90.0));
    run(&e, "record stop").unwrap();
}
