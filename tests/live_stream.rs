//! The live note stream on the bundled models: a saved model state steps on exactly like the
//! original, a seed repeats the notes, rolling back regenerates the same notes, and new settings
//! or weights never place a note before the beat they take effect from. A style-conditioned
//! stream re-primes with its style token in front.

mod common;

use std::path::Path;

use dfdx::prelude::Cpu;
use improv::generate::piece::{self, GenerateOptions, Mode};
use improv::generate::sample::Sampling;
use improv::generate::stream::{Controls, NoteStream, StreamError};
use improv::model::checkpoint::{self, CheckpointMeta};
use improv::model::{Model, StreamState, TokenStream, Vae};
use improv::music::Note;
use improv::rng::Rng;

const MODELS: [&str; 2] = ["vae-lstm-small", "vae-transformer-small"];

fn load(name: &str) -> (Model, CheckpointMeta) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name);
    checkpoint::load(&dir, &Cpu::default()).unwrap()
}

/// The last window of tokens of a real chorale, in the model's vocabulary.
fn chorale_primer(meta: &CheckpointMeta) -> Vec<u32> {
    let path = improv::paths::bundled_corpus().join("classical/bach/bach__bwv1.6.mid");
    let seq = improv::music::midi::read_file(&path).unwrap().seq;
    let tokens = meta.tokenizer.build().encode(&seq, None).unwrap();
    let (ids, _) = meta.vocab.encode(&tokens);
    ids[ids.len() - meta.model.window..].to_vec()
}

fn controls(meta: &CheckpointMeta, z_seed: u64, seed: u64) -> Controls {
    Controls {
        z: piece::sample_latent(meta.model.latent, &mut Rng::new(z_seed)),
        sampling: Sampling::default(),
        seed: Some(seed),
    }
}

fn notes(s: &mut NoteStream, n: usize) -> Vec<Note> {
    (0..n).map(|_| s.next_note(10_000).unwrap().0).collect()
}

#[test]
fn restored_state_steps_on_exactly_like_the_original() {
    for name in MODELS {
        let (model, meta) = load(name);
        let ids = chorale_primer(&meta);
        let z = piece::sample_latent(meta.model.latent, &mut Rng::new(3));
        let mut a = model.stream();
        a.reset(&z);
        // Past the window, so the Transformer's second cache lane is in use when saved.
        let split = ids.len() * 3 / 4;
        for &t in ids.iter().chain(&ids[..split]) {
            a.step(t);
        }
        let saved = a.save();
        let rest = &ids[split..];
        let original: Vec<Vec<f32>> = rest.iter().map(|&t| a.step(t).to_vec()).collect();
        // Restored into the same stream after it moved on, and into a fresh one.
        let mut b = model.stream();
        b.reset(&piece::sample_latent(meta.model.latent, &mut Rng::new(9)));
        b.step(ids[0]);
        for s in [&mut a, &mut b] {
            assert!(s.restore(&saved), "{name}");
            for (t, want) in rest.iter().zip(&original) {
                assert_eq!(s.step(*t), &want[..], "{name}");
            }
        }
        let (other, _) = load(MODELS.iter().find(|m| **m != name).unwrap());
        assert!(
            !other.stream().restore(&saved),
            "{name}: a state of another kind"
        );
    }
}

#[test]
fn a_seed_repeats_the_notes_and_a_rollback_regenerates_them() {
    for name in MODELS {
        let (model, meta) = load(name);
        let primer = chorale_primer(&meta);
        let make =
            || NoteStream::new(model.stream(), 0, &meta, controls(&meta, 1, 7), &primer).unwrap();
        let mut a = make();
        let first = notes(&mut a, 60);
        assert_eq!(first, notes(&mut make(), 60), "{name}");
        assert!(
            first[0].start >= 0.0,
            "{name}: notes start at the primer's next bar"
        );
        assert!(
            first.windows(2).all(|w| w[0].start <= w[1].start),
            "{name}: {:?}",
            first.iter().map(|n| n.start).collect::<Vec<_>>()
        );
        let pitches: std::collections::BTreeSet<u8> = first.iter().map(|n| n.pitch).collect();
        assert!(pitches.len() > 3, "{name}: {pitches:?}");

        let mut b = make();
        let mut with_cp: Vec<_> = (0..60).map(|_| b.next_note(10_000).unwrap()).collect();
        let (_, cp) = with_cp.swap_remove(25);
        b.rollback(&cp);
        assert_eq!(notes(&mut b, 35), first[25..].to_vec(), "{name}");
    }
}

#[test]
fn new_settings_and_weights_start_at_their_beat() {
    for name in MODELS {
        let (model, meta) = load(name);
        let primer = chorale_primer(&meta);
        let mut s =
            NoteStream::new(model.stream(), 0, &meta, controls(&meta, 1, 7), &primer).unwrap();
        let kept = notes(&mut s, 30);
        let (_, cp) = s.next_note(10_000).unwrap();
        s.rollback(&cp);
        let from = kept.last().unwrap().start + 2.0;
        s.set_controls(controls(&meta, 2, 8), from).unwrap();
        let after = notes(&mut s, 30);
        assert!(
            after[0].start >= from,
            "{name}: {} < {from}",
            after[0].start
        );
        assert!(after.windows(2).all(|w| w[0].start <= w[1].start), "{name}");

        let at = after.last().unwrap().start + 4.0;
        s.swap_weights(model.stream(), 5, at);
        assert_eq!(s.weights(), 5);
        let swapped = notes(&mut s, 10);
        assert!(swapped[0].start >= at, "{name}");
    }
}

