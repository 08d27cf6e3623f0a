//! `improv bench latent`: how well each attribute vector moves its attribute. For every attribute,
//! `--steps` amounts across +-`--span` standard deviations and `--seeds` starting latents: generate
//! a fixed number of bars from z + amount * vector, measure the attribute on the notes, and report
//! Spearman's rho between the amount and the measured value. One JSON object per line.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use dfdx::prelude::Cpu;
use rayon::prelude::*;
use serde_json::json;

use improv::analysis::attributes::{spearman, NoteAttribute};
use improv::analysis::stats::mean_std;
use improv::corpus::{Corpus, LoadOptions};
use improv::generate::attributes::{self, AttributeVector, VectorOptions, STYLE_PREFIX};
use improv::generate::latent;
use improv::generate::piece::{self, GenerateOptions, Mode};
use improv::generate::sample::Sampling;
use improv::model::{checkpoint, Model};
use improv::rng::Rng;

#[derive(Args)]
pub struct LatentArgs {
    /// A checkpoint folder (or a training folder with best/).
    #[arg(long)]
    model: PathBuf,
    /// MIDI folder the vectors come from (default: the bundled corpus).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Starting latents per attribute.
    #[arg(long, default_value_t = 32)]
    seeds: usize,
    /// Amounts from -span to +span standard deviations.
    #[arg(long, default_value_t = 9)]
    steps: usize,
    #[arg(long, default_value_t = 2.0)]
    span: f32,
    /// Bars generated per sample.
    #[arg(long, default_value_t = 8)]
    bars: usize,
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    #[arg(long, default_value_t = 0.95)]
    top_p: f32,
    /// Decode with arg-max instead of sampling.
    #[arg(long)]
    argmax: bool,
    /// Start from encoded corpus windows instead of z ~ N(0, I).
    #[arg(long)]
    encoded: bool,
    /// Windows encoded to compute the vectors.
    #[arg(long, default_value_t = 4000)]
    windows: usize,
    /// Only these attributes (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    attributes: Vec<String>,
    #[arg(long)]
    json: bool,
}

/// The attribute measured on generated notes: a note attribute directly; a style (no note-level
/// measure of style until a genre classifier is wired in) by encoding the generated notes again
/// and projecting their latent on the style's direction.
fn measure(
    model: &Model,
    meta: &checkpoint::CheckpointMeta,
    v: &AttributeVector,
    ids: &[u32],
) -> f64 {
    if let Some(a) = NoteAttribute::by_name(&v.name) {
        return a.measure(&piece::decode(meta, ids, 120.0));
    }
    latent::encode_seed(model, ids, meta.model.window)
        .map(|z| {
            z.iter()
                .zip(&v.direction)
                .map(|(a, b)| (a * b) as f64)
                .sum()
        })
        .unwrap_or(0.0)
}

