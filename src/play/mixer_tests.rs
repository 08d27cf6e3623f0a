//! The mixer against the pure schedule on a simulated clock (no threads): loops repeat the bars
//! before them exactly and `unloop` goes on where the voices paused; layers keep their channel
//! and program on the same bar grid; mute and unmute switch on bar lines; no note hangs.

use super::*;
use crate::generate::sample::Sampling;
use crate::generate::stream::{Controls, NoteStream};
use crate::model::checkpoint;
use crate::model::Vae;
use crate::music::midi::read_file;
use crate::music::NoteSeq;
use crate::play::live::{LiveConfig, LiveSource};
use crate::play::msg::MidiMsg;
use crate::play::schedule::Schedule;
use crate::play::sink::hanging_notes;
use crate::play::source::SeqSource;

const BPM: f64 = 120.0;
const STEP: f64 = 0.005;

fn piece(rel: &str) -> NoteSeq {
    let mut seq = read_file(&crate::paths::bundled_corpus().join(rel))
        .unwrap()
        .seq;
    // One tempo for the whole test: the schedule's transport follows the test's BPM.
    seq.tempo = Default::default();
    seq.sort();
    seq
}

fn bach() -> NoteSeq {
    piece("classical/bach/bach__bwv1.6.mid")
}

fn other() -> NoteSeq {
    piece("classical/bach/bach__bwv103.6.mid")
}

/// At a simulated second, something the engine does.
type Action = Box<dyn FnMut()>;

struct Run {
    /// Everything handed to the schedule, in order.
    items: Vec<Item>,
    msgs: Vec<MidiMsg>,
    /// The playhead when each action came.
    beats: Vec<f64>,
}

/// Plays `secs` seconds of `src` as the feeder and the scheduler thread would, on one clock.
fn simulate(mut src: Mixer, secs: f64, mut actions: Vec<(f64, Action)>) -> Run {
    let mut schedule = Schedule::new(BPM, 1 << 14);
    let (mut items, mut msgs, mut buf, mut beats) = (Vec::new(), Vec::new(), Vec::new(), vec![]);
    let horizon = src.horizon_secs().unwrap() * BPM / 60.0;
    let mut until = horizon;
    src.fill(until, &mut buf);
    schedule.start(0.0, 0.0);
    let mut t = 0.0;
    while t < secs {
        let pos = schedule.beat_at(t);
        if let Some(i) = actions.iter().position(|(at, _)| *at <= t) {
            let (_, mut act) = actions.remove(i);
            act();
            beats.push(pos);
        }
        if pos + horizon > until {
            until = pos + horizon;
            src.fill(until, &mut buf);
        }
        for item in buf.drain(..) {
            items.push(item);
            schedule.push(item).unwrap();
        }
        for _ in 0..4 {
            if !src.prepare(pos) {
                break;
            }
        }
        while let Some(m) = schedule.poll(t) {
            msgs.push(m.msg);
        }
        t += STEP;
    }
    schedule.stop(t);
    while let Some(m) = schedule.poll(t) {
        msgs.push(m.msg);
    }
    Run { items, msgs, beats }
}

fn notes(items: &[Item]) -> Vec<Note> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Note(n) | Item::Voiced(n) => Some(*n),
            _ => None,
        })
        .collect()
}

fn key(n: &Note) -> (u8, u8, i64, i64) {
    let q = |x: f64| (x * 1e6).round() as i64;
    (n.channel, n.pitch, q(n.start), q(n.duration))
}

fn in_span(ns: &[Note], from: f64, to: f64) -> Vec<Note> {
    let mut v: Vec<Note> = ns
        .iter()
        .filter(|n| n.start >= from && n.start < to)
        .copied()
        .collect();
    v.sort_by_key(key);
    v
}

/// `ns` moved by `by` beats, each cut at `end` (the loop's end before moving).
fn moved(ns: &[Note], by: f64, end: f64) -> Vec<Note> {
    let mut v: Vec<Note> = ns
        .iter()
        .map(|n| Note {
            start: n.start + by,
            duration: n.duration.min(end - n.start),
            ..*n
        })
        .collect();
    v.sort_by_key(key);
    v
}

fn keys(ns: &[Note]) -> Vec<(u8, u8, i64, i64)> {
    ns.iter().map(key).collect()
}

#[test]
fn a_loop_repeats_the_bars_before_it_and_unloop_goes_on_from_there() {
    let (mix, handle) = Mixer::new(VoiceCtl::main(false), Box::new(SeqSource::new(bach())));
    let (h1, h2) = (handle.clone(), handle.clone());
    // 120 BPM: 2 beats a second. `loop 2` at 5.1 s (beat ~10.2), `unloop` at 17.1 s (~34.2).
    let run = simulate(
        mix,
        24.0,
        vec![
            (5.1, Box::new(move || h1.set_loop(Some(2)))),
            (17.1, Box::new(move || h2.set_loop(None))),
        ],
    );
    let all = notes(&run.items);
    let plain = notes(&SeqSource::new(bach()).fill_all());
    let (l, u) = (12.0, 36.0);
    assert!(
        run.beats[0] < l && run.beats[0] > l - 4.0,
        "{:?}",
        run.beats
    );
    // Before the loop: the piece as written.
    assert_eq!(keys(&in_span(&all, 0.0, l)), keys(&in_span(&plain, 0.0, l)));
    // Each 8-beat repeat from the loop point to `unloop`'s bar line is bars 2 and 3 again.
    let source = in_span(&plain, l - 8.0, l);
    assert!(
        source.len() > 4,
        "{} notes in the looped bars",
        source.len()
    );
    for k in 0..3 {
        let at = l + 8.0 * k as f64;
        assert_eq!(
            keys(&in_span(&all, at, at + 8.0)),
            keys(&moved(&source, at - (l - 8.0), l)),
            "repeat {k}"
        );
    }
    // After `unloop`, the piece goes on from where it paused.
    let after = in_span(&all, u, u + 8.0);
    assert!(!after.is_empty());
    assert_eq!(
        keys(&after),
        keys(&moved(&in_span(&plain, l, l + 8.0), u - l, f64::INFINITY))
    );
    assert_eq!(hanging_notes(run.msgs.iter().copied()).1, 0);
}

