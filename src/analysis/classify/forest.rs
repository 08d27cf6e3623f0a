//! Tree ensembles: a random forest (bootstrap samples, sqrt(features) per split, averaged class
//! distributions) and gradient-boosted trees (softmax loss, one tree per class per round,
//! Newton-step leaves, shrinkage, row subsampling).

use serde::{Deserialize, Serialize};

use super::tree::{Node, Tree, TreeParams};
use super::{softmax, Rng};

#[derive(Clone, Debug)]
pub struct ForestConfig {
    pub trees: usize,
    pub max_depth: usize,
    pub min_leaf: usize,
}

impl Default for ForestConfig {
    fn default() -> Self {
        ForestConfig {
            trees: 200,
            max_depth: 16,
            min_leaf: 1,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Forest {
    trees: Vec<Tree>,
    classes: usize,
}

fn one_hot(y: &[usize], classes: usize) -> Vec<Vec<f64>> {
    y.iter()
        .map(|&c| (0..classes).map(|k| (k == c) as u8 as f64).collect())
        .collect()
}

impl Forest {
    pub fn fit(x: &[Vec<f64>], y: &[usize], classes: usize, c: &ForestConfig, seed: u64) -> Forest {
        let targets = one_hot(y, classes);
        let d = x.first().map_or(1, |r| r.len());
        let params = TreeParams {
            max_depth: c.max_depth,
            min_leaf: c.min_leaf,
            mtry: (d as f64).sqrt().ceil() as usize,
        };
        let mut rng = Rng::new(seed);
        let trees = (0..c.trees)
            .map(|_| {
                let boot: Vec<usize> = (0..x.len()).map(|_| rng.below(x.len())).collect();
                Tree::fit(x, &targets, boot, params, &mut rng)
            })
            .collect();
        Forest { trees, classes }
    }

    pub fn proba(&self, row: &[f64]) -> Vec<f64> {
        let mut p = vec![0.0; self.classes];
        for t in &self.trees {
            for (a, b) in p.iter_mut().zip(t.predict(row)) {
                *a += b / self.trees.len() as f64;
            }
        }
        p
    }
}

#[derive(Clone, Debug)]
pub struct GbtConfig {
    pub rounds: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    pub min_leaf: usize,
    pub subsample: f64,
}

impl Default for GbtConfig {
    fn default() -> Self {
        GbtConfig {
            rounds: 100,
            learning_rate: 0.1,
            max_depth: 4,
            min_leaf: 3,
            subsample: 0.8,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Gbt {
    /// rounds x classes trees; each leaf holds the (already shrunk) score increment.
    rounds: Vec<Vec<Tree>>,
    classes: usize,
}

impl Gbt {
    pub fn fit(x: &[Vec<f64>], y: &[usize], classes: usize, c: &GbtConfig, seed: u64) -> Gbt {
        let n = x.len();
        let mut rng = Rng::new(seed);
        let mut scores = vec![vec![0.0; classes]; n];
        let params = TreeParams {
            max_depth: c.max_depth,
            min_leaf: c.min_leaf,
            mtry: 0,
        };
        let mut rounds = Vec::with_capacity(c.rounds);
        for _ in 0..c.rounds {
            let p: Vec<Vec<f64>> = scores.iter().map(|s| softmax(s)).collect();
            let rows: Vec<usize> = (0..n).filter(|_| rng.unit() < c.subsample).collect();
            let mut trees = Vec::with_capacity(classes);
            for k in 0..classes {
                // Negative gradient of the softmax cross-entropy for class k.
                let g: Vec<Vec<f64>> = (0..n)
                    .map(|i| vec![(y[i] == k) as u8 as f64 - p[i][k]])
                    .collect();
                let mut tree = Tree::fit(x, &g, rows.clone(), params, &mut rng);
                // Newton step per leaf: sum(g) / sum(|g| (1 - |g|)), scaled by (K - 1) / K.
                let mut num = vec![0.0; tree.nodes.len()];
                let mut den = vec![0.0; tree.nodes.len()];
                for &i in &rows {
                    let leaf = tree.leaf(&x[i]);
                    num[leaf] += g[i][0];
                    den[leaf] += g[i][0].abs() * (1.0 - g[i][0].abs());
                }
                let factor = (classes as f64 - 1.0) / classes as f64;
                for (j, node) in tree.nodes.iter_mut().enumerate() {
                    if let Node::Leaf(v) = node {
                        let step = if den[j] > 1e-12 {
                            factor * num[j] / den[j]
                        } else {
                            0.0
                        };
                        *v = vec![c.learning_rate * step];
                    }
                }
                for (i, s) in scores.iter_mut().enumerate() {
                    s[k] += tree.predict(&x[i])[0];
                }
                trees.push(tree);
            }
            rounds.push(trees);
        }
        Gbt { rounds, classes }
    }

    pub fn proba(&self, row: &[f64]) -> Vec<f64> {
        let mut s = vec![0.0; self.classes];
        for trees in &self.rounds {
            for (k, t) in trees.iter().enumerate() {
                s[k] += t.predict(row)[0];
            }
        }
        softmax(&s)
    }
}
