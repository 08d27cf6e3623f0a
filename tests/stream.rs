//! A live stream runs far past the training window: after training briefly on a varied Markov
//! chain, tokens 1,000-2,000 sampled from each model's stream must stay about as varied as the
//! training data (no collapse into one repeated token).

use dfdx::prelude::*;
use improv::corpus::Windows;
use improv::model::{Model, ModelConfig, ModelKind, Preset};
use improv::train::{TrainConfig, TrainData, TrainJob, Trainer};
use rand::{Rng, SeedableRng};

const VOCAB: usize = 12;

/// A chain that moves up by 1, 2 or 5 (mod 12): every token is used, none repeats.
fn chain(len: usize, seed: u64) -> Vec<u32> {
    let rng = &mut rand::rngs::StdRng::seed_from_u64(seed);
    let mut x = 0u32;
    (0..len)
        .map(|_| {
            x = (x + [1, 2, 5][rng.gen_range(0..3)]) % VOCAB as u32;
            x
        })
        .collect()
}

fn entropy(tokens: &[u32]) -> f64 {
    let mut counts = [0f64; VOCAB];
    tokens.iter().for_each(|&t| counts[t as usize] += 1.0);
    let n = tokens.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0.0)
        .map(|&c| -(c / n) * (c / n).ln())
        .sum()
}

fn longest_run(tokens: &[u32]) -> usize {
    let (mut best, mut run) = (1, 1);
    for w in tokens.windows(2) {
        run = if w[0] == w[1] { run + 1 } else { 1 };
        best = best.max(run);
    }
    best
}

fn check(kind: ModelKind) {
    let dev = Cpu::default();
    let mut cfg = ModelConfig::preset(kind, Preset::Tiny, VOCAB);
    cfg.hidden = 16;
    let data = chain(4000, 1);
    let windows = |ids: &[u32]| Windows {
        len: cfg.window + 1,
        ids: ids[..ids.len() / (cfg.window + 1) * (cfg.window + 1)].to_vec(),
    };
    let job = TrainJob {
        model: Model::build(&cfg, &dev, 2).unwrap(),
        config: TrainConfig {
            epochs: 8,
            batch: 16,
            lr: 1e-2,
            warmup: 5,
            threads: 1,
            log_every: 1000,
            ..TrainConfig::default()
        },
        data: TrainData {
            train: windows(&data),
            val: windows(&chain(400, 3)),
        },
        out: None,
        resume: None,
        baseline_kn: None,
    };
    let trainer = Trainer::spawn(job).unwrap();
    trainer.events.iter().for_each(drop);
    let model = trainer.join().unwrap().model;

    let rng = &mut rand::rngs::StdRng::seed_from_u64(4);
    let mut stream = improv::model::Vae::stream(&model);
    let z: Vec<f32> = (0..cfg.latent).map(|_| rng.gen_range(-1.0..1.0)).collect();
    stream.reset(&z);
    let mut token = data[0];
    let mut out = Vec::new();
    for _ in 0..2000 {
        let logits = stream.step(token);
        let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let p: Vec<f64> = logits.iter().map(|&l| ((l - max) as f64).exp()).collect();
        let mut u = rng.gen::<f64>() * p.iter().sum::<f64>();
        token = p.len() as u32 - 1;
        for (i, &pi) in p.iter().enumerate() {
            if u < pi {
                token = i as u32;
                break;
            }
            u -= pi;
        }
        out.push(token);
    }
    let late = &out[1000..2000];
    let (h_late, h_data) = (entropy(late), entropy(&data));
    assert!(
        h_late > 0.8 * h_data,
        "{kind:?}: entropy {h_late:.3} vs data {h_data:.3}"
    );
    let (run_late, run_data) = (longest_run(late), longest_run(&data));
    assert!(
        run_late <= run_data + 2,
        "{kind:?}: a run of {run_late} (data: {run_data})"
    );
    // The model learnt the chain: most late steps are moves the chain can make.
    let legal = late
        .windows(2)
        .filter(|w| [1, 2, 5].contains(&((w[1] + VOCAB as u32 - w[0]) % VOCAB as u32)))
        .count();
    assert!(
        legal > 800,
        "{kind:?}: only {legal} of 999 late moves follow the chain"
    );
}

#[test]
fn an_lstm_stream_stays_varied_past_a_thousand_tokens() {
    check(ModelKind::VaeLstm);
}

#[test]
fn a_transformer_stream_stays_varied_past_a_thousand_tokens() {
    check(ModelKind::VaeTransformer);
}
