//! The learned style prior: a model whose vocabulary ends in style tokens decodes a window that
//! starts with one from `z + prior[style]`. The prior's rows learn from the windows of their
//! style only, the gradient matches finite differences, a live stream told its head token reads
//! the same latent as the teacher-forced decoder, and checkpoints keep the prior.

use dfdx::prelude::*;
use improv::corpus::Windows;
use improv::model::checkpoint::{self, CheckpointMeta};
use improv::model::vae::with_style_prior;
use improv::model::{Model, ModelConfig, ModelKind, Preset, Vae};
use improv::music::tokens::{Token, TokenizerConfig, Vocab};
use improv::train::losses::cross_entropy;
use rand::{Rng, SeedableRng};

/// Ten pitches, then two styles.
fn vocab() -> Vocab {
    let mut v: Vec<Token> = (0..10u8).map(|i| Token::Pitch(50 + i)).collect();
    v.push(Token::Style("jazz".into()));
    v.push(Token::Style("rock".into()));
    Vocab::new(v)
}

fn cfg(kind: ModelKind) -> ModelConfig {
    let v = vocab();
    ModelConfig::preset(kind, Preset::Tiny, v.len()).with_style_prior(&v)
}

/// `count` windows of `len` tokens: the style token `10 + style`, then pitch tokens.
fn windows(count: usize, len: usize, styles: &[u32], seed: u64) -> Windows {
    let rng = &mut rand::rngs::StdRng::seed_from_u64(seed);
    let mut ids = Vec::new();
    for i in 0..count {
        ids.push(10 + styles[i % styles.len()]);
        ids.extend((1..len).map(|_| rng.gen_range(0..10u32)));
    }
    Windows { len, ids }
}

#[test]
fn the_prior_counts_the_trailing_style_tokens_only() {
    let c = cfg(ModelKind::VaeLstm);
    assert_eq!(c.styles, 2);
    assert_eq!(c.style_range(), Some((10, 2)));
    assert_eq!(c.style_row(11), Some(1));
    assert_eq!(c.style_row(3), None);
    let plain = Vocab::new((0..10u8).map(Token::Pitch));
    let p = ModelConfig::preset(ModelKind::VaeLstm, Preset::Tiny, 10).with_style_prior(&plain);
    assert_eq!(p.styles, 0);
    let model = Model::build(&p, &Cpu::default(), 1).unwrap();
    assert!(model.style_prior().is_none());
    assert!(model.params().iter().all(|(n, _)| n != "style_prior"));
}

fn loss(model: &Model, w: &Windows, picks: &[usize], eps: &[f32]) -> f32 {
    let b = improv::train::Batch::from_windows(w, picks);
    let n = picks.len();
    let out = model.forward(&b.enc, &b.dec, n, Some(eps), NoneTape, None);
    cross_entropy(out.logits, &b.target, n).0.as_vec()[0]
}

