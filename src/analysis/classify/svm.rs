//! Support vector machine with an RBF kernel, one-vs-rest, trained by SMO with LIBSVM's
//! second-order working-set selection. Probabilities are the softmax of the per-class margins.

use serde::{Deserialize, Serialize};

use super::{softmax, Rng};

#[derive(Clone, Debug)]
pub struct SvmConfig {
    pub c: f64,
    /// Kernel width; 0 means 1 / features (scikit-learn's "scale" on standardised data).
    pub gamma: f64,
    /// Largest training set; larger ones are subsampled (the kernel matrix is n x n).
    pub max_rows: usize,
    pub tolerance: f64,
}

impl Default for SvmConfig {
    fn default() -> Self {
        SvmConfig {
            c: 10.0,
            gamma: 0.0,
            max_rows: 3000,
            tolerance: 1e-3,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Binary {
    /// Support vectors' indices into `Svm::vectors`, with alpha_i * y_i.
    coef: Vec<(usize, f64)>,
    rho: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Svm {
    gamma: f64,
    vectors: Vec<Vec<f64>>,
    machines: Vec<Binary>,
}

fn rbf(gamma: f64, a: &[f64], b: &[f64]) -> f64 {
    (-gamma * a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>()).exp()
}

/// Solves one binary problem (labels +-1) on a precomputed kernel; returns alpha and rho.
fn smo(k: &[Vec<f64>], y: &[f64], c: f64, eps: f64) -> (Vec<f64>, f64) {
    let n = y.len();
    let mut alpha = vec![0.0; n];
    let mut g = vec![-1.0; n];
    let q = |i: usize, j: usize| y[i] * y[j] * k[i][j];
    let up = |a: f64, yt: f64| (yt > 0.0 && a < c) || (yt < 0.0 && a > 0.0);
    let low = |a: f64, yt: f64| (yt > 0.0 && a > 0.0) || (yt < 0.0 && a < c);
    for _ in 0..200_000 {
        let mut gmax = f64::NEG_INFINITY;
        let mut i = usize::MAX;
        for t in 0..n {
            if up(alpha[t], y[t]) && -y[t] * g[t] >= gmax {
                gmax = -y[t] * g[t];
                i = t;
            }
        }
        if i == usize::MAX {
            break;
        }
        let (mut gmin, mut best, mut j) = (f64::INFINITY, f64::INFINITY, usize::MAX);
        for t in 0..n {
            if !low(alpha[t], y[t]) {
                continue;
            }
            let v = -y[t] * g[t];
            gmin = gmin.min(v);
            let b = gmax - v;
            if b > 0.0 {
                let a = (k[i][i] + k[t][t] - 2.0 * k[i][t]).max(1e-12);
                if -b * b / a < best {
                    best = -b * b / a;
                    j = t;
                }
            }
        }
        if j == usize::MAX || gmax - gmin < eps {
            break;
        }
        let (ai, aj) = (alpha[i], alpha[j]);
        if y[i] != y[j] {
            let quad = (q(i, i) + q(j, j) + 2.0 * q(i, j)).max(1e-12);
            let delta = (-g[i] - g[j]) / quad;
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 {
                if alpha[j] < 0.0 {
                    alpha[j] = 0.0;
                    alpha[i] = diff;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = -diff;
            }
            if diff > 0.0 {
                if alpha[i] > c {
                    alpha[i] = c;
                    alpha[j] = c - diff;
                }
            } else if alpha[j] > c {
                alpha[j] = c;
                alpha[i] = c + diff;
            }
        } else {
            let quad = (q(i, i) + q(j, j) - 2.0 * q(i, j)).max(1e-12);
            let delta = (g[i] - g[j]) / quad;
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if sum > c {
                if alpha[i] > c {
                    alpha[i] = c;
                    alpha[j] = sum - c;
                }
            } else if alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = sum;
            }
            if sum > c {
                if alpha[j] > c {
                    alpha[j] = c;
                    alpha[i] = sum - c;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = sum;
            }
        }
        let (di, dj) = (alpha[i] - ai, alpha[j] - aj);
        for (t, gt) in g.iter_mut().enumerate() {
            *gt += q(i, t) * di + q(j, t) * dj;
        }
    }
    // rho as LIBSVM computes it: the mean of y*G over free vectors, else the middle of the bounds.
    let (mut ub, mut lb, mut sum, mut free) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0);
    for t in 0..n {
        let yg = y[t] * g[t];
        if alpha[t] >= c {
            if y[t] < 0.0 {
                ub = ub.min(yg)
            } else {
                lb = lb.max(yg)
            }
        } else if alpha[t] <= 0.0 {
            if y[t] > 0.0 {
                ub = ub.min(yg)
            } else {
                lb = lb.max(yg)
            }
        } else {
            sum += yg;
            free += 1;
        }
    }
    let rho = if free > 0 {
        sum / free as f64
    } else {
        0.5 * (ub + lb)
    };
    (alpha, rho)
}

impl Svm {
    pub fn fit(x: &[Vec<f64>], y: &[usize], classes: usize, c: &SvmConfig) -> Svm {
        let mut rows: Vec<usize> = (0..x.len()).collect();
        if rows.len() > c.max_rows {
            Rng::new(7).shuffle(&mut rows);
            rows.truncate(c.max_rows);
        }
        let vectors: Vec<Vec<f64>> = rows.iter().map(|&i| x[i].clone()).collect();
        let labels: Vec<usize> = rows.iter().map(|&i| y[i]).collect();
        let d = vectors.first().map_or(1, |r| r.len());
        let gamma = if c.gamma > 0.0 {
            c.gamma
        } else {
            1.0 / d as f64
        };
        let kernel: Vec<Vec<f64>> = vectors
            .iter()
            .map(|a| vectors.iter().map(|b| rbf(gamma, a, b)).collect())
            .collect();
        let machines = (0..classes)
            .map(|k| {
                let yk: Vec<f64> = labels
                    .iter()
                    .map(|&l| if l == k { 1.0 } else { -1.0 })
                    .collect();
                let (alpha, rho) = smo(&kernel, &yk, c.c, c.tolerance);
                Binary {
                    coef: alpha
                        .iter()
                        .enumerate()
                        .filter(|(_, a)| **a > 0.0)
                        .map(|(i, a)| (i, a * yk[i]))
                        .collect(),
                    rho,
                }
            })
            .collect();
        Svm {
            gamma,
            vectors,
            machines,
        }
    }

    /// Margins of every one-vs-rest machine.
    pub fn decision(&self, row: &[f64]) -> Vec<f64> {
        self.machines
            .iter()
            .map(|m| {
                m.coef
                    .iter()
                    .map(|&(i, c)| c * rbf(self.gamma, &self.vectors[i], row))
                    .sum::<f64>()
                    - m.rho
            })
            .collect()
    }

    pub fn proba(&self, row: &[f64]) -> Vec<f64> {
        let z: Vec<f64> = self.decision(row).iter().map(|v| 2.0 * v).collect();
        softmax(&z)
    }
}
