//! Exact event order and times from the pure schedule, driven by a fake clock.

use super::*;
use crate::music::midi::read_file;
use crate::play::clock::{Clock, FakeClock};
use crate::play::scale::{Mode, Scale};

fn note(pitch: u8, start: f64, duration: f64) -> Note {
    Note::new(pitch, 100, start, duration)
}

/// Sleeps the fake clock from deadline to deadline until `until`, collecting what is due.
fn run(s: &mut Schedule, clock: &FakeClock, until: f64) -> Vec<(f64, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(t) = s.next_time() {
        if t > until {
            break;
        }
        clock.sleep_until(t);
        while let Some(e) = s.poll(clock.now()) {
            out.push(((e.at * 1e6).round() / 1e6, e.msg.as_bytes().to_vec()));
        }
    }
    clock.sleep_until(until);
    out
}

fn on(ch: u8, p: u8, v: u8) -> Vec<u8> {
    vec![0x90 | ch, p, v]
}
fn off(ch: u8, p: u8) -> Vec<u8> {
    vec![0x80 | ch, p, 0]
}

fn playing(bpm: f64, notes: &[Note]) -> (Schedule, FakeClock) {
    let mut s = Schedule::new(bpm, 64);
    for n in notes {
        s.push(Item::Note(*n)).unwrap();
    }
    let clock = FakeClock::new();
    clock.set(10.0);
    s.start(clock.now(), 0.0);
    (s, clock)
}

#[test]
fn plays_notes_at_their_beats_with_program_first() {
    let (mut s, clock) = playing(120.0, &[note(62, 1.0, 0.5), note(60, 0.0, 0.5)]);
    let ev = run(&mut s, &clock, 20.0);
    assert_eq!(
        ev,
        vec![
            (10.0, vec![0xc0, 0]),
            (10.0, on(0, 60, 100)),
            (10.25, off(0, 60)),
            (10.5, on(0, 62, 100)),
            (10.75, off(0, 62)),
        ]
    );
}

#[test]
fn source_tempo_change_moves_later_notes_and_sounding_offs() {
    let (mut s, clock) = playing(120.0, &[note(60, 1.0, 2.0), note(64, 3.0, 1.0)]);
    s.push(Item::Tempo {
        beat: 2.0,
        bpm: 60.0,
    })
    .unwrap();
    let ev = run(&mut s, &clock, 20.0);
    // Beat 2 falls at 11.0; from there a beat takes a second.
    assert_eq!(
        ev[1..],
        [
            (10.5, on(0, 60, 100)),
            (12.0, off(0, 60)),
            (12.0, on(0, 64, 100)),
            (13.0, off(0, 64)),
        ]
    );
}

#[test]
fn live_tempo_change_takes_effect_from_the_next_event() {
    let (mut s, clock) = playing(120.0, &[note(60, 0.0, 2.0), note(62, 2.0, 1.0)]);
    let mut ev = run(&mut s, &clock, 10.5);
    // At beat 1 the tempo halves: the sounding note ends one beat (1 s) later, at 11.5.
    s.set_params(
        clock.now(),
        Params {
            tempo: Some(60.0),
            ..Params::default()
        },
    );
    ev.extend(run(&mut s, &clock, 20.0));
    assert_eq!(
        ev[1..],
        [
            (10.0, on(0, 60, 100)),
            (11.5, off(0, 60)),
            (11.5, on(0, 62, 100)),
            (12.5, off(0, 62)),
        ]
    );
    assert_eq!(s.bpm(), 60.0);
}

#[test]
fn swing_delays_every_second_eighth() {
    let notes: Vec<Note> = (0..4).map(|i| note(60 + i, i as f64 * 0.5, 0.25)).collect();
    let (mut s, clock) = playing(60.0, &notes);
    s.set_params(
        clock.now(),
        Params {
            swing: 1.0 / 3.0,
            ..Params::default()
        },
    );
    let ons: Vec<f64> = run(&mut s, &clock, 20.0)
        .into_iter()
        .filter(|e| e.1[0] == 0x90)
        .map(|e| e.0)
        .collect();
    // Triplet swing at 60 BPM: the off-beat eighths land at 2/3 of each beat.
    assert_eq!(ons, vec![10.0, 10.666667, 11.0, 11.666667]);
    let expected = 0.5 * (4.0 / 3.0) + 0.25 * (2.0 / 3.0);
    assert!((swing_beat(0.75, 1.0 / 3.0, 0.5) - expected).abs() < 1e-12);
    assert_eq!(swing_beat(3.0, 0.5, 0.5), 3.0);
}

#[test]
fn transpose_scale_velocity_and_channel_apply_to_pitched_notes_only() {
    let mut drum = note(36, 0.0, 0.25);
    drum.channel = DRUM_CHANNEL;
    let (mut s, clock) = playing(120.0, &[note(60, 0.0, 0.5), drum]);
    s.set_params(
        clock.now(),
        Params {
            transpose: 1,
            scale: Some(Scale::new(0, Mode::Major)),
            velocity_scale: 0.5,
            channel: Some(2),
            program: Some(33),
            ..Params::default()
        },
    );
    let ev = run(&mut s, &clock, 20.0);
    assert_eq!(
        ev,
        vec![
            (10.0, vec![0xc2, 33]),
            (10.0, on(2, 60, 50)), // 61 quantized back to C major's 60
            (10.0, vec![0xc9, 0]),
            (10.0, on(9, 36, 50)),
            (10.125, off(9, 36)),
            (10.25, off(2, 60)),
        ]
    );
}

