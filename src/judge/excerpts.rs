//! Cutting pieces into excerpts: one primer bar (with the piece's style token and the program in
//! force, so it stands alone) and the bars that follow it.

use super::Corpus;
use crate::corpus::split::hash64;
use crate::corpus::Split;
use crate::model::checkpoint::CheckpointMeta;
use crate::music::tokens::Token;
use crate::rng::Rng;

/// One excerpt of a piece.
#[derive(Clone, Debug)]
pub struct Excerpt {
    /// The piece's group of near-duplicates, hashed: excerpts of one group share a fold.
    pub group: u64,
    /// The piece's index in the corpus.
    pub piece: usize,
    /// The piece's style label (classical, folk, a genre).
    pub sub_corpus: String,
    /// The piece's folder (`classical/bach`): training excerpts are matched to held-out ones by it.
    pub source: String,
    pub primer: Vec<u32>,
    pub continuation: Vec<u32>,
}

/// A piece as ids, with where its bar lines are.
struct Encoded1 {
    ids: Vec<u32>,
    bars: Vec<usize>,
    style: Option<u32>,
    group: u64,
    sub_corpus: String,
    source: String,
    split: Split,
}

/// Every piece of a corpus in a model's vocabulary.
pub struct Encoded<'a> {
    meta: &'a CheckpointMeta,
    pieces: Vec<Encoded1>,
}

impl<'a> Encoded<'a> {
    pub fn of(corpus: &Corpus, meta: &'a CheckpointMeta, val_fraction: f64) -> Self {
        let pieces = corpus
            .pieces
            .iter()
            .map(|p| {
                let ids = meta.vocab.encode(&p.tokens).0;
                let bars = ids
                    .iter()
                    .enumerate()
                    .filter(|(_, &id)| matches!(meta.vocab.token(id), Some(Token::Bar { .. })))
                    .map(|(i, _)| i)
                    .collect();
                let style = ids
                    .first()
                    .copied()
                    .filter(|&id| matches!(meta.vocab.token(id), Some(Token::Style(_))));
                let source = p.path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
                Encoded1 {
                    ids,
                    bars,
                    style,
                    group: hash64(p.group.as_bytes()),
                    sub_corpus: p.sub_corpus().to_string(),
                    source,
                    split: p.split(val_fraction),
                }
            })
            .collect();
        Encoded { meta, pieces }
    }

    /// The ids of every training piece.
    pub fn training_ids(&self) -> impl Iterator<Item = &[u32]> {
        self.pieces
            .iter()
            .filter(|p| p.split == Split::Train)
            .map(|p| p.ids.as_slice())
    }

    /// Excerpts of `bars` bars after a primer bar starting at bar `b` of piece `k`, if it has
    /// that many bars.
    fn excerpt(&self, k: usize, b: usize, bars: usize) -> Option<Excerpt> {
        let p = &self.pieces[k];
        let end = *p.bars.get(b + 1 + bars)?;
        let (start, cont) = (p.bars[b], p.bars[b + 1]);
        let mut primer: Vec<u32> = p.style.into_iter().collect();
        // The program in force at the primer's start, written before its first pitch unless the
        // bar names one itself, where the tokenizer would have written it.
        let mut program = None;
        for &id in &p.ids[..start] {
            if let Some(Token::Program(q)) = self.meta.vocab.token(id) {
                program = Some(*q);
            }
        }
        let mut named = false;
        for &id in &p.ids[start..cont] {
            match self.meta.vocab.token(id) {
                Some(Token::Program(_)) => named = true,
                Some(Token::Pitch(_)) if !named => {
                    if let Some(id) = program.and_then(|q| self.meta.vocab.id(&Token::Program(q))) {
                        primer.push(id);
                    }
                    named = true;
                }
                _ => {}
            }
            primer.push(id);
        }
        Some(Excerpt {
            group: p.group,
            piece: k,
            sub_corpus: p.sub_corpus.clone(),
            source: p.source.clone(),
            primer,
            continuation: p.ids[cont..end].to_vec(),
        })
    }

    /// Up to `n` excerpts of held-out pieces: each piece's non-overlapping excerpts in a random
    /// order (so that openings are no likelier than in the training excerpts, which start
    /// anywhere), then the pieces in a random order, one excerpt of each in turn, so that long
    /// pieces do not crowd out short ones.
    pub fn held_out(&self, bars: usize, n: usize, rng: &mut Rng) -> Vec<Excerpt> {
        let mut order: Vec<usize> = (0..self.pieces.len())
            .filter(|&k| self.pieces[k].split == Split::Validation)
            .collect();
        shuffle(&mut order, rng);
        let mut starts: Vec<Vec<usize>> = order
            .iter()
            .map(|&k| {
                let fits = self.pieces[k].bars.len().saturating_sub(bars + 1);
                let mut s: Vec<usize> = (0..fits).step_by(bars + 1).collect();
                shuffle(&mut s, rng);
                s
            })
            .collect();
        let mut out = Vec::new();
        while out.len() < n && starts.iter().any(|s| !s.is_empty()) {
            for (&k, s) in order.iter().zip(&mut starts) {
                if out.len() >= n {
                    break;
                }
                if let Some(e) = s.pop().and_then(|b| self.excerpt(k, b, bars)) {
                    out.push(e);
                }
            }
        }
        out
    }

    /// For every held-out excerpt, one excerpt at a random place of a random training piece of
    /// the same source (else the same sub-corpus, else any) long enough.
    pub fn matching_training(&self, held: &[Excerpt], bars: usize, rng: &mut Rng) -> Vec<Excerpt> {
        let long: Vec<usize> = (0..self.pieces.len())
            .filter(|&k| {
                self.pieces[k].split == Split::Train && self.pieces[k].bars.len() > bars + 1
            })
            .collect();
        let pick = |want: &dyn Fn(&Encoded1) -> bool, rng: &mut Rng| -> Option<Excerpt> {
            let pool: Vec<usize> = long
                .iter()
                .copied()
                .filter(|&k| want(&self.pieces[k]))
                .collect();
            let &k = pool.get(rng.below(pool.len().max(1)))?;
            let b = rng.below(self.pieces[k].bars.len() - bars - 1);
            self.excerpt(k, b, bars)
        };
        held.iter()
            .filter_map(|h| {
                pick(&|p| p.source == h.source, rng)
                    .or_else(|| pick(&|p| p.sub_corpus == h.sub_corpus, rng))
                    .or_else(|| pick(&|_| true, rng))
            })
            .collect()
    }
}

fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i + 1));
    }
}
