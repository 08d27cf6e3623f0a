//! `improv model ...`: what a checkpoint holds.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Subcommand;
use dfdx::prelude::Cpu;
use serde_json::json;

use improv::corpus::{Corpus, LoadOptions, Split};
use improv::model::checkpoint;
use improv::model::ngram::KneserNey;
use improv::train::{corpus_fingerprint, validate};

#[derive(Subcommand)]
pub enum ModelCmd {
    /// Kind, sizes, parameters, tokenizer, training state and validation figures of a
    /// checkpoint (a checkpoint folder, or a training output folder: its best/).
    Info {
        path: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Validation figures of a checkpoint on a corpus's held-out pieces (the split it was
    /// trained with), beside Kneser-Ney baselines of orders 3 to 5 on the same windows.
    Eval {
        path: PathBuf,
        /// MIDI folder (default: the bundled corpus).
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// At most this many validation windows.
        #[arg(long, default_value_t = 100_000)]
        windows: usize,
        #[arg(long, default_value_t = 64)]
        batch: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: ModelCmd) -> Result<()> {
    match cmd {
        ModelCmd::Info { path, json } => info(&path, json),
        ModelCmd::Eval {
            path,
            corpus,
            windows,
            batch,
            seed,
            json,
        } => eval(&path, corpus, windows, batch.max(1), seed, json),
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn info(path: &Path, as_json: bool) -> Result<()> {
    let dir = checkpoint::resolve(path);
    let (model, meta) = checkpoint::load(&dir, &Cpu::default())?;
    let t = &meta.training;
    let out = json!({
        "path": dir.display().to_string(),
        "kind": meta.model.kind.name(),
        "config": meta.model,
        "params": model.num_params(),
        "bytes": dir_bytes(&dir),
        "tokenizer": meta.tokenizer,
        "vocab": meta.vocab.len(),
        "corpus": meta.corpus,
        "step": t["step"],
        "epoch": t["epoch"],
        "best_nelbo": t["best_nelbo"],
        "baseline_kn": t["baseline_kn"],
        "last_val": t["history"].as_array().and_then(|h| h.last()).cloned(),
        "train_config": t["config"],
    });
    if as_json {
        println!("{out}");
        return Ok(());
    }
    let c = &meta.model;
    println!("{}: {}", out["path"].as_str().unwrap_or(""), c.kind.name());
    println!(
        "  sizes: vocab {} embed {} hidden {} layers {} latent {} window {}",
        c.vocab, c.embed, c.hidden, c.layers, c.latent, c.window
    );
    println!(
        "  parameters: {} ({} bytes on disk)",
        out["params"], out["bytes"]
    );
    println!("  tokenizer: {}", serde_json::to_string(&meta.tokenizer)?);
    println!("  corpus fingerprint: {}", meta.corpus);
    println!("  trained: step {} epoch {}", out["step"], out["epoch"]);
    if let Some([order, ce]) = t["baseline_kn"].as_array().map(|a| a.as_slice()) {
        println!(
            "  baseline: {order}-gram Kneser-Ney {:.4} nats/token",
            ce.as_f64().unwrap_or(f64::NAN)
        );
    }
    if let Some(v) = out["last_val"].as_object() {
        let f = |k: &str| v.get(k).and_then(|x| x.as_f64()).unwrap_or(f64::NAN);
        println!(
            "  validation: -elbo/token {:.4} recon/token {:.4} kl {:.3} accuracy {:.3} active units {} shuffle gap {:.3}",
            f("nelbo"),
            f("recon"),
            f("kl"),
            f("accuracy"),
            v.get("active_units").cloned().unwrap_or_default(),
            f("shuffle_gap")
        );
    }
    Ok(())
}

fn eval(
    path: &Path,
    corpus: Option<PathBuf>,
    windows: usize,
    batch: usize,
    seed: u64,
    as_json: bool,
) -> Result<()> {
    let dir = checkpoint::resolve(path);
    let (model, meta) = checkpoint::load(&dir, &Cpu::default())?;
    let val_fraction = meta.val_fraction();
    let root = super::corpus_dir(corpus);
    let corpus = Corpus::load(&root, &LoadOptions::new(meta.tokenizer.clone()))?;
    let same_corpus = corpus_fingerprint(&corpus) == meta.corpus;
    let window = meta.model.window;
    let val = corpus.windows(
        &meta.vocab,
        Split::Validation,
        val_fraction,
        window,
        window,
        0,
    );
    let m = validate(&model, &val, batch, windows, seed);
    let train: Vec<Vec<u32>> = corpus
        .pieces_in(Split::Train, val_fraction)
        .map(|p| meta.vocab.encode(&p.tokens).0)
        .collect();
    let kn: Vec<(usize, f64)> = (3..=5)
        .map(|order| {
            let kn = KneserNey::train(order, meta.vocab.len(), train.iter().map(|s| s.as_slice()));
            (order, kn.cross_entropy(&val))
        })
        .collect();
    if as_json {
        println!(
            "{}",
            json!({
                "path": dir.display().to_string(), "kind": meta.model.kind.name(),
                "corpus": root.display().to_string(), "same_corpus": same_corpus,
                "val_windows": val.count(), "val": m,
                "kneser_ney": kn.iter().map(|(o, ce)| json!({"order": o, "cross_entropy": ce})).collect::<Vec<_>>(),
            })
        );
        return Ok(());
    }
    println!(
        "{} on {} ({} validation windows{}):",
        dir.display(),
        root.display(),
        m.windows,
        if same_corpus {
            ""
        } else {
            ", not the training corpus"
        }
    );
    println!(
        "  -elbo/token {:.4} (perplexity <= {:.2}); recon/token {:.4}; kl {:.3} nats/window; accuracy {:.3}",
        m.nelbo, m.perplexity, m.recon, m.kl, m.accuracy
    );
    println!(
        "  latent: {} of {} units active; shuffling z costs {:.4} nats/token",
        m.active_units, meta.model.latent, m.shuffle_gap
    );
    for (order, ce) in kn {
        println!("  {order}-gram Kneser-Ney: {ce:.4} nats/token");
    }
    Ok(())
}
