//! From pieces to training data: the pieces on each side of the split (by group of
//! near-duplicates, never by window: see [`super::split`]), the vocabulary, and windows of N+1 token ids with transposition augmentation on
//! the training split only. A piece that starts with a style token is conditioned in every
//! window, not only its first: see [`Corpus::windows`].

use super::{Corpus, Piece, Split};
use crate::music::tokens::{Token, Vocab};

/// Training examples: `count` windows of `len` ids each, stored flat.
#[derive(Clone, Debug, Default)]
pub struct Windows {
    pub len: usize,
    pub ids: Vec<u32>,
}

impl Windows {
    pub fn count(&self) -> usize {
        self.ids.len().checked_div(self.len).unwrap_or(0)
    }

    pub fn get(&self, i: usize) -> &[u32] {
        &self.ids[i * self.len..(i + 1) * self.len]
    }
}

impl Corpus {
    /// The vocabulary a model of this corpus needs: the tokenizer's fixed set plus the corpus's
    /// style tokens, or (paper tokens) every token the corpus uses, in sorted order.
    pub fn vocab(&self) -> Vocab {
        let tokenizer = self.tokenizer.build();
        match tokenizer.fixed_vocab() {
            Some(mut v) => {
                v.extend(self.styles().into_iter().map(Token::Style));
                Vocab::new(v)
            }
            None => {
                let mut all: Vec<Token> = self
                    .pieces
                    .iter()
                    .flat_map(|p| p.tokens.iter().cloned())
                    .collect();
                all.sort();
                all.dedup();
                Vocab::new(all)
            }
        }
    }

    pub fn pieces_in(&self, split: Split, val_fraction: f64) -> impl Iterator<Item = &Piece> {
        self.pieces
            .iter()
            .filter(move |p| p.split(val_fraction) == split)
    }

    /// Windows of `window + 1` ids every `stride` tokens from the pieces of `split`; on the
    /// training split each piece is also transposed to every key within +-`transpose` semitones
    /// where all its pitches stay in range. Tokens outside `vocab` are dropped.
    ///
    /// Style conditioning is automatic: when a piece starts with a style token that `vocab`
    /// knows (the tokenizer writes one, `--tokens full`), every window of that piece is its
    /// style token followed by `window` tokens of the piece after that leading token. The style
    /// token is then the decoder's first input in every window, not only in the first of a
    /// piece's ~60, so the model cannot learn to ignore it; generation primes with it the same
    /// way (`--style`).
    pub fn windows(
        &self,
        vocab: &Vocab,
        split: Split,
        val_fraction: f64,
        window: usize,
        stride: usize,
        transpose: u8,
    ) -> Windows {
        let len = window + 1;
        let stride = stride.max(1);
        let k = if split == Split::Train {
            transpose as i32
        } else {
            0
        };
        let mut out = Windows {
            len,
            ids: Vec::new(),
        };
        for piece in self.pieces_in(split, val_fraction) {
            for shift in -k..=k {
                let tokens: Option<Vec<Token>> = if shift == 0 {
                    Some(piece.tokens.clone())
                } else {
                    piece.tokens.iter().map(|t| t.transposed(shift)).collect()
                };
                let Some(tokens) = tokens else { continue };
                let style = match tokens.first() {
                    Some(t @ Token::Style(_)) => vocab.id(t),
                    _ => None,
                };
                let (ids, _) = vocab.encode(&tokens);
                match style {
                    Some(style) => {
                        let body = &ids[1..];
                        let mut start = 0;
                        while start + window <= body.len() {
                            out.ids.push(style);
                            out.ids.extend_from_slice(&body[start..start + window]);
                            start += stride;
                        }
                    }
                    None => {
                        let mut start = 0;
                        while start + len <= ids.len() {
                            out.ids.extend_from_slice(&ids[start..start + len]);
                            start += stride;
                        }
                    }
                }
            }
        }
        out
    }
}
