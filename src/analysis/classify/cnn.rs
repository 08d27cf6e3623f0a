//! A small CNN on 3-second mel spectrograms (dfdx tensors on the CPU): 2x2 average pooling of
//! the 128-band input, three blocks of 3x3 convolution + ReLU + 2x2 max pooling, global average
//! pooling, one dense layer and softmax; trained with Adam on augmented windows. A clip's
//! probabilities are the mean of its windows'.
//!
//! PyTorch equivalent: `nn.Sequential(nn.AvgPool2d(2), [nn.Conv2d(c_in, c, 3), nn.ReLU(),
//! nn.MaxPool2d(2)] x 3, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, k))`.
//! dfdx 0.13's conv2d and pool2d need a nightly compiler, so a convolution here is an im2col
//! gather (differentiable) followed by our `linear`, and max pooling is the elementwise maximum
//! of four gathers; activations are `(batch * height * width) x channels` matrices.
//!
//! Rows: the CNN reads the mel windows stored after the first `offset` values of a row (the
//! GTZAN features come first), `bands * frames` values per window.

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::mel::{augment, AugmentConfig};
use crate::model::{linear, Mat};
use crate::rng::Rng;

type Act<Tp> = Tensor<(usize, usize), f32, Cpu, Tp>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CnnConfig {
    /// Output channels of each convolution block.
    pub channels: Vec<usize>,
    pub epochs: usize,
    /// At least this many Adam steps in all (more epochs on small sets).
    pub min_steps: usize,
    pub batch: usize,
    pub lr: f64,
    pub augment: AugmentConfig,
}

impl Default for CnnConfig {
    fn default() -> Self {
        CnnConfig {
            channels: vec![8, 16, 32],
            epochs: 12,
            min_steps: 400,
            batch: 16,
            lr: 2e-3,
            augment: AugmentConfig::default(),
        }
    }
}

/// One 3x3 convolution: weights `9 * inp x out` (row `(dy * 3 + dx) * inp + c`), a bias per
/// output channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Conv {
    out: usize,
    inp: usize,
    w: Vec<f32>,
    b: Vec<f32>,
}

/// A fitted CNN; its weights are plain vectors so the genre model saves it with serde.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cnn {
    pub offset: usize,
    pub bands: usize,
    pub frames: usize,
    pub classes: usize,
    /// Mean and standard deviation of the training windows' dB values (input normalisation).
    norm: (f32, f32),
    convs: Vec<Conv>,
    /// Dense layer, `channels x classes`, and its bias.
    dense_w: Vec<f32>,
    dense_b: Vec<f32>,
}

/// The parameters as tensors: each conv's weight and bias, then the dense layer's.
struct Params {
    convs: Vec<(Mat<f32>, Mat<f32>)>,
    dense_w: Mat<f32>,
    dense_b: Mat<f32>,
}

impl Cnn {
    fn params(&self, dev: &Cpu) -> Params {
        Params {
            convs: self
                .convs
                .iter()
                .map(|c| {
                    (
                        dev.tensor_from_vec(c.w.clone(), (9 * c.inp, c.out)),
                        dev.tensor_from_vec(c.b.clone(), (1, c.out)),
                    )
                })
                .collect(),
            dense_w: dev.tensor_from_vec(
                self.dense_w.clone(),
                (self.dense_w.len() / self.classes, self.classes),
            ),
            dense_b: dev.tensor_from_vec(self.dense_b.clone(), (1, self.classes)),
        }
    }

    fn window_len(&self) -> usize {
        self.bands * self.frames
    }

