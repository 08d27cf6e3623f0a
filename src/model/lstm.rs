//! A multi-layer LSTM (PyTorch's `nn.LSTM` with gate order i, f, g, o, batch-first rows). dfdx has
//! none, so each layer is one dfdx matmul for the input product of all steps, then the recurrence
//! as a single custom op with a hand-written backward whose recurrent-weight gradient is one GEMM
//! over all steps. `LstmWeights` is a plain copy for one-token steps with carried `(h, c)`.

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use super::linalg::{matmul_serial, sigmoid, tanh, to_vec, Real};
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
        let first = &self.layers[0];
        self.forward_xw(linear(x, &first.w_ih, &first.bias), batch, steps)
    }

    /// [`Lstm::forward`] given the first layer's input product `x W_ih + b` (as
    /// `embed::embedded_linear` makes it for token inputs).
    pub fn forward_xw<T: Tape<E, Cpu>>(
        &self,
        xw: Tensor<(usize, usize), E, Cpu, T>,
        batch: usize,
        steps: usize,
    ) -> Tensor<(usize, usize), E, Cpu, T> {
        let mut x = recurrence(xw, &self.layers[0].w_hh, batch, steps);
        for layer in &self.layers[1..] {
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

/// Batch rows per independent slice of the recurrence. Slices run in parallel with no
/// synchronisation per step; the split depends only on the batch, never on the thread count, so
/// a run gives the same numbers with one thread or several.
const CHUNK_ROWS: usize = 32;

/// What the forward pass of one batch slice keeps for the backward pass, time-major within the
/// slice: gate activations, `c` with the zero state in front, `tanh(c)`, and `h` with the zero
/// state in front (so `h_prev` of step `t` is entry `t`).
struct Saved<E> {
    acts: Vec<E>,
    cs: Vec<E>,
    tanh_c: Vec<E>,
    hs: Vec<E>,
}

/// The recurrence of `rows` batch rows over `xw` (their `rows * steps` rows of `4H`,
/// batch-major), writing `h` per step into `out` (batch-major). Runs on the calling thread.
fn forward_slice<E: Real>(
    (rows, steps, hidden): (usize, usize, usize),
    w: &[E],
    xw: &[E],
    out: &mut [E],
) -> Saved<E> {
    let (h4, bh) = (4 * hidden, rows * hidden);
    let mut acts = vec![E::zero(); steps * rows * h4];
    let mut cs = vec![E::zero(); (steps + 1) * bh];
    let mut tanh_c = vec![E::zero(); steps * bh];
    let mut hs = vec![E::zero(); (steps + 1) * bh];
    for t in 0..steps {
        let a = &mut acts[t * rows * h4..(t + 1) * rows * h4];
        for b in 0..rows {
            let src = (b * steps + t) * h4;
            a[b * h4..(b + 1) * h4].copy_from_slice(&xw[src..src + h4]);
        }
        let (h_prev, h_next) = hs.split_at_mut((t + 1) * bh);
        matmul_serial(
            (rows, hidden, h4),
            &h_prev[t * bh..],
            false,
            w,
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
        for b in 0..rows {
            let dst = (b * steps + t) * hidden;
            out[dst..dst + hidden].copy_from_slice(&h_next[b * hidden..(b + 1) * hidden]);
        }
    }
    Saved {
        acts,
        cs,
        tanh_c,
        hs,
    }
}

/// The recurrence over `xw = x W_ih + b` (`batch * steps` rows of `4H`, batch-major) from a zero
/// state, as one op on the tape. Returns `h` per step, batch-major. Slices of
/// [`CHUNK_ROWS`] windows run in parallel on the current rayon pool.
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
    let h4 = 4 * hidden;
    let x = to_vec(&xw);
    let w = to_vec(w_hh);
    let mut out = vec![E::zero(); batch * steps * hidden];
    let rows = CHUNK_ROWS.min(batch.max(1));
    let saved: Vec<Saved<E>> = x
        .par_chunks(rows * steps * h4)
        .zip(out.par_chunks_mut(rows * steps * hidden))
        .map(|(x, out)| forward_slice((x.len() / (steps * h4), steps, hidden), &w, x, out))
        .collect();
    drop(x);
    let dev = xw.device().clone();
    let out = dev.tensor_from_vec(out, (batch * steps, hidden));
    if T::OWNS_TAPE {
        let (xw, w_hh, out) = (xw.clone(), w_hh.clone(), out.clone());
        tape.add_backward_op(move |grads| {
            let d_out = E::grad(grads, &out)?.clone();
            // `W_hh` transposed once: the per-step `d_a W_hh^T` then reads its right operand
            // row-major, about 6x faster in `gemm` than the transposed view of `W_hh`.
            let mut wt = vec![E::zero(); h4 * hidden];
            for (p, row) in w.chunks_exact(h4).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    wt[j * hidden + p] = v;
                }
            }
            let mut d_xw = vec![E::zero(); batch * steps * h4];
            let d_ws: Vec<Vec<E>> = saved
                .par_iter()
                .zip(d_out.par_chunks(rows * steps * hidden))
                .zip(d_xw.par_chunks_mut(rows * steps * h4))
                .map(|((s, d_out), d_xw)| {
                    let n = d_out.len() / (steps * hidden);
                    backward_slice((n, steps, hidden), &wt, s, d_out, d_xw)
                })
                .collect();
            for (g, d) in E::grad(grads, &xw)?.iter_mut().zip(d_xw) {
                *g += d;
            }
            let g = E::grad(grads, &w_hh)?;
            for d_w in d_ws {
                g.iter_mut().zip(d_w).for_each(|(g, d)| *g += d);
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// Gradients of one slice's recurrence given `d_out`, the gradient of every step's `h`
/// (batch-major), and `wt`, `W_hh` transposed (`4H x H`): writes `d_xw` (batch-major, like
/// `xw`) and returns this slice's `d_w_hh`.
fn backward_slice<E: Real>(
    (rows, steps, hidden): (usize, usize, usize),
    wt: &[E],
    s: &Saved<E>,
    d_out: &[E],
    d_xw: &mut [E],
) -> Vec<E> {
    let (h4, bh) = (4 * hidden, rows * hidden);
    let one = E::one();
    // Pre-activation gradients per step, time-major, then one GEMM for W_hh over all steps.
    let mut d_a = vec![E::zero(); steps * rows * h4];
    let mut dh_next = vec![E::zero(); bh];
    let mut dc_next = vec![E::zero(); bh];
    let mut dh = vec![E::zero(); hidden];
    for t in (0..steps).rev() {
        let da = &mut d_a[t * rows * h4..(t + 1) * rows * h4];
        for b in 0..rows {
            let k = t * bh + b * hidden..t * bh + (b + 1) * hidden;
            let act = &s.acts[(t * rows + b) * h4..(t * rows + b + 1) * h4];
            let (i, rest) = act.split_at(hidden);
            let (f, rest) = rest.split_at(hidden);
            let (g, o) = rest.split_at(hidden);
            let (tc, c_prev) = (&s.tanh_c[k.clone()], &s.cs[k]);
            let da = &mut da[b * h4..(b + 1) * h4];
            let (da_i, rest) = da.split_at_mut(hidden);
            let (da_f, rest) = rest.split_at_mut(hidden);
            let (da_g, da_o) = rest.split_at_mut(hidden);
            let dc_n = &mut dc_next[b * hidden..(b + 1) * hidden];
            let src = (b * steps + t) * hidden;
            let d_o = &d_out[src..src + hidden];
            let dh_n = &dh_next[b * hidden..(b + 1) * hidden];
            for j in 0..hidden {
                dh[j] = d_o[j] + dh_n[j];
            }
            for j in 0..hidden {
                let (i, f, g, o, tc) = (i[j], f[j], g[j], o[j], tc[j]);
                let dh = dh[j];
                let dc = dc_n[j] + dh * o * (one - tc * tc);
                da_i[j] = dc * g * i * (one - i);
                da_f[j] = dc * c_prev[j] * f * (one - f);
                da_g[j] = dc * i * (one - g * g);
                da_o[j] = dh * tc * o * (one - o);
                dc_n[j] = dc * f;
            }
        }
        matmul_serial(
            (rows, h4, hidden),
            da,
            false,
            wt,
            false,
            &mut dh_next,
            false,
        );
    }
    let mut d_w = vec![E::zero(); hidden * h4];
    matmul_serial(
        (hidden, steps * rows, h4),
        &s.hs[..steps * bh],
        true,
        &d_a,
        false,
        &mut d_w,
        false,
    );
    for t in 0..steps {
        for b in 0..rows {
            let src = (t * rows + b) * h4;
            let dst = (b * steps + t) * h4;
            d_xw[dst..dst + h4].copy_from_slice(&d_a[src..src + h4]);
        }
    }
    d_w
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
            matmul_serial(
                (batch, input, h4),
                inp,
                false,
                w_ih,
                false,
                &mut state.gates,
                true,
            );
            let h = &mut rest[0];
            matmul_serial(
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
