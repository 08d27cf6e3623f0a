//! Generating with the bundled models: a seed repeats a piece, arg-max ignores the seed, the
//! note and bar limits hold, and illegal settings are clear errors.

use std::path::Path;

use dfdx::prelude::Cpu;
use improv::generate::piece::{self, GenerateOptions};
use improv::generate::sample::Sampling;
use improv::model::checkpoint;
use improv::music::tokens::Token;
use improv::rng::Rng;

fn run(model: &str, opts: &GenerateOptions, z_seed: u64) -> Vec<u32> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(model);
    let (m, meta) = checkpoint::load(&dir, &Cpu::default()).unwrap();
    let z = piece::sample_latent(meta.model.latent, &mut Rng::new(z_seed));
    piece::generate_ids(&m, &meta, &piece::empty_primer(&meta), &z, opts).unwrap()
}

#[test]
fn a_seed_repeats_a_piece_and_limits_hold() {
    for model in ["vae-lstm-small", "vae-transformer-small"] {
        let opts = GenerateOptions {
            notes: Some(40),
            ..GenerateOptions::default()
        };
        let a = run(model, &opts, 1);
        assert_eq!(a, run(model, &opts, 1), "{model}");
        let other = GenerateOptions {
            seed: 2,
            ..opts.clone()
        };
        assert_ne!(a, run(model, &other, 1), "{model}");

        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(model);
        let meta = checkpoint::load_meta(&dir).unwrap();
        let seq = piece::decode(&meta, &a, 100.0);
        assert_eq!(seq.notes.len(), 40, "{model}");
        assert!((seq.tempo.bpm_at(0.0) - 100.0).abs() < 1e-6);

        let bars = GenerateOptions {
            notes: None,
            bars: Some(4),
            ..GenerateOptions::default()
        };
        let ids = run(model, &bars, 1);
        let n_bars = meta
            .vocab
            .decode(&ids)
            .iter()
            .filter(|t| matches!(t, Token::Bar { .. }))
            .count();
        assert_eq!(n_bars, 4, "{model}");
    }
}

#[test]
fn argmax_ignores_the_sampling_seed() {
    let greedy = |seed| GenerateOptions {
        sampling: Sampling {
            argmax: true,
            ..Sampling::default()
        },
        notes: Some(30),
        seed,
        ..GenerateOptions::default()
    };
    assert_eq!(
        run("vae-lstm-small", &greedy(1), 5),
        run("vae-lstm-small", &greedy(9), 5)
    );
}

#[test]
fn illegal_sampling_is_an_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/vae-lstm-small");
    let (m, meta) = checkpoint::load(&dir, &Cpu::default()).unwrap();
    let opts = GenerateOptions {
        sampling: Sampling {
            top_p: Some(1.5),
            ..Sampling::default()
        },
        ..GenerateOptions::default()
    };
    let z = vec![0.0; meta.model.latent];
    let e = piece::generate_ids(&m, &meta, &[0], &z, &opts).unwrap_err();
    assert!(e.to_string().contains("top-p"));
}

#[test]
fn encoding_a_real_piece_gives_a_latent_that_decodes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (m, meta) = checkpoint::load(&root.join("models/vae-lstm-small"), &Cpu::default()).unwrap();
    let seq = improv::music::midi::read_file(&root.join("data/folk/oneills1850/0001-005020.mid"))
        .unwrap()
        .seq;
    let tokens = meta.tokenizer.build().encode(&seq, None).unwrap();
    let ids = meta.vocab.encode(&tokens).0;
    let z = improv::generate::latent::encode_mean(&m, &ids, meta.model.window).unwrap();
    assert_eq!(z.len(), meta.model.latent);
    assert!(z.iter().all(|v| v.is_finite()) && z.iter().any(|v| v.abs() > 1e-3));
    assert!(improv::generate::latent::encode_mean(&m, &ids[..1], meta.model.window).is_none());
    let out = piece::generate_ids(
        &m,
        &meta,
        &ids[ids.len() - 8..],
        &z,
        &GenerateOptions::default(),
    )
    .unwrap();
    assert!(!out.is_empty());
}
