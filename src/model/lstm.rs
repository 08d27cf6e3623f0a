//! A multi-layer LSTM (PyTorch's `nn.LSTM` with gate order i, f, g, o, batch-first rows). dfdx has
//! none, so each layer is one dfdx matmul for the input product of all steps, then the recurrence
//! as a single custom op with a hand-written backward whose recurrent-weight gradient is one GEMM
//! over all steps. `LstmWeights` is a plain copy for one-token steps with carried `(h, c)`.

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use super::linalg::{matmul, sigmoid, tanh, Real};
use super::{init_uniform, linear, Mat, ParamsMut, ParamsRef};

/// Sizes of an LSTM stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LstmConfig {
    pub input: usize,
    pub hidden: usize,
    pub layers: usize,
}

/// One layer: `w_ih` is `(input, 4H)`, `w_hh` is `(H, 4H)`, `bias` is `(1, 4H)` (PyTorch's two
/// biases summed). Columns are the gates i, f, g, o, each `H` wide.
#[derive(Clone, Debug)]
pub struct LstmLayer<E: Real> {
    pub w_ih: Mat<E>,
    pub w_hh: Mat<E>,
    pub bias: Mat<E>,
}

#[derive(Clone, Debug)]
pub struct Lstm<E: Real> {
    pub cfg: LstmConfig,
    pub layers: Vec<LstmLayer<E>>,
}

impl LstmConfig {
    /// PyTorch's initialisation: every weight uniform in +-1/sqrt(H).
    pub fn build<E: Real>(&self, dev: &Cpu, rng: &mut impl rand::Rng) -> Lstm<E>
    where
        Cpu: Device<E>,
    {
        let (h, k) = (self.hidden, 1.0 / (self.hidden as f64).sqrt());
        let layers = (0..self.layers)
            .map(|l| {
                let input = if l == 0 { self.input } else { h };
                LstmLayer {
                    w_ih: init_uniform(dev, rng, (input, 4 * h), k),
                    w_hh: init_uniform(dev, rng, (h, 4 * h), k),
                    bias: init_uniform(dev, rng, (1, 4 * h), k),
                }
            })
            .collect();
        Lstm { cfg: *self, layers }
    }
}

impl<E: Real> Lstm<E>
where
    Cpu: Device<E>,
{
    /// Runs `x` (`batch * steps` rows, batch-major: row `b * steps + t`) from a zero state and
    /// returns the last layer's `h` at every step in the same layout.
    pub fn forward<T: Tape<E, Cpu>>(
        &self,
        x: Tensor<(usize, usize), E, Cpu, T>,
        batch: usize,
        steps: usize,
    ) -> Tensor<(usize, usize), E, Cpu, T> {
        let mut x = x;
        for layer in &self.layers {
            let xw = linear(x, &layer.w_ih, &layer.bias);
            x = recurrence(xw, &layer.w_hh, batch, steps);
        }
        x
    }

    pub fn params<'a>(&'a self, prefix: &str, out: &mut ParamsRef<'a, E>) {
        for (i, l) in self.layers.iter().enumerate() {
            out.push((format!("{prefix}.{i}.w_ih"), &l.w_ih));
            out.push((format!("{prefix}.{i}.w_hh"), &l.w_hh));
            out.push((format!("{prefix}.{i}.bias"), &l.bias));
        }
    }

    pub fn params_mut<'a>(&'a mut self, prefix: &str, out: &mut ParamsMut<'a, E>) {
        for (i, l) in self.layers.iter_mut().enumerate() {
            out.push((format!("{prefix}.{i}.w_ih"), &mut l.w_ih));
            out.push((format!("{prefix}.{i}.w_hh"), &mut l.w_hh));
            out.push((format!("{prefix}.{i}.bias"), &mut l.bias));
        }
    }

    /// A plain copy of the weights for one-token steps.
    pub fn weights(&self) -> LstmWeights<E> {
        LstmWeights {
            cfg: self.cfg,
            layers: self
                .layers
                .iter()
                .map(|l| (l.w_ih.as_vec(), l.w_hh.as_vec(), l.bias.as_vec()))
                .collect(),
        }
    }
}

