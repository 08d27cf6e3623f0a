//! How much of a window its own latent carries: decode each validation window teacher-forced
//! from its posterior mean and count the positions where the arg-max token is the true one;
//! beside it, the same with another window's mean, so the gap shows what z adds.

use dfdx::prelude::*;
use serde::Serialize;

use super::latent::encode_batch;
use crate::corpus::Windows;
use crate::model::Vae;

/// Reconstruction accuracy over some windows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Reconstruction {
    pub windows: usize,
    pub tokens: usize,
    /// Arg-max token accuracy with each window's own posterior mean.
    pub accuracy: f64,
    /// The same with the mean of another window (the next one of the batch, cyclically).
    pub shuffled_accuracy: f64,
}

fn argmax_hits(logits: &[f32], vocab: usize, targets: &[u32]) -> usize {
    logits
        .chunks_exact(vocab)
        .zip(targets)
        .filter(|(row, &t)| {
            let best = row
                .iter()
                .enumerate()
                .fold((0usize, f32::NEG_INFINITY), |b, (i, &v)| {
                    if v > b.1 {
                        (i, v)
                    } else {
                        b
                    }
                })
                .0;
            best == t as usize
        })
        .count()
}

/// Accuracy over at most `max_windows` windows of `val` (windows of `T + 1` ids: the encoder
/// and the targets read `w[1..]`, the decoder `w[..T]`), evenly spaced, `batch` at a time.
pub fn reconstruction(
    model: &impl Vae,
    val: &Windows,
    max_windows: usize,
    batch: usize,
) -> Reconstruction {
    let count = val.count();
    let n = count.min(max_windows);
    if n == 0 || val.len < 2 {
        return Reconstruction::default();
    }
    let picks: Vec<usize> = (0..n).map(|i| i * count / n).collect();
    let (steps, latent, vocab) = (val.len - 1, model.config().latent, model.config().vocab);
    let dev = Cpu::default();
    let (mut own, mut other, mut tokens) = (0usize, 0usize, 0usize);
    for chunk in picks.chunks(batch.max(1)) {
        let b = chunk.len();
        let (mut enc, mut dec) = (Vec::new(), Vec::new());
        for &i in chunk {
            let w = val.get(i);
            dec.extend_from_slice(&w[..steps]);
            enc.extend_from_slice(&w[1..]);
        }
        let z = encode_batch(model, &enc, b);
        let mut rolled = z[latent..].to_vec();
        rolled.extend_from_slice(&z[..latent]);
        for (zs, hits) in [(z, &mut own), (rolled, &mut other)] {
            let logits = model
                .decode(dev.tensor_from_vec(zs, (b, latent)), &dec, b, None)
                .as_vec();
            *hits += argmax_hits(&logits, vocab, &enc);
        }
        tokens += b * steps;
    }
    Reconstruction {
        windows: n,
        tokens,
        accuracy: own as f64 / tokens as f64,
        shuffled_accuracy: other as f64 / tokens as f64,
    }
}
