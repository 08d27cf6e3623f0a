//! Plain-slice numerics for the hand-written layers: a safe matrix product over `gemm` and the
//! element-wise functions the LSTM gates need.

use num_traits::Float;

use dfdx::prelude::{Cpu, Gradients, Shape, Tensor};
use dfdx::tensor::CpuError;

/// The element types our layers run in: `f32` for models, `f64` for gradient checks.
pub trait Real: dfdx::shapes::Dtype + Float + Send + Sync + 'static {
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
real!(f32);
real!(f64);

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
    let threads = rayon::current_num_threads();
    let par = if threads > 1 && m * n * k >= PARALLEL_WORK {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the asserts above prove every index the strides reach is in bounds: `a` is read
    // at (i, p) for i < m, p < k through offsets below m*k, `b` likewise below k*n, and `c` is
    // written at i*n + j < m*n. `c` is a unique borrow, so it aliases neither input.
    unsafe {
        gemm::gemm(
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
    E::one() / (E::one() + (-x).exp())
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
