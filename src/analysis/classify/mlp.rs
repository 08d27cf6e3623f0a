//! A multilayer perceptron: one ReLU hidden layer, softmax output, trained with Adam on
//! shuffled mini-batches with L2 weight decay.

use serde::{Deserialize, Serialize};

use super::{softmax, Rng};

#[derive(Clone, Debug)]
pub struct MlpConfig {
    pub hidden: usize,
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            hidden: 128,
            epochs: 80,
            batch: 32,
            learning_rate: 1e-3,
            weight_decay: 1e-4,
        }
    }
}

/// Weights: w1 (hidden x inputs), b1, w2 (classes x hidden), b2, stored flat in one vector.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mlp {
    inputs: usize,
    hidden: usize,
    classes: usize,
    w: Vec<f64>,
}

impl Mlp {
    fn offsets(&self) -> (usize, usize, usize) {
        let w1 = self.hidden * self.inputs;
        (
            w1,
            w1 + self.hidden,
            w1 + self.hidden + self.classes * self.hidden,
        )
    }

    fn forward(&self, row: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (b1, w2, b2) = self.offsets();
        let h: Vec<f64> = (0..self.hidden)
            .map(|j| {
                let z = self.w[b1 + j]
                    + self.w[j * self.inputs..(j + 1) * self.inputs]
                        .iter()
                        .zip(row)
                        .map(|(a, b)| a * b)
                        .sum::<f64>();
                z.max(0.0)
            })
            .collect();
        let z: Vec<f64> = (0..self.classes)
            .map(|k| {
                self.w[b2 + k]
                    + self.w[w2 + k * self.hidden..w2 + (k + 1) * self.hidden]
                        .iter()
                        .zip(&h)
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
            })
            .collect();
        (h, softmax(&z))
    }

    pub fn fit(x: &[Vec<f64>], y: &[usize], classes: usize, c: &MlpConfig, seed: u64) -> Mlp {
        let inputs = x.first().map_or(1, |r| r.len());
        let mut rng = Rng::new(seed);
        let mut m = Mlp {
            inputs,
            hidden: c.hidden,
            classes,
            w: Vec::new(),
        };
        let (b1, w2, b2) = m.offsets();
        let size = b2 + classes;
        m.w = (0..size)
            .map(|i| {
                let fan_in = if i < b1 { inputs } else { c.hidden };
                if (b1..w2).contains(&i) || i >= b2 {
                    0.0
                } else {
                    rng.normal() * (2.0 / fan_in as f64).sqrt()
                }
            })
            .collect();
        let (mut mom, mut vel) = (vec![0.0; size], vec![0.0; size]);
        let (beta1, beta2) = (0.9f64, 0.999f64);
        let mut order: Vec<usize> = (0..x.len()).collect();
        let mut step = 0i32;
        for _ in 0..c.epochs {
            rng.shuffle(&mut order);
            for batch in order.chunks(c.batch.max(1)) {
                let mut grad = vec![0.0; size];
                for &i in batch {
                    let (h, p) = m.forward(&x[i]);
                    let dz: Vec<f64> = (0..classes)
                        .map(|k| p[k] - (y[i] == k) as u8 as f64)
                        .collect();
                    for k in 0..classes {
                        grad[b2 + k] += dz[k];
                        for j in 0..c.hidden {
                            grad[w2 + k * c.hidden + j] += dz[k] * h[j];
                        }
                    }
                    for j in 0..c.hidden {
                        if h[j] <= 0.0 {
                            continue;
                        }
                        let dh: f64 = (0..classes)
                            .map(|k| dz[k] * m.w[w2 + k * c.hidden + j])
                            .sum();
                        grad[b1 + j] += dh;
                        for (g, v) in grad[j * inputs..(j + 1) * inputs].iter_mut().zip(&x[i]) {
                            *g += dh * v;
                        }
                    }
                }
                step += 1;
                let n = batch.len() as f64;
                let (c1, c2) = (1.0 - beta1.powi(step), 1.0 - beta2.powi(step));
                for t in 0..size {
                    let g = grad[t] / n + c.weight_decay * m.w[t];
                    mom[t] = beta1 * mom[t] + (1.0 - beta1) * g;
                    vel[t] = beta2 * vel[t] + (1.0 - beta2) * g * g;
                    m.w[t] -= c.learning_rate * (mom[t] / c1) / ((vel[t] / c2).sqrt() + 1e-8);
                }
            }
        }
        m
    }

    pub fn proba(&self, row: &[f64]) -> Vec<f64> {
        self.forward(row).1
    }
}