/// Applies the gate non-linearities to pre-activations `a` (`B x 4H`, in place) and advances the
/// cell: `c = f * c + i * g`, `tanh_c = tanh(c)`, `h = o * tanh_c`. Each pass runs over one
/// contiguous slice so it vectorises.
fn cell<E: Real>(hidden: usize, a: &mut [E], c: &mut [E], tanh_c: &mut [E], h: &mut [E]) {
    for (b, gates) in a.chunks_exact_mut(4 * hidden).enumerate() {
        let (ifg, o) = gates.split_at_mut(3 * hidden);
        let (i_f, g) = ifg.split_at_mut(2 * hidden);
        i_f.iter_mut().for_each(|x| *x = sigmoid(*x));
        o.iter_mut().for_each(|x| *x = sigmoid(*x));
        g.iter_mut().for_each(|x| *x = tanh(*x));
        let (i, f) = i_f.split_at(hidden);
        let row = b * hidden..(b + 1) * hidden;
        let c = &mut c[row.clone()];
        for (((c, &i), &f), &g) in c.iter_mut().zip(i).zip(f).zip(g.iter()) {
            *c = f * *c + i * g;
        }
        let tc = &mut tanh_c[row.clone()];
        tc.iter_mut().zip(c.iter()).for_each(|(t, &c)| *t = tanh(c));
        for ((h, &o), &t) in h[row].iter_mut().zip(o.iter()).zip(tc.iter()) {
            *h = o * t;
        }
    }
}

