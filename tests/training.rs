//! Training the VAEs on small synthetic windows: gradients reach every parameter, a tiny batch
//! is learnt by heart, checkpoints round-trip exactly and refuse damage, a NaN stops the run
//! without touching the last good checkpoint, and a resumed run ends where an unbroken one does.

use dfdx::prelude::*;
use improv::corpus::Windows;
use improv::model::checkpoint::{self, CheckpointMeta};
use improv::model::{Model, ModelConfig, ModelKind, Preset, Vae};
use improv::music::tokens::{Token, TokenizerConfig, Vocab};
use improv::train::losses::{cross_entropy, kl_divergence};
use improv::train::{
    Anneal, BetaSchedule, OutSpec, TrainConfig, TrainData, TrainError, TrainEvent, TrainJob,
    Trainer,
};
use rand::{Rng, SeedableRng};

const VOCAB: usize = 12;

fn windows(count: usize, len: usize, seed: u64) -> Windows {
    let rng = &mut rand::rngs::StdRng::seed_from_u64(seed);
    Windows {
        len,
        ids: (0..count * len)
            .map(|_| rng.gen_range(0..VOCAB as u32))
            .collect(),
    }
}

fn tiny(kind: ModelKind) -> ModelConfig {
    ModelConfig::preset(kind, Preset::Tiny, VOCAB)
}

fn quick_config() -> TrainConfig {
    TrainConfig {
        epochs: 2,
        batch: 4,
        lr: 1e-2,
        min_lr: 1e-3,
        warmup: 2,
        threads: 1,
        log_every: 1,
        val_batch: 4,
        ..TrainConfig::default()
    }
}

fn vocab() -> Vocab {
    Vocab::new((0..VOCAB as u8).map(|i| Token::Pitch(40 + i)))
}

fn out_spec(dir: &std::path::Path) -> OutSpec {
    OutSpec {
        dir: dir.to_path_buf(),
        tokenizer: TokenizerConfig::default(),
        vocab: vocab(),
        corpus: "test".into(),
        styles: Default::default(),
    }
}

fn run(
    job: TrainJob,
) -> (
    Result<improv::train::TrainOutcome, TrainError>,
    Vec<TrainEvent>,
) {
    let t = Trainer::spawn(job).unwrap();
    let events: Vec<TrainEvent> = t.events.iter().collect();
    (t.join(), events)
}

#[test]
fn every_parameter_gets_a_gradient() {
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeLstm);
    let model = Model::build(&cfg, &dev, 1).unwrap();
    let w = windows(3, cfg.window + 1, 2);
    let b = improv::train::Batch::from_windows(&w, &[0, 1, 2]);
    let eps = vec![0.5f32; 3 * cfg.latent];
    let out = model.forward(&b.enc, &b.dec, 3, Some(&eps), OwnedTape::default(), Some(1));
    let (ce, _) = cross_entropy(out.logits, &b.target, 3);
    let (kl, _) = kl_divergence(out.stats, 0.0);
    let (bow, _) = cross_entropy(out.bow, &b.target[..3], 3);
    let mut grads = (ce + kl + bow).backward();
    for (name, p) in model.params() {
        let g = f32::grad_of(&mut grads, p);
        assert!(g.iter().any(|&x| x != 0.0), "{name} got no gradient");
    }
}

trait GradOf {
    fn grad_of(grads: &mut Gradients<f32, Cpu>, p: &Tensor<(usize, usize), f32, Cpu>) -> Vec<f32>;
}
impl GradOf for f32 {
    fn grad_of(grads: &mut Gradients<f32, Cpu>, p: &Tensor<(usize, usize), f32, Cpu>) -> Vec<f32> {
        grads.get_or_alloc_mut(p).unwrap().to_vec()
    }
}

