//! A pre-LayerNorm Transformer block (PyTorch equivalent: `nn.TransformerEncoderLayer` with
//! `norm_first=True`, GELU, and a causal mask when decoding): attention through our own op, a
//! feed-forward pair, dropout on both residual branches; plus its plain-weight one-position step
//! over a key/value cache.

use dfdx::prelude::*;
use rand::Rng;

use super::attention::{attention, AttnShape, KvCache};
use super::linalg::matmul;
use super::{bias_add, init_uniform, linear, Mat, ParamsMut, ParamsRef};

const LN_EPS: f64 = 1e-5;

/// A weight and its bias (or a LayerNorm's gain and bias).
pub type Pair = (Mat<f32>, Mat<f32>);

#[derive(Clone, Debug)]
pub struct Block {
    pub ln1: (Mat<f32>, Mat<f32>),
    pub qkv: (Mat<f32>, Mat<f32>),
    pub proj: (Mat<f32>, Mat<f32>),
    pub ln2: (Mat<f32>, Mat<f32>),
    pub ff1: (Mat<f32>, Mat<f32>),
    pub ff2: (Mat<f32>, Mat<f32>),
}

/// Dropout for one forward pass: probability and the generator of its masks.
pub struct Dropout<'a> {
    pub p: f64,
    pub rng: &'a mut rand::rngs::StdRng,
}

impl Dropout<'_> {
    /// `x` with each value zeroed with probability `p` and the rest scaled by `1 / (1 - p)`.
    pub fn apply<T: Tape<f32, Cpu>>(
        &mut self,
        x: Tensor<(usize, usize), f32, Cpu, T>,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        if self.p <= 0.0 {
            return x;
        }
        let shape = *x.shape();
        let keep = 1.0 / (1.0 - self.p) as f32;
        let mask: Vec<f32> = (0..shape.0 * shape.1)
            .map(|_| if self.rng.gen_bool(self.p) { 0.0 } else { keep })
            .collect();
        let mask = x.device().tensor_from_vec(mask, shape);
        x * mask
    }
}

fn dense(dev: &Cpu, rng: &mut impl Rng, i: usize, o: usize) -> (Mat<f32>, Mat<f32>) {
    let k = 1.0 / (i as f64).sqrt();
    (init_uniform(dev, rng, (i, o), k), dev.zeros_like(&(1, o)))
}

fn norm(dev: &Cpu, d: usize) -> (Mat<f32>, Mat<f32>) {
    (dev.ones_like(&(1, d)), dev.zeros_like(&(1, d)))
}

/// LayerNorm over each row with gain `g` and bias `b` (`1 x D` each).
pub fn layer_norm<T: Tape<f32, Cpu>>(
    x: Tensor<(usize, usize), f32, Cpu, T>,
    (g, b): &(Mat<f32>, Mat<f32>),
) -> Tensor<(usize, usize), f32, Cpu, T> {
    let shape = *x.shape();
    let gain = g
        .clone()
        .reshape_like(&(shape.1,))
        .broadcast_like::<_, Axis<0>>(&shape);
    bias_add(x.normalize::<Axis<1>>(LN_EPS) * gain, b)
}

impl Block {
    pub fn new(dev: &Cpu, rng: &mut impl Rng, dim: usize, ff: usize) -> Block {
        Block {
            ln1: norm(dev, dim),
            qkv: dense(dev, rng, dim, 3 * dim),
            proj: dense(dev, rng, dim, dim),
            ln2: norm(dev, dim),
            ff1: dense(dev, rng, dim, ff),
            ff2: dense(dev, rng, ff, dim),
        }
    }

    /// `x` is `batch * len` rows of `D`.
    pub fn forward<T: Tape<f32, Cpu>>(
        &self,
        x: Tensor<(usize, usize), f32, Cpu, T>,
        s: AttnShape,
        dropout: &mut Option<Dropout<'_>>,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        let (x, tape) = x.split_tape();
        let h = layer_norm(x.clone().put_tape(tape), &self.ln1);
        let a = attention(linear(h, &self.qkv.0, &self.qkv.1), s);
        let mut a = linear(a, &self.proj.0, &self.proj.1);
        if let Some(d) = dropout {
            a = d.apply(a);
        }
        let x = a + x.retaped::<T>();
        let (x, tape) = x.split_tape();
        let h = layer_norm(x.clone().put_tape(tape), &self.ln2);
        let f = linear(h, &self.ff1.0, &self.ff1.1).fast_gelu();
        let mut f = linear(f, &self.ff2.0, &self.ff2.1);
        if let Some(d) = dropout {
            f = d.apply(f);
        }
        f + x.retaped::<T>()
    }

