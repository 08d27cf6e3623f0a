//! Model sizes as serde data: the `paper` and `small` presets of both VAEs, saved in every
//! checkpoint so a model can be rebuilt before its weights are read.

use serde::{Deserialize, Serialize};

use crate::music::tokens::{Token, Vocab};

/// The most weights a model may have (1.6 GB of f32; the presets have at most a few million).
pub const MAX_PARAMS: usize = 400_000_000;

/// Which of the two models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    VaeLstm,
    VaeTransformer,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::VaeLstm => "vae-lstm",
            ModelKind::VaeTransformer => "vae-transformer",
        }
    }
}

/// Named size sets. `paper` follows PAPER.md; `small` trains on the bundled corpus in minutes on
/// two cores; `tiny` is for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Paper,
    Small,
    Tiny,
}

/// Every size of a model. Fields a kind does not use keep their preset values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub kind: ModelKind,
    pub vocab: usize,
    pub embed: usize,
    /// LSTM units, or the Transformer's d_model.
    pub hidden: usize,
    /// Layers on each side (encoder and decoder).
    pub layers: usize,
    pub latent: usize,
    /// Tokens per training window.
    pub window: usize,
    pub heads: usize,
    pub ff: usize,
    pub dropout: f64,
    /// Share of decoder input tokens hidden (embedding zeroed) while training, so the decoder
    /// must take from z what it cannot read from its input (Bowman et al. 2016).
    #[serde(default)]
    pub word_dropout: f64,
    /// Style tokens at the end of the vocabulary that get a learned prior mean each: the decoder
    /// reads `z + prior[style]` where the window starts with a style token, so the prior of a
    /// style is N(prior[style], I) and z carries only what the style does not say. 0: none.
    #[serde(default)]
    pub styles: usize,
}

/// The row of token `id` in a run of `n` style tokens starting at id `base`, if it is one.
pub fn style_index((base, n): (u32, usize), id: u32) -> Option<usize> {
    let row = id.checked_sub(base)? as usize;
    (row < n).then_some(row)
}

impl ModelConfig {
    pub fn preset(kind: ModelKind, preset: Preset, vocab: usize) -> Self {
        let (embed, hidden, layers, latent, window, heads, ff) = match (kind, preset) {
            (ModelKind::VaeLstm, Preset::Paper) => (128, 256, 2, 64, 100, 4, 1024),
            (ModelKind::VaeLstm, Preset::Small) => (64, 192, 1, 64, 64, 4, 512),
            (ModelKind::VaeTransformer, Preset::Paper) => (256, 256, 2, 64, 100, 4, 1024),
            (ModelKind::VaeTransformer, Preset::Small) => (128, 128, 2, 64, 64, 4, 256),
            (_, Preset::Tiny) => (8, 12, 1, 4, 8, 2, 16),
        };
        ModelConfig {
            kind,
            vocab,
            embed,
            hidden,
            layers,
            latent,
            window,
            heads,
            ff,
            dropout: if preset == Preset::Tiny { 0.0 } else { 0.1 },
            word_dropout: if preset == Preset::Tiny { 0.0 } else { 0.25 },
            styles: 0,
        }
    }

    /// The same sizes with a learned prior per style token of `vocab` (its trailing run of
    /// style tokens, where a corpus's vocabulary puts them); none when it has no style tokens.
    pub fn with_style_prior(mut self, vocab: &Vocab) -> Self {
        self.styles = vocab
            .tokens()
            .iter()
            .rev()
            .take_while(|t| matches!(t, Token::Style(_)))
            .count();
        self
    }

    /// The first style token's id and the style count, when the model has style priors.
    pub fn style_range(&self) -> Option<(u32, usize)> {
        (self.styles > 0).then(|| ((self.vocab - self.styles) as u32, self.styles))
    }

    /// Row of the style prior for a window whose decoder input starts with `first`.
    pub fn style_row(&self, first: u32) -> Option<usize> {
        style_index(self.style_range()?, first)
    }

    /// A lower bound of the weight count of either kind built from this config (its embedding
    /// and one `hidden x hidden` matrix a layer), to refuse a config its weights cannot fill
    /// before anything is allocated.
    pub fn min_params(&self) -> usize {
        self.vocab.saturating_mul(self.embed).saturating_add(
            self.layers
                .saturating_mul(self.hidden.saturating_mul(self.hidden)),
        )
    }

    /// Problems that would make a build fail, as one line.
    pub fn validate(&self) -> Result<(), String> {
        let sizes = [
            ("vocab", self.vocab),
            ("embed", self.embed),
            ("hidden", self.hidden),
            ("layers", self.layers),
            ("latent", self.latent),
            ("window", self.window),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(format!("model config: {name} must be above 0"));
        }
        // Bounds far above any real model, so a damaged config cannot ask for terabytes.
        let limits = [
            ("vocab", self.vocab, 1 << 20),
            ("embed", self.embed, 1 << 14),
            ("hidden", self.hidden, 1 << 14),
            ("layers", self.layers, 256),
            ("latent", self.latent, 1 << 12),
            ("window", self.window, 1 << 16),
            ("heads", self.heads, 1 << 10),
            ("ff", self.ff, 1 << 16),
        ];
        if let Some((name, v, max)) = limits.iter().find(|(_, v, max)| v > max) {
            return Err(format!(
                "model config: {name} {v} is above the limit of {max}"
            ));
        }
        if self.min_params() > MAX_PARAMS {
            return Err(format!(
                "model config: at least {} weights, above the limit of {MAX_PARAMS}",
                self.min_params()
            ));
        }
        if !(0.0..1.0).contains(&self.word_dropout) {
            return Err(format!(
                "model config: word dropout {} not in [0, 1)",
                self.word_dropout
            ));
        }
        if self.kind == ModelKind::VaeTransformer
            && (self.heads == 0 || !self.hidden.is_multiple_of(self.heads))
        {
            return Err(format!(
                "model config: hidden {} is not a multiple of heads {}",
                self.hidden, self.heads
            ));
        }
        if self.styles >= self.vocab {
            return Err(format!(
                "model config: {} styles in a vocabulary of {}",
                self.styles, self.vocab
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!(
                "model config: dropout {} not in [0, 1)",
                self.dropout
            ));
        }
        Ok(())
    }
}
