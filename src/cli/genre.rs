//! `improv genre ...`: render MIDI through a General MIDI SoundFont and compute audio features.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use dfdx::prelude::Cpu;
use serde_json::json;

use improv::analysis::classify::{argmax, Kind};
use improv::analysis::fidelity::{self, FidelityOptions};
use improv::analysis::genre::{self, Extractor, Features, GenreModel};
use improv::analysis::{features, render::Renderer, wav};
use improv::generate::sample::Sampling;
use improv::model::checkpoint;

#[derive(Subcommand)]
pub enum GenreCmd {
    /// Train a genre classifier on labelled MIDI (genres/manifest.json, classical/<composer>/).
    Train {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, value_enum, default_value = "symbolic")]
        features: Features,
        #[arg(long, value_enum, default_value = "rf")]
        model: Kind,
        #[arg(long)]
        out: PathBuf,
        /// At most this many pieces per label, spread over its grooves or composers.
        #[arg(long)]
        per_label: Option<usize>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Grouped 8-fold cross-validation: accuracy, macro-F1, confusion matrix.
    Eval {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, value_enum, default_value = "symbolic")]
        features: Features,
        /// One or more classifiers, comma-separated; the features are computed once.
        #[arg(long, value_enum, value_delimiter = ',', default_value = "rf")]
        model: Vec<Kind>,
        #[arg(long)]
        per_label: Option<usize>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// Genre fidelity of a style-conditioned model: per style, generated pieces classified.
    Fidelity {
        /// A checkpoint trained with `--tokens full`.
        #[arg(long)]
        model: PathBuf,
        /// A saved genre classifier (`improv genre train`).
        #[arg(long)]
        classifier: PathBuf,
        /// Generated pieces per style.
        #[arg(long, default_value_t = 10)]
        samples: usize,
        #[arg(long, default_value_t = 16)]
        bars: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The model's labelled corpus: its held-out pieces make the ceiling.
        #[arg(long)]
        ceiling: Option<PathBuf>,
        #[arg(long, default_value_t = 10)]
        ceiling_pieces: usize,
        /// Standard deviation of z around the style's prior (0: its mean).
        #[arg(long, default_value_t = 1.0)]
        latent_sd: f32,
        /// Let pieces take any instrument, not only their style's (its training pieces').
        #[arg(long)]
        any_instrument: bool,
        /// Decode every piece at this tempo instead of its style's training tempo.
        #[arg(long)]
        bpm: Option<f64>,
        #[arg(long, default_value_t = 1.0)]
        temperature: f32,
        #[arg(long, default_value_t = 0.95)]
        top_p: f32,
        #[arg(long)]
        json: bool,
    },
    /// The probability of every genre for a MIDI or WAV file.
    Predict {
        file: PathBuf,
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Render the first seconds of a MIDI file to a mono 22,050 Hz WAV.
    Render {
        file: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
    },
    /// The GTZAN-style feature table of a clip (a WAV, or a MIDI file rendered first).
    Features {
        file: PathBuf,
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: GenreCmd) -> Result<()> {
    match cmd {
        GenreCmd::Train {
            data,
            features,
            model,
            out,
            per_label,
            seed,
        } => {
            let (items, rows) = labelled_rows(&data, per_label, features, model.needs_mel())?;
            let labels: Vec<String> = items.iter().map(|i| i.label.clone()).collect();
            let m = GenreModel::fit(&rows, &labels, features, model, seed);
            m.save(&out)?;
            println!(
                "{}: {model:?} on {features:?} features of {} pieces, {} labels",
                out.display(),
                items.len(),
                m.labels.len()
            );
            Ok(())
        }
        GenreCmd::Eval {
            data,
            features,
            model,
            per_label,
            seed,
            json,
        } => {
            let mel = model.iter().any(|k| k.needs_mel());
            let (items, rows) = labelled_rows(&data, per_label, features, mel)?;
            let head = features::names().len();
            let heads: Vec<Vec<f64>> = if mel {
                rows.iter()
                    .map(|r| r[..head.min(r.len())].to_vec())
                    .collect()
            } else {
                Vec::new()
            };
            for model in model {
                let rows = if mel && !model.needs_mel() {
                    &heads
                } else {
                    &rows
                };
                let r = genre::cross_validate(&items, rows, features, model, seed);
                print_cv(&r, features, model, items.len(), json);
            }
            Ok(())
        }
        GenreCmd::Fidelity {
            model,
            classifier,
            samples,
            bars,
            seed,
            ceiling,
            ceiling_pieces,
            latent_sd,
            any_instrument,
            bpm,
            temperature,
            top_p,
            json,
        } => {
            if !(latent_sd >= 0.0 && latent_sd.is_finite()) {
                bail!("genre fidelity --latent-sd: {latent_sd} is not a standard deviation");
            }
            let dir = checkpoint::resolve(&model);
            let (vae, meta) = checkpoint::load(&dir, &Cpu::default())?;
            let clf = GenreModel::load(&classifier)?;
            let val_fraction = meta.val_fraction();
            let opts = FidelityOptions {
                samples,
                bars,
                seed,
                ceiling,
                ceiling_pieces,
                val_fraction,
                latent_sd,
                any_instrument,
                bpm: bpm.unwrap_or(120.0),
                style_tempo: bpm.is_none(),
                sampling: Sampling {
                    temperature,
                    top_p: Some(top_p),
                    ..Sampling::default()
                },
                ..FidelityOptions::default()
            };
            let rows = fidelity::fidelity(&vae, &meta, &clf, &opts)
                .with_context(|| format!("genre fidelity: {}", dir.display()))?;
            print_fidelity(&rows, json)
        }
        GenreCmd::Predict { file, model, json } => {
            let m = GenreModel::load(&model)?;
            let row = genre::row_of_file(&file, &Extractor::for_kind(m.features, m.kind)?)?;
            let p = m.proba(&row);
            let mut ranked: Vec<(String, f64)> =
                m.labels.iter().cloned().zip(p.iter().copied()).collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            if json {
                let probs: serde_json::Map<String, serde_json::Value> =
                    ranked.iter().map(|(l, v)| (l.clone(), json!(v))).collect();
                println!(
                    "{}",
                    json!({"file": file.display().to_string(), "top": m.labels[argmax(&p)], "probabilities": probs})
                );
            } else {
                for (l, v) in ranked {
                    println!("{l:>10} {:6.2} %", 100.0 * v);
                }
            }
            Ok(())
        }
        GenreCmd::Render { file, out, seconds } => {
            let y = clip(&file, seconds)?;
            wav::write_mono(&out, &y)?;
            println!(
                "{} -> {}: {:.1} s",
                file.display(),
                out.display(),
                y.len() as f64 / improv::analysis::SAMPLE_RATE as f64
            );
            Ok(())
        }
        GenreCmd::Features {
            file,
            seconds,
            json,
        } => {
            let y = clip(&file, seconds)?;
            let row = features::summarize(&features::frames(&y));
            let names = features::names();
            if json {
                let map: serde_json::Map<String, serde_json::Value> = names
                    .iter()
                    .zip(&row)
                    .map(|(n, v)| (n.clone(), json!(v)))
                    .collect();
                println!(
                    "{}",
                    json!({"file": file.display().to_string(), "features": map})
                );
            } else {
                for (n, v) in names.iter().zip(&row) {
                    println!("{n:16} {v:.6}");
                }
            }
            Ok(())
        }
    }
}

/// Discovers the labelled pieces and computes their rows, reporting skipped files on stderr.
fn labelled_rows(
    data: &Path,
    per_label: Option<usize>,
    features: Features,
    mel: bool,
) -> Result<(Vec<genre::Item>, Vec<Vec<f64>>)> {
    let items = genre::discover(data, per_label)?;
    let kind = if mel { Kind::Cnn } else { Kind::Knn };
    let (items, rows, warnings) = genre::rows(items, &Extractor::for_kind(features, kind)?);
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if items.is_empty() {
        bail!("genre data {}: no piece could be read", data.display());
    }
    Ok((items, rows))
}

fn print_cv(r: &genre::CvReport, features: Features, model: Kind, pieces: usize, json: bool) {
    let (acc, acc_sd) = r.accuracy();
    let (f1, f1_sd) = r.macro_f1();
    if json {
        println!(
            "{}",
            json!({"features": features, "model": model, "pieces": pieces,
                   "folds": r.fold_accuracy.len(), "accuracy": acc, "accuracy_sd": acc_sd,
                   "macro_f1": f1, "macro_f1_sd": f1_sd, "labels": r.labels,
                   "fold_accuracy": r.fold_accuracy, "confusion": r.confusion})
        );
        return;
    }
    println!(
        "{model:?} on {features:?} features, {pieces} pieces, {} grouped folds",
        r.fold_accuracy.len()
    );
    println!("accuracy  {acc:.3} +- {acc_sd:.3}");
    println!("macro-F1  {f1:.3} +- {f1_sd:.3}");
    println!("confusion (rows: true, columns: predicted)");
    print!("{:>10}", "");
    for l in &r.labels {
        print!("{:>7.6}", l);
    }
    println!();
    for (l, row) in r.labels.iter().zip(&r.confusion) {
        print!("{l:>10}");
        for v in row {
            print!("{v:>7}");
        }
        println!();
    }
}

/// Mono audio of a file: a WAV as it is, a MIDI file rendered with the SoundFont.
fn clip(file: &Path, seconds: f64) -> Result<Vec<f32>> {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let renderer = match ext.as_str() {
        "wav" => None,
        "mid" | "midi" => Some(Renderer::find()?),
        _ => bail!("{}: not a .wav or .mid file", file.display()),
    };
    Ok(genre::audio_of_file(file, renderer.as_ref(), seconds)?)
}

/// The per-style fidelity table (or one JSON line per style): `genre fidelity` and
/// `eval --genre` print the same.
pub fn print_fidelity(rows: &[fidelity::StyleFidelity], json: bool) -> Result<()> {
    if json {
        for r in rows {
            println!("{}", serde_json::to_string(r)?);
        }
        return Ok(());
    }
    println!(
        "{:>10} {:>5} {:>6} {:>10} {:>9} {:>12} {:>11}",
        "style", "bpm", "pieces", "mean p", "top-1", "ceiling p", "ceiling top"
    );
    for r in rows {
        let (cp, ct) = r.ceiling.as_ref().map_or(("-".into(), "-".into()), |c| {
            (
                format!("{:.1} %", 100.0 * c.mean_probability),
                format!("{:.1} %", 100.0 * c.top_share),
            )
        });
        println!(
            "{:>10} {:>5.0} {:>6} {:>8.1} % {:>7.1} % {cp:>12} {ct:>11}",
            r.style,
            r.bpm,
            r.generated.pieces,
            100.0 * r.generated.mean_probability,
            100.0 * r.generated.top_share
        );
    }
    Ok(())
}
