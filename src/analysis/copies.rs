//! Copying and variety: how much of a set of pieces is found verbatim in the training set (as
//! two-bar spans of tokens), and how different the pieces of a set are from one another (mean
//! pairwise distance of their standardised feature rows).

use std::collections::HashSet;

use serde::Serialize;

use super::classify::Standardizer;
use crate::corpus::split::hash64;

/// Spans with fewer notes than this say too little to count as copied (an empty or one-chord
/// pair of bars recurs in every corpus) and are left out of both counts.
pub const MIN_SPAN_NOTES: usize = 4;

/// What a token is to span cutting.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    BarLine,
    NoteEnd,
    Other,
}

/// The two-bar spans of `ids` (from one bar line to the bar line two bars on, both bars whole)
/// with at least [`MIN_SPAN_NOTES`] notes, as 64-bit hashes of their ids.
pub fn spans(ids: &[u32], mark: impl Fn(u32) -> Mark) -> Vec<u64> {
    let bars: Vec<usize> = ids
        .iter()
        .enumerate()
        .filter(|(_, &id)| mark(id) == Mark::BarLine)
        .map(|(i, _)| i)
        .collect();
    bars.windows(3)
        .filter_map(|w| {
            let span = &ids[w[0]..w[2]];
            let notes = span.iter().filter(|&&id| mark(id) == Mark::NoteEnd).count();
            (notes >= MIN_SPAN_NOTES).then(|| hash_ids(span))
        })
        .collect()
}

fn hash_ids(span: &[u32]) -> u64 {
    let bytes: Vec<u8> = span.iter().flat_map(|id| id.to_le_bytes()).collect();
    hash64(&bytes)
}

/// Every two-bar span of a set of pieces (the training set).
#[derive(Default)]
pub struct SpanIndex {
    spans: HashSet<u64>,
}

impl SpanIndex {
    pub fn build<'a>(pieces: impl Iterator<Item = &'a [u32]>, mark: impl Fn(u32) -> Mark) -> Self {
        let mut index = HashSet::new();
        for ids in pieces {
            index.extend(spans(ids, &mark));
        }
        SpanIndex { spans: index }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// How many of the spans of `pieces` are in the index, out of how many.
    pub fn copied<'a>(
        &self,
        pieces: impl Iterator<Item = &'a [u32]>,
        mark: impl Fn(u32) -> Mark,
    ) -> Copies {
        let (mut found, mut total) = (0, 0);
        for ids in pieces {
            for s in spans(ids, &mark) {
                total += 1;
                found += self.spans.contains(&s) as usize;
            }
        }
        Copies {
            spans: total,
            found,
            share: found as f64 / total.max(1) as f64,
        }
    }
}

/// Spans of a set found verbatim in the training set.
#[derive(Clone, Debug, Serialize)]
pub struct Copies {
    pub spans: usize,
    pub found: usize,
    pub share: f64,
}

/// Mean Euclidean distance between the rows of every pair in `rows`, after `scale`.
pub fn variety(rows: &[Vec<f64>], scale: &Standardizer) -> f64 {
    let z: Vec<Vec<f64>> = rows.iter().map(|r| scale.apply(r)).collect();
    let (mut sum, mut pairs) = (0.0, 0usize);
    for i in 0..z.len() {
        for j in i + 1..z.len() {
            let d: f64 = z[i].iter().zip(&z[j]).map(|(a, b)| (a - b).powi(2)).sum();
            sum += d.sqrt();
            pairs += 1;
        }
    }
    sum / pairs.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    // 0 is a bar line, 1 ends a note, anything else is another token.
    fn mark(id: u32) -> Mark {
        match id {
            0 => Mark::BarLine,
            1 => Mark::NoteEnd,
            _ => Mark::Other,
        }
    }

    #[test]
    fn spans_are_whole_bar_pairs_with_enough_notes() {
        let piece = [0, 5, 1, 6, 1, 0, 7, 1, 8, 1, 0, 9, 0, 2, 1];
        // Bars start at 0, 5, 10 and 12: the pairs (0,10) with 4 notes and (5,12) with 2; the
        // last bar has no closing bar line, so no span ends there.
        assert_eq!(spans(&piece, mark).len(), 1);
        let index = SpanIndex::build([&piece[..]].into_iter(), mark);
        let copy = [3, 0, 5, 1, 6, 1, 0, 7, 1, 8, 1, 0];
        let other = [0, 5, 1, 6, 1, 0, 7, 1, 9, 1, 0];
        assert_eq!(index.copied([&copy[..]].into_iter(), mark).found, 1);
        assert_eq!(index.copied([&other[..]].into_iter(), mark).found, 0);
    }

    #[test]
    fn variety_is_zero_for_copies_and_grows_with_spread() {
        let same = vec![vec![1.0, 2.0]; 5];
        let scale = Standardizer {
            mean: vec![0.0, 0.0],
            std: vec![1.0, 1.0],
        };
        assert_eq!(variety(&same, &scale), 0.0);
        let spread = vec![vec![0.0, 0.0], vec![3.0, 4.0]];
        assert!((variety(&spread, &scale) - 5.0).abs() < 1e-12);
    }
}
