//! Plain-slice numerics for the hand-written layers: a safe matrix product over `gemm` 0.19
//! (its AVX-512 kernels, which dfdx's `gemm` 0.15 cannot use on stable Rust) and the
//! element-wise functions the LSTM gates need.

use num_traits::Float;

use dfdx::prelude::{Cpu, Gradients, HasShape, Shape, Tensor};
use dfdx::tensor::CpuError;

/// The element types our layers run in: `f32` for models, `f64` for gradient checks.
pub trait Real: dfdx::shapes::Dtype + Float + Send + Sync + 'static {
    /// `exp(x)`; for `f32` a branch-free approximation the compiler can vectorise.
    fn fast_exp(self) -> Self {
        self.exp()
    }
    /// The gradient buffer of `t` in `grads` (zeros if it had none yet), as a plain vector.
    fn grad<'a, S: Shape>(
        grads: &'a mut Gradients<Self, Cpu>,
        t: &Tensor<S, Self, Cpu>,
    ) -> Result<&'a mut Vec<Self>, CpuError>;
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            fn grad<'a, S: Shape>(
                grads: &'a mut Gradients<$t, Cpu>,
                t: &Tensor<S, $t, Cpu>,
            ) -> Result<&'a mut Vec<$t>, CpuError> {
                Ok(grads.get_or_alloc_mut(t)?)
            }
        }
    };
}
real!(f64);

impl Real for f32 {
    /// Cephes-style `exp`: `2^n * p(r)` with `x = n ln 2 + r`, `|r| <= ln 2 / 2`; relative error
    /// about 2e-7 over the clamped range, no branches, so loops over it vectorise.
    fn fast_exp(self) -> f32 {
        let x = self.clamp(-87.0, 88.0);
        // Round to nearest by adding and removing 1.5 * 2^23 (exact for |x log2 e| < 2^22),
        // which, unlike `f32::round`, compiles to plain vector adds instead of a libm call.
        const SHIFT: f32 = 12_582_912.0;
        let n = (x * std::f32::consts::LOG2_E + SHIFT) - SHIFT;
        let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
        let p = 1.987_569_1e-4;
        let p = p * r + 1.398_199_9e-3;
        let p = p * r + 8.333_452e-3;
        let p = p * r + 4.166_579_6e-2;
        let p = p * r + 1.666_666_5e-1;
        let p = p * r + 0.5;
        let e = p * r * r + r + 1.0;
        e * f32::from_bits(((n as i32 + 127) as u32) << 23)
    }

    fn grad<'a, S: Shape>(
        grads: &'a mut Gradients<f32, Cpu>,
        t: &Tensor<S, f32, Cpu>,
    ) -> Result<&'a mut Vec<f32>, CpuError> {
        Ok(grads.get_or_alloc_mut(t)?)
    }
}

/// The values of a contiguous tensor as a plain vector, by one `memcpy` (dfdx's `as_vec` walks
/// an index iterator, several instructions a value). Every tensor our layers read is freshly
/// made by an op or `tensor_from_vec`, so contiguous; debug builds check that on small ones.
pub fn to_vec<E: Real, S: Shape, T>(t: &Tensor<S, E, Cpu, T>) -> Vec<E> {
    let mut v = vec![E::zero(); t.shape().num_elements()];
    t.copy_into(&mut v);
    #[cfg(debug_assertions)]
    if v.len() <= 1 << 16 {
        let same = |(a, b): (&E, &E)| a == b || (a.is_nan() && b.is_nan());
        debug_assert!(
            v.iter().zip(&t.as_vec()).all(same),
            "to_vec: a strided tensor"
        );
    }
    v
}

/// Below this many multiply-adds a product runs on the calling thread: fanning out costs more.
const PARALLEL_WORK: usize = 1 << 20;

/// `c = a * b` (or `c += a * b` with `accumulate`), all row-major. `a` is `m x k` (stored `k x m`
/// when `a_t`), `b` is `k x n` (stored `n x k` when `b_t`), `c` is `m x n`.
#[allow(clippy::too_many_arguments)]
pub fn matmul<E: Real>(
    (m, k, n): (usize, usize, usize),
    a: &[E],
    a_t: bool,
    b: &[E],
    b_t: bool,
    c: &mut [E],
    accumulate: bool,
) {
    let threads = rayon::current_num_threads();
    let par = if threads > 1 && m * n * k >= PARALLEL_WORK {
        gemm_v4::Parallelism::Rayon(threads)
    } else {
        gemm_v4::Parallelism::None
    };
    gemm_call((m, k, n), a, a_t, b, b_t, c, accumulate, par);
}