    /// The windows stored in a row.
    fn windows<'a>(&self, row: &'a [f64]) -> impl Iterator<Item = &'a [f64]> {
        row.get(self.offset..)
            .unwrap_or(&[])
            .chunks_exact(self.window_len())
    }

    /// Input size after the 2x2 average pooling.
    fn input_hw(&self) -> (usize, usize) {
        (self.bands / 2, self.frames / 2)
    }

    /// A window normalised and average-pooled 2x2, appended to `out` (row-major `h x w`).
    fn normalised(&self, win: &[f64], out: &mut Vec<f32>) {
        let (h, w) = self.input_hw();
        let f = self.frames;
        for i in 0..h {
            for j in 0..w {
                let (a, b) = (2 * i * f + 2 * j, (2 * i + 1) * f + 2 * j);
                let v = (win[a] + win[a + 1] + win[b] + win[b + 1]) as f32 / 4.0;
                out.push((v - self.norm.0) / self.norm.1);
            }
        }
    }

    /// Fits the CNN on the windows of the rows `x` (labels `y` in 0..classes).
    pub fn fit(
        x: &[Vec<f64>],
        y: &[usize],
        classes: usize,
        offset: usize,
        (bands, frames): (usize, usize),
        cfg: &CnnConfig,
        seed: u64,
    ) -> Cnn {
        let dev = Cpu::default();
        let mut rng = Rng::new(seed ^ 0x00c0_ffee);
        let len = bands * frames;
        let windows: Vec<(&[f64], usize)> = x
            .iter()
            .zip(y)
            .flat_map(|(r, &c)| {
                r.get(offset..)
                    .unwrap_or(&[])
                    .chunks_exact(len)
                    .map(move |w| (w, c))
            })
            .collect();
        let (mut sum, mut sq, mut n) = (0.0f64, 0.0f64, 0.0f64);
        for (w, _) in &windows {
            for v in *w {
                sum += v;
                sq += v * v;
                n += 1.0;
            }
        }
        let mean = sum / n.max(1.0);
        let std = (sq / n.max(1.0) - mean * mean).max(1e-6).sqrt();
        let mut inp = 1;
        let mut convs = Vec::new();
        for &out in &cfg.channels {
            let bound = (6.0 / (inp as f64 * 9.0)).sqrt();
            convs.push(Conv {
                out,
                inp,
                w: (0..out * inp * 9)
                    .map(|_| ((rng.unit() * 2.0 - 1.0) * bound) as f32)
                    .collect(),
                b: vec![0.0; out],
            });
            inp = out;
        }
        let bound = (1.0 / inp as f64).sqrt();
        let mut cnn = Cnn {
            offset,
            bands,
            frames,
            classes,
            norm: (mean as f32, std as f32),
            convs,
            dense_w: (0..inp * classes)
                .map(|_| ((rng.unit() * 2.0 - 1.0) * bound) as f32)
                .collect(),
            dense_b: vec![0.0; classes],
        };
        let mut adam = Adam::new(&cnn.flat());
        let mut order: Vec<usize> = (0..windows.len()).collect();
        let mut buf = Vec::new();
        let per_epoch = windows.len().div_ceil(cfg.batch.max(1)).max(1);
        let epochs = cfg.epochs.max(cfg.min_steps.div_ceil(per_epoch));
        for _ in 0..epochs {
            rng.shuffle(&mut order);
            for chunk in order.chunks(cfg.batch.max(1)) {
                buf.clear();
                let mut target = vec![0.0f32; chunk.len() * classes];
                let (h, w) = cnn.input_hw();
                for (i, &k) in chunk.iter().enumerate() {
                    let start = buf.len();
                    cnn.normalised(windows[k].0, &mut buf);
                    augment(&mut buf[start..], h, w, &cfg.augment, &mut rng);
                    target[i * classes + windows[k].1] = 1.0;
                }
                let p = cnn.params(&dev);
                let input = dev.tensor_from_vec(buf.clone(), (buf.len(), 1));
                let logits = forward(&p, input.leaky_traced(), (chunk.len(), h, w));
                let target = dev.tensor_from_vec(target, (chunk.len(), classes));
                let loss = cross_entropy_with_logits_loss(logits, target);
                let grads = loss.backward();
                let mut g = Vec::new();
                for (w, b) in &p.convs {
                    g.extend(grads.get(w).as_vec());
                    g.extend(grads.get(b).as_vec());
                }
                g.extend(grads.get(&p.dense_w).as_vec());
                g.extend(grads.get(&p.dense_b).as_vec());
                let mut flat = cnn.flat();
                adam.step(&mut flat, &g, cfg.lr);
                cnn.set_flat(&flat);
            }
        }
        cnn
    }

    fn flat(&self) -> Vec<f32> {
        let mut v = Vec::new();
        for c in &self.convs {
            v.extend(&c.w);
            v.extend(&c.b);
        }
        v.extend(&self.dense_w);
        v.extend(&self.dense_b);
        v
    }

    fn set_flat(&mut self, v: &[f32]) {
        let mut at = 0;
        let mut take = |dst: &mut Vec<f32>| {
            let n = dst.len();
            dst.copy_from_slice(&v[at..at + n]);
            at += n;
        };
        for c in &mut self.convs {
            take(&mut c.w);
            take(&mut c.b);
        }
        take(&mut self.dense_w);
        take(&mut self.dense_b);
    }

    /// Probabilities of every window of a row (one vector per window).
    pub fn window_proba(&self, row: &[f64]) -> Vec<Vec<f64>> {
        let dev = Cpu::default();
        let p = self.params(&dev);
        let wins: Vec<&[f64]> = self.windows(row).collect();
        let mut out = Vec::new();
        for chunk in wins.chunks(16) {
            let mut buf = Vec::with_capacity(chunk.len() * self.window_len());
            for w in chunk {
                self.normalised(w, &mut buf);
            }
            let (h, w) = self.input_hw();
            let input = dev.tensor_from_vec(buf.clone(), (buf.len(), 1));
            let probs = forward(&p, input, (chunk.len(), h, w))
                .softmax::<Axis<1>>()
                .as_vec();
            out.extend(
                probs
                    .chunks_exact(self.classes)
                    .map(|c| c.iter().map(|v| *v as f64).collect()),
            );
        }
        out
    }

    /// Clip probabilities: the mean of its windows' (uniform for a row without windows).
    pub fn proba(&self, row: &[f64]) -> Vec<f64> {
        let w = self.window_proba(row);
        if w.is_empty() {
            return vec![1.0 / self.classes as f64; self.classes];
        }
        let mut sum = vec![0.0; self.classes];
        for p in &w {
            for (s, v) in sum.iter_mut().zip(p) {
                *s += v;
            }
        }
        sum.iter().map(|s| s / w.len() as f64).collect()
    }
}

