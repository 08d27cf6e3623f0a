//! Multi-head scaled dot-product attention as one dfdx op with a hand-written backward (dfdx's
//! own attention has no mask), causal or not, and the one-query step against a key/value cache
//! that live generation uses.

use dfdx::prelude::*;

use super::linalg::{matmul, Real};

/// Sizes of one attention call: `batch` sequences of `len` positions, `heads` heads of `dim`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttnShape {
    pub batch: usize,
    pub len: usize,
    pub heads: usize,
    pub causal: bool,
}

fn softmax_row<E: Real>(row: &mut [E]) {
    let max = row.iter().copied().fold(E::neg_infinity(), E::max);
    let mut sum = E::zero();
    for x in row.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    row.iter_mut().for_each(|x| *x /= sum);
}

/// Copies head `h` of block `part` (0: q, 1: k, 2: v) of sequence `b` out of `qkv` rows.
fn gather_head<E: Real>(
    qkv: &[E],
    s: AttnShape,
    d: usize,
    b: usize,
    part: usize,
    h: usize,
) -> Vec<E> {
    let dh = d / s.heads;
    let mut out = Vec::with_capacity(s.len * dh);
    for i in 0..s.len {
        let row = (b * s.len + i) * 3 * d + part * d + h * dh;
        out.extend_from_slice(&qkv[row..row + dh]);
    }
    out
}

