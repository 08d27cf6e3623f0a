//! Judging a model's music against held-out real music, so that "better" cannot be gamed: it
//! generates and it analyses, so it sits above both `generate` and `analysis`.
//!
//! Every figure compares like with like. Held-out pieces (the grouped, leak-free split) are cut
//! into excerpts of one primer bar and `bars` bars of continuation; the model continues each
//! primer, and so does a Kneser-Ney n-gram of the training tokens. Every continuation, real or
//! generated, is decoded from tokens at the same tempo, so the grid and velocity bins decide
//! nothing. Then:
//! - a two-sample test (a random forest on the symbolic genre features, grouped k-fold) tells
//!   generated from held-out continuations; beside it the same test on the n-gram's (which it must
//!   catch) and on training excerpts of the same sources (real against real: it must be at chance);
//! - the ten music metrics' overlap and KL per sub-corpus (classical, folk, each genre);
//! - the share of two-bar spans found verbatim in the training set, and the variety within a set.

mod excerpts;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::classify::Standardizer;
use crate::analysis::copies::{self, Copies, Mark, SpanIndex};
use crate::analysis::metrics::{compare, Metrics, NAMES};
use crate::analysis::symbolic;
use crate::analysis::two_sample::{self, Side, TwoSample};
use crate::corpus::{Corpus, Split, SplitReport};
use crate::generate::piece::{self, GenerateOptions, Mode};
use crate::generate::sample::Sampling;
use crate::model::checkpoint::CheckpointMeta;
use crate::model::ngram::KneserNey;
use crate::model::Vae;
use crate::music::tokens::{Token, TokenizerConfig};
use crate::music::NoteSeq;
use crate::rng::Rng;

pub use excerpts::Excerpt;

/// The tempo every excerpt is decoded at (tokens carry none).
pub const BPM: f64 = 120.0;

/// Settings of a judgement.
#[derive(Clone, Debug)]
pub struct JudgeOptions {
    /// Excerpts per side (the test needs at least 300).
    pub pieces: usize,
    /// Bars of continuation after the one-bar primer.
    pub bars: usize,
    pub folds: usize,
    pub seed: u64,
    pub sampling: Sampling,
    pub val_fraction: f64,
}

