//! A CART regression tree with vector leaves. Fitted to one-hot class targets it is a Gini
//! classification tree (the summed variance of one-hot vectors is the Gini impurity), which the
//! random forest uses; fitted to gradients it is the weak learner of gradient boosting.

use serde::{Deserialize, Serialize};

use super::Rng;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Node {
    Leaf(Vec<f64>),
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
}

/// A node still to build: its samples, its depth, and the parent's child slot (parent, is left).
type Pending = (Vec<usize>, usize, Option<(usize, bool)>);

#[derive(Clone, Copy, Debug)]
pub(crate) struct TreeParams {
    pub max_depth: usize,
    pub min_leaf: usize,
    /// Features tried at each split (all when 0).
    pub mtry: usize,
}

impl Tree {
    /// Fits a tree on the rows `idx` of `x` to `targets` (one vector per row).
    pub fn fit(
        x: &[Vec<f64>],
        targets: &[Vec<f64>],
        idx: Vec<usize>,
        p: TreeParams,
        rng: &mut Rng,
    ) -> Tree {
        let dims = targets.first().map_or(1, |t| t.len());
        let features = x.first().map_or(0, |r| r.len());
        let mut nodes = Vec::new();
        let mut stack: Vec<Pending> = vec![(idx, 0, None)];
        while let Some((idx, depth, parent)) = stack.pop() {
            let me = nodes.len();
            if let Some((pi, is_left)) = parent {
                if let Node::Split { left, right, .. } = &mut nodes[pi] {
                    *if is_left { left } else { right } = me;
                }
            }
            let mut total = vec![0.0; dims];
            for &i in &idx {
                for (t, v) in total.iter_mut().zip(&targets[i]) {
                    *t += v;
                }
            }
            let n = idx.len() as f64;
            let mean: Vec<f64> = total.iter().map(|t| t / n.max(1.0)).collect();
            let split = if depth >= p.max_depth || idx.len() < 2 * p.min_leaf.max(1) {
                None
            } else {
                best_split(x, targets, &idx, &total, features, p, rng)
            };
            match split {
                None => nodes.push(Node::Leaf(mean)),
                Some((feature, threshold)) => {
                    nodes.push(Node::Split {
                        feature,
                        threshold,
                        left: 0,
                        right: 0,
                    });
                    let (l, r): (Vec<usize>, Vec<usize>) =
                        idx.into_iter().partition(|&i| x[i][feature] <= threshold);
                    stack.push((r, depth + 1, Some((me, false))));
                    stack.push((l, depth + 1, Some((me, true))));
                }
            }
        }
        Tree { nodes }
    }

    /// The index of the leaf a row falls in.
    pub fn leaf(&self, row: &[f64]) -> usize {
        let mut i = 0;
        loop {
            match &self.nodes[i] {
                Node::Leaf(_) => return i,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    i = if row[*feature] <= *threshold {
                        *left
                    } else {
                        *right
                    }
                }
            }
        }
    }

    pub fn predict(&self, row: &[f64]) -> &[f64] {
        match &self.nodes[self.leaf(row)] {
            Node::Leaf(v) => v,
            Node::Split { .. } => &[],
        }
    }
}

fn best_split(
    x: &[Vec<f64>],
    targets: &[Vec<f64>],
    idx: &[usize],
    total: &[f64],
    features: usize,
    p: TreeParams,
    rng: &mut Rng,
) -> Option<(usize, f64)> {
    let n = idx.len();
    let sq = |s: &[f64], c: f64| s.iter().map(|v| v * v).sum::<f64>() / c;
    let parent = sq(total, n as f64);
    let mut candidates: Vec<usize> = (0..features).collect();
    let mtry = if p.mtry == 0 {
        features
    } else {
        p.mtry.min(features)
    };
    rng.shuffle(&mut candidates);
    let mut best: Option<(f64, usize, f64)> = None;
    let mut order = idx.to_vec();
    let mut left = vec![0.0; total.len()];
    for &f in &candidates[..mtry] {
        order.sort_unstable_by(|&a, &b| x[a][f].total_cmp(&x[b][f]));
        left.iter_mut().for_each(|v| *v = 0.0);
        for k in 0..n - 1 {
            for (l, v) in left.iter_mut().zip(&targets[order[k]]) {
                *l += v;
            }
            let (a, b) = (x[order[k]][f], x[order[k + 1]][f]);
            let nl = k + 1;
            if a == b || nl < p.min_leaf || n - nl < p.min_leaf {
                continue;
            }
            let right: Vec<f64> = total.iter().zip(&left).map(|(t, l)| t - l).collect();
            let score = sq(&left, nl as f64) + sq(&right, (n - nl) as f64);
            if score > parent + 1e-12 && best.is_none_or(|b| score > b.0) {
                best = Some((score, f, 0.5 * (a + b)));
            }
        }
    }
    best.map(|b| (b.1, b.2))
}