#[test]
fn stepping_one_token_at_a_time_matches_the_teacher_forced_decoder() {
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeLstm);
    let model = Model::build(&cfg, &dev, 3).unwrap();
    let w = windows(1, cfg.window + 1, 4);
    let b = improv::train::Batch::from_windows(&w, &[0]);
    let z: Vec<f32> = (0..cfg.latent).map(|i| i as f32 * 0.3 - 0.5).collect();
    let logits = model
        .decode(
            dev.tensor_from_vec(z.clone(), (1, cfg.latent)),
            &b.dec,
            1,
            None,
        )
        .as_vec();
    let mut stream = model.stream();
    stream.reset(&z);
    for (t, &tok) in b.dec.iter().enumerate() {
        let got = stream.step(tok);
        for (g, want) in got.iter().zip(&logits[t * VOCAB..(t + 1) * VOCAB]) {
            assert!((g - want).abs() < 1e-4, "step {t}: {g} vs {want}");
        }
    }
}

#[test]
fn a_tiny_batch_is_learnt_to_near_zero_loss() {
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeLstm);
    let w = windows(4, cfg.window + 1, 5);
    let config = TrainConfig {
        epochs: 400,
        lr: 2e-2,
        min_lr: 2e-2,
        warmup: 1,
        weight_decay: 0.0,
        beta: BetaSchedule {
            max: 0.0,
            anneal: Anneal::None,
        },
        free_bits: 0.0,
        bow_weight: 0.0,
        log_every: 400,
        ..quick_config()
    };
    let job = TrainJob {
        model: Model::build(&cfg, &dev, 6).unwrap(),
        config,
        data: TrainData {
            train: w.clone(),
            val: w,
        },
        out: None,
        resume: None,
        baseline_kn: None,
    };
    let (outcome, events) = run(job);
    outcome.unwrap();
    let recon: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Step {
                recon_per_token, ..
            } => Some(*recon_per_token),
            _ => None,
        })
        .collect();
    let last = *recon.last().unwrap();
    assert!(
        last < 0.05,
        "recon per token {last} (started near ln 12 = 2.5)"
    );
}

fn meta(model: &Model) -> CheckpointMeta {
    CheckpointMeta {
        format: checkpoint::FORMAT,
        model: model.config().clone(),
        tokenizer: TokenizerConfig::default(),
        vocab: vocab(),
        corpus: "test".into(),
        training: serde_json::Value::Null,
        styles: Default::default(),
    }
}

