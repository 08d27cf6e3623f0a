//! The VAE's losses as fused dfdx ops with hand-written backward passes: reconstruction
//! cross-entropy from class indices (no one-hot tensors) and the analytic Gaussian KL with free
//! bits. Both are averaged over the batch; their plain figures come back beside the tensor.

use dfdx::prelude::*;

/// What a cross-entropy pass measured besides the loss.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CeStats {
    /// Sum of -log p(target) over every position of the batch.
    pub nll_sum: f64,
    /// Positions whose arg-max equals the target.
    pub correct: usize,
    pub positions: usize,
}

/// Cross-entropy of `logits` (`positions x vocab`) against `targets`, summed over positions and
/// divided by `batch` (so it is per sequence). Matches PyTorch's `cross_entropy(..., "sum") / B`.
pub fn cross_entropy<T: Tape<f32, Cpu>>(
    logits: Tensor<(usize, usize), f32, Cpu, T>,
    targets: &[u32],
    batch: usize,
) -> (Tensor<Rank0, f32, Cpu, T>, CeStats) {
    let (logits, mut tape) = logits.split_tape();
    let (n, v) = *logits.shape();
    assert_eq!(n, targets.len(), "cross_entropy: one target per row");
    let x = logits.as_vec();
    let scale = 1.0 / batch.max(1) as f64;
    let mut stats = CeStats {
        positions: n,
        ..CeStats::default()
    };
    // Row log-sum-exp, kept for the backward pass.
    let mut lse = vec![0f32; n];
    for (r, row) in x.chunks_exact(v).enumerate() {
        let (mut arg, mut max) = (0, f32::NEG_INFINITY);
        for (j, &a) in row.iter().enumerate() {
            if a > max {
                (arg, max) = (j, a);
            }
        }
        let sum: f64 = row.iter().map(|&a| ((a - max) as f64).exp()).sum();
        lse[r] = max + sum.ln() as f32;
        let t = targets[r] as usize;
        stats.nll_sum += (lse[r] - row[t.min(v - 1)]) as f64;
        stats.correct += (arg == t) as usize;
    }
    let dev = logits.device().clone();
    let out = dev.tensor_from_vec(vec![(stats.nll_sum * scale) as f32], ());
    if T::OWNS_TAPE {
        let (in_ghost, out_ghost) = (logits.ghost(), out.ghost());
        let targets = targets.to_vec();
        tape.add_backward_op(move |grads| {
            let g = grads.get_or_alloc_mut(&out_ghost)?[0] * scale as f32;
            let d = grads.get_or_alloc_mut(&in_ghost)?;
            for (r, (drow, row)) in d.chunks_exact_mut(v).zip(x.chunks_exact(v)).enumerate() {
                for (dj, &a) in drow.iter_mut().zip(row) {
                    *dj += g * (a - lse[r]).exp();
                }
                drow[targets[r] as usize] -= g;
            }
            Ok(())
        });
    }
    (out.put_tape(tape), stats)
}

/// What a KL pass measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KlStats {
    /// KL per latent dimension, averaged over the batch (before free bits).
    pub per_dim: Vec<f64>,
}

impl KlStats {
    pub fn total(&self) -> f64 {
        self.per_dim.iter().sum()
    }
}

/// KL of N(mean, exp(logvar)) to N(0, I): `stats` is `batch x 2Z` (mean, then logvar). Each
/// dimension's batch-mean KL counts as at least `free_bits` nats, and a dimension under that
/// floor gets no gradient (the free-bits objective of Kingma et al. 2016).
pub fn kl_divergence<T: Tape<f32, Cpu>>(
    stats: Tensor<(usize, usize), f32, Cpu, T>,
    free_bits: f64,
) -> (Tensor<Rank0, f32, Cpu, T>, KlStats) {
    let (stats, mut tape) = stats.split_tape();
    let (b, z2) = *stats.shape();
    let z = z2 / 2;
    let s = stats.as_vec();
    let mut per_dim = vec![0f64; z];
    for row in s.chunks_exact(z2) {
        for (j, kl) in per_dim.iter_mut().enumerate() {
            let (m, lv) = (row[j] as f64, row[z + j] as f64);
            *kl += -0.5 * (1.0 + lv - m * m - lv.exp());
        }
    }
    per_dim.iter_mut().for_each(|k| *k /= b.max(1) as f64);
    let value: f64 = per_dim.iter().map(|k| k.max(free_bits)).sum();
    let dev = stats.device().clone();
    let out = dev.tensor_from_vec(vec![value as f32], ());
    if T::OWNS_TAPE {
        let (in_ghost, out_ghost) = (stats.ghost(), out.ghost());
        let live: Vec<bool> = per_dim.iter().map(|&k| k > free_bits).collect();
        tape.add_backward_op(move |grads| {
            let g = grads.get_or_alloc_mut(&out_ghost)?[0] / b.max(1) as f32;
            let d = grads.get_or_alloc_mut(&in_ghost)?;
            for (drow, row) in d.chunks_exact_mut(z2).zip(s.chunks_exact(z2)) {
                for j in (0..z).filter(|&j| live[j]) {
                    drow[j] += g * row[j];
                    drow[z + j] += g * 0.5 * (row[z + j].exp() - 1.0);
                }
            }
            Ok(())
        });
    }
    (out.put_tape(tape), KlStats { per_dim })
}
