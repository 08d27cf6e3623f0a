//! The hand-written attention op against a direct computation and finite differences.

use dfdx::prelude::*;
use improv::model::attention::{attention, AttnShape};
use rand::{Rng, SeedableRng};

fn reference(x: &[f64], s: AttnShape, d: usize) -> Vec<f64> {
    let dh = d / s.heads;
    let mut out = vec![0.0; s.batch * s.len * d];
    for b in 0..s.batch {
        for h in 0..s.heads {
            for i in 0..s.len {
                let at = |j: usize, part: usize, c: usize| {
                    x[(b * s.len + j) * 3 * d + part * d + h * dh + c]
                };
                let visible = if s.causal { i + 1 } else { s.len };
                let scores: Vec<f64> = (0..visible)
                    .map(|j| {
                        (0..dh).map(|c| at(i, 0, c) * at(j, 1, c)).sum::<f64>() / (dh as f64).sqrt()
                    })
                    .collect();
                let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let sum: f64 = e.iter().sum();
                for c in 0..dh {
                    out[(b * s.len + i) * d + h * dh + c] =
                        (0..visible).map(|j| e[j] / sum * at(j, 2, c)).sum();
                }
            }
        }
    }
    out
}

#[test]
fn attention_matches_the_definition_and_finite_differences() {
    let dev = Cpu::default();
    let rng = &mut rand::rngs::StdRng::seed_from_u64(3);
    let d = 6;
    for causal in [true, false] {
        let s = AttnShape {
            batch: 2,
            len: 4,
            heads: 2,
            causal,
        };
        let n = s.batch * s.len;
        let x: Vec<f64> = (0..n * 3 * d).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let r: Vec<f64> = (0..n * d).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let xt = dev.tensor_from_vec(x.clone(), (n, 3 * d));
        let rt = dev.tensor_from_vec(r.clone(), (n, d));
        let out = attention(xt.clone().traced(Gradients::leaky()), s);
        for (a, b) in out.as_vec().iter().zip(reference(&x, s, d)) {
            assert!((a - b).abs() < 1e-12, "{causal}: {a} vs {b}");
        }
        let grads = (out * rt.clone()).sum::<Rank0, _>().backward();
        let g = grads.get(&xt).as_vec();
        let loss =
            |v: &[f64]| -> f64 { reference(v, s, d).iter().zip(&r).map(|(a, b)| a * b).sum() };
        for k in 0..x.len() {
            let mut v = x.clone();
            v[k] += 1e-6;
            let up = loss(&v);
            v[k] -= 2e-6;
            let numeric = (up - loss(&v)) / 2e-6;
            assert!(
                (numeric - g[k]).abs() < 1e-7,
                "{causal} [{k}]: {numeric} vs {}",
                g[k]
            );
        }
    }
}