#[test]
fn checkpoints_round_trip_exactly_and_refuse_damage() {
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeLstm);
    let model = Model::build(&cfg, &dev, 7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt");
    checkpoint::save(&path, &model, &meta(&model), None).unwrap();
    checkpoint::save(&path, &model, &meta(&model), None).unwrap();
    let (back, m) = checkpoint::load(&path, &dev).unwrap();
    assert_eq!(m.model, cfg);
    let w = windows(2, cfg.window + 1, 8);
    let b = improv::train::Batch::from_windows(&w, &[0, 1]);
    let logits = |m: &Model| {
        m.forward(&b.enc, &b.dec, 2, None, NoneTape, None)
            .logits
            .as_vec()
    };
    assert_eq!(logits(&model), logits(&back));
    // Nothing but the checkpoint is left in the parent directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let weights = path.join("weights.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let err = checkpoint::load(&path, &dev).unwrap_err().to_string();
    assert!(err.contains("safetensors"), "{err}");

    let mut other = cfg.clone();
    other.hidden += 1;
    let bigger = Model::build(&other, &dev, 7).unwrap();
    checkpoint::save(&path, &bigger, &meta(&bigger), None).unwrap();
    let mut m = meta(&bigger);
    m.model = cfg.clone();
    std::fs::write(path.join("meta.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    let err = checkpoint::load(&path, &dev).unwrap_err().to_string();
    assert!(err.contains("shape"), "{err}");

    std::fs::write(path.join("meta.json"), b"{ not json").unwrap();
    let err = checkpoint::load(&path, &dev).unwrap_err().to_string();
    assert!(err.contains("bad metadata"), "{err}");
    let err = checkpoint::load(&dir.path().join("nowhere"), &dev).unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
}

#[test]
fn saving_over_a_folder_that_holds_other_files_is_refused_and_keeps_them() {
    let model = Model::build(&tiny(ModelKind::VaeLstm), &Cpu::default(), 7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A folder the user keeps a take in, and a training folder with its best/ and last/.
    let kept = dir.path().join("mine");
    std::fs::create_dir_all(&kept).unwrap();
    let take = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/folk/airdsAirs")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    std::fs::write(kept.join("take.mid"), &take).unwrap();
    let err = checkpoint::save(&kept, &model, &meta(&model), None).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("take.mid") && text.contains("not replaced"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
    assert_eq!(std::fs::read(kept.join("take.mid")).unwrap(), take);
    assert!(!kept.join("weights.safetensors").exists());
    let run = dir.path().join("run");
    checkpoint::save(&run.join("best"), &model, &meta(&model), None).unwrap();
    assert!(checkpoint::save(&run, &model, &meta(&model), None).is_err());
    assert!(checkpoint::load(&run.join("best"), &Cpu::default()).is_ok());
    // A file where the folder should be is not replaced either.
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "mine").unwrap();
    assert!(checkpoint::save(&file, &model, &meta(&model), None).is_err());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}

#[test]
fn a_nan_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeLstm);
    let dir = tempfile::tempdir().unwrap();
    let data = TrainData {
        train: windows(8, cfg.window + 1, 9),
        val: windows(4, cfg.window + 1, 10),
    };
    let config = TrainConfig {
        epochs: 1,
        ..quick_config()
    };
    let job = TrainJob {
        model: Model::build(&cfg, &dev, 11).unwrap(),
        config: config.clone(),
        data: data.clone(),
        out: Some(out_spec(dir.path())),
        resume: None,
        baseline_kn: None,
    };
    run(job).0.unwrap();
    let last = dir.path().join("last");
    let before = std::fs::read(last.join("weights.safetensors")).unwrap();
    let (mut model, meta) = checkpoint::load(&last, &dev).unwrap();
    let state: improv::train::TrainState = serde_json::from_value(meta.training).unwrap();
    let moments = checkpoint::load_optimizer(&last).unwrap().unwrap();
    {
        let mut params = model.params_mut();
        let (_, p) = &mut params[0];
        let mut v = p.as_vec();
        v[0] = f32::NAN;
        p.copy_from(&v);
    }
    let job = TrainJob {
        model,
        config: TrainConfig {
            epochs: 2,
            ..config
        },
        data,
        out: Some(out_spec(dir.path())),
        resume: Some((state, moments)),
        baseline_kn: None,
    };
    let err = match run(job).0 {
        Err(e) => e,
        Ok(_) => panic!("a NaN weight trained on"),
    };
    assert!(
        matches!(err, TrainError::NotFinite { step: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("not finite"), "{err}");
    assert_eq!(
        std::fs::read(last.join("weights.safetensors")).unwrap(),
        before
    );
    checkpoint::load(&last, &dev).unwrap();
}

#[test]
fn a_resumed_run_ends_where_an_unbroken_one_does() {
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeLstm);
    let data = TrainData {
        train: windows(10, cfg.window + 1, 12),
        val: windows(4, cfg.window + 1, 13),
    };
    let config = TrainConfig {
        epochs: 3,
        ..quick_config()
    };
    let fresh = || Model::build(&cfg, &dev, 14).unwrap();
    let straight = run(TrainJob {
        model: fresh(),
        config: config.clone(),
        data: data.clone(),
        out: None,
        resume: None,
        baseline_kn: None,
    })
    .0
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    // Stop after one step in the second epoch (3 batches an epoch), then resume from `last`.
    let first = run(TrainJob {
        model: fresh(),
        config: TrainConfig {
            max_steps: Some(4),
            ..config.clone()
        },
        data: data.clone(),
        out: Some(out_spec(dir.path())),
        resume: None,
        baseline_kn: None,
    })
    .0
    .unwrap();
    assert_eq!((first.state.step, first.state.epoch), (4, 1));
    let last = dir.path().join("last");
    let (model, meta) = checkpoint::load(&last, &dev).unwrap();
    let state = serde_json::from_value(meta.training).unwrap();
    let moments = checkpoint::load_optimizer(&last).unwrap().unwrap();
    let resumed = run(TrainJob {
        model,
        config,
        data,
        out: None,
        resume: Some((state, moments)),
        baseline_kn: None,
    })
    .0
    .unwrap();
    assert_eq!(resumed.state.step, straight.state.step);
    let weights = |m: &Model| checkpoint::model_tensors(m);
    assert_eq!(weights(&resumed.model), weights(&straight.model));
}

#[test]
fn transformer_steps_with_its_cache_match_the_teacher_forced_decoder() {
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeTransformer);
    let model = Model::build(&cfg, &dev, 15).unwrap();
    let w = windows(2, cfg.window + 1, 16);
    let b = improv::train::Batch::from_windows(&w, &[0, 1]);
    let z: Vec<f32> = (0..2 * cfg.latent)
        .map(|i| (i as f32 * 0.7).sin())
        .collect();
    let logits = model
        .decode(
            dev.tensor_from_vec(z.clone(), (2, cfg.latent)),
            &b.dec,
            2,
            None,
        )
        .as_vec();
    for s in 0..2 {
        let mut stream = model.stream();
        stream.reset(&z[s * cfg.latent..(s + 1) * cfg.latent]);
        for t in 0..cfg.window {
            let got = stream.step(b.dec[s * cfg.window + t]);
            let row = (s * cfg.window + t) * VOCAB;
            for (g, want) in got.iter().zip(&logits[row..row + VOCAB]) {
                assert!(
                    (g - want).abs() < 1e-4,
                    "window {s} step {t}: {g} vs {want}"
                );
            }
        }
    }
}

#[test]
fn transformer_gets_gradients_everywhere_and_dropout_repeats_by_seed() {
    let dev = Cpu::default();
    let mut cfg = tiny(ModelKind::VaeTransformer);
    cfg.dropout = 0.1;
    let model = Model::build(&cfg, &dev, 17).unwrap();
    let w = windows(3, cfg.window + 1, 18);
    let b = improv::train::Batch::from_windows(&w, &[0, 1, 2]);
    let eps = vec![0.3f32; 3 * cfg.latent];
    let pass = |seed: u64| {
        model.forward(
            &b.enc,
            &b.dec,
            3,
            Some(&eps),
            OwnedTape::default(),
            Some(seed),
        )
    };
    let out = pass(1);
    let (ce, _) = cross_entropy(out.logits, &b.target, 3);
    let (kl, _) = kl_divergence(out.stats, 0.0);
    let (bow, _) = cross_entropy(out.bow, &b.target[..3], 3);
    let loss = ce + kl + bow;
    let value = loss.array();
    let mut grads = loss.backward();
    for (name, p) in model.params() {
        let g = f32::grad_of(&mut grads, p);
        assert!(g.iter().any(|&x| x != 0.0), "{name} got no gradient");
    }
    let again = cross_entropy(pass(1).logits, &b.target, 3).0.array();
    let other = cross_entropy(pass(2).logits, &b.target, 3).0.array();
    let (first, _) = cross_entropy(pass(1).logits, &b.target, 3);
    assert_eq!(again, first.array());
    assert_ne!(again, other);
    assert!(value.is_finite());
}

#[test]
fn transformer_stream_past_the_window_equals_a_fresh_start_on_its_context() {
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeTransformer);
    let model = Model::build(&cfg, &dev, 19).unwrap();
    let tokens = windows(1, 4 * cfg.window, 20).ids;
    let z: Vec<f32> = (0..cfg.latent).map(|i| i as f32 * 0.2).collect();
    let mut long = model.stream();
    long.reset(&z);
    let mut fresh = model.stream();
    for i in 0..tokens.len() {
        let got = long.step(tokens[i]).to_vec();
        let n = long.context_len();
        assert!(
            n <= cfg.window && n >= (i + 1).min(cfg.window / 2),
            "step {i}: context {n}"
        );
        fresh.reset(&z);
        let mut want = Vec::new();
        for &t in &tokens[i + 1 - n..=i] {
            want = fresh.step(t).to_vec();
        }
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "step {i}: {g} vs {w}");
        }
    }
}

