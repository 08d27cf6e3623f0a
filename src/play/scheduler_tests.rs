//! The scheduler thread with memory sinks on the real clock: order, note-offs, latency offsets,
//! lost sinks, panic.

use std::time::Duration;

use super::*;
use crate::music::midi::read_file;
use crate::music::{Note, NoteSeq};
use crate::play::clock::MonotonicClock;
use crate::play::sink::{hanging_notes, MemoryLog, MemorySink, SinkError};
use crate::play::source::SeqSource;

fn wait_done(p: &Player, limit: Duration) {
    let t = std::time::Instant::now();
    while !p.is_done() && t.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(p.is_done(), "playback did not finish in {limit:?}");
}

fn sixteenths(n: usize, bpm: f64) -> NoteSeq {
    let notes = (0..n)
        .map(|i| Note::new(60 + (i % 12) as u8, 90, i as f64 * 0.25, 0.2))
        .collect();
    NoteSeq::from_notes(notes, bpm)
}

fn memory(p: &mut Player, name: &str, latency: f64) -> MemoryLog {
    let (sink, log) = MemorySink::new(name, 1 << 16, true);
    p.add_sink(Box::new(sink), latency).unwrap();
    log
}

fn cfg() -> PlayerConfig {
    PlayerConfig {
        realtime: None,
        ..PlayerConfig::default()
    }
}

#[test]
fn plays_a_pattern_in_order_with_exact_deadlines() {
    let mut p = Player::new(cfg(), MonotonicClock::shared()).unwrap();
    let mut log = memory(&mut p, "mem", 0.0);
    p.feed(Box::new(SeqSource::new(sixteenths(64, 960.0))))
        .unwrap();
    p.start();
    wait_done(&p, Duration::from_secs(10));
    let info = p.sinks()[0].clone();
    drop(p.finish());
    let recs = log.records().to_vec();
    let ons: Vec<f64> = recs
        .iter()
        .filter(|r| r.msg.as_note_on().is_some())
        .map(|r| r.deadline)
        .collect();
    assert_eq!(ons.len(), 64);
    // A sixteenth at 960 BPM is 15.625 ms, measured from the first deadline.
    for (i, t) in ons.iter().enumerate() {
        let want = ons[0] + i as f64 * 0.015625;
        assert!((t - want).abs() < 1e-9, "note {i} due at {t}, want {want}");
    }
    assert_eq!(hanging_notes(recs.iter().map(|r| r.msg)), (64, 0));
    assert!(recs.windows(2).all(|w| w[0].deadline <= w[1].deadline));
    let late = info.stats.lateness();
    assert_eq!(late.count as usize, recs.len());
}

#[test]
fn stop_and_panic_leave_no_hanging_note_with_a_real_file() {
    let path = crate::paths::bundled_corpus().join("classical/bach/bach__bwv1.6.mid");
    let seq = read_file(&path).unwrap().seq;
    let mut p = Player::new(cfg(), MonotonicClock::shared()).unwrap();
    let mut a = memory(&mut p, "a", 0.0);
    let mut b = memory(&mut p, "b", 0.0);
    p.params().set_tempo(Some(600.0));
    p.params().set_transpose(2);
    p.feed(Box::new(SeqSource::new(seq))).unwrap();
    p.start();
    std::thread::sleep(Duration::from_millis(400));
    p.panic();
    std::thread::sleep(Duration::from_millis(200));
    p.stop();
    wait_done(&p, Duration::from_secs(5));
    drop(p.finish());
    for log in [&mut a, &mut b] {
        let msgs: Vec<MidiMsg> = log.records().iter().map(|r| r.msg).collect();
        let (ons, left) = hanging_notes(msgs.iter().copied());
        assert!(ons > 10, "only {ons} notes");
        assert_eq!(left, 0);
        // Without the panic's blanket messages, every note-on still had its own note-off.
        let (_, left_without_cc) =
            hanging_notes(msgs.iter().copied().filter(|m| m.as_control().is_none()));
        assert_eq!(left_without_cc, 0);
        let ccs = msgs.iter().filter(|m| m.as_control().is_some()).count();
        assert_eq!(ccs, 32, "all-notes-off and all-sound-off on 16 channels");
    }
}