#[test]
fn note_offs_use_the_key_that_was_played_after_a_transpose_change() {
    let (mut s, clock) = playing(120.0, &[note(60, 0.0, 1.0)]);
    let mut ev = run(&mut s, &clock, 10.1);
    let mut p = s.params();
    p.transpose = 7;
    s.set_params(clock.now(), p);
    ev.extend(run(&mut s, &clock, 20.0));
    assert_eq!(ev[1..], [(10.0, on(0, 60, 100)), (10.5, off(0, 60))]);
}

#[test]
fn a_repeated_key_ends_the_sounding_note_first() {
    let (mut s, clock) = playing(120.0, &[note(60, 0.0, 2.0), note(60, 1.0, 0.5)]);
    let ev = run(&mut s, &clock, 20.0);
    assert_eq!(
        ev[1..],
        [
            (10.0, on(0, 60, 100)),
            (10.5, off(0, 60)),
            (10.5, on(0, 60, 100)),
            (10.75, off(0, 60)),
        ]
    );
}

#[test]
fn pause_releases_notes_and_resume_shifts_the_rest() {
    let (mut s, clock) = playing(120.0, &[note(60, 0.0, 2.0), note(62, 2.0, 1.0)]);
    s.set_clock_out(true);
    let mut ev = run(&mut s, &clock, 10.5);
    s.pause(clock.now());
    assert_eq!(s.beat_at(clock.now()), 1.0);
    ev.extend(run(&mut s, &clock, 15.0));
    s.resume(clock.now());
    ev.extend(run(&mut s, &clock, 15.6));
    let non_clock: Vec<_> = ev.iter().filter(|e| e.1 != [0xf8]).cloned().collect();
    assert_eq!(
        non_clock,
        vec![
            (10.0, vec![0xc0, 0]),
            (10.0, on(0, 60, 100)),
            (10.5, off(0, 60)),
            (10.5, vec![0xfc]),
            (15.0, vec![0xf2, 4, 0]),
            (15.0, vec![0xfb]),
            (15.5, on(0, 62, 100)),
        ]
    );
    // 24 clocks per beat: beats 0 to 1 before the pause, then from beat 1 for 1.2 beats.
    let ticks: Vec<f64> = ev.iter().filter(|e| e.1 == [0xf8]).map(|e| e.0).collect();
    assert_eq!(ticks.len(), 25 + 29);
    assert_eq!(ticks[1], 10.020833);
    assert_eq!(ticks[25], 15.0);
}

#[test]
fn stop_ends_every_sounding_note_and_empties_the_queue() {
    let notes: Vec<Note> = (0..8).map(|i| note(60 + i, 0.0, 4.0)).collect();
    let (mut s, clock) = playing(120.0, &notes);
    let mut ev = run(&mut s, &clock, 10.1);
    s.stop(clock.now());
    ev.extend(run(&mut s, &clock, 20.0));
    assert_eq!(ev.iter().filter(|e| e.1[0] == 0x90).count(), 8);
    let offs: Vec<_> = ev.iter().filter(|e| e.1[0] == 0x80).collect();
    assert_eq!(offs.len(), 8);
    assert!(offs.iter().all(|e| e.0 == 10.1));
    assert!(s.is_done());
    assert_eq!(s.pending_len(), 0);
}

#[test]
fn late_notes_are_dropped_and_counted() {
    let (mut s, clock) = playing(120.0, &[]);
    clock.set(12.0);
    s.push(Item::Note(note(60, 1.0, 0.5))).unwrap(); // ended at 10.75
    s.push(Item::Note(note(62, 3.0, 2.0))).unwrap(); // still sounding until 12.5
    let ev = run(&mut s, &clock, 20.0);
    // The deadline stays the note's own; the player measures how late it is sent.
    assert_eq!(ev[1..], [(11.5, on(0, 62, 100)), (12.5, off(0, 62))]);
    assert_eq!(s.stats().dropped_late, 1);
}

/// A real chorale, with tempo changes, pauses and a stop part-way: every note-on gets exactly
/// one note-off on its own key, and no key is left sounding.
#[test]
fn every_note_on_of_a_real_file_gets_its_note_off() {
    let path = crate::paths::bundled_corpus().join("classical/bach/bach__bwv1.6.mid");
    let seq = read_file(&path).unwrap().seq;
    let mut s = Schedule::new(seq.tempo.bpm_at(0.0), seq.notes.len() + 16);
    for n in &seq.notes {
        s.push(Item::Note(*n)).unwrap();
    }
    s.push(Item::End { beat: seq.end }).unwrap();
    let clock = FakeClock::new();
    s.start(0.0, 0.0);
    let mut ev = run(&mut s, &clock, 3.0);
    s.set_params(
        clock.now(),
        Params {
            tempo: Some(200.0),
            transpose: 3,
            ..Params::default()
        },
    );
    ev.extend(run(&mut s, &clock, 6.0));
    s.pause(clock.now());
    s.resume(clock.now() + 1.0);
    ev.extend(run(&mut s, &clock, 9.0));
    s.stop(clock.now());
    ev.extend(run(&mut s, &clock, 100.0));
    let mut sounding = std::collections::HashMap::new();
    let mut ons = 0;
    for (_, b) in &ev {
        let msg = MidiMsg::from_bytes(b).unwrap();
        if let Some((c, p, _)) = msg.as_note_on() {
            assert!(
                sounding.insert((c, p), ()).is_none(),
                "double note-on {c} {p}"
            );
            ons += 1;
        } else if let Some((c, p)) = msg.as_note_off() {
            assert!(
                sounding.remove(&(c, p)).is_some(),
                "note-off without note-on"
            );
        }
    }
    assert!(ons > 20, "only {ons} notes played");
    assert!(sounding.is_empty());
    let times: Vec<f64> = ev.iter().map(|e| e.0).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "events out of order"
    );
}
