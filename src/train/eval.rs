//! Validation: reconstruction cross-entropy, KL, the per-token negative ELBO (a bound on the
//! model's cross-entropy, comparable with an n-gram's), accuracy, active latent units and how
//! much shuffling z across a batch hurts (a latent that is really used must matter).

use dfdx::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::data::{normal_draws, Batch};
use super::losses::{cross_entropy, kl_divergence};
use crate::corpus::Windows;
use crate::model::{Model, Vae};

/// A latent unit counts as active when its posterior mean varies across windows by more than
/// this (Burda et al. 2016).
pub const ACTIVE_UNIT_VARIANCE: f64 = 0.01;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValMetrics {
    pub windows: usize,
    pub tokens: usize,
    /// Reconstruction cross-entropy per token with z sampled from the posterior (nats).
    pub recon: f64,
    /// KL per window (nats, no free bits).
    pub kl: f64,
    /// (recon + KL) per token: the negative ELBO, an upper bound on cross-entropy (nats).
    pub nelbo: f64,
    /// exp(nelbo): a bound on perplexity.
    pub perplexity: f64,
    /// Arg-max accuracy of the next token with z sampled.
    pub accuracy: f64,
    /// Latent units whose posterior mean varies across windows by more than 0.01.
    pub active_units: usize,
    /// Cross-entropy per token with z = the mean of another window of the batch (a random
    /// derangement) minus with its own mean.
    pub shuffle_gap: f64,
}

fn decode_ce(model: &Model, z: Vec<f32>, b: &Batch) -> f64 {
    let dev = Cpu::default();
    let zt = dev.tensor_from_vec(z, (b.batch, model.config().latent));
    let logits = model.decode(zt, &b.dec, b.batch, None);
    cross_entropy(logits, &b.target, b.batch).1.nll_sum
}

/// Metrics over at most `max_windows` windows of `val` (evenly spaced), `batch` at a time.
pub fn validate(
    model: &Model,
    val: &Windows,
    batch: usize,
    max_windows: usize,
    seed: u64,
) -> ValMetrics {
    let count = val.count();
    let n = count.min(max_windows.max(1));
    let mut picks: Vec<usize> = (0..n).map(|i| i * count / n.max(1)).collect();
    // Batches of windows from all over the set, so a shuffle pairs windows of different pieces.
    let rng = &mut rand::rngs::StdRng::seed_from_u64(seed ^ 0xE7A1);
    picks.shuffle(rng);
    let zdim = model.config().latent;
    let mut m = ValMetrics::default();
    let (mut recon, mut kl, mut correct, mut own, mut shuffled) = (0.0, 0.0, 0, 0.0, 0.0);
    let mut shuffled_tokens = 0;
    let mut means: Vec<Vec<f64>> = vec![Vec::new(); zdim];
    for (k, chunk) in picks.chunks(batch.max(1)).enumerate() {
        let b = Batch::from_windows(val, chunk);
        let stats = model.encode(&b.enc, b.batch, NoneTape, None);
        let s = stats.as_vec();
        let eps = normal_draws(seed, k as u64, b.batch * zdim);
        let mut zs = vec![0f32; b.batch * zdim];
        let mut zm = vec![0f32; b.batch * zdim];
        for r in 0..b.batch {
            for j in 0..zdim {
                let (mu, lv) = (s[r * 2 * zdim + j], s[r * 2 * zdim + zdim + j]);
                zs[r * zdim + j] = mu + (0.5 * lv).exp() * eps[r * zdim + j];
                zm[r * zdim + j] = mu;
                means[j].push(mu as f64);
            }
        }
        let (_, ks) = kl_divergence(stats, 0.0);
        kl += ks.total() * b.batch as f64;
        let dev = Cpu::default();
        let logits = model.decode(
            dev.tensor_from_vec(zs, (b.batch, zdim)),
            &b.dec,
            b.batch,
            None,
        );
        let (_, ce) = cross_entropy(logits, &b.target, b.batch);
        recon += ce.nll_sum;
        correct += ce.correct;
        m.tokens += b.tokens();
        m.windows += b.batch;
        if b.batch > 1 {
            // Each window decoded with another window's mean: a random single-cycle
            // permutation (Sattolo's algorithm), so no window keeps its own.
            let mut perm: Vec<usize> = (0..b.batch).collect();
            for i in (1..b.batch).rev() {
                perm.swap(i, rng.gen_range(0..i));
            }
            let other: Vec<f32> = perm
                .iter()
                .flat_map(|&r| zm[r * zdim..(r + 1) * zdim].iter().copied())
                .collect();
            own += decode_ce(model, zm, &b);
            shuffled += decode_ce(model, other, &b);
            shuffled_tokens += b.tokens();
        }
    }
    let tokens = m.tokens.max(1) as f64;
    m.recon = recon / tokens;
    m.kl = kl / m.windows.max(1) as f64;
    m.nelbo = (recon + kl) / tokens;
    m.perplexity = m.nelbo.exp();
    m.accuracy = correct as f64 / tokens;
    m.shuffle_gap = (shuffled - own) / shuffled_tokens.max(1) as f64;
    m.active_units = means
        .iter()
        .filter(|v| {
            let n = v.len().max(1) as f64;
            let mean = v.iter().sum::<f64>() / n;
            v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n > ACTIVE_UNIT_VARIANCE
        })
        .count();
    m
}