#[test]
fn layers_share_the_grid_keep_their_channels_and_mute_on_bar_lines() {
    let bass = VoiceCtl::layer("bass", 2, Some(33), -12, false);
    let (mix, handle) = Mixer::new(VoiceCtl::main(false), Box::new(SeqSource::new(bach())));
    let mix = mix.with(bass.clone(), Box::new(SeqSource::new(other())));
    let (b1, b2) = (bass.clone(), bass.clone());
    let lead = VoiceCtl::layer("lead", 4, None, 12, false);
    let lead_ctl = lead.clone();
    let run = simulate(
        mix,
        20.0,
        vec![
            (3.1, Box::new(move || b1.set_muted(true))),
            (7.1, Box::new(move || b2.set_muted(false))),
            (
                9.1,
                Box::new(move || handle.add(lead.clone(), Box::new(SeqSource::new(bach())))),
            ),
        ],
    );
    let all = notes(&run.items);
    let on = |c: u8| -> Vec<Note> { all.iter().filter(|n| n.channel == c).copied().collect() };
    let main_ch: Vec<u8> = bach().notes.iter().map(|n| n.channel).collect();
    assert!(main_ch.iter().all(|c| *c != 2 && *c != 4), "{main_ch:?}");
    // The bass plays its piece an octave down on channel 3 (zero-based 2), program 33, beat for
    // beat on the main voice's grid, except while muted: from bar line 8 until bar line 16.
    let bass_notes = on(2);
    let written: Vec<Note> = other()
        .notes
        .iter()
        .map(|n| Note {
            pitch: n.pitch - 12,
            channel: 2,
            ..*n
        })
        .collect();
    let (m, u) = (8.0, 16.0);
    assert!(run.beats[0] < m && run.beats[1] < u && run.beats[1] > m);
    assert_eq!(
        keys(&in_span(&bass_notes, 0.0, m)),
        keys(&in_span(&written, 0.0, m))
    );
    assert!(in_span(&bass_notes, m, u).is_empty());
    assert_eq!(
        keys(&in_span(&bass_notes, u, 36.0)),
        keys(&in_span(&written, u, 36.0))
    );
    assert!(bass_notes.iter().all(|n| n.program == 33));
    assert!(run.msgs.iter().any(|m| *m == MidiMsg::program(2, 33)));
    assert!(run
        .msgs
        .iter()
        .any(|m| m.as_note_on().is_some_and(|(c, ..)| c == 2)));
    assert!(!bass.muted());
    // The lead joins at the bar line after it was added, its piece from the top.
    let lead_notes = on(4);
    let join = (run.beats[2] / 4.0).ceil() * 4.0;
    let first = lead_notes
        .iter()
        .map(|n| n.start)
        .fold(f64::INFINITY, f64::min);
    let first_written = bach().notes[0].start;
    assert!(
        (first - (join + first_written)).abs() < 1e-9,
        "{first} vs {join}"
    );
    assert_eq!(lead_ctl.notes() as usize, lead_notes.len());
    assert_eq!(hanging_notes(run.msgs.iter().copied()).1, 0);
}

#[test]
fn a_live_stream_loops_and_resumes_where_it_paused() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/vae-lstm-small");
    let (model, meta) = checkpoint::load(&dir, &dfdx::prelude::Cpu::default()).unwrap();
    let stream = || {
        let controls = Controls {
            z: vec![0.0; meta.model.latent],
            sampling: Sampling::default(),
            seed: Some(9),
        };
        let primer = crate::generate::piece::empty_primer(&meta);
        let gen = NoteStream::new(model.stream(), 1, &meta, controls, &primer).unwrap();
        Box::new(LiveSource::new(gen, LiveConfig::default()).0)
    };
    let plain = simulate(Mixer::new(VoiceCtl::main(false), stream()).0, 16.0, vec![]);
    let (mix, handle) = Mixer::new(VoiceCtl::main(false), stream());
    let h = handle.clone();
    let run = simulate(
        mix,
        16.0,
        vec![
            (2.1, Box::new(move || h.set_loop(Some(1)))),
            (5.1, Box::new(move || handle.set_loop(None))),
        ],
    );
    let (p, all) = (notes(&plain.items), notes(&run.items));
    let (l, u) = (8.0, 12.0);
    assert_eq!(keys(&in_span(&all, 0.0, l)), keys(&in_span(&p, 0.0, l)));
    let bar = in_span(&p, l - 4.0, l);
    assert!(!bar.is_empty(), "the looped bar is empty");
    assert_eq!(keys(&in_span(&all, l, u)), keys(&moved(&bar, 4.0, l)));
    let resumed = in_span(&all, u, 28.0);
    assert!(!resumed.is_empty(), "nothing after unloop");
    assert_eq!(
        keys(&resumed),
        keys(&moved(&in_span(&p, l, 24.0), u - l, f64::INFINITY))
    );
    assert_eq!(hanging_notes(run.msgs.iter().copied()).1, 0);
}

trait FillAll {
    fn fill_all(self) -> Vec<Item>;
}

impl FillAll for SeqSource {
    fn fill_all(mut self) -> Vec<Item> {
        let mut out = Vec::new();
        self.fill(f64::INFINITY, &mut out);
        out
    }
}
