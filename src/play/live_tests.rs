//! The live source against the pure schedule on a simulated clock (no threads, no real time),
//! with the bundled models: a change is heard within the horizon, a quantized change lands on
//! the stream's next bar line, weights swap at a bar line, every note-on gets its note-off, and a
//! seed repeats the music.

use super::*;
use crate::generate::piece;
use crate::generate::sample::Sampling;
use crate::model::checkpoint::{self, CheckpointMeta};
use crate::model::{Model, Vae};
use crate::play::msg::MidiMsg;
use crate::play::schedule::Schedule;
use crate::play::sink::hanging_notes;
use crate::rng::Rng;

const BPM: f64 = 120.0;
const STEP: f64 = 0.005;

fn load(name: &str) -> (Model, CheckpointMeta) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name);
    checkpoint::load(&dir, &dfdx::prelude::Cpu::default()).unwrap()
}

fn primer(meta: &CheckpointMeta) -> Vec<u32> {
    let path = crate::paths::bundled_corpus().join("classical/bach/bach__bwv1.6.mid");
    let seq = crate::music::midi::read_file(&path).unwrap().seq;
    let tokens = meta.tokenizer.build().encode(&seq, None).unwrap();
    let ids = meta.vocab.encode(&tokens).0;
    ids[ids.len() - meta.model.window..].to_vec()
}

fn controls(meta: &CheckpointMeta, z_seed: u64, seed: u64) -> Controls {
    Controls {
        z: piece::sample_latent(meta.model.latent, &mut Rng::new(z_seed)),
        sampling: Sampling::default(),
        seed: Some(seed),
    }
}

/// What happens at a simulated second.
enum Action {
    Set(Controls, Quantize),
    Swap(Box<dyn crate::model::TokenStream>, u64),
}

struct Run {
    notes: Vec<Note>,
    msgs: Vec<MidiMsg>,
    handle: LiveHandle,
    /// The playhead (beats) when the action came.
    action_beat: f64,
    /// The stream's first bar line at or after a beat, asked at the end.
    bars: Vec<f64>,
}

