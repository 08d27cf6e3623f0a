//! The VAE's losses as fused dfdx ops with hand-written backward passes: reconstruction
//! cross-entropy from class indices (no one-hot tensors) and the analytic Gaussian KL with free
//! bits. Both are averaged over the batch; their plain figures come back beside the tensor.

use dfdx::prelude::*;
use rayon::prelude::*;

use crate::model::linalg::{to_vec, Real};

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
    assert_eq!(
        logits.shape().0,
        targets.len(),
        "cross_entropy: one target per row"
    );
    repeated_cross_entropy(logits, targets, batch)
}

/// [`cross_entropy`] where each row of `logits` predicts `targets.len() / rows` consecutive
/// targets: the same value as repeating every row that many times first (the bag-of-words
/// loss, whose logits come from z alone), without building the repeated rows.
pub fn repeated_cross_entropy<T: Tape<f32, Cpu>>(
    logits: Tensor<(usize, usize), f32, Cpu, T>,
    targets: &[u32],
    batch: usize,
) -> (Tensor<Rank0, f32, Cpu, T>, CeStats) {
    let (logits, mut tape) = logits.split_tape();
    let (n, v) = *logits.shape();
    assert!(
        n > 0 && targets.len().is_multiple_of(n),
        "cross_entropy: {} targets for {n} rows",
        targets.len()
    );
    let repeat = targets.len() / n;
    let x = to_vec(&logits);
    let scale = 1.0 / batch.max(1) as f64;
    let mut stats = CeStats {
        positions: targets.len(),
        ..CeStats::default()
    };
    // Row log-sum-exp (kept for the backward pass) and arg-max, rows in parallel; the sums
    // below run in row order, so the figures do not depend on the thread count.
    let rows: Vec<(f32, usize)> = x
        .par_chunks_exact(v)
        .map_init(
            || vec![0f32; v],
            |ex, row| {
                let (mut arg, mut max) = (0, f32::NEG_INFINITY);
                for (j, &a) in row.iter().enumerate() {
                    if a > max {
                        (arg, max) = (j, a);
                    }
                }
                // The exponentials in one vectorised pass, then summed in f64.
                ex.iter_mut()
                    .zip(row)
                    .for_each(|(e, &a)| *e = (a - max).fast_exp());
                let sum: f64 = ex.iter().map(|&e| e as f64).sum();
                (max + sum.ln() as f32, arg)
            },
        )
        .collect();
    let mut lse = vec![0f32; n];
    for (r, (row, &(l, arg))) in x.chunks_exact(v).zip(&rows).enumerate() {
        lse[r] = l;
        for &t in &targets[r * repeat..(r + 1) * repeat] {
            let t = t as usize;
            stats.nll_sum += (l - row[t.min(v - 1)]) as f64;
            stats.correct += (arg == t) as usize;
        }
    }
    let dev = logits.device().clone();
    let out = dev.tensor_from_vec(vec![(stats.nll_sum * scale) as f32], ());
    if T::OWNS_TAPE {
        let (in_ghost, out_ghost) = (logits.ghost(), out.ghost());
        let targets = targets.to_vec();
        tape.add_backward_op(move |grads| {
            let g = grads.get_or_alloc_mut(&out_ghost)?[0] * scale as f32;
            let gr = g * repeat as f32;
            let d = grads.get_or_alloc_mut(&in_ghost)?;
            d.par_chunks_exact_mut(v)
                .zip(x.par_chunks_exact(v))
                .enumerate()
                .for_each(|(r, (drow, row))| {
                    let l = lse[r];
                    for (dj, &a) in drow.iter_mut().zip(row) {
                        *dj += gr * (a - l).fast_exp();
                    }
                    for &t in &targets[r * repeat..(r + 1) * repeat] {
                        drow[t as usize] -= g;
                    }
                });
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
    let s = to_vec(&stats);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::vae::repeat_rows;
    use crate::model::{init_uniform, Mat};
    use rand::SeedableRng;

    /// The bag-of-words loss without building repeated rows equals the loss over the rows
    /// repeated by `gather`, value and gradient.
    #[test]
    fn repeated_rows_cross_entropy_equals_the_gathered_one() {
        let dev = Cpu::default();
        let rng = &mut rand::rngs::StdRng::seed_from_u64(5);
        let (batch, steps, v) = (3, 9, 13);
        let logits: Mat<f32> = init_uniform(&dev, rng, (batch, v), 3.0);
        let targets: Vec<u32> = (0..batch * steps).map(|i| (i * 5 % v) as u32).collect();
        let (a, sa) =
            repeated_cross_entropy(logits.clone().traced(Gradients::leaky()), &targets, batch);
        let rows = logits
            .clone()
            .traced(Gradients::leaky())
            .gather(repeat_rows(&dev, batch, steps));
        let (b, sb) = cross_entropy(rows, &targets, batch);
        assert!(
            (a.array() - b.array()).abs() < 1e-5,
            "{} vs {}",
            a.array(),
            b.array()
        );
        assert_eq!(sa.positions, sb.positions);
        assert_eq!(sa.correct, sb.correct);
        assert!((sa.nll_sum - sb.nll_sum).abs() < 1e-4);
        let (ga, gb) = (a.backward(), b.backward());
        for (x, y) in ga
            .get(&logits)
            .as_vec()
            .iter()
            .zip(gb.get(&logits).as_vec())
        {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }

    /// The loss and its gradient against the softmax written out in f64.
    #[test]
    fn cross_entropy_matches_the_definition() {
        let dev = Cpu::default();
        let rng = &mut rand::rngs::StdRng::seed_from_u64(6);
        let (n, v) = (4, 7);
        let logits: Mat<f32> = init_uniform(&dev, rng, (n, v), 4.0);
        let targets = [0u32, 6, 3, 3];
        let (loss, _) = cross_entropy(logits.clone().traced(Gradients::leaky()), &targets, 2);
        let x = logits.as_vec();
        let mut want = 0.0;
        let mut grad = vec![0f64; n * v];
        for r in 0..n {
            let row: Vec<f64> = x[r * v..(r + 1) * v].iter().map(|&a| a as f64).collect();
            let z: f64 = row.iter().map(|a| a.exp()).sum();
            want += (z.ln() - row[targets[r] as usize]) / 2.0;
            for j in 0..v {
                grad[r * v + j] =
                    (row[j].exp() / z - (j == targets[r] as usize) as u8 as f64) / 2.0;
            }
        }
        assert!((loss.array() as f64 - want).abs() < 1e-5);
        let g = loss.backward().get(&logits).as_vec();
        for (a, b) in g.iter().zip(&grad) {
            assert!((*a as f64 - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
