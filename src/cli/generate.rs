//! `improv generate`: a piece from a trained model, written as a MIDI file.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use dfdx::prelude::Cpu;
use serde_json::json;

use improv::corpus::{Corpus, LoadOptions};
use improv::generate::latent;
use improv::generate::piece::{self, GenerateOptions};
use improv::generate::sample::Sampling;
use improv::model::checkpoint;
use improv::music::midi;
use improv::rng::Rng;

#[derive(Clone, Copy, clap::ValueEnum)]
enum LatentChoice {
    Sample,
    Encode,
    Zero,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// A checkpoint folder (or a training folder with best/).
    #[arg(long)]
    model: PathBuf,
    /// Stop after N bars (event tokens).
    #[arg(long, conflicts_with = "notes")]
    bars: Option<usize>,
    /// Stop after N notes.
    #[arg(long)]
    notes: Option<usize>,
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    #[arg(long)]
    top_k: Option<usize>,
    #[arg(long, default_value_t = 0.95)]
    top_p: f32,
    /// Always take the most likely token (the paper's decoding).
    #[arg(long)]
    argmax: bool,
    #[arg(long, default_value_t = 1.0)]
    repetition_penalty: f32,
    /// Continue the last window of this MIDI file.
    #[arg(long, conflicts_with = "prime_corpus")]
    prime_file: Option<PathBuf>,
    /// Continue a random window of this corpus (the paper's way).
    #[arg(long)]
    prime_corpus: Option<PathBuf>,
    /// Start from this style's token (a model trained with `--tokens full`), e.g. jazz.
    #[arg(long, conflicts_with_all = ["prime_file", "prime_corpus"])]
    style: Option<String>,
    /// The latent: drawn from N(0, I) ("sample"), the primer's posterior mean ("encode"), or 0.
    #[arg(long, value_enum, default_value = "sample")]
    latent: LatentChoice,
    /// The random seed: the same seed gives the same piece.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 120.0)]
    tempo: f64,
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    json: bool,
}

pub fn run(a: GenerateArgs) -> Result<()> {
    let dir = checkpoint::resolve(&a.model);
    let (model, meta) = checkpoint::load(&dir, &Cpu::default())?;
    let window = meta.model.window;
    let mut rng = Rng::new(a.seed);
    let primer: Vec<u32> = if let Some(f) = &a.prime_file {
        let seq = midi::read_file(f)?.seq;
        let tokens = meta
            .tokenizer
            .build()
            .encode(&seq, None)
            .with_context(|| f.display().to_string())?;
        let (ids, _) = meta.vocab.encode(&tokens);
        if ids.is_empty() {
            bail!("{}: no tokens the model knows", f.display());
        }
        ids[ids.len().saturating_sub(window)..].to_vec()
    } else if let Some(dir) = &a.prime_corpus {
        let corpus = Corpus::load(dir, &LoadOptions::new(meta.tokenizer.clone()))?;
        let long: Vec<_> = corpus
            .pieces
            .iter()
            .filter(|p| p.tokens.len() > window)
            .collect();
        if long.is_empty() {
            bail!(
                "corpus {}: no piece longer than {window} tokens",
                dir.display()
            );
        }
        let p = long[rng.below(long.len())];
        let start = rng.below(p.tokens.len() - window);
        meta.vocab.encode(&p.tokens[start..start + window]).0
    } else if let Some(style) = &a.style {
        improv::analysis::fidelity::style_primer(&meta, style)
            .with_context(|| format!("generate --style: {}", dir.display()))?
    } else {
        piece::empty_primer(&meta)
    };
    let z = match a.latent {
        LatentChoice::Sample => piece::sample_latent(meta.model.latent, &mut rng),
        LatentChoice::Zero => vec![0.0; meta.model.latent],
        LatentChoice::Encode => latent::encode_mean(&model, &primer, window).with_context(|| {
            "generate --latent encode: needs a primer of at least two tokens (--prime-file or --prime-corpus)"
        })?,
    };
    let opts = GenerateOptions {
        sampling: Sampling {
            argmax: a.argmax,
            temperature: a.temperature,
            top_k: a.top_k,
            top_p: Some(a.top_p),
            repetition_penalty: a.repetition_penalty,
            ..Sampling::default()
        },
        notes: if a.bars.is_some() {
            None
        } else {
            Some(a.notes.unwrap_or(100))
        },
        bars: a.bars,
        seed: a.seed,
        ..GenerateOptions::default()
    };
    let ids = piece::generate_ids(&model, &meta, &primer, &z, &opts).context("generate")?;
    let seq = piece::decode(&meta, &ids, a.tempo);
    midi::write_file(&seq, &a.out)?;
    if a.json {
        println!(
            "{}",
            json!({"out": a.out.display().to_string(), "tokens": ids.len(), "notes": seq.notes.len(),
                   "seconds": seq.duration_secs(), "primer_tokens": primer.len(), "seed": a.seed})
        );
    } else {
        println!(
            "{}: {} notes, {:.1} s ({} tokens after a {}-token primer)",
            a.out.display(),
            seq.notes.len(),
            seq.duration_secs(),
            ids.len(),
            primer.len()
        );
    }
    Ok(())
}