#[test]
fn bad_settings_are_clear_errors() {
    let (model, meta) = load(MODELS[0]);
    let mut c = controls(&meta, 1, 1);
    c.z.pop();
    let err = NoteStream::new(model.stream(), 0, &meta, c, &[]).err();
    assert_eq!(
        err,
        Some(StreamError::Latent {
            got: meta.model.latent - 1,
            want: meta.model.latent
        })
    );
    let mut c = controls(&meta, 1, 1);
    c.sampling.temperature = 0.0;
    let err = NoteStream::new(model.stream(), 0, &meta, c, &[])
        .err()
        .unwrap();
    assert!(err.to_string().contains("temperature"), "{err}");
}

#[test]
fn sliding_over_a_window_that_holds_everything_equals_the_stream() {
    for name in MODELS {
        let (model, meta) = load(name);
        let z = piece::sample_latent(meta.model.latent, &mut Rng::new(4));
        let primer = piece::empty_primer(&meta);
        let opts = |mode| GenerateOptions {
            notes: Some(8),
            mode,
            seed: 3,
            ..GenerateOptions::default()
        };
        let gen = |mode| piece::generate_ids(&model, &meta, &primer, &z, &opts(mode)).unwrap();
        let stream = gen(Mode::Stream);
        assert!(stream.len() + primer.len() <= meta.model.window, "{name}");
        let window = meta.model.window;
        assert_eq!(stream, gen(Mode::Sliding { window }), "{name}");
        // A short window forgets, so the piece changes.
        assert_ne!(stream, gen(Mode::Sliding { window: 3 }), "{name}");
    }
}

/// What a [`Recorder`] saw: `None` for a reset, `Some(id)` for a token fed.
type Log = std::sync::Arc<std::sync::Mutex<Vec<Option<u32>>>>;

/// A token stream that records what it is fed and predicts nothing in particular.
struct Recorder {
    log: Log,
    head: Log,
    logits: Vec<f32>,
}

impl TokenStream for Recorder {
    fn reset(&mut self, _z: &[f32]) {
        self.log.lock().unwrap().push(None);
    }
    fn step(&mut self, token: u32) -> &[f32] {
        self.log.lock().unwrap().push(Some(token));
        &self.logits
    }
    fn context_len(&self) -> usize {
        0
    }
    fn save(&self) -> StreamState {
        StreamState::new(())
    }
    fn restore(&mut self, _state: &StreamState) -> bool {
        false
    }
    fn set_head(&mut self, head: Option<u32>) {
        self.head.lock().unwrap().push(head);
    }
}

#[test]
fn a_style_primed_stream_reprimes_with_its_style_token_first() {
    let (_, meta) = load("vae-lstm-genre-small");
    let primer = improv::generate::piece::style_primer(&meta, "jazz").unwrap();
    let style = primer[0];
    let (log, head) = (Log::default(), Log::default());
    let rec = Recorder {
        log: log.clone(),
        head: head.clone(),
        logits: vec![0.0; meta.vocab.len()],
    };
    let mut s = NoteStream::new(Box::new(rec), 1, &meta, controls(&meta, 1, 1), &primer).unwrap();
    assert_eq!(*head.lock().unwrap(), [Some(style)]);
    // Far past the window, then a new latent: the stream re-primes.
    while s.tokens() < 4 * meta.model.window as u64 {
        s.next_note(10_000).unwrap();
    }
    let recent = s.recent().to_vec();
    s.set_controls(controls(&meta, 2, 1), s.position()).unwrap();
    let log = log.lock().unwrap();
    let last_reset = log.iter().rposition(|e| e.is_none()).unwrap();
    let fed: Vec<u32> = log[last_reset + 1..].iter().map(|e| e.unwrap()).collect();
    let w = meta.model.window;
    assert_eq!(
        fed.len(),
        w,
        "the style token and the last window - 1 tokens"
    );
    assert_eq!(fed[0], style);
    assert_eq!(fed[1..], recent[recent.len() - (w - 1)..]);
}

#[test]
fn a_style_stream_keeps_to_the_styles_instruments() {
    let (model, meta) = load("vae-lstm-genre-small");
    let primer = piece::style_primer(&meta, "reggae").unwrap();
    let allowed = common::style_programs(&meta, "reggae");
    let strays = |meta: &CheckpointMeta| {
        let mut s =
            NoteStream::new(model.stream(), 0, meta, controls(meta, 4, 4), &primer).unwrap();
        notes(&mut s, 300)
            .iter()
            .filter(|n| n.channel != improv::music::DRUM_CHANNEL)
            .filter(|n| !allowed.contains(&n.program))
            .count()
    };
    assert_eq!(strays(&meta), 0);
    // The same stream from a checkpoint that kept no palettes wanders off them.
    let mut bare = meta.clone();
    bare.styles.clear();
    assert!(strays(&bare) > 0, "the palette changes nothing here");
}
