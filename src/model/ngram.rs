//! The baseline: an interpolated Kneser-Ney n-gram model (Chen & Goodman 1998, one discount per
//! order from the count-of-counts) over the same token ids, to compare a VAE's per-token
//! negative ELBO with.

use std::collections::HashMap;

use crate::corpus::Windows;

/// Counts that follow one context.
#[derive(Clone, Debug, Default)]
struct Context {
    total: f64,
    next: HashMap<u32, f64>,
}

/// An n-gram model of order `order` (3 to 5 is usual) over a vocabulary of `vocab` ids.
#[derive(Clone, Debug)]
pub struct KneserNey {
    pub order: usize,
    pub vocab: usize,
    /// `tables[k]`: contexts of `k` tokens (packed) to what follows them. The top order holds
    /// plain counts; lower orders hold continuation counts (distinct left neighbours).
    tables: Vec<HashMap<u128, Context>>,
    discounts: Vec<f64>,
}

/// Up to four ids packed into one key (contexts are at most four tokens long).
fn pack(ids: &[u32]) -> u128 {
    ids.iter().fold(0u128, |k, &i| (k << 32) | i as u128)
}

impl KneserNey {
    /// Counts the n-grams of `sequences`. `order` is clamped to 1..=5.
    pub fn train<'a>(
        order: usize,
        vocab: usize,
        sequences: impl IntoIterator<Item = &'a [u32]>,
    ) -> Self {
        let order = order.clamp(1, 5);
        let mut tables: Vec<HashMap<u128, Context>> = vec![HashMap::new(); order];
        // Distinct (k + 1)-grams give the continuation counts of order k.
        let mut seen: Vec<std::collections::HashSet<(u128, u32)>> = vec![Default::default(); order];
        for seq in sequences {
            for end in 0..seq.len() {
                let w = seq[end];
                for k in 0..order {
                    if end < k {
                        break;
                    }
                    let ctx = pack(&seq[end - k..end]);
                    if k == order - 1 {
                        let c = tables[k].entry(ctx).or_default();
                        c.total += 1.0;
                        *c.next.entry(w).or_default() += 1.0;
                    }
                    if k >= 1 && seen[k].insert((ctx, w)) {
                        // A new left neighbour for the shorter context.
                        let lower = pack(&seq[end - k + 1..end]);
                        let c = tables[k - 1].entry(lower).or_default();
                        c.total += 1.0;
                        *c.next.entry(w).or_default() += 1.0;
                    }
                }
            }
        }
        let discounts = tables
            .iter()
            .map(|t| {
                let (mut n1, mut n2) = (0.0, 0.0);
                for c in t.values().flat_map(|c| c.next.values()) {
                    n1 += (*c == 1.0) as u8 as f64;
                    n2 += (*c == 2.0) as u8 as f64;
                }
                if n1 + 2.0 * n2 > 0.0 {
                    (n1 / (n1 + 2.0 * n2)).clamp(0.1, 0.95)
                } else {
                    0.75
                }
            })
            .collect();
        KneserNey {
            order,
            vocab,
            tables,
            discounts,
        }
    }

    /// P(w | context); only the last `order - 1` tokens of `context` are used.
    pub fn prob(&self, context: &[u32], w: u32) -> f64 {
        let k = context.len().min(self.order - 1);
        self.prob_at(&context[context.len() - k..], w)
    }

    fn prob_at(&self, ctx: &[u32], w: u32) -> f64 {
        let lower = if ctx.is_empty() {
            1.0 / self.vocab.max(1) as f64
        } else {
            self.prob_at(&ctx[1..], w)
        };
        let k = ctx.len();
        let Some(c) = self.tables[k].get(&pack(ctx)) else {
            return lower;
        };
        let d = self.discounts[k];
        let count = c.next.get(&w).copied().unwrap_or(0.0);
        let types = c.next.len() as f64;
        ((count - d).max(0.0) + d * types * lower) / c.total
    }

    /// Mean -ln P over the tokens `w[1..]` of every window, each predicted from the tokens
    /// before it in its window: the same targets and context a VAE's decoder gets.
    pub fn cross_entropy(&self, windows: &Windows) -> f64 {
        let (mut sum, mut n) = (0.0, 0usize);
        for i in 0..windows.count() {
            let w = windows.get(i);
            for t in 1..w.len() {
                sum -= self.prob(&w[..t], w[t]).ln();
                n += 1;
            }
        }
        sum / n.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_sum_to_one_in_every_context() {
        let seqs: Vec<Vec<u32>> = vec![
            vec![0, 1, 2, 0, 1, 3, 0, 1, 2, 2, 4],
            vec![4, 3, 2, 1, 0, 1, 2, 0, 1, 2],
        ];
        for order in 1..=4 {
            let kn = KneserNey::train(order, 6, seqs.iter().map(|s| s.as_slice()));
            for ctx in [&[][..], &[0], &[0, 1], &[1, 2, 0], &[5, 5, 5]] {
                let total: f64 = (0..6).map(|w| kn.prob(ctx, w)).sum();
                assert!(
                    (total - 1.0).abs() < 1e-9,
                    "order {order} ctx {ctx:?}: {total}"
                );
            }
        }
    }

    #[test]
    fn a_longer_context_predicts_a_deterministic_pattern_better() {
        let pattern: Vec<u32> = (0..600).map(|i| [0, 1, 0, 2][i % 4]).collect();
        let w = Windows {
            len: 9,
            ids: pattern[..90].to_vec(),
        };
        let ce = |order| KneserNey::train(order, 3, [pattern.as_slice()]).cross_entropy(&w);
        let (uni, tri) = (ce(1), ce(3));
        assert!(
            (uni - (-(0.5f64.ln() * 0.5 + 0.25f64.ln() * 0.5))).abs() < 0.05,
            "{uni}"
        );
        // Only the first target of each window lacks two tokens of context.
        assert!(tri < 0.2 && tri < uni / 5.0, "{tri}");
    }
}
