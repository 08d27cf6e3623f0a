//! `improv generate`: a piece from a trained model, written as a MIDI file.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use dfdx::prelude::Cpu;
use serde_json::json;

use improv::corpus::{Corpus, LoadOptions};
use improv::generate::piece::{self, GenerateOptions, Mode};
use improv::generate::sample::Sampling;
use improv::generate::{latent, notes_text};
use improv::model::checkpoint;
use improv::music::midi;
use improv::play::{capture, MidiIn, MonotonicClock};
use improv::rng::Rng;

#[derive(Clone, Copy, clap::ValueEnum)]
enum LatentChoice {
    Sample,
    Encode,
    Zero,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    /// One decoder carries its state from token to token.
    Stream,
    /// The paper's way: each token from a fresh decoder over the last window.
    Sliding,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// A checkpoint folder (or a training folder with best/); default: the bundled default
    /// model (the one `sessions/default.improv` loads).
    #[arg(long)]
    model: Option<PathBuf>,
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
    #[arg(long, conflicts_with_all = ["prime_corpus", "prime_notes", "prime_input"])]
    prime_file: Option<PathBuf>,
    /// Continue a random window of this corpus (the paper's way).
    #[arg(long, conflicts_with_all = ["prime_notes", "prime_input"])]
    prime_corpus: Option<PathBuf>,
    /// Continue a typed note list, e.g. "c4 e4 g4/2 r c5:8" (see README).
    #[arg(long, conflicts_with = "prime_input")]
    prime_notes: Option<String>,
    /// Call and response: capture what is played on this MIDI input port (from its first
    /// note, for --prime-bars bars of 4 beats at --tempo) and answer it (latent: encode).
    #[arg(long)]
    prime_input: Option<String>,
    #[arg(long, default_value_t = 2)]
    prime_bars: usize,
    /// Seconds to wait for the first note on --prime-input.
    #[arg(long, default_value_t = 30.0)]
    prime_wait: f64,
    /// Start from this style's token (a model trained with `--tokens full`), e.g. jazz.
    #[arg(long, conflicts_with_all = ["prime_file", "prime_corpus", "prime_notes", "prime_input"])]
    style: Option<String>,
    /// The latent: drawn from N(0, I) ("sample"), the primer's posterior mean ("encode"), or 0.
    /// Default: encode with --prime-input, else sample.
    #[arg(long, value_enum)]
    latent: Option<LatentChoice>,
    /// How the decoder carries context: one stream, or the paper's sliding window.
    #[arg(long, value_enum, default_value = "stream")]
    mode: ModeArg,
    /// The random seed: the same seed gives the same piece.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Beats per minute (default: the --style's training tempo where the model keeps it, else
    /// 120).
    #[arg(long)]
    tempo: Option<f64>,
    /// Standard deviation of a sampled latent (1: the prior; below 1, pieces nearer the
    /// typical one, of the --style where the model has a prior per style).
    #[arg(long, default_value_t = 1.0)]
    latent_sd: f32,
    /// With --style: let the decoder pick any instrument, not only the style's own.
    #[arg(long)]
    any_instrument: bool,
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    json: bool,
}

pub fn run(a: GenerateArgs) -> Result<()> {
    let model_dir = a.model.clone().unwrap_or_else(improv::paths::default_model);
    let dir = checkpoint::resolve(&model_dir);
    let (model, meta) = checkpoint::load(&dir, &Cpu::default())?;
    let window = meta.model.window;
    if !(a.latent_sd >= 0.0 && a.latent_sd.is_finite()) {
        bail!(
            "generate --latent-sd: {} is not a standard deviation",
            a.latent_sd
        );
    }
    let mut rng = Rng::new(a.seed);
    let style_info = a.style.as_ref().and_then(|s| meta.styles.get(s));
    let tempo = a.tempo.or(style_info.map(|i| i.bpm)).unwrap_or(120.0);
    let encode_seq = |seq: &improv::music::NoteSeq, what: &str| -> Result<Vec<u32>> {
        let tokens = meta
            .tokenizer
            .build()
            .encode(seq, None)
            .with_context(|| what.to_string())?;
        let (ids, _) = meta.vocab.encode(&tokens);
        if ids.len() < 2 {
            bail!("{what}: no notes the model knows");
        }
        Ok(ids[ids.len().saturating_sub(window)..].to_vec())
    };
    let primer: Vec<u32> = if let Some(text) = &a.prime_notes {
        let seq = notes_text::parse_notes(text, tempo)
            .map_err(|e| anyhow::anyhow!("generate --prime-notes: {e}"))?;
        encode_seq(&seq, "generate --prime-notes")?
    } else if let Some(port) = &a.prime_input {
        let clock = MonotonicClock::shared();
        let mut input = MidiIn::connect(port, clock.clone())
            .with_context(|| format!("generate --prime-input {port}"))?;
        eprintln!(
            "listening on {}: play {} bars at {} BPM",
            input.name, a.prime_bars, tempo
        );
        let beats = a.prime_bars.max(1) as f64 * 4.0;
        let seq = capture::capture(&mut input, &clock, beats, tempo, a.prime_wait)
            .context("generate --prime-input")?;
        encode_seq(&seq, "generate --prime-input")?
    } else if let Some(f) = &a.prime_file {
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
        improv::generate::piece::style_primer(&meta, style)
            .with_context(|| format!("generate --style: {}", dir.display()))?
    } else {
        piece::empty_primer(&meta)
    };
    let latent = a.latent.unwrap_or(if a.prime_input.is_some() {
        LatentChoice::Encode
    } else {
        LatentChoice::Sample
    });
    let z = match latent {
        LatentChoice::Sample => piece::sample_latent(meta.model.latent, &mut rng)
            .into_iter()
            .map(|v| v * a.latent_sd)
            .collect(),
        LatentChoice::Zero => vec![0.0; meta.model.latent],
        LatentChoice::Encode => latent::encode_mean(&model, &primer, window).with_context(|| {
            "generate --latent encode: needs a primer of at least two tokens (--prime-file, --prime-corpus, --prime-notes or --prime-input)"
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
        mode: match a.mode {
            ModeArg::Stream => Mode::Stream,
            ModeArg::Sliding => Mode::Sliding { window },
        },
        seed: a.seed,
        any_instrument: a.any_instrument,
        ..GenerateOptions::default()
    };
    let ids = piece::generate_ids(&model, &meta, &primer, &z, &opts).context("generate")?;
    let seq = piece::decode(&meta, &ids, tempo);
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
