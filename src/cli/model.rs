//! `improv model ...`: what a checkpoint holds.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Subcommand;
use dfdx::prelude::Cpu;
use serde_json::json;

use improv::model::checkpoint;

#[derive(Subcommand)]
pub enum ModelCmd {
    /// Kind, sizes, parameters, tokenizer, training state and validation figures of a
    /// checkpoint (a checkpoint folder, or a training output folder: its best/).
    Info {
        path: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: ModelCmd) -> Result<()> {
    match cmd {
        ModelCmd::Info { path, json } => info(&path, json),
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