pub fn run(a: LatentArgs) -> Result<()> {
    if a.steps < 2 || a.seeds == 0 || a.bars == 0 {
        bail!("bench latent: needs --steps >= 2, --seeds >= 1 and --bars >= 1");
    }
    let dir = checkpoint::resolve(&a.model);
    let (model, meta) = checkpoint::load(&dir, &Cpu::default())?;
    let root = super::corpus_dir(a.corpus.clone());
    let corpus = Corpus::load(&root, &LoadOptions::new(meta.tokenizer.clone()))?;
    let opts = VectorOptions {
        max_windows: a.windows,
        ..VectorOptions::default()
    };
    let t0 = Instant::now();
    let enc = attributes::encode_windows(&model, &meta, &corpus, &opts)?;
    let vectors = attributes::vectors_of(&enc, &opts);
    let vec_secs = t0.elapsed().as_secs_f64();
    let known: Vec<&str> = vectors.iter().map(|v| v.name.as_str()).collect();
    for name in &a.attributes {
        if !known.contains(&name.as_str()) {
            bail!(
                "bench latent: unknown attribute '{name}' (known: {})",
                known.join(", ")
            );
        }
    }
    let sampling = Sampling {
        argmax: a.argmax,
        temperature: a.temperature,
        top_p: Some(a.top_p),
        ..Sampling::default()
    };
    sampling.validate()?;
    let starts: Vec<Vec<f32>> = (0..a.seeds)
        .map(|s| {
            let mut rng = Rng::new(1000 + s as u64);
            if a.encoded {
                let i = rng.below(enc.len());
                enc.row(i).to_vec()
            } else {
                piece::sample_latent(meta.model.latent, &mut rng)
            }
        })
        .collect();
    let amounts: Vec<f32> = (0..a.steps)
        .map(|k| -a.span + 2.0 * a.span * k as f32 / (a.steps - 1) as f32)
        .collect();
    let primer = piece::empty_primer(&meta);
    let mut summary: Vec<(String, f64, f64, f64)> = Vec::new();
    for v in vectors
        .iter()
        .filter(|v| a.attributes.is_empty() || a.attributes.contains(&v.name))
    {
        let t = Instant::now();
        let jobs: Vec<(usize, usize)> = (0..a.seeds)
            .flat_map(|s| (0..a.steps).map(move |k| (s, k)))
            .collect();
        let measured: Vec<f64> = jobs
            .par_iter()
            .map(|&(s, k)| {
                let z: Vec<f32> = starts[s]
                    .iter()
                    .zip(&v.direction)
                    .map(|(x, d)| x + amounts[k] * v.sd * d)
                    .collect();
                let opts = GenerateOptions {
                    mode: Mode::Stream,
                    sampling: sampling.clone(),
                    notes: None,
                    bars: Some(a.bars),
                    // The same seed at every step of one start: only the latent changes.
                    seed: s as u64,
                    ..GenerateOptions::default()
                };
                let ids = piece::generate_ids(&model, &meta, &primer, &z, &opts)?;
                Ok(measure(&model, &meta, v, &ids))
            })
            .collect::<Result<_, improv::generate::sample::SampleError>>()?;
        let xs: Vec<f64> = jobs.iter().map(|&(_, k)| amounts[k] as f64).collect();
        let rho_pooled = spearman(&xs, &measured);
        let means: Vec<f64> = (0..a.steps)
            .map(|k| {
                let at: Vec<f64> = jobs
                    .iter()
                    .zip(&measured)
                    .filter(|((_, kk), _)| *kk == k)
                    .map(|(_, m)| *m)
                    .collect();
                mean_std(&at).0
            })
            .collect();
        let steps_x: Vec<f64> = amounts.iter().map(|&x| x as f64).collect();
        let rho_means = spearman(&steps_x, &means);
        let per_seed: Vec<f64> = (0..a.seeds)
            .map(|s| spearman(&steps_x, &measured[s * a.steps..(s + 1) * a.steps]))
            .collect();
        let rho_per_seed = mean_std(&per_seed).0;
        let style = v.name.starts_with(STYLE_PREFIX);
        println!(
            "{}",
            json!({
                "bench": "latent", "model": dir.display().to_string(), "attribute": v.name,
                "measured_by": if style { "re-encoded projection" } else { "notes" },
                "rho": rho_means, "rho_pooled": rho_pooled, "rho_per_seed_mean": rho_per_seed,
                "means": means, "amounts_sd": amounts, "sd": v.sd, "gap": v.gap,
                "corpus_low": v.low, "corpus_high": v.high,
                "seeds": a.seeds, "bars": a.bars, "argmax": a.argmax,
                "temperature": a.temperature, "start": if a.encoded { "encoded" } else { "prior" },
                "seconds": t.elapsed().as_secs_f64(),
            })
        );
        summary.push((v.name.clone(), rho_means, rho_pooled, rho_per_seed));
    }
    let notes: Vec<&(String, f64, f64, f64)> = summary
        .iter()
        .filter(|s| !s.0.starts_with(STYLE_PREFIX))
        .collect();
    let avg = |set: &[&(String, f64, f64, f64)], f: fn(&(String, f64, f64, f64)) -> f64| {
        set.iter().map(|s| f(s)).sum::<f64>() / set.len().max(1) as f64
    };
    let all: Vec<&(String, f64, f64, f64)> = summary.iter().collect();
    println!(
        "{}",
        json!({
            "bench": "latent", "model": dir.display().to_string(), "summary": true,
            "windows": enc.len(), "window": meta.model.window, "vectors_seconds": vec_secs,
            "mean_rho_note_attributes": avg(&notes, |s| s.1),
            "mean_rho_pooled_note_attributes": avg(&notes, |s| s.2),
            "mean_rho_all": avg(&all, |s| s.1),
            "mean_rho_pooled_all": avg(&all, |s| s.2),
            "above_0.8": summary.iter().filter(|s| s.1 > 0.8).map(|s| s.0.clone()).collect::<Vec<_>>(),
            "below_0.8": summary.iter().filter(|s| s.1 <= 0.8).map(|s| s.0.clone()).collect::<Vec<_>>(),
            "seconds": t0.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}