/// Attention over `qkv` (`batch * len` rows of `[q | k | v]`, each `D` wide), returning the
/// heads' outputs side by side (`batch * len` rows of `D`).
pub fn attention<E: Real, T: Tape<E, Cpu>>(
    qkv: Tensor<(usize, usize), E, Cpu, T>,
    s: AttnShape,
) -> Tensor<(usize, usize), E, Cpu, T>
where
    Cpu: Device<E>,
{
    let (qkv, mut tape) = qkv.split_tape();
    let d = qkv.shape().1 / 3;
    let dh = d / s.heads;
    let scale = E::from_f64(1.0 / (dh as f64).sqrt()).unwrap_or_else(E::one);
    let x = qkv.as_vec();
    let n = s.len;
    // Attention weights of every (sequence, head), kept for the backward pass.
    let mut probs = vec![E::zero(); s.batch * s.heads * n * n];
    let mut out = vec![E::zero(); s.batch * n * d];
    let mut o = vec![E::zero(); n * dh];
    for b in 0..s.batch {
        for h in 0..s.heads {
            let (q, k, v) = (
                gather_head(&x, s, d, b, 0, h),
                gather_head(&x, s, d, b, 1, h),
                gather_head(&x, s, d, b, 2, h),
            );
            let p = &mut probs[(b * s.heads + h) * n * n..(b * s.heads + h + 1) * n * n];
            matmul((n, dh, n), &q, false, &k, true, p, false);
            for (i, row) in p.chunks_exact_mut(n).enumerate() {
                row.iter_mut().for_each(|x| *x *= scale);
                if s.causal {
                    row[i + 1..].fill(E::neg_infinity());
                }
                softmax_row(row);
            }
            matmul((n, n, dh), p, false, &v, false, &mut o, false);
            for i in 0..n {
                let dst = (b * n + i) * d + h * dh;
                out[dst..dst + dh].copy_from_slice(&o[i * dh..(i + 1) * dh]);
            }
        }
    }
    let out = qkv.device().tensor_from_vec(out, (s.batch * n, d));
    if T::OWNS_TAPE {
        let (qkv, out) = (qkv.clone(), out.clone());
        tape.add_backward_op(move |grads| {
            let d_out = E::grad(grads, &out)?.clone();
            let d_qkv = backward(&x, &probs, &d_out, s, d, scale);
            for (g, v) in E::grad(grads, &qkv)?.iter_mut().zip(d_qkv) {
                *g += v;
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}

fn backward<E: Real>(
    x: &[E],
    probs: &[E],
    d_out: &[E],
    s: AttnShape,
    d: usize,
    scale: E,
) -> Vec<E> {
    let (n, dh) = (s.len, d / s.heads);
    let mut d_qkv = vec![E::zero(); s.batch * n * 3 * d];
    let (mut dv, mut dp, mut dq, mut dk) = (
        vec![E::zero(); n * dh],
        vec![E::zero(); n * n],
        vec![E::zero(); n * dh],
        vec![E::zero(); n * dh],
    );
    for b in 0..s.batch {
        for h in 0..s.heads {
            let (q, k, v) = (
                gather_head(x, s, d, b, 0, h),
                gather_head(x, s, d, b, 1, h),
                gather_head(x, s, d, b, 2, h),
            );
            let mut d_o = Vec::with_capacity(n * dh);
            for i in 0..n {
                let src = (b * n + i) * d + h * dh;
                d_o.extend_from_slice(&d_out[src..src + dh]);
            }
            let p = &probs[(b * s.heads + h) * n * n..(b * s.heads + h + 1) * n * n];
            matmul((n, n, dh), p, true, &d_o, false, &mut dv, false);
            matmul((n, dh, n), &d_o, false, &v, true, &mut dp, false);
            // Softmax backward, then the scale: dS = P * (dP - rowsum(dP * P)) * scale.
            for (prow, dprow) in p.chunks_exact(n).zip(dp.chunks_exact_mut(n)) {
                let dot = prow
                    .iter()
                    .zip(dprow.iter())
                    .fold(E::zero(), |a, (&p, &g)| a + p * g);
                for (g, &p) in dprow.iter_mut().zip(prow) {
                    *g = p * (*g - dot) * scale;
                }
            }
            matmul((n, n, dh), &dp, false, &k, false, &mut dq, false);
            matmul((n, n, dh), &dp, true, &q, false, &mut dk, false);
            for i in 0..n {
                let row = (b * n + i) * 3 * d + h * dh;
                let r = i * dh..(i + 1) * dh;
                d_qkv[row..row + dh].copy_from_slice(&dq[r.clone()]);
                d_qkv[row + d..row + d + dh].copy_from_slice(&dk[r.clone()]);
                d_qkv[row + 2 * d..row + 2 * d + dh].copy_from_slice(&dv[r]);
            }
        }
    }
    d_qkv
}

/// Keys and values of the positions seen so far, one row of `D` each.
#[derive(Clone, Debug, Default)]
pub struct KvCache {
    pub keys: Vec<f32>,
    pub values: Vec<f32>,
    pub len: usize,
}

impl KvCache {
    pub fn clear(&mut self) {
        self.keys.clear();
        self.values.clear();
        self.len = 0;
    }

    /// Appends this position's `qkv` row (`[q | k | v]`) and writes the attention of its query
    /// over every cached position (itself included) to `out` (`D` values). `scores` is scratch.
    pub fn step(&mut self, qkv: &[f32], heads: usize, out: &mut [f32], scores: &mut Vec<f32>) {
        let d = qkv.len() / 3;
        let dh = d / heads;
        self.keys.extend_from_slice(&qkv[d..2 * d]);
        self.values.extend_from_slice(&qkv[2 * d..]);
        self.len += 1;
        let scale = 1.0 / (dh as f32).sqrt();
        scores.resize(self.len, 0.0);
        for h in 0..heads {
            let q = &qkv[h * dh..(h + 1) * dh];
            for (j, s) in scores.iter_mut().enumerate() {
                let k = &self.keys[j * d + h * dh..j * d + (h + 1) * dh];
                *s = q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale;
            }
            softmax_row(scores);
            let o = &mut out[h * dh..(h + 1) * dh];
            o.fill(0.0);
            for (j, &p) in scores.iter().enumerate() {
                let v = &self.values[j * d + h * dh..j * d + (h + 1) * dh];
                o.iter_mut().zip(v).for_each(|(o, v)| *o += p * v);
            }
        }
    }
}