/// Gather indices of the 3x3 patches of a `(n, h, w, c)` activation: one row per output
/// position `(n, h - 2, w - 2)`, columns `(dy * 3 + dx) * c + channel`.
fn patch_index(n: usize, h: usize, w: usize, c: usize) -> Vec<usize> {
    let mut idx = Vec::with_capacity(n * (h - 2) * (w - 2) * 9 * c);
    for b in 0..n {
        for i in 0..h - 2 {
            for j in 0..w - 2 {
                for dy in 0..3 {
                    for dx in 0..3 {
                        let base = ((b * h + i + dy) * w + j + dx) * c;
                        idx.extend(base..base + c);
                    }
                }
            }
        }
    }
    idx
}

/// Gather indices of one corner `(a, e)` of every 2x2 pooling cell of a `(n, h, w, c)`
/// activation.
fn pool_index(n: usize, h: usize, w: usize, c: usize, (a, e): (usize, usize)) -> Vec<usize> {
    let mut idx = Vec::with_capacity(n * (h / 2) * (w / 2) * c);
    for b in 0..n {
        for i in 0..h / 2 {
            for j in 0..w / 2 {
                let base = ((b * h + 2 * i + a) * w + 2 * j + e) * c;
                idx.extend(base..base + c);
            }
        }
    }
    idx
}

/// Logits `(n, classes)` of a batch of `n` input images of `h x w`, given as `(n * h * w, 1)`.
fn forward<Tp: Tape<f32, Cpu> + Merge<Tp>>(
    p: &Params,
    x: Act<Tp>,
    (n, mut h, mut w): (usize, usize, usize),
) -> Act<Tp> {
    let dev = Cpu::default();
    let mut c = 1;
    let mut x = x;
    for (cw, cb) in &p.convs {
        let rows = n * (h - 2) * (w - 2);
        let idx = patch_index(n, h, w, c);
        let len = idx.len();
        let cols = x
            .reshape_like(&(n * h * w * c,))
            .gather(dev.tensor_from_vec(idx, (len,)))
            .reshape_like(&(rows, 9 * c));
        let y = linear(cols, cw, cb).relu();
        (h, w, c) = (h - 2, w - 2, cw.shape().1);
        let flat = y.reshape_like(&(n * h * w * c,));
        let corner = |at: (usize, usize)| {
            let idx = pool_index(n, h, w, c, at);
            let len = idx.len();
            dev.tensor_from_vec(idx, (len,))
        };
        let m = flat
            .with_empty_tape()
            .gather(corner((0, 0)))
            .maximum(flat.with_empty_tape().gather(corner((0, 1))))
            .maximum(flat.with_empty_tape().gather(corner((1, 0))))
            .maximum(flat.gather(corner((1, 1))));
        (h, w) = (h / 2, w / 2);
        x = m.reshape_like(&(n * h * w, c));
    }
    let pooled = x
        .reshape_like(&(n, h * w, c))
        .mean::<(usize, usize), Axis<1>>();
    linear(pooled, &p.dense_w, &p.dense_b)
}

/// Adam (Kingma and Ba) on one flat parameter vector.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
}

impl Adam {
    fn new(params: &[f32]) -> Adam {
        Adam {
            m: vec![0.0; params.len()],
            v: vec![0.0; params.len()],
            t: 0,
        }
    }

    fn step(&mut self, params: &mut [f32], grads: &[f32], lr: f64) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        self.t += 1;
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        for i in 0..params.len() {
            let g = grads[i];
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g;
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g;
            let mh = self.m[i] / c1;
            let vh = self.v[i] / c2;
            params[i] -= lr as f32 * mh / (vh.sqrt() + eps);
        }
    }
}