/// [`matmul`] on the calling thread only, for products inside a task that is itself one of
/// several running in parallel (and for live steps, which must not wait on a pool).
#[allow(clippy::too_many_arguments)]
pub fn matmul_serial<E: Real>(
    (m, k, n): (usize, usize, usize),
    a: &[E],
    a_t: bool,
    b: &[E],
    b_t: bool,
    c: &mut [E],
    accumulate: bool,
) {
    gemm_call(
        (m, k, n),
        a,
        a_t,
        b,
        b_t,
        c,
        accumulate,
        gemm_v4::Parallelism::None,
    );
}

#[allow(clippy::too_many_arguments)]
fn gemm_call<E: Real>(
    (m, k, n): (usize, usize, usize),
    a: &[E],
    a_t: bool,
    b: &[E],
    b_t: bool,
    c: &mut [E],
    accumulate: bool,
    par: gemm_v4::Parallelism,
) {
    assert!(a.len() >= m * k, "matmul: lhs has {} < {m}x{k}", a.len());
    assert!(b.len() >= k * n, "matmul: rhs has {} < {k}x{n}", b.len());
    assert!(c.len() >= m * n, "matmul: out has {} < {m}x{n}", c.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(E::zero());
        }
        return;
    }
    let (a_rs, a_cs) = if a_t { (1, m) } else { (k, 1) };
    let (b_rs, b_cs) = if b_t { (1, k) } else { (n, 1) };
    // SAFETY: the asserts above prove every index the strides reach is in bounds: `a` is read
    // at (i, p) for i < m, p < k through offsets below m*k, `b` likewise below k*n, and `c` is
    // written at i*n + j < m*n. `c` is a unique borrow, so it aliases neither input.
    unsafe {
        gemm_v4::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            E::one(),
            E::one(),
            false,
            false,
            false,
            par,
        );
    }
}

pub fn sigmoid<E: Real>(x: E) -> E {
    E::one() / (E::one() + (-x).fast_exp())
}

/// `tanh(x) = 1 - 2 / (exp(2x) + 1)`, through [`Real::fast_exp`].
pub fn tanh<E: Real>(x: E) -> E {
    let two = E::one() + E::one();
    E::one() - two / ((two * x).fast_exp() + E::one())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f64], a_t: bool, b: &[f64], b_t: bool) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    let x = if a_t { a[p * m + i] } else { a[i * k + p] };
                    let y = if b_t { b[j * k + p] } else { b[p * n + j] };
                    c[i * n + j] += x * y;
                }
            }
        }
        c
    }

    #[test]
    fn fast_exp_sigmoid_and_tanh_are_close_to_the_library_ones() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.02;
            let e = x.exp();
            assert!((x.fast_exp() - e).abs() <= 1e-6 * e, "exp({x})");
            assert!(
                (sigmoid(x) - 1.0 / (1.0 + (-x).exp())).abs() < 1e-6,
                "sigmoid({x})"
            );
            assert!((tanh(x) - x.tanh()).abs() < 1e-6, "tanh({x})");
        }
        assert_eq!(1000f32.fast_exp(), 88f32.fast_exp());
        assert!((-1000f32).fast_exp() < 1e-37);
    }

    #[test]
    fn matmul_matches_the_definition_in_every_layout() {
        let (m, k, n) = (3, 5, 4);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
        for a_t in [false, true] {
            for b_t in [false, true] {
                let want = naive(m, k, n, &a, a_t, &b, b_t);
                let mut c = vec![1.0; m * n];
                matmul((m, k, n), &a, a_t, &b, b_t, &mut c, false);
                for (x, y) in c.iter().zip(&want) {
                    assert!((x - y).abs() < 1e-12, "{a_t} {b_t}: {x} vs {y}");
                }
                matmul((m, k, n), &a, a_t, &b, b_t, &mut c, true);
                for (x, y) in c.iter().zip(&want) {
                    assert!((x - 2.0 * y).abs() < 1e-12);
                }
            }
        }
    }
}
