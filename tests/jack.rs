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

/// One test at a time: the JACK server here runs without real-time priority, and a crowd of
/// clients joining at once makes its cycles late enough to overflow a MIDI port buffer.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

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
    let _serial = serial();
    let watch = xrun_watch();
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
    check_delivery(&got, played as usize, &watch, "player");
    if watch.stats.xruns.load(Ordering::Relaxed) == 0 {
        let (_, left_without_cc) =
            hanging_notes(msgs.iter().copied().filter(|m| m.as_control().is_none()));
        assert_eq!(left_without_cc, 0, "each note-on had its own note-off");
        let ccs = msgs.iter().filter(|m| m.as_control().is_some()).count();
        assert_eq!(ccs, 32);
    }
    assert!(got.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn stop_mid_phrase_leaves_no_hanging_note() {
    let _serial = serial();
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
    let _serial = serial();
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
    let _serial = serial();
    let (out, mut sink) = open_synth(16).unwrap();
    assert_eq!(out.host, "JACK");
    let tap = JackTap::open(&unique("tap")).unwrap();
    assert!(tap.connect_from(&cpal_ports_pattern()) >= 1);
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

const BACH: &str = "data/classical/bach/bach__bwv1.6.mid";

fn improv_cmd(args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_improv"));
    c.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn bach_notes() -> usize {
    let path = improv::paths::bundled_corpus().join("classical/bach/bach__bwv1.6.mid");
    read_file(&path).unwrap().seq.notes.len()
}

/// Every note-on arrived with its note-off, unless the server had xruns: a cycle a client misses
/// loses the MIDI in it, so then the losses are reported and bounded instead.
fn check_delivery(got: &[InputEvent], expected: usize, watch: &JackTap, what: &str) {
    let (ons, left) = hanging_notes(got.iter().map(|e| e.msg));
    let xruns = watch.stats.xruns.load(Ordering::Relaxed);
    if xruns == 0 {
        assert_eq!(
            ons, expected,
            "{what}: not every note-on arrived (no xruns)"
        );
        assert_eq!(left, 0, "{what}: hanging notes (no xruns)");
    } else {
        eprintln!(
            "{what}: {xruns} xruns: {ons} of {expected} note-ons arrived, {left} left hanging"
        );
        assert!(
            ons * 10 >= expected * 9,
            "{what}: only {ons} of {expected} note-ons arrived"
        );
    }
}

/// Counts the server's xruns from now on.
fn xrun_watch() -> JackTap {
    JackTap::open(&unique("xruns")).unwrap()
}

#[test]
fn improv_play_sends_a_bundled_file_to_a_named_port() {
    let _serial = serial();
    let watch = xrun_watch();
    let port = unique("named");
    let mut input = MidiIn::virtual_port(&port, MonotonicClock::shared()).unwrap();
    settle();
    let out = improv_cmd(&["play", BACH, "--port", &port, "--tempo", "900"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    check_delivery(
        &drain_all(&mut input),
        bach_notes(),
        &watch,
        "improv play --port",
    );
}

#[test]
fn improv_play_creates_the_virtual_port_improv() {
    let _serial = serial();
    let watch = xrun_watch();
    let child = improv_cmd(&[
        "play",
        BACH,
        "--virtual",
        "--tempo",
        "900",
        "--delay",
        "1.5",
    ])
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let t = Instant::now();
    let name = loop {
        let names = improv::play::midi_port::input_ports().unwrap();
        if let Some(n) = names.into_iter().find(|n| n.ends_with(":improv")) {
            break n;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "no port improv appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut input = MidiIn::connect(&name, MonotonicClock::shared()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    check_delivery(
        &drain_all(&mut input),
        bach_notes(),
        &watch,
        "improv play --virtual",
    );
}

#[test]
fn improv_play_sounds_on_the_synth() {
    let _serial = serial();
    let child = improv_cmd(&["play", BACH, "--synth", "--tempo", "900", "--delay", "1.0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let tap = JackTap::open(&unique("cli-tap")).unwrap();
    let pattern = format!("cpal_client_{}", child.id());
    let t = Instant::now();
    while tap.connect_from(&pattern) == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the synth's JACK ports did not appear"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("synth on JACK Output (JACK)"), "{err}");
    let peak = tap.stats.peak();
    eprintln!(
        "improv play --synth through JACK: peak {peak:.3}, {} xruns",
        tap.stats.xruns.load(Ordering::Relaxed)
    );
    assert!(peak > 0.05, "nothing heard: peak {peak}");
}

#[test]
fn a_player_follows_another_players_clock() {
    let _serial = serial();
    let clock: Arc<dyn Clock> = MonotonicClock::shared();
    let port = unique("leader");
    let mut leader = Player::new(
        PlayerConfig {
            clock_out: true,
            ..PlayerConfig::default()
        },
        clock.clone(),
    )
    .unwrap();
    leader
        .add_sink(
            Box::new(MidiPortSink::virtual_port(&port, true).unwrap()),
            0.0,
        )
        .unwrap();
    leader.params().set_tempo(Some(150.0));
    leader
        .feed(Box::new(SeqSource::new(chorale(12.0))))
        .unwrap();
    let mut input = MidiIn::connect(&port, clock.clone()).unwrap();
    let mut follower = Player::new(PlayerConfig::default(), clock).unwrap();
    let (mem, mut log) = improv::play::MemorySink::new("follower", 1 << 14, false);
    follower.add_sink(Box::new(mem), 0.0).unwrap();
    follower
        .feed(Box::new(SeqSource::new(chorale(64.0))))
        .unwrap();
    settle();
    leader.start();
    let mut f = ClockFollower::new();
    let mut events = Vec::new();
    let t = Instant::now();
    let mut stopped = false;
    while !stopped && t.elapsed() < Duration::from_secs(15) {
        input.drain(&mut events);
        for e in events.drain(..) {
            if let Some(c) = f.feed(&e) {
                stopped |= c == ClockChange::Stop;
                c.apply(&mut follower);
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(stopped, "the leader's Stop never arrived");
    std::thread::sleep(Duration::from_millis(100));
    let bpm = follower.bpm();
    let beat = follower.position();
    assert!(!follower.is_playing(), "the follower did not stop");
    drop(leader.finish());
    drop(follower.finish());
    assert!((bpm - 150.0).abs() < 2.0, "followed at {bpm} BPM");
    // 12 beats at the leader's tempo; the follower started a little later.
    assert!((10.5..=12.5).contains(&beat), "follower at beat {beat}");
    let (ons, left) = hanging_notes(log.records().iter().map(|r| r.msg));
    assert!(ons > 10, "{ons}");
    assert_eq!(left, 0, "the pause ended every note");
}