#[test]
fn latency_offsets_delay_the_faster_sinks() {
    let mut p = Player::new(cfg(), MonotonicClock::shared()).unwrap();
    let mut slow = memory(&mut p, "slow", 0.030);
    let mut fast = memory(&mut p, "fast", 0.0);
    p.feed(Box::new(SeqSource::new(sixteenths(8, 960.0))))
        .unwrap();
    p.start();
    wait_done(&p, Duration::from_secs(5));
    drop(p.finish());
    let (s, f) = (slow.records().to_vec(), fast.records().to_vec());
    assert_eq!(s.len(), f.len());
    for (x, y) in s.iter().zip(&f) {
        assert_eq!(x.msg, y.msg);
        assert!((y.deadline - x.deadline - 0.030).abs() < 1e-9);
    }
}

/// A sink that goes away after a few messages, as an unplugged port does.
struct Flaky {
    left: usize,
}

impl Sink for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    fn send(&mut self, _: MidiMsg, _: f64) -> Result<(), SinkError> {
        if self.left == 0 {
            return Err(SinkError::Gone);
        }
        self.left -= 1;
        Ok(())
    }
}

#[test]
fn a_lost_sink_is_reported_once_and_the_others_play_on() {
    let mut p = Player::new(cfg(), MonotonicClock::shared()).unwrap();
    p.add_sink(Box::new(Flaky { left: 5 }), 0.0).unwrap();
    let mut log = memory(&mut p, "mem", 0.0);
    p.feed(Box::new(SeqSource::new(sixteenths(32, 960.0))))
        .unwrap();
    p.start();
    wait_done(&p, Duration::from_secs(5));
    assert_eq!(p.take_lost_sinks(), vec!["flaky".to_string()]);
    assert!(p.take_lost_sinks().is_empty());
    let flaky = p.sinks()[0].stats.clone();
    drop(p.finish());
    assert_eq!(flaky.sent.load(Ordering::Relaxed), 5);
    assert_eq!(flaky.errors.load(Ordering::Relaxed), 1);
    let (ons, left) = hanging_notes(log.records().iter().map(|r| r.msg));
    assert_eq!((ons, left), (32, 0));
}

#[test]
fn pause_and_resume_hold_the_position() {
    let config = PlayerConfig {
        clock_out: true,
        ..cfg()
    };
    let mut p = Player::new(config, MonotonicClock::shared()).unwrap();
    let mut log = memory(&mut p, "mem", 0.0);
    p.params().set_tempo(Some(240.0));
    p.feed(Box::new(SeqSource::new(sixteenths(16, 240.0))))
        .unwrap();
    p.start();
    std::thread::sleep(Duration::from_millis(300));
    p.pause();
    std::thread::sleep(Duration::from_millis(50));
    let held = p.position();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(p.position(), held);
    assert!(!p.is_playing());
    p.resume();
    wait_done(&p, Duration::from_secs(5));
    drop(p.finish());
    let msgs: Vec<MidiMsg> = log.records().iter().map(|r| r.msg).collect();
    assert!(msgs.contains(&MidiMsg::stop()) && msgs.contains(&MidiMsg::continue_()));
    let (ons, left) = hanging_notes(msgs);
    assert!(ons >= 15, "{ons} notes");
    assert_eq!(left, 0);
}

#[test]
fn a_sink_gets_only_the_channels_it_is_given() {
    let mut p = Player::new(cfg(), MonotonicClock::shared()).unwrap();
    let mut all = memory(&mut p, "all", 0.0);
    let (sink, mut bass) = MemorySink::new("bass", 1 << 16, true);
    let id = p.add_sink(Box::new(sink), 0.0).unwrap().id;
    p.set_channels(id, 1 << 2);
    let mut seq = sixteenths(32, 960.0);
    for (i, n) in seq.notes.iter_mut().enumerate() {
        n.channel = if i % 2 == 0 { 0 } else { 2 };
    }
    p.feed(Box::new(SeqSource::new(seq))).unwrap();
    p.start();
    wait_done(&p, Duration::from_secs(10));
    drop(p.finish());
    let channels = |log: &mut MemoryLog| -> Vec<u8> {
        log.records()
            .iter()
            .filter_map(|r| r.msg.as_note_on().map(|(c, ..)| c))
            .collect()
    };
    let (a, b) = (channels(&mut all), channels(&mut bass));
    assert_eq!(a.len(), 32);
    assert_eq!(b, vec![2; 16]);
    assert_eq!(hanging_notes(bass.records().iter().map(|r| r.msg)), (16, 0));
    assert_eq!(hanging_notes(all.records().iter().map(|r| r.msg)), (32, 0));
}
