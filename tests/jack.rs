//! Ports and audio through a real JACK server (run with `scripts/with-jack.sh cargo test
//! --features jack`): notes from improv's output port into a midir input, MIDI clock out and in,
//! and the synth's audio captured from its cpal JACK port. Xruns are counted, not failed on.
#![cfg(feature = "jack")]

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use improv::audio::jack_tap::{cpal_ports_pattern, JackTap};
use improv::audio::open_synth;
use improv::music::midi::read_file;
use improv::music::NoteSeq;
use improv::play::clock_in::{ClockChange, ClockFollower};
use improv::play::sink::hanging_notes;
use improv::play::{
    Clock, InputEvent, MidiIn, MidiMsg, MidiPortSink, MonotonicClock, Player, PlayerConfig,
    SeqSource, Sink,
};

fn unique(tag: &str) -> String {
    format!("t{}-{tag}", std::process::id())
}

/// The first `beats` beats of a bundled chorale.
fn chorale(beats: f64) -> NoteSeq {
    let path = improv::paths::bundled_corpus().join("classical/bach/bach__bwv1.6.mid");
    let mut seq = read_file(&path).unwrap().seq;
    seq.notes.retain(|n| n.start < beats);
    seq.end = beats;
    seq.finish();
    seq
}

/// A new JACK connection takes effect from a later process cycle; give the graph time to settle.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

fn wait_done(p: &Player, limit: Duration) {
    let t = Instant::now();
    while !p.is_done() && t.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(p.is_done(), "playback did not finish in {limit:?}");
}

fn drain_all(input: &mut MidiIn) -> Vec<InputEvent> {
    std::thread::sleep(Duration::from_millis(300));
    let mut out = Vec::new();
    input.drain(&mut out);
    out
}

#[test]
fn every_note_on_reaches_the_input_with_its_note_off_and_panic_clears_all() {
    let clock: Arc<dyn Clock> = MonotonicClock::shared();
    let port = unique("notes");
    let sink = MidiPortSink::virtual_port(&port, false).unwrap();
    let mut input = MidiIn::connect(&port, clock.clone()).unwrap();
    settle();
    let mut p = Player::new(PlayerConfig::default(), clock).unwrap();
    p.add_sink(Box::new(sink), 0.0).unwrap();
    p.params().set_tempo(Some(480.0));
    p.feed(Box::new(SeqSource::new(chorale(24.0)))).unwrap();
    p.start();
    std::thread::sleep(Duration::from_millis(1500));
    p.panic();
    wait_done(&p, Duration::from_secs(20));
    let (played, _) = p.note_counts();
    drop(p.finish());
    let got = drain_all(&mut input);
    assert_eq!(input.dropped(), 0);
    let msgs: Vec<MidiMsg> = got.iter().map(|e| e.msg).collect();
    let (ons, left) = hanging_notes(msgs.iter().copied());
    assert_eq!(ons as u64, played, "every note-on arrived");
    assert_eq!(left, 0);
    let (_, left_without_cc) =
        hanging_notes(msgs.iter().copied().filter(|m| m.as_control().is_none()));
    assert_eq!(left_without_cc, 0, "each note-on had its own note-off");
    let ccs = msgs.iter().filter(|m| m.as_control().is_some()).count();
    assert_eq!(ccs, 32);
    assert!(got.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn stop_mid_phrase_leaves_no_hanging_note() {
    let clock: Arc<dyn Clock> = MonotonicClock::shared();
    let port = unique("stop");
    let sink = MidiPortSink::virtual_port(&port, false).unwrap();
    let mut input = MidiIn::connect(&port, clock.clone()).unwrap();
    settle();
    let mut p = Player::new(PlayerConfig::default(), clock).unwrap();
    p.add_sink(Box::new(sink), 0.0).unwrap();
    p.feed(Box::new(SeqSource::new(chorale(64.0)))).unwrap();
    p.start();
    std::thread::sleep(Duration::from_millis(1200));
    p.stop();
    wait_done(&p, Duration::from_secs(5));
    drop(p.finish());
    let (ons, left) = hanging_notes(drain_all(&mut input).iter().map(|e| e.msg));
    assert!(ons >= 4, "{ons} notes");
    assert_eq!(left, 0);
}

#[test]
fn clock_out_is_followed_by_clock_in() {
    let clock: Arc<dyn Clock> = MonotonicClock::shared();
    let port = unique("clock");
    let sink = MidiPortSink::virtual_port(&port, true).unwrap();
    let mut input = MidiIn::connect(&port, clock.clone()).unwrap();
    settle();
    let mut p = Player::new(
        PlayerConfig {
            clock_out: true,
            ..PlayerConfig::default()
        },
        clock,
    )
    .unwrap();
    p.add_sink(Box::new(sink), 0.0).unwrap();
    p.params().set_tempo(Some(150.0));
    p.feed(Box::new(SeqSource::new(chorale(6.0)))).unwrap();
    p.start();
    wait_done(&p, Duration::from_secs(10));
    drop(p.finish());
    let mut follower = ClockFollower::new();
    let mut changes = Vec::new();
    for e in drain_all(&mut input) {
        if let Some(c) = follower.feed(&e) {
            changes.push(c);
        }
    }
    assert_eq!(changes.first(), Some(&ClockChange::Start));
    assert_eq!(changes.last(), Some(&ClockChange::Stop));
    let tempos: Vec<f64> = changes
        .iter()
        .filter_map(|c| match c {
            ClockChange::Tempo(b) => Some(*b),
            _ => None,
        })
        .collect();
    let last = *tempos.last().unwrap();
    // Arrival jitter is up to one JACK period (2.7 ms) per tick; the regression averages it out.
    assert!((last - 150.0).abs() < 2.0, "followed at {last} BPM");
    assert!(follower.position() >= 5.0, "{}", follower.position());
}

#[test]
fn synth_audio_reaches_a_jack_port() {
    let (out, mut sink) = open_synth(16).unwrap();
    assert_eq!(out.host, "JACK");
    let tap = JackTap::open(&unique("tap")).unwrap();
    assert!(tap.connect_from(&cpal_ports_pattern()).unwrap() >= 1);
    std::thread::sleep(Duration::from_millis(200));
    let silent = tap.stats.peak();
    for p in [48, 55, 60, 64] {
        sink.send(MidiMsg::note_on(0, p, 110), 0.0).unwrap();
    }
    std::thread::sleep(Duration::from_millis(400));
    for p in [48, 55, 60, 64] {
        sink.send(MidiMsg::note_off(0, p), 0.0).unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    let peak = tap.stats.peak();
    let xruns = tap.stats.xruns.load(Ordering::Relaxed);
    eprintln!("synth through JACK: peak {peak:.3}, {xruns} xruns");
    assert!(silent < 1e-3, "sound before any note: {silent}");
    assert!(peak > 0.05, "synth silent at the JACK port: {peak}");
    assert!(out.stats.callbacks.load(Ordering::Relaxed) > 10);
    assert!(tap.stats.frames.load(Ordering::Relaxed) > 48_000 / 2);
}