impl Default for JudgeOptions {
    fn default() -> Self {
        JudgeOptions {
            pieces: 320,
            bars: 8,
            folds: 8,
            seed: 0,
            sampling: Sampling {
                top_p: Some(0.95),
                ..Sampling::default()
            },
            val_fraction: 0.1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    #[error("judging needs event tokens with bar lines; this model uses {0} tokens")]
    NoBars(String),
    #[error("the corpus has {found} held-out excerpts of {bars} bars, fewer than the {wanted} asked for")]
    TooFew {
        found: usize,
        bars: usize,
        wanted: usize,
    },
    #[error("generate: {0}")]
    Generate(String),
}

/// One sub-corpus's metrics: generated against held-out continuations of its own pieces.
#[derive(Clone, Debug, Serialize)]
pub struct SubCorpus {
    pub name: String,
    pub pieces: usize,
    /// Per metric: overlap and KL of the generated values against the held-out ones.
    pub metrics: BTreeMap<String, (f64, f64)>,
    pub min_overlap: f64,
    pub worst_metric: String,
}

/// Copying and variety of each set.
#[derive(Clone, Debug, Serialize)]
pub struct CopyVariety {
    pub generated: Copies,
    pub held_out: Copies,
    pub ngram: Copies,
    pub variety_generated: f64,
    pub variety_held_out: f64,
    pub variety_ngram: f64,
    /// generated variety / held-out variety (1 = as varied as real music).
    pub variety_ratio: f64,
}

/// Everything a judgement measures.
#[derive(Clone, Debug, Serialize)]
pub struct Judgement {
    pub split: SplitReport,
    pub bars: usize,
    /// Held-out excerpts and the pieces they come from.
    pub excerpts: usize,
    pub excerpt_pieces: usize,
    /// Generated continuations against held-out ones: the headline (50 % = indistinguishable).
    pub generated: TwoSample,
    /// The sanity figures: the n-gram's continuations (must be caught, >= 80 %) and training
    /// excerpts from the same sources (real against real, must be 50 +- 5 %).
    pub ngram: TwoSample,
    pub real_vs_real: TwoSample,
    pub sub_corpora: Vec<SubCorpus>,
    pub copies: CopyVariety,
}

/// How span cutting reads this vocabulary's ids.
fn marker(meta: &CheckpointMeta) -> impl Fn(u32) -> Mark + '_ {
    move |id| match meta.vocab.token(id) {
        Some(Token::Bar { .. }) => Mark::BarLine,
        Some(Token::Vel(_)) => Mark::NoteEnd,
        _ => Mark::Other,
    }
}

/// Samples from the n-gram model after `primer` the way [`piece::generate_ids`] samples from a
/// VAE: stop at the bar line that would start bar `bars + 1`, or after `max_tokens`.
pub fn ngram_continuation(
    kn: &KneserNey,
    meta: &CheckpointMeta,
    primer: &[u32],
    bars: usize,
    max_tokens: usize,
    seed: u64,
) -> Vec<u32> {
    let mut rng = Rng::new(seed);
    let mut ctx = primer.to_vec();
    let (mut out, mut seen) = (Vec::new(), 0usize);
    while out.len() < max_tokens {
        let probs: Vec<f64> = (0..kn.vocab as u32).map(|w| kn.prob(&ctx, w)).collect();
        let mut u = rng.unit() * probs.iter().sum::<f64>();
        let mut id = probs.len() as u32 - 1;
        for (w, p) in probs.iter().enumerate() {
            if u < *p {
                id = w as u32;
                break;
            }
            u -= p;
        }
        if let Some(Token::Bar { .. }) = meta.vocab.token(id) {
            if seen >= bars {
                break;
            }
            seen += 1;
        }
        out.push(id);
        ctx.push(id);
    }
    out
}

/// The most tokens a continuation may take: 200 a bar, about ten times the corpus's average, so
/// a decoder stuck without a bar line still ends.
pub fn max_tokens(bars: usize) -> usize {
    200 * (bars + 1)
}

/// The continuation of `primer` alone, decoded with the primer's context (programs) and then
/// cut after the primer's bar and moved to beat 0.
pub fn continuation(meta: &CheckpointMeta, primer: &[u32], cont: &[u32]) -> NoteSeq {
    let mut ids = primer.to_vec();
    ids.extend_from_slice(cont);
    let seq = piece::decode(meta, &ids, BPM);
    let cut = seq.time_sig_at(0.0).bar_beats();
    let mut out = NoteSeq {
        notes: seq
            .notes
            .iter()
            .filter(|n| n.start >= cut - 1e-9)
            .map(|n| {
                let mut n = *n;
                n.start -= cut;
                n
            })
            .collect(),
        tempo: seq.tempo.clone(),
        time_sigs: Vec::new(),
        ppq: seq.ppq,
        end: (seq.end - cut).max(0.0),
    };
    let mut sigs: Vec<_> = seq
        .time_sigs
        .iter()
        .filter(|t| t.beat > cut + 1e-9)
        .map(|t| {
            let mut t = *t;
            t.beat -= cut;
            t
        })
        .collect();
    let mut first = seq.time_sig_at(cut);
    first.beat = 0.0;
    sigs.insert(0, first);
    out.time_sigs = sigs;
    out.finish();
    out
}

/// The n-gram of `corpus`'s training pieces in `meta`'s vocabulary: the baseline `eval` samples
/// and the judgement continues primers with.
pub fn training_ngram(
    corpus: &Corpus,
    meta: &CheckpointMeta,
    order: usize,
    val_fraction: f64,
) -> KneserNey {
    let ids: Vec<Vec<u32>> = corpus
        .pieces_in(Split::Train, val_fraction)
        .map(|p| meta.vocab.encode(&p.tokens).0)
        .collect();
    KneserNey::train(order, meta.vocab.len(), ids.iter().map(Vec::as_slice))
}

/// Judges `model` on the held-out pieces of `corpus` (its training corpus); `kn` is
/// [`training_ngram`] of the same corpus.
pub fn judge(
    model: &(impl Vae + Sync),
    meta: &CheckpointMeta,
    corpus: &Corpus,
    kn: &KneserNey,
    opts: &JudgeOptions,
) -> Result<Judgement, JudgeError> {
    if !matches!(meta.tokenizer, TokenizerConfig::Event(_)) {
        return Err(JudgeError::NoBars(meta.tokenizer.build().name().into()));
    }
    let encoded = excerpts::Encoded::of(corpus, meta, opts.val_fraction);
    let mut rng = Rng::new(opts.seed ^ 0x1D6E);
    let held = encoded.held_out(opts.bars, opts.pieces, &mut rng);
    if held.len() < opts.pieces {
        return Err(JudgeError::TooFew {
            found: held.len(),
            bars: opts.bars,
            wanted: opts.pieces,
        });
    }
    let trained = encoded.matching_training(&held, opts.bars, &mut rng);
    let generated: Vec<Vec<u32>> = held
        .par_iter()
        .enumerate()
        .map(|(i, e)| {
            let seed = opts.seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
            let z = piece::sample_latent(meta.model.latent, &mut Rng::new(seed));
            let gen = GenerateOptions {
                mode: Mode::Stream,
                sampling: opts.sampling.clone(),
                notes: None,
                bars: Some(opts.bars),
                max_tokens: max_tokens(opts.bars),
                seed,
                any_instrument: false,
            };
            piece::generate_ids(model, meta, &e.primer, &z, &gen)
                .map_err(|e| JudgeError::Generate(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let ngram: Vec<Vec<u32>> = held
        .par_iter()
        .enumerate()
        .map(|(i, e)| {
            let seed = opts.seed ^ ((i as u64 + 1) << 20);
            ngram_continuation(kn, meta, &e.primer, opts.bars, max_tokens(opts.bars), seed)
        })
        .collect();

    let seqs = |primers: &[&[u32]], conts: &[&[u32]]| -> Vec<NoteSeq> {
        primers
            .par_iter()
            .zip(conts)
            .map(|(p, c)| continuation(meta, p, c))
            .collect()
    };
    let held_primers: Vec<&[u32]> = held.iter().map(|e| e.primer.as_slice()).collect();
    let held_seqs = seqs(
        &held_primers,
        &held
            .iter()
            .map(|e| e.continuation.as_slice())
            .collect::<Vec<_>>(),
    );
    let gen_seqs = seqs(
        &held_primers,
        &generated.iter().map(Vec::as_slice).collect::<Vec<_>>(),
    );
    let ngram_seqs = seqs(
        &held_primers,
        &ngram.iter().map(Vec::as_slice).collect::<Vec<_>>(),
    );
    let train_seqs = seqs(
        &trained
            .iter()
            .map(|e| e.primer.as_slice())
            .collect::<Vec<_>>(),
        &trained
            .iter()
            .map(|e| e.continuation.as_slice())
            .collect::<Vec<_>>(),
    );
    let features =
        |s: &[NoteSeq]| -> Vec<Vec<f64>> { s.par_iter().map(symbolic::features).collect() };
    let (held_x, gen_x, ngram_x, train_x) = (
        features(&held_seqs),
        features(&gen_seqs),
        features(&ngram_seqs),
        features(&train_seqs),
    );
    let held_groups: Vec<u64> = held.iter().map(|e| e.group).collect();
    let train_groups: Vec<u64> = trained.iter().map(|e| e.group).collect();
    let test = |rows: &[Vec<f64>], groups: &[u64]| {
        let held = Side {
            rows: &held_x,
            groups: &held_groups,
        };
        two_sample::test(held, Side { rows, groups }, opts.folds, opts.seed)
    };
    let generated_test = test(&gen_x, &held_groups);
    let ngram_test = test(&ngram_x, &held_groups);
    let real_test = test(&train_x, &train_groups);

    let sub_corpora = sub_corpora(&held, &held_seqs, &gen_seqs);

    let mark = marker(meta);
    let index = SpanIndex::build(encoded.training_ids(), &mark);
    let copied = |conts: Vec<&[u32]>| index.copied(conts.into_iter(), &mark);
    let scale = Standardizer::fit(&held_x);
    let variety_held_out = copies::variety(&held_x, &scale);
    let variety_generated = copies::variety(&gen_x, &scale);
    let copies = CopyVariety {
        generated: copied(generated.iter().map(Vec::as_slice).collect()),
        held_out: copied(held.iter().map(|e| e.continuation.as_slice()).collect()),
        ngram: copied(ngram.iter().map(Vec::as_slice).collect()),
        variety_generated,
        variety_held_out,
        variety_ngram: copies::variety(&ngram_x, &scale),
        variety_ratio: variety_generated / variety_held_out.max(1e-12),
    };
    let mut sources: Vec<usize> = held.iter().map(|e| e.piece).collect();
    sources.sort_unstable();
    sources.dedup();
    Ok(Judgement {
        split: corpus.split_report(opts.val_fraction),
        bars: opts.bars,
        excerpts: held.len(),
        excerpt_pieces: sources.len(),
        generated: generated_test,
        ngram: ngram_test,
        real_vs_real: real_test,
        sub_corpora,
        copies,
    })
}

/// The ten metrics per sub-corpus with at least 10 excerpts: generated against held-out.
fn sub_corpora(held: &[Excerpt], real: &[NoteSeq], generated: &[NoteSeq]) -> Vec<SubCorpus> {
    let mut names: Vec<&str> = held.iter().map(|e| e.sub_corpus.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let values = |s: &[NoteSeq]| -> Vec<[f64; 10]> {
        s.par_iter().map(|q| Metrics::of(q).values()).collect()
    };
    let (real_v, gen_v) = (values(real), values(generated));
    let mut out = Vec::new();
    for name in names {
        let idx: Vec<usize> = (0..held.len())
            .filter(|&i| held[i].sub_corpus == name)
            .collect();
        if idx.len() < 10 {
            continue;
        }
        let mut metrics = BTreeMap::new();
        let (mut min_overlap, mut worst) = (f64::INFINITY, String::new());
        for (m, metric) in NAMES.iter().enumerate() {
            let g: Vec<f64> = idx.iter().map(|&i| gen_v[i][m]).collect();
            let r: Vec<f64> = idx.iter().map(|&i| real_v[i][m]).collect();
            let c = compare(&g, &r);
            if c.overlap < min_overlap {
                min_overlap = c.overlap;
                worst = metric.to_string();
            }
            metrics.insert(metric.to_string(), (c.overlap, c.kl));
        }
        out.push(SubCorpus {
            name: name.to_string(),
            pieces: idx.len(),
            metrics,
            min_overlap,
            worst_metric: worst,
        });
    }
    out
}
