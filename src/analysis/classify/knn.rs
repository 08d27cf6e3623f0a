//! k nearest neighbours (Euclidean on standardised rows), votes weighted by 1/distance.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Knn {
    k: usize,
    classes: usize,
    x: Vec<Vec<f64>>,
    y: Vec<usize>,
}

impl Knn {
    pub fn fit(x: &[Vec<f64>], y: &[usize], classes: usize, k: usize) -> Knn {
        Knn {
            k: k.max(1),
            classes,
            x: x.to_vec(),
            y: y.to_vec(),
        }
    }

    pub fn proba(&self, row: &[f64]) -> Vec<f64> {
        let mut d: Vec<(f64, usize)> = self
            .x
            .iter()
            .zip(&self.y)
            .map(|(r, &c)| {
                (
                    r.iter()
                        .zip(row)
                        .map(|(a, b)| (a - b).powi(2))
                        .sum::<f64>()
                        .sqrt(),
                    c,
                )
            })
            .collect();
        let k = self.k.min(d.len());
        if k == 0 {
            return vec![1.0 / self.classes as f64; self.classes];
        }
        d.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
        let mut p = vec![0.0; self.classes];
        for &(dist, c) in &d[..k] {
            p[c] += 1.0 / (dist + 1e-9);
        }
        let s: f64 = p.iter().sum();
        p.iter().map(|v| v / s).collect()
    }
}