#[test]
fn only_the_styles_in_the_batch_learn_and_the_gradient_matches_finite_differences() {
    for kind in [ModelKind::VaeLstm, ModelKind::VaeTransformer] {
        let dev = Cpu::default();
        let c = cfg(kind);
        let mut model = Model::build(&c, &dev, 7).unwrap();
        // Start the prior away from zero so both rows matter to the decoder.
        for (name, p) in model.params_mut() {
            if name == "style_prior" {
                let v: Vec<f32> = (0..p.shape().0 * p.shape().1)
                    .map(|i| (i as f32 * 0.37).sin() * 0.5)
                    .collect();
                p.copy_from(&v);
            }
        }
        // Every window is jazz (style row 0): rock's row must get no gradient.
        let w = windows(3, c.window + 1, &[0], 9);
        let b = improv::train::Batch::from_windows(&w, &[0, 1, 2]);
        let eps = vec![0.3f32; 3 * c.latent];
        let out = model.forward(&b.enc, &b.dec, 3, Some(&eps), OwnedTape::default(), None);
        let (ce, _) = cross_entropy(out.logits, &b.target, 3);
        let mut grads = ce.backward();
        let prior = model.style_prior().unwrap().clone();
        let g = grads.get_or_alloc_mut(&prior).unwrap().to_vec();
        let zn = c.latent;
        assert!(g[..zn].iter().any(|&x| x != 0.0), "{kind:?}: jazz row");
        assert!(g[zn..].iter().all(|&x| x == 0.0), "{kind:?}: rock row");
        // Central differences on the jazz row.
        let base = prior.as_vec();
        let h = 1e-2f32;
        for j in 0..zn {
            let mut at = |delta: f32| {
                let mut v = base.clone();
                v[j] += delta;
                for (name, p) in model.params_mut() {
                    if name == "style_prior" {
                        p.copy_from(&v);
                    }
                }
                loss(&model, &w, &[0, 1, 2], &eps)
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            let tol = 2e-3 + 0.05 * fd.abs().max(g[j].abs());
            assert!(
                (fd - g[j]).abs() < tol,
                "{kind:?}: dim {j}: finite difference {fd} vs tape {}",
                g[j]
            );
        }
    }
}

#[test]
fn the_op_adds_the_row_of_each_windows_style_and_leaves_others() {
    let dev = Cpu::default();
    let c = cfg(ModelKind::VaeLstm);
    let zn = c.latent;
    let prior: Tensor<(usize, usize), f32, Cpu> =
        dev.tensor_from_vec((0..2 * zn).map(|i| i as f32).collect(), (2, zn));
    let z = dev.tensor_from_vec(vec![0.5f32; 3 * zn], (3, zn));
    // Windows of two tokens: rock, a pitch (no style), jazz.
    let dec = [11, 4, 3, 4, 10, 4];
    let out = with_style_prior(z, Some(&prior), &c, &dec, 3).as_vec();
    for j in 0..zn {
        assert_eq!(out[j], 0.5 + (zn + j) as f32);
        assert_eq!(out[zn + j], 0.5);
        assert_eq!(out[2 * zn + j], 0.5 + j as f32);
    }
}

#[test]
fn a_stream_with_its_style_head_matches_the_teacher_forced_decoder() {
    for kind in [ModelKind::VaeLstm, ModelKind::VaeTransformer] {
        let dev = Cpu::default();
        let c = cfg(kind);
        let mut model = Model::build(&c, &dev, 3).unwrap();
        for (name, p) in model.params_mut() {
            if name == "style_prior" {
                let v: Vec<f32> = (0..p.shape().0 * p.shape().1)
                    .map(|i| (i as f32 * 0.9).cos())
                    .collect();
                p.copy_from(&v);
            }
        }
        let w = windows(1, c.window + 1, &[1], 4);
        let b = improv::train::Batch::from_windows(&w, &[0]);
        let z: Vec<f32> = (0..c.latent).map(|i| i as f32 * 0.3 - 0.5).collect();
        let logits = model
            .decode(
                dev.tensor_from_vec(z.clone(), (1, c.latent)),
                &b.dec,
                1,
                None,
            )
            .as_vec();
        let v = c.vocab;
        let mut told = model.stream();
        told.set_head(Some(b.dec[0]));
        told.reset(&z);
        let mut blind = model.stream();
        blind.reset(&z);
        let mut differs = false;
        for (t, &tok) in b.dec.iter().enumerate() {
            let want = &logits[t * v..(t + 1) * v];
            let got = told.step(tok);
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-4, "{kind:?} step {t}: {g} vs {w}");
            }
            differs |= blind
                .step(tok)
                .iter()
                .zip(want)
                .any(|(g, w)| (g - w).abs() > 1e-3);
        }
        assert!(
            differs,
            "{kind:?}: a stream without the head ignores the prior"
        );
    }
}

#[test]
fn checkpoints_keep_the_prior() {
    let dev = Cpu::default();
    let c = cfg(ModelKind::VaeLstm);
    let mut model = Model::build(&c, &dev, 5).unwrap();
    for (name, p) in model.params_mut() {
        if name == "style_prior" {
            let v: Vec<f32> = (0..p.shape().0 * p.shape().1).map(|i| i as f32).collect();
            p.copy_from(&v);
        }
    }
    let meta = CheckpointMeta {
        format: checkpoint::FORMAT,
        model: c.clone(),
        tokenizer: TokenizerConfig::default(),
        vocab: vocab(),
        corpus: "test".into(),
        training: serde_json::Value::Null,
        styles: Default::default(),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m");
    checkpoint::save(&path, &model, &meta, None).unwrap();
    let (back, back_meta) = checkpoint::load(&path, &dev).unwrap();
    assert_eq!(back_meta.model.styles, 2);
    assert_eq!(
        back.style_prior().unwrap().as_vec(),
        model.style_prior().unwrap().as_vec()
    );
}
