//! Tokenizers: a piece of music to a sequence of tokens and back, behind one trait, with a
//! vocabulary that maps tokens to the integer ids a model sees.

mod event;
mod music21;
mod paper;
mod token;
mod vocab;

pub(crate) use event::{bar_steps, velocity_of_bin};
pub use event::{EventConfig, EventTokenizer, STEPS_PER_BEAT};
pub use paper::{PaperConfig, PaperTokenizer, MUSIC21_IMPORT};
pub use token::Token;
pub use vocab::Vocab;

use serde::{Deserialize, Serialize};

use super::NoteSeq;

/// Why a piece could not be tokenized.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TokenError {
    #[error("style tokens are on but the piece has no style label")]
    MissingStyle,
}

/// Turns pieces into tokens and tokens into pieces.
pub trait Tokenizer: Send + Sync {
    /// The tokenizer's name as the CLI spells it (`paper`, `event`).
    fn name(&self) -> &'static str;
    /// Tokens of a piece; `style` is the piece's style label (used when style tokens are on).
    fn encode(&self, seq: &NoteSeq, style: Option<&str>) -> Result<Vec<Token>, TokenError>;
    /// A piece from tokens. Tokens that make no sense where they stand are skipped, so any
    /// sequence a model samples decodes to something playable.
    fn decode(&self, tokens: &[Token]) -> NoteSeq;
    /// Every token the tokenizer can emit when that set is fixed (event tokens), apart from
    /// style tokens; `None` when the vocabulary comes from the corpus (paper tokens).
    fn fixed_vocab(&self) -> Option<Vec<Token>>;
}

/// The settings of a tokenizer, saved with a model and part of the corpus cache key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TokenizerConfig {
    Paper(PaperConfig),
    Event(EventConfig),
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        TokenizerConfig::Event(EventConfig::default())
    }
}

impl TokenizerConfig {
    /// `paper` or `event` with default settings.
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            "paper" => Some(TokenizerConfig::Paper(PaperConfig::default())),
            "event" => Some(TokenizerConfig::Event(EventConfig::default())),
            _ => None,
        }
    }

    pub fn build(&self) -> Box<dyn Tokenizer> {
        match self {
            TokenizerConfig::Paper(c) => Box::new(PaperTokenizer::new(c.clone())),
            TokenizerConfig::Event(c) => Box::new(EventTokenizer::new(c.clone())),
        }
    }

    /// A stable text form of the settings, for cache keys.
    pub fn fingerprint(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