#[test]
fn transformer_stream_with_a_head_restarts_every_lane_with_it() {
    // A style-conditioned model saw its style token first in every training window: past the
    // window, the stream's context must still be the latent, the head, then the last tokens.
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeTransformer);
    let model = Model::build(&cfg, &dev, 19).unwrap();
    let head = 11u32;
    let mut seq = vec![head];
    seq.extend(windows(1, 4 * cfg.window, 21).ids);
    let z: Vec<f32> = (0..cfg.latent).map(|i| i as f32 * 0.1).collect();
    let mut long = model.stream();
    long.set_head(Some(head));
    long.reset(&z);
    let mut fresh = model.stream();
    let mut swapped = false;
    for j in 0..seq.len() {
        let got = long.step(seq[j]).to_vec();
        let n = long.context_len();
        assert!(n <= cfg.window, "step {j}: context {n}");
        swapped |= n < j + 1;
        fresh.reset(&z);
        let mut want = fresh.step(head).to_vec();
        for &t in &seq[j + 2 - n..=j] {
            want = fresh.step(t).to_vec();
        }
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "step {j}: {g} vs {w}");
        }
    }
    assert!(swapped, "the stream never went past its window");
}

#[test]
fn a_run_pauses_resumes_and_stops_between_steps_saving_where_it_stopped() {
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeLstm);
    let dir = tempfile::tempdir().unwrap();
    let data = TrainData {
        train: windows(40, cfg.window + 1, 21),
        val: windows(4, cfg.window + 1, 22),
    };
    let trainer = Trainer::spawn(TrainJob {
        model: Model::build(&cfg, &dev, 23).unwrap(),
        config: TrainConfig {
            epochs: 100_000,
            ..quick_config()
        },
        data,
        out: Some(out_spec(dir.path())),
        resume: None,
        baseline_kn: None,
    })
    .unwrap();
    let next_step = |t: &Trainer| loop {
        if let TrainEvent::Step { step, .. } = t.events.recv().unwrap() {
            return step;
        }
    };
    next_step(&trainer);
    trainer.control.pause();
    loop {
        if trainer.events.recv().unwrap() == TrainEvent::Paused {
            break;
        }
    }
    // While paused no step happens.
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(trainer
        .events
        .try_iter()
        .all(|e| !matches!(e, TrainEvent::Step { .. })));
    trainer.control.resume();
    let step = next_step(&trainer);
    trainer.control.stop();
    let events: Vec<TrainEvent> = trainer.events.iter().collect();
    let outcome = trainer.join().unwrap();
    assert!(outcome.stopped);
    assert!(outcome.state.step >= step && outcome.state.step < 100_000);
    assert!(events.iter().any(|e| matches!(e, TrainEvent::Saved { .. })));
    let (_, meta) = checkpoint::load(&dir.path().join("last"), &dev).unwrap();
    assert_eq!(meta.training["step"], outcome.state.step);
}

#[test]
fn a_snapshot_taken_mid_run_stays_as_it_was() {
    let dev = Cpu::default();
    let cfg = tiny(ModelKind::VaeLstm);
    let trainer = Trainer::spawn(TrainJob {
        model: Model::build(&cfg, &dev, 24).unwrap(),
        config: TrainConfig {
            epochs: 30,
            ..quick_config()
        },
        data: TrainData {
            train: windows(16, cfg.window + 1, 25),
            val: windows(4, cfg.window + 1, 26),
        },
        out: None,
        resume: None,
        baseline_kn: None,
    })
    .unwrap();
    trainer.control.request_snapshot();
    let snap = trainer.snapshots.recv().unwrap();
    let before = checkpoint::model_tensors(&snap);
    trainer.events.iter().for_each(drop);
    let outcome = trainer.join().unwrap();
    assert_eq!(checkpoint::model_tensors(&snap), before);
    assert_ne!(checkpoint::model_tensors(&outcome.model), before);
    let mut stream = snap.stream();
    stream.reset(&vec![0.0; cfg.latent]);
    assert!(stream.step(1).iter().all(|x| x.is_finite()));
}