    fn pairs(&self) -> [(&str, &Pair); 6] {
        [
            ("ln1", &self.ln1),
            ("qkv", &self.qkv),
            ("proj", &self.proj),
            ("ln2", &self.ln2),
            ("ff1", &self.ff1),
            ("ff2", &self.ff2),
        ]
    }

    pub fn params<'a>(&'a self, prefix: &str, out: &mut ParamsRef<'a, f32>) {
        for (name, (w, b)) in self.pairs() {
            out.push((format!("{prefix}.{name}.w"), w));
            out.push((format!("{prefix}.{name}.b"), b));
        }
    }

    pub fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut ParamsMut<'a, f32>) {
        let names = ["ln1", "qkv", "proj", "ln2", "ff1", "ff2"];
        let pairs = [
            &mut self.ln1,
            &mut self.qkv,
            &mut self.proj,
            &mut self.ln2,
            &mut self.ff1,
            &mut self.ff2,
        ];
        for (name, (w, b)) in names.iter().zip(pairs) {
            out.push((format!("{prefix}.{name}.w"), w));
            out.push((format!("{prefix}.{name}.b"), b));
        }
    }

    pub fn weights(&self) -> BlockWeights {
        let v = |(w, b): &(Mat<f32>, Mat<f32>)| (w.as_vec(), b.as_vec());
        BlockWeights {
            ln1: v(&self.ln1),
            qkv: v(&self.qkv),
            proj: v(&self.proj),
            ln2: v(&self.ln2),
            ff1: v(&self.ff1),
            ff2: v(&self.ff2),
        }
    }
}

/// Plain LayerNorm of one row into `out`, matching [`layer_norm`].
pub fn layer_norm_row(x: &[f32], (g, b): &(Vec<f32>, Vec<f32>), out: &mut [f32]) {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    let inv = 1.0 / (var + LN_EPS).sqrt();
    for (((o, &v), g), b) in out.iter_mut().zip(x).zip(g).zip(b) {
        *o = ((v as f64 - mean) * inv) as f32 * g + b;
    }
}

fn gelu(x: f32) -> f32 {
    let a = x + 0.044715 * x * x * x;
    0.5 * x * (1.0 + (std::f32::consts::FRAC_2_PI.sqrt() * a).tanh())
}

/// `out = x W + b` for one row.
pub fn dense_row(x: &[f32], (w, b): &(Vec<f32>, Vec<f32>), out: &mut [f32]) {
    out.copy_from_slice(b);
    matmul((1, x.len(), b.len()), x, false, w, false, out, true);
}

/// A block's weights as plain vectors, for one position at a time.
#[derive(Clone, Debug)]
pub struct BlockWeights {
    ln1: (Vec<f32>, Vec<f32>),
    qkv: (Vec<f32>, Vec<f32>),
    proj: (Vec<f32>, Vec<f32>),
    ln2: (Vec<f32>, Vec<f32>),
    ff1: (Vec<f32>, Vec<f32>),
    ff2: (Vec<f32>, Vec<f32>),
}

/// Reused buffers for [`BlockWeights::step`].
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    h: Vec<f32>,
    qkv: Vec<f32>,
    att: Vec<f32>,
    o: Vec<f32>,
    f: Vec<f32>,
    scores: Vec<f32>,
}

impl BlockWeights {
    /// Advances `x` (one position, `D` values) through the block, appending to `cache`.
    pub fn step(&self, x: &mut [f32], cache: &mut KvCache, heads: usize, s: &mut Scratch) {
        let d = x.len();
        s.h.resize(d, 0.0);
        s.qkv.resize(3 * d, 0.0);
        s.att.resize(d, 0.0);
        s.o.resize(d, 0.0);
        s.f.resize(self.ff1.1.len(), 0.0);
        layer_norm_row(x, &self.ln1, &mut s.h);
        dense_row(&s.h, &self.qkv, &mut s.qkv);
        cache.step(&s.qkv, heads, &mut s.att, &mut s.scores);
        dense_row(&s.att, &self.proj, &mut s.o);
        x.iter_mut().zip(&s.o).for_each(|(x, o)| *x += o);
        layer_norm_row(x, &self.ln2, &mut s.h);
        dense_row(&s.h, &self.ff1, &mut s.f);
        s.f.iter_mut().for_each(|v| *v = gelu(*v));
        dense_row(&s.f, &self.ff2, &mut s.o);
        x.iter_mut().zip(&s.o).for_each(|(x, o)| *x += o);
    }
}
