//! A classifier two-sample test: can a random forest tell two sets of pieces apart from their
//! symbolic features? Grouped k-fold cross-validation (no group is in a training fold and its
//! test fold at once), balanced accuracy over the held-out predictions. 50 % means the sets are
//! indistinguishable to it; 100 % means every piece gives its side away.

use rayon::prelude::*;
use serde::Serialize;

use super::classify::{Forest, ForestConfig};

/// One side of the test: feature rows and the group of each (pieces of a group share a fold).
pub struct Side<'a> {
    pub rows: &'a [Vec<f64>],
    pub groups: &'a [u64],
}

/// The outcome of one test.
#[derive(Clone, Debug, Serialize)]
pub struct TwoSample {
    /// Balanced accuracy of the held-out predictions (mean of the two sides' recalls).
    pub accuracy: f64,
    pub pieces_a: usize,
    pub pieces_b: usize,
    pub folds: usize,
}

/// The forest the test uses: smaller than the genre classifier's, since it refits k times.
fn forest_config() -> ForestConfig {
    ForestConfig {
        trees: 100,
        max_depth: 12,
        min_leaf: 2,
    }
}

fn fold_of(group: u64, seed: u64, folds: usize) -> usize {
    let mut x = group ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64's finaliser: folds independent of how groups were numbered.
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((x ^ (x >> 31)) % folds as u64) as usize
}

/// Runs the test with `folds` grouped folds. Groups are compared across sides too: a group that
/// appears on both sides (a generated continuation and the real piece it was primed with) falls
/// in one fold, so the forest cannot learn a piece's identity in one fold and use it in another.
pub fn test(a: Side, b: Side, folds: usize, seed: u64) -> TwoSample {
    let folds = folds.max(2);
    let rows: Vec<&Vec<f64>> = a.rows.iter().chain(b.rows).collect();
    let labels: Vec<usize> = (0..a.rows.len())
        .map(|_| 0)
        .chain((0..b.rows.len()).map(|_| 1))
        .collect();
    let fold: Vec<usize> = a
        .groups
        .iter()
        .chain(b.groups)
        .map(|&g| fold_of(g, seed, folds))
        .collect();
    let per_fold: Vec<[[usize; 2]; 2]> = (0..folds)
        .into_par_iter()
        .map(|k| {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for i in 0..rows.len() {
                if fold[i] != k {
                    x.push(rows[i].clone());
                    y.push(labels[i]);
                }
            }
            // [true side][predicted side]
            let mut counts = [[0usize; 2]; 2];
            if y.is_empty() || !y.contains(&0) || !y.contains(&1) {
                return counts;
            }
            let forest = Forest::fit(&x, &y, 2, &forest_config(), seed ^ k as u64);
            for i in 0..rows.len() {
                if fold[i] == k {
                    let p = forest.proba(rows[i]);
                    counts[labels[i]][(p[1] > p[0]) as usize] += 1;
                }
            }
            counts
        })
        .collect();
    let mut c = [[0usize; 2]; 2];
    for f in per_fold {
        for t in 0..2 {
            for p in 0..2 {
                c[t][p] += f[t][p];
            }
        }
    }
    let recall = |t: usize| c[t][t] as f64 / (c[t][0] + c[t][1]).max(1) as f64;
    TwoSample {
        accuracy: (recall(0) + recall(1)) / 2.0,
        pieces_a: a.rows.len(),
        pieces_b: b.rows.len(),
        folds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn cloud(n: usize, shift: f64, rng: &mut Rng) -> Vec<Vec<f64>> {
        (0..n)
            .map(|_| {
                (0..6)
                    .map(|d| rng.normal() + if d < 2 { shift } else { 0.0 })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn same_distribution_is_chance_and_different_is_caught() {
        let mut rng = Rng::new(3);
        let (a, b, c) = (
            cloud(300, 0.0, &mut rng),
            cloud(300, 0.0, &mut rng),
            cloud(300, 2.0, &mut rng),
        );
        let ga: Vec<u64> = (0..300).collect();
        let gb: Vec<u64> = (300..600).collect();
        let side = |rows, groups| Side { rows, groups };
        let same = test(side(&a, &ga), side(&b, &gb), 8, 1);
        let apart = test(side(&a, &ga), side(&c, &gb), 8, 1);
        assert!((same.accuracy - 0.5).abs() < 0.08, "{}", same.accuracy);
        assert!(apart.accuracy > 0.8, "{}", apart.accuracy);
    }

    #[test]
    fn a_group_never_trains_and_tests_at_once() {
        // Each group is four near-copies of its own random point, all on one side: a forest
        // that saw a group in training would recognise its copies in testing (near 100 %);
        // grouped folds leave it nothing to go on but the (identical) distributions. (With no
        // signal, grouped folds land a little under chance: holding a group out tilts the
        // training fold towards the other side.)
        let mut rng = Rng::new(5);
        let (mut a, mut b, mut ga, mut gb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for g in 0..160u64 {
            let centre: Vec<f64> = (0..6).map(|_| rng.normal()).collect();
            for _ in 0..4 {
                let row: Vec<f64> = centre.iter().map(|c| c + 0.01 * rng.normal()).collect();
                if g % 2 == 0 {
                    a.push(row);
                    ga.push(g);
                } else {
                    b.push(row);
                    gb.push(g);
                }
            }
        }
        let r = test(
            Side {
                rows: &a,
                groups: &ga,
            },
            Side {
                rows: &b,
                groups: &gb,
            },
            8,
            2,
        );
        assert!(r.accuracy < 0.65, "{}", r.accuracy);
    }
}
