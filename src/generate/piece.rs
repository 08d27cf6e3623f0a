//! Generating a piece: prime a model's token stream, sample until enough notes or bars, decode.
//! The stream carries its state from token to token, as the live player will use it.

use crate::model::checkpoint::CheckpointMeta;
use crate::model::Vae;
use crate::music::tokens::{Token, TokenizerConfig};
use crate::music::NoteSeq;
use crate::rng::Rng;

use super::palette::Palette;
use super::sample::{SampleError, Sampling};

/// How the decoder carries context from token to token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// One stream carries its state from token to token (as the live player does).
    #[default]
    Stream,
    /// The paper's way: for each new token the decoder starts afresh (reset to z) and reads the
    /// last `window` tokens; one token out, shift, repeat.
    Sliding { window: usize },
}

/// How much to generate and how.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    pub sampling: Sampling,
    pub mode: Mode,
    /// Stop after this many notes (event tokens: a velocity token ends a note; paper tokens:
    /// every note or chord token).
    pub notes: Option<usize>,
    /// Stop after this many bars (event tokens only).
    pub bars: Option<usize>,
    /// Never sample more tokens than this.
    pub max_tokens: usize,
    pub seed: u64,
    /// Let a style's piece take any instrument: by default a primer that starts with a style
    /// token keeps to that style's palette where the model keeps one (`generate::palette`).
    pub any_instrument: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            sampling: Sampling::default(),
            mode: Mode::Stream,
            notes: Some(100),
            bars: None,
            max_tokens: 20_000,
            seed: 1,
            any_instrument: false,
        }
    }
}

/// A latent drawn from N(0, I).
pub fn sample_latent(size: usize, rng: &mut Rng) -> Vec<f32> {
    (0..size).map(|_| rng.normal() as f32).collect()
}

fn ends_note(t: &Token) -> bool {
    matches!(t, Token::Vel(_) | Token::Note(_) | Token::Chord(_))
}

/// The primer's style token, when it starts with one: a style-conditioned model saw it first in
/// every training window, so every context it is re-primed with starts with it again.
pub fn style_head(meta: &CheckpointMeta, primer: &[u32]) -> Option<u32> {
    let &first = primer.first()?;
    matches!(meta.vocab.token(first), Some(Token::Style(_))).then_some(first)
}

/// The tokens to re-prime a decoder with after a reset: the last `window` of `recent`, or with a
/// head, the head and the last `window - 1` (a training window's decoder input: style token, then
/// the piece). The head is not repeated when `recent` still starts with it.
pub fn context(recent: &[u32], window: usize, head: Option<u32>) -> impl Iterator<Item = u32> + '_ {
    let window = window.max(1);
    let mut tail = match head {
        Some(_) => &recent[recent.len().saturating_sub(window - 1)..],
        None => &recent[recent.len().saturating_sub(window)..],
    };
    if head.is_some() && tail.len() == recent.len() && tail.first() == head.as_ref() {
        tail = &tail[1..];
    }
    head.into_iter().chain(tail.iter().copied())
}

/// Generates tokens after `primer` (token ids in the model's vocabulary, at least one) with
/// latent `z`, and returns only the new ones.
pub fn generate_ids(
    model: &impl Vae,
    meta: &CheckpointMeta,
    primer: &[u32],
    z: &[f32],
    opts: &GenerateOptions,
) -> Result<Vec<u32>, SampleError> {
    opts.sampling.validate()?;
    let mut rng = Rng::new(opts.seed);
    let head = style_head(meta, primer);
    let palette = head
        .filter(|_| !opts.any_instrument)
        .and_then(|h| Palette::of_head(meta, h));
    let mut stream = model.stream();
    stream.set_head(head);
    stream.reset(z);
    let mut recent: Vec<u32> = primer.to_vec();
    let mut logits: Vec<f32> = Vec::new();
    // Sliding: the logits of the next token from a fresh decoder over the last `window` ids
    // (the style token first, when there is one).
    let slide = |stream: &mut Box<dyn crate::model::TokenStream>, recent: &[u32], w: usize| {
        stream.reset(z);
        let mut last = Vec::new();
        for id in context(recent, w, head) {
            last = stream.step(id).to_vec();
        }
        last
    };
    match opts.mode {
        Mode::Stream => {
            for &id in primer {
                logits = stream.step(id).to_vec();
            }
        }
        Mode::Sliding { window } => logits = slide(&mut stream, &recent, window),
    }
    let (mut out, mut notes, mut bars) = (Vec::new(), 0usize, 0usize);
    // The program notes take until a program token says otherwise (the decoder's default).
    let program_of = |id: u32, current: u8| match meta.vocab.token(id) {
        Some(Token::Program(p)) => *p,
        _ => current,
    };
    let mut program = primer.iter().fold(0u8, |p, &id| program_of(id, p));
    while out.len() < opts.max_tokens {
        if let Some(p) = &palette {
            p.apply(&mut logits, program);
        }
        let id = opts.sampling.sample(&logits, &recent, &mut rng);
        let token = meta.vocab.token(id);
        if let Some(Token::Bar { .. }) = token {
            if opts.bars.is_some_and(|b| bars >= b) {
                break;
            }
            bars += 1;
        }
        out.push(id);
        recent.push(id);
        program = program_of(id, program);
        notes += token.is_some_and(ends_note) as usize;
        if opts.notes.is_some_and(|n| notes >= n) {
            break;
        }
        logits = match opts.mode {
            Mode::Stream => stream.step(id).to_vec(),
            Mode::Sliding { window } => slide(&mut stream, &recent, window),
        };
    }
    Ok(out)
}

