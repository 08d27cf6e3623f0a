//! What a style's training pieces say beyond their notes: its palette, the instruments (program
//! tokens) and drum keys (drum tokens) they use, and its tempo. Generation asked for a style can
//! keep to the palette, so a "reggae" piece is not played on a metal band's instruments even
//! where the decoder's sampling wanders, and is played at a reggae tempo (tokens carry no tempo).
//! Every other token (pitches, durations, positions, bars) stays free: the palette says which
//! instruments, never which notes.

use std::collections::{BTreeMap, BTreeSet};

use crate::corpus::{Corpus, Split};
use crate::model::checkpoint::CheckpointMeta;
pub use crate::model::checkpoint::StyleInfo;
use crate::music::tokens::{Token, Vocab};

/// Beats per minute of a piece: the beats its bar tokens span over its length in seconds.
fn piece_bpm(tokens: &[Token], seconds: f64) -> Option<f64> {
    let beats: f64 = tokens
        .iter()
        .map(|t| match t {
            Token::Bar { num, den } if *den > 0 => 4.0 * *num as f64 / *den as f64,
            _ => 0.0,
        })
        .sum();
    (beats > 0.0 && seconds > 0.0).then(|| 60.0 * beats / seconds)
}

/// Per style, what its training pieces (`Split::Train` at `val_fraction`) use: the program and
/// drum token ids of `vocab`, and their median tempo. One pass over the pieces; a style none of
/// whose pieces has a tempo is left out.
pub fn style_infos(
    corpus: &Corpus,
    vocab: &Vocab,
    val_fraction: f64,
) -> BTreeMap<String, StyleInfo> {
    let mut seen: BTreeMap<String, (Vec<f64>, BTreeSet<u32>)> = BTreeMap::new();
    for piece in corpus.pieces_in(Split::Train, val_fraction) {
        let Some(style) = &piece.style else { continue };
        let (tempos, ids) = seen.entry(style.clone()).or_default();
        tempos.extend(piece_bpm(&piece.tokens, piece.seconds));
        ids.extend(
            piece
                .tokens
                .iter()
                .filter(|t| instrument(t))
                .filter_map(|t| vocab.id(t)),
        );
    }
    seen.into_iter()
        .filter(|(_, (tempos, _))| !tempos.is_empty())
        .map(|(style, (mut tempos, ids))| {
            tempos.sort_by(f64::total_cmp);
            let bpm = tempos[tempos.len() / 2];
            let instruments = ids.into_iter().collect();
            (style, StyleInfo { instruments, bpm })
        })
        .collect()
}

fn instrument(t: &Token) -> bool {
    matches!(t, Token::Program(_) | Token::Drum(_))
}

/// Which token ids generation may draw: all but the instrument tokens outside the palette, and
/// no pitch while the current program is outside it (before a stream's first program token the
/// program is General MIDI's default, 0, which a style without a piano must not play).
#[derive(Clone, Debug, PartialEq)]
pub struct Palette {
    allowed: Vec<bool>,
    pitch: Vec<bool>,
    program_ok: [bool; 128],
}

#[derive(Debug, thiserror::Error)]
pub enum PaletteError {
    #[error("the model keeps no style palettes (retrain it with this version: `improv train --tokens full`)")]
    None,
    #[error("the model has no palette for style {0:?}")]
    Unknown(String),
}

impl Palette {
    /// The palette of `ids` (program and drum token ids) over `vocab`.
    pub fn new(vocab: &Vocab, ids: &[u32]) -> Self {
        let mut allowed: Vec<bool> = vocab.tokens().iter().map(|t| !instrument(t)).collect();
        for &id in ids {
            if let Some(a) = allowed.get_mut(id as usize) {
                *a = true;
            }
        }
        let mut program_ok = [false; 128];
        let mut any_program = false;
        for (t, &a) in vocab.tokens().iter().zip(&allowed) {
            if let Token::Program(p) = t {
                any_program |= a;
                program_ok[*p as usize & 127] = a;
            }
        }
        if !any_program {
            // A palette that names no program leaves the program free.
            program_ok = [true; 128];
        }
        let pitch = vocab
            .tokens()
            .iter()
            .map(|t| matches!(t, Token::Pitch(_)))
            .collect();
        Palette {
            allowed,
            pitch,
            program_ok,
        }
    }

    /// The palette the model's metadata keeps for `style`.
    pub fn of_style(meta: &CheckpointMeta, style: &str) -> Result<Self, PaletteError> {
        if meta.styles.is_empty() {
            return Err(PaletteError::None);
        }
        let info = meta
            .styles
            .get(style)
            .ok_or_else(|| PaletteError::Unknown(style.to_string()))?;
        Ok(Palette::new(&meta.vocab, &info.instruments))
    }

    /// The palette of the style whose token is `head`, when the model keeps one.
    pub fn of_head(meta: &CheckpointMeta, head: u32) -> Option<Self> {
        match meta.vocab.token(head) {
            Some(Token::Style(s)) => Palette::of_style(meta, s).ok(),
            _ => None,
        }
    }

    /// Whether token `id` may follow while `program` is the current program.
    pub fn allows(&self, id: u32, program: u8) -> bool {
        let i = id as usize;
        let is_pitch = self.pitch.get(i).copied().unwrap_or(false);
        self.allowed.get(i).copied().unwrap_or(true)
            && (!is_pitch || self.program_ok[program as usize & 127])
    }

    /// Sets the logits of the tokens [`Palette::allows`] refuses to minus infinity.
    pub fn apply(&self, logits: &mut [f32], program: u8) {
        for (id, l) in logits.iter_mut().enumerate() {
            if !self.allows(id as u32, program) {
                *l = f32::NEG_INFINITY;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_instruments_outside_the_palette_are_masked() {
        let vocab = Vocab::new([
            Token::Pitch(60),
            Token::Program(0),
            Token::Program(33),
            Token::Drum(36),
            Token::Drum(42),
        ]);
        let p = Palette::new(&vocab, &[2, 3]);
        let mut logits = vec![1.0; 5];
        p.apply(&mut logits, 33);
        assert_eq!(logits[0], 1.0);
        assert_eq!(logits[1], f32::NEG_INFINITY);
        assert_eq!(logits[2], 1.0);
        assert_eq!(logits[3], 1.0);
        assert_eq!(logits[4], f32::NEG_INFINITY);
        assert!(p.allows(0, 33) && !p.allows(4, 33) && p.allows(99, 33));
        // Under program 0 (the default before any program token), outside this palette, a
        // pitch must wait for a program token of the palette; drums need none.
        let mut logits = vec![1.0; 5];
        p.apply(&mut logits, 0);
        assert_eq!(logits[0], f32::NEG_INFINITY);
        assert_eq!(logits[2], 1.0);
        assert_eq!(logits[3], 1.0);
        // A palette of drums alone leaves pitches free under any program.
        let drums = Palette::new(&vocab, &[3]);
        assert!(drums.allows(0, 0) && !drums.allows(2, 0));
    }
}