/// Plays `secs` seconds: the feeder's loop (hand over up to the horizon, work ahead) and the
/// scheduler's (send what is due) on one simulated clock; `action` comes at `at` seconds.
fn simulate(
    model: &Model,
    meta: &CheckpointMeta,
    secs: f64,
    at: f64,
    action: Option<Action>,
) -> Run {
    let gen =
        NoteStream::new(model.stream(), 1, meta, controls(meta, 1, 5), &primer(meta)).unwrap();
    let (mut src, handle) = LiveSource::new(gen, LiveConfig::default());
    let mut schedule = Schedule::new(BPM, 4096);
    let mut action = action;
    let (mut notes, mut msgs, mut buf) = (Vec::new(), Vec::new(), Vec::new());
    let horizon = src.horizon_secs().unwrap() * BPM / 60.0;
    let mut until = horizon;
    src.fill(until, &mut buf);
    schedule.start(0.0, 0.0);
    let mut action_beat = f64::NAN;
    let mut t = 0.0;
    while t < secs {
        let pos = schedule.beat_at(t);
        if t >= at {
            match action.take() {
                Some(Action::Set(c, q)) => handle.set(c, q).unwrap(),
                Some(Action::Swap(s, label)) => handle.swap_weights(s, label),
                None => {}
            }
            if action_beat.is_nan() {
                action_beat = pos;
            }
        }
        if pos + horizon > until {
            until = pos + horizon;
            src.fill(until, &mut buf);
        }
        for item in buf.drain(..) {
            if let Item::Note(n) = item {
                notes.push(n);
            }
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
    let bars = (0..64)
        .filter_map(|b| src.stream().bar_line_from(b as f64))
        .collect();
    Run {
        notes,
        msgs,
        handle,
        action_beat,
        bars,
    }
}

fn same(a: &Note, b: &Note) -> bool {
    (a.start, a.pitch, a.duration, a.velocity) == (b.start, b.pitch, b.duration, b.velocity)
}

fn check_change(name: &str, quantize: Quantize) {
    let (model, meta) = load(name);
    let plain = simulate(&model, &meta, 10.0, f64::INFINITY, None);
    assert_eq!(hanging_notes(plain.msgs.iter().copied()).1, 0, "{name}");
    assert!(
        plain.notes.len() > 10,
        "{name}: {} notes",
        plain.notes.len()
    );
    let again = simulate(&model, &meta, 10.0, f64::INFINITY, None);
    assert_eq!(plain.msgs, again.msgs, "{name}: a seed repeats the music");

    let t = 3.0;
    let new = controls(&meta, 2, 99);
    let run = simulate(&model, &meta, 10.0, t, Some(Action::Set(new, quantize)));
    let (ons, hanging) = hanging_notes(run.msgs.iter().copied());
    assert_eq!(hanging, 0, "{name}: every note-on has its note-off");
    assert!(ons > 10);
    let from = run.handle.applied_beat().expect("the change was applied");
    let horizon = 0.1 * BPM / 60.0;
    match quantize {
        Quantize::Now => {
            // Heard from the first note not yet handed over: within the horizon and one poll.
            assert!(from >= run.action_beat, "{name}");
            assert!(
                from <= run.action_beat + horizon + 2.0 * STEP * BPM / 60.0,
                "{name}: change at beat {} applied from {from}",
                run.action_beat
            );
        }
        Quantize::Bar => {
            let want = plain
                .bars
                .iter()
                .copied()
                .find(|&b| b >= run.action_beat + horizon - 1e-9);
            assert_eq!(Some(from), want, "{name}: exactly at the next bar line");
        }
        Quantize::Beat => {
            assert_eq!(from, (run.action_beat + horizon).ceil(), "{name}");
        }
    }
    // Before the change nothing moved; from it on the music is new.
    let kept = plain.notes.iter().take_while(|n| n.start < from).count();
    assert!(kept > 0, "{name}");
    assert!(
        plain.notes[..kept]
            .iter()
            .zip(&run.notes)
            .all(|(a, b)| same(a, b)),
        "{name}: notes before beat {from} changed"
    );
    let after = &run.notes[kept..];
    assert!(after.iter().all(|n| n.start >= from), "{name}");
    assert!(
        !after
            .iter()
            .zip(&plain.notes[kept..])
            .all(|(a, b)| same(a, b)),
        "{name}: the change is not heard"
    );
    assert!(
        after[0].start <= from + 4.0,
        "{name}: first new note at {} (change from {from})",
        after[0].start
    );
}

#[test]
fn a_change_is_heard_within_the_horizon() {
    for name in ["vae-lstm-small", "vae-transformer-small"] {
        check_change(name, Quantize::Now);
    }
}

#[test]
fn a_quantized_change_lands_on_the_next_bar_or_beat() {
    check_change("vae-transformer-small", Quantize::Bar);
    check_change("vae-lstm-small", Quantize::Beat);
}

#[test]
fn the_handle_refuses_bad_controls() {
    let (model, meta) = load("vae-lstm-small");
    let gen = NoteStream::new(model.stream(), 1, &meta, controls(&meta, 1, 5), &[]).unwrap();
    let (_src, handle) = LiveSource::new(gen, LiveConfig::default());
    let err = handle.update(Quantize::Now, |c| c.sampling.top_p = Some(1.5));
    assert!(err.unwrap_err().to_string().contains("top-p"));
    let err = handle.update(Quantize::Bar, |c| c.z.push(0.0));
    assert!(matches!(err, Err(StreamError::Latent { .. })));
    assert_eq!(handle.controls(), controls(&meta, 1, 5));
}

#[test]
fn weights_swap_at_a_bar_line_without_a_gap() {
    let (lstm, meta) = load("vae-lstm-small");
    let (transformer, tmeta) = load("vae-transformer-small");
    assert_eq!(
        meta.vocab, tmeta.vocab,
        "the bundled models share a vocabulary"
    );
    let plain = simulate(&lstm, &meta, 10.0, f64::INFINITY, None);
    let run = simulate(
        &lstm,
        &meta,
        10.0,
        3.0,
        Some(Action::Swap(transformer.stream(), 42)),
    );
    assert_eq!(run.handle.playing_weights(), 42);
    assert_eq!(hanging_notes(run.msgs.iter().copied()).1, 0);
    let from = run.handle.applied_beat().unwrap();
    assert!(plain.bars.contains(&from), "{from} is not a bar line");
    let kept = run.notes.iter().take_while(|n| n.start < from).count();
    let after = &run.notes[kept..];
    assert!(!after.is_empty() && after[0].start < from + 4.0, "a gap");
}
