//! Neural models on dfdx: a hand-written LSTM, the VAE-LSTM and VAE-Transformer behind one trait,
//! their serde configs and checkpoints. Parameters are runtime-sized 2-D tensors (vectors are
//! `1 x n`) so one build serves batch-64 training and batch-1 live steps.

pub mod attention;
pub mod checkpoint;
pub mod config;
pub mod embed;
pub mod linalg;
pub mod lstm;
pub mod ngram;
pub mod transformer;
pub mod vae;
pub mod vae_lstm;
pub mod vae_transformer;

pub use config::{ModelConfig, ModelKind, Preset};
pub use vae::{Model, StreamState, TokenStream, Vae, VaeOutput};

use dfdx::prelude::*;
use rand::distributions::{Distribution, Uniform};

use linalg::Real;

/// A parameter or activation matrix with runtime sizes.
pub type Mat<E> = Tensor<(usize, usize), E, Cpu>;

/// Named parameters, in a fixed order (the order of the optimiser state and the weights file).
pub type ParamsRef<'a, E> = Vec<(String, &'a Mat<E>)>;
pub type ParamsMut<'a, E> = Vec<(String, &'a mut Mat<E>)>;

/// A `rows x cols` matrix uniform in +-`bound`.
pub fn init_uniform<E: Real>(
    dev: &Cpu,
    rng: &mut impl rand::Rng,
    (rows, cols): (usize, usize),
    bound: f64,
) -> Mat<E>
where
    Cpu: Device<E>,
{
    let d = Uniform::new_inclusive(-bound, bound);
    let v = (0..rows * cols)
        .map(|_| E::from_f64(d.sample(rng)).unwrap_or_else(E::zero))
        .collect();
    dev.tensor_from_vec(v, (rows, cols))
}

/// `x + bias` with the `1 x n` bias added to every row.
pub fn bias_add<E: Real, T: Tape<E, Cpu>>(
    x: Tensor<(usize, usize), E, Cpu, T>,
    bias: &Mat<E>,
) -> Tensor<(usize, usize), E, Cpu, T>
where
    Cpu: Device<E>,
{
    let shape = *x.shape();
    let b = bias
        .clone()
        .reshape_like(&(bias.shape().1,))
        .broadcast_like::<_, Axis<0>>(&shape);
    x + b
}

/// `x W + b` for a weight `in x out` and a bias `1 x out`, as one op with a hand-written
/// backward so its three products run on our AVX-512 `matmul`.
pub fn linear<E: Real, T: Tape<E, Cpu>>(
    x: Tensor<(usize, usize), E, Cpu, T>,
    w: &Mat<E>,
    b: &Mat<E>,
) -> Tensor<(usize, usize), E, Cpu, T>
where
    Cpu: Device<E>,
{
    let (x, mut tape) = x.split_tape();
    let (n, i) = *x.shape();
    let o = w.shape().1;
    assert_eq!(
        w.shape().0,
        i,
        "linear: input width {i}, weight {:?}",
        w.shape()
    );
    let (xv, wv, bv) = (linalg::to_vec(&x), linalg::to_vec(w), linalg::to_vec(b));
    let mut y = Vec::with_capacity(n * o);
    for _ in 0..n {
        y.extend_from_slice(&bv);
    }
    linalg::matmul((n, i, o), &xv, false, &wv, false, &mut y, true);
    let out = x.device().tensor_from_vec(y, (n, o));
    if T::OWNS_TAPE {
        let (x, w, b, out) = (x.clone(), w.clone(), b.clone(), out.clone());
        tape.add_backward_op(move |grads| {
            let dy = E::grad(grads, &out)?.clone();
            linalg::matmul((n, o, i), &dy, false, &wv, true, E::grad(grads, &x)?, true);
            linalg::matmul((i, n, o), &xv, true, &dy, false, E::grad(grads, &w)?, true);
            let gb = E::grad(grads, &b)?;
            for row in dy.chunks_exact(o) {
                gb.iter_mut().zip(row).for_each(|(g, &d)| *g += d);
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}