/// Decodes generated ids into a piece at `bpm`.
pub fn decode(meta: &CheckpointMeta, ids: &[u32], bpm: f64) -> NoteSeq {
    let tokens = meta.vocab.decode(ids);
    let mut seq = meta.tokenizer.build().decode(&tokens);
    seq.tempo = crate::music::TempoMap::constant_bpm(bpm);
    seq.retime();
    seq
}

/// The primer for "nothing": a 4/4 bar line for event tokens, else the vocabulary's first token.
pub fn empty_primer(meta: &CheckpointMeta) -> Vec<u32> {
    let bar = meta.vocab.id(&Token::Bar { num: 4, den: 4 });
    vec![bar.unwrap_or(0)]
}

/// The styles a model was trained with (its `Style_<label>` tokens), sorted; none unless its
/// tokenizer starts pieces with style tokens (event vocabularies list every corpus style).
pub fn styles(meta: &CheckpointMeta) -> Vec<String> {
    if !matches!(&meta.tokenizer, TokenizerConfig::Event(c) if c.styles) {
        return Vec::new();
    }
    let mut s: Vec<String> = (0..meta.vocab.len() as u32)
        .filter_map(|id| match meta.vocab.token(id) {
            Some(Token::Style(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    s.sort();
    s
}

#[derive(Debug, thiserror::Error)]
pub enum StyleError {
    #[error("the model has no style tokens (train it with `improv train --tokens full` on a corpus with style labels)")]
    NoStyles,
    #[error("the model knows no style {asked:?}; it knows: {}", known.join(", "))]
    Unknown { asked: String, known: Vec<String> },
}

/// The primer that asks for `style`: the style token, then a 4/4 bar, as training pieces begin.
pub fn style_primer(meta: &CheckpointMeta, style: &str) -> Result<Vec<u32>, StyleError> {
    let known = styles(meta);
    if known.is_empty() {
        return Err(StyleError::NoStyles);
    }
    let id = meta
        .vocab
        .id(&Token::Style(style.to_string()))
        .ok_or_else(|| StyleError::Unknown {
            asked: style.to_string(),
            known,
        })?;
    let mut primer = vec![id];
    primer.extend(empty_primer(meta));
    Ok(primer)
}

#[cfg(test)]
mod tests {
    use super::context;

    #[test]
    fn context_puts_the_head_first_once() {
        let all = |r: &[u32], w, h| context(r, w, h).collect::<Vec<u32>>();
        assert_eq!(all(&[1, 2, 3, 4, 5], 3, None), [3, 4, 5]);
        assert_eq!(all(&[1, 2, 3, 4, 5], 3, Some(9)), [9, 4, 5]);
        // A primer that starts with its head and fits: fed as it is, the head once.
        assert_eq!(all(&[9, 2, 3], 4, Some(9)), [9, 2, 3]);
        assert_eq!(all(&[9, 2, 3], 3, Some(9)), [9, 2, 3]);
        assert_eq!(all(&[2, 3], 8, Some(9)), [9, 2, 3]);
        assert_eq!(all(&[], 8, Some(9)), [9]);
    }
}