/// The recurrence over `xw = x W_ih + b` (`batch * steps` rows of `4H`, batch-major) from a zero
/// state, as one op on the tape. Returns `h` per step, batch-major.
fn recurrence<E: Real, T: Tape<E, Cpu>>(
    xw: Tensor<(usize, usize), E, Cpu, T>,
    w_hh: &Mat<E>,
    batch: usize,
    steps: usize,
) -> Tensor<(usize, usize), E, Cpu, T>
where
    Cpu: Device<E>,
{
    let (xw, mut tape) = xw.split_tape();
    let hidden = w_hh.shape().0;
    let (h4, bh) = (4 * hidden, batch * hidden);
    let x = xw.as_vec();
    let w = w_hh.as_vec();
    // Time-major buffers kept for the backward pass: gate activations, c and tanh(c) per step,
    // and h with the zero state in front (so h_prev of step t is entry t).
    let mut acts = vec![E::zero(); steps * batch * h4];
    let mut cs = vec![E::zero(); (steps + 1) * bh];
    let mut tanh_c = vec![E::zero(); steps * bh];
    let mut hs = vec![E::zero(); (steps + 1) * bh];
    for t in 0..steps {
        let a = &mut acts[t * batch * h4..(t + 1) * batch * h4];
        for b in 0..batch {
            let src = (b * steps + t) * h4;
            a[b * h4..(b + 1) * h4].copy_from_slice(&x[src..src + h4]);
        }
        let (h_prev, h_next) = hs.split_at_mut((t + 1) * bh);
        matmul(
            (batch, hidden, h4),
            &h_prev[t * bh..],
            false,
            &w,
            false,
            a,
            true,
        );
        let (c_prev, c_next) = cs.split_at_mut((t + 1) * bh);
        let c = &mut c_next[..bh];
        c.copy_from_slice(&c_prev[t * bh..]);
        cell(
            hidden,
            a,
            c,
            &mut tanh_c[t * bh..(t + 1) * bh],
            &mut h_next[..bh],
        );
    }
    let mut out = vec![E::zero(); batch * steps * hidden];
    for t in 0..steps {
        for b in 0..batch {
            let src = (t + 1) * bh + b * hidden;
            let dst = (b * steps + t) * hidden;
            out[dst..dst + hidden].copy_from_slice(&hs[src..src + hidden]);
        }
    }
    let dev = xw.device().clone();
    let out = dev.tensor_from_vec(out, (batch * steps, hidden));
    if T::OWNS_TAPE {
        let (xw, w_hh, out) = (xw.clone(), w_hh.clone(), out.clone());
        tape.add_backward_op(move |grads| {
            let d_out = E::grad(grads, &out)?.clone();
            let (d_xw, d_w) =
                backward((batch, steps, hidden), &w, &acts, &cs, &tanh_c, &hs, &d_out);
            for (g, d) in E::grad(grads, &xw)?.iter_mut().zip(d_xw) {
                *g += d;
            }
            for (g, d) in E::grad(grads, &w_hh)?.iter_mut().zip(d_w) {
                *g += d;
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// Gradients of the recurrence: `d_xw` (batch-major, like `xw`) and `d_w_hh`, given `d_out`,
/// the gradient of every step's `h` (batch-major).
fn backward<E: Real>(
    (batch, steps, hidden): (usize, usize, usize),
    w: &[E],
    acts: &[E],
    cs: &[E],
    tanh_c: &[E],
    hs: &[E],
    d_out: &[E],
) -> (Vec<E>, Vec<E>) {
    let (h4, bh) = (4 * hidden, batch * hidden);
    let one = E::one();
    // Pre-activation gradients per step, time-major, then one GEMM for W_hh over all steps.
    let mut d_a = vec![E::zero(); steps * batch * h4];
    let mut dh_next = vec![E::zero(); bh];
    let mut dc_next = vec![E::zero(); bh];
    for t in (0..steps).rev() {
        let da = &mut d_a[t * batch * h4..(t + 1) * batch * h4];
        for b in 0..batch {
            let act = &acts[(t * batch + b) * h4..(t * batch + b + 1) * h4];
            let da = &mut da[b * h4..(b + 1) * h4];
            for j in 0..hidden {
                let k = b * hidden + j;
                let (i, f, g, o) = (
                    act[j],
                    act[hidden + j],
                    act[2 * hidden + j],
                    act[3 * hidden + j],
                );
                let tc = tanh_c[t * bh + k];
                let dh = d_out[(b * steps + t) * hidden + j] + dh_next[k];
                let dc = dc_next[k] + dh * o * (one - tc * tc);
                let c_prev = cs[t * bh + k];
                da[j] = dc * g * i * (one - i);
                da[hidden + j] = dc * c_prev * f * (one - f);
                da[2 * hidden + j] = dc * i * (one - g * g);
                da[3 * hidden + j] = dh * tc * o * (one - o);
                dc_next[k] = dc * f;
            }
        }
        matmul((batch, h4, hidden), da, false, w, true, &mut dh_next, false);
    }
    let mut d_w = vec![E::zero(); hidden * h4];
    matmul(
        (hidden, steps * batch, h4),
        &hs[..steps * bh],
        true,
        &d_a,
        false,
        &mut d_w,
        false,
    );
    let mut d_xw = vec![E::zero(); steps * batch * h4];
    for t in 0..steps {
        for b in 0..batch {
            let src = (t * batch + b) * h4;
            let dst = (b * steps + t) * h4;
            d_xw[dst..dst + h4].copy_from_slice(&d_a[src..src + h4]);
        }
    }
    (d_xw, d_w)
}

/// A plain copy of an LSTM's weights: `(w_ih, w_hh, bias)` per layer, row-major as in `Lstm`.
#[derive(Clone, Debug)]
pub struct LstmWeights<E: Real> {
    pub cfg: LstmConfig,
    pub layers: Vec<(Vec<E>, Vec<E>, Vec<E>)>,
}

/// The carried state of a batch of streams: `h` and `c` per layer, `batch x H` each.
#[derive(Clone, Debug, PartialEq)]
pub struct LstmState<E: Real> {
    pub batch: usize,
    pub h: Vec<Vec<E>>,
    pub c: Vec<Vec<E>>,
    gates: Vec<E>,
    tanh_c: Vec<E>,
}

impl<E: Real> LstmWeights<E> {
    pub fn zero_state(&self, batch: usize) -> LstmState<E> {
        let bh = batch * self.cfg.hidden;
        LstmState {
            batch,
            h: vec![vec![E::zero(); bh]; self.cfg.layers],
            c: vec![vec![E::zero(); bh]; self.cfg.layers],
            gates: vec![E::zero(); 4 * bh],
            tanh_c: vec![E::zero(); bh],
        }
    }

    /// One step for every stream in `state`: `x` is `batch x input`. Returns the last layer's
    /// new `h` (`batch x H`). Allocates nothing.
    pub fn step<'s>(&self, x: &[E], state: &'s mut LstmState<E>) -> &'s [E] {
        let (hidden, batch) = (self.cfg.hidden, state.batch);
        let h4 = 4 * hidden;
        for (l, (w_ih, w_hh, bias)) in self.layers.iter().enumerate() {
            let input = w_ih.len() / h4;
            for row in state.gates.chunks_exact_mut(h4) {
                row.copy_from_slice(bias);
            }
            let (below, rest) = state.h.split_at_mut(l);
            let inp: &[E] = if l == 0 { x } else { &below[l - 1] };
            matmul(
                (batch, input, h4),
                inp,
                false,
                w_ih,
                false,
                &mut state.gates,
                true,
            );
            let h = &mut rest[0];
            matmul(
                (batch, hidden, h4),
                h,
                false,
                w_hh,
                false,
                &mut state.gates,
                true,
            );
            cell(
                hidden,
                &mut state.gates,
                &mut state.c[l],
                &mut state.tanh_c,
                h,
            );
        }
        &state.h[self.cfg.layers - 1]
    }
}
