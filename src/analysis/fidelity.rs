//! Genre fidelity: does a style-conditioned VAE's music keep its genre? For every style, pieces
//! generated from that style token (fixed seeds) are rendered and classified by a saved genre
//! classifier; the ceiling beside it is held-out real pieces of the style sent through
//! tokenize -> decode -> render -> classify.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::classify::argmax;
use super::genre::{self, Extractor, GenreError, GenreModel};
use crate::corpus::{Corpus, LoadOptions, Split};
use crate::generate::piece::{self, style_primer, styles, GenerateOptions, StyleError};
use crate::generate::sample::Sampling;
use crate::model::checkpoint::CheckpointMeta;
use crate::model::Vae;
use crate::music::NoteSeq;
use crate::rng::Rng;

/// Settings of a fidelity run.
#[derive(Clone, Debug)]
pub struct FidelityOptions {
    /// Generated pieces per style (seeds `seed`, `seed + 1`, ...).
    pub samples: usize,
    pub bars: usize,
    pub seed: u64,
    pub sampling: Sampling,
    /// Standard deviation of the latent draws around the style's prior (1: the prior itself;
    /// 0: its mean, the style's most typical piece).
    pub latent_sd: f32,
    /// Let pieces take any instrument instead of their style's palette (`generate::palette`).
    pub any_instrument: bool,
    /// Tempo of the decoded pieces, generated and real alike (tokens carry no tempo), for a
    /// style whose tempo the model does not keep or with `style_tempo` off.
    pub bpm: f64,
    /// Decode a style's pieces, generated and real alike, at the style's median training tempo
    /// where the model keeps it (`CheckpointMeta::styles`).
    pub style_tempo: bool,
    /// Seconds rendered from the start of each piece (audio classifiers).
    pub seconds: f64,
    /// A labelled MIDI folder (the VAE's corpus): its validation pieces (held out from the VAE
    /// by path hash, `val_fraction`) make the ceiling, at most `ceiling_pieces` per style.
    pub ceiling: Option<PathBuf>,
    pub ceiling_pieces: usize,
    pub val_fraction: f64,
}

impl Default for FidelityOptions {
    fn default() -> Self {
        FidelityOptions {
            samples: 10,
            bars: 16,
            seed: 1,
            sampling: Sampling::default(),
            latent_sd: 1.0,
            any_instrument: false,
            bpm: 120.0,
            style_tempo: true,
            seconds: genre::CLIP_SECONDS,
            ceiling: None,
            ceiling_pieces: 10,
            val_fraction: 0.1,
        }
    }
}

/// How a set of pieces of one style was classified.
#[derive(Clone, Debug, Serialize)]
pub struct Scores {
    pub pieces: usize,
    /// Mean probability of the target style.
    pub mean_probability: f64,
    /// Share of pieces whose top class is the target style.
    pub top_share: f64,
}

/// One style's result.
#[derive(Clone, Debug, Serialize)]
pub struct StyleFidelity {
    pub style: String,
    /// The tempo every piece of the style was decoded at.
    pub bpm: f64,
    pub generated: Scores,
    /// Held-out real pieces through tokenize -> decode -> render -> classify.
    pub ceiling: Option<Scores>,
}

fn scores(
    seqs: &[NoteSeq],
    target: usize,
    classifier: &GenreModel,
    ex: &Extractor,
) -> Result<Scores, GenreError> {
    let probs: Vec<Vec<f64>> = seqs
        .par_iter()
        .map(|s| {
            genre::row_of_seq(s, ex, Path::new("generated piece")).map(|r| classifier.proba(&r))
        })
        .collect::<Result<_, _>>()?;
    let n = probs.len().max(1) as f64;
    Ok(Scores {
        pieces: probs.len(),
        mean_probability: probs.iter().map(|p| p[target]).sum::<f64>() / n,
        top_share: probs.iter().filter(|p| argmax(p) == target).count() as f64 / n,
    })
}

fn bad(problem: String) -> GenreError {
    GenreError::Model {
        path: PathBuf::from("fidelity"),
        problem,
    }
}

/// Genre fidelity of `model` for every style it knows, by `classifier` (whose labels must
/// include every style); the ceiling from the corpus at `opts.ceiling`, loaded here.
pub fn fidelity(
    model: &impl Vae,
    meta: &CheckpointMeta,
    classifier: &GenreModel,
    opts: &FidelityOptions,
) -> Result<Vec<StyleFidelity>, GenreError> {
    let ceiling = match &opts.ceiling {
        Some(dir) => Some(
            Corpus::load(dir, &LoadOptions::new(meta.tokenizer.clone()))
                .map_err(|e| bad(format!("ceiling corpus {}: {e}", dir.display())))?,
        ),
        None => None,
    };
    fidelity_on(model, meta, classifier, opts, ceiling.as_ref())
}

/// [`fidelity`] with the ceiling's corpus already loaded (with the model's tokenizer); `None`:
/// no ceiling. `opts.ceiling` is not read.
pub fn fidelity_on(
    model: &impl Vae,
    meta: &CheckpointMeta,
    classifier: &GenreModel,
    opts: &FidelityOptions,
    ceiling: Option<&Corpus>,
) -> Result<Vec<StyleFidelity>, GenreError> {
    let known = styles(meta);
    if known.is_empty() {
        return Err(bad(StyleError::NoStyles.to_string()));
    }
    let mut ex = Extractor::for_kind(classifier.features, classifier.kind)?;
    ex.seconds = opts.seconds;
    let mut out = Vec::new();
    for style in known {
        let target = classifier
            .labels
            .iter()
            .position(|l| *l == style)
            .ok_or_else(|| {
                bad(format!(
                    "the classifier has no label {style:?} (it has {})",
                    classifier.labels.join(", ")
                ))
            })?;
        let primer = style_primer(meta, &style).map_err(|e| bad(e.to_string()))?;
        let bpm = match meta.styles.get(&style) {
            Some(info) if opts.style_tempo => info.bpm,
            _ => opts.bpm,
        };
        let mut seqs = Vec::new();
        for i in 0..opts.samples {
            let seed = opts.seed + i as u64;
            let z: Vec<f32> = piece::sample_latent(meta.model.latent, &mut Rng::new(seed))
                .into_iter()
                .map(|v| v * opts.latent_sd)
                .collect();
            let gen = GenerateOptions {
                sampling: opts.sampling.clone(),
                notes: None,
                bars: Some(opts.bars),
                seed,
                any_instrument: opts.any_instrument,
                ..GenerateOptions::default()
            };
            let ids = piece::generate_ids(model, meta, &primer, &z, &gen)
                .map_err(|e| bad(format!("generate: {e}")))?;
            let mut all = primer.clone();
            all.extend(ids);
            seqs.push(piece::decode(meta, &all, bpm));
        }
        let generated = scores(&seqs, target, classifier, &ex)?;
        let ceiling = match ceiling {
            Some(corpus) => {
                let real: Vec<NoteSeq> = corpus
                    .pieces_in(Split::Validation, opts.val_fraction)
                    .filter(|p| p.style.as_deref() == Some(style.as_str()))
                    .take(opts.ceiling_pieces)
                    .map(|p| piece::decode(meta, &meta.vocab.encode(&p.tokens).0, bpm))
                    .collect();
                (!real.is_empty())
                    .then(|| scores(&real, target, classifier, &ex))
                    .transpose()?
            }
            None => None,
        };
        out.push(StyleFidelity {
            style,
            bpm,
            generated,
            ceiling,
        });
    }
    Ok(out)
}
