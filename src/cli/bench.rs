//! `improv bench ...`: benchmarks printing one JSON object per line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};

use improv::corpus::{Corpus, LoadOptions};

use super::{corpus_dir, TokenizerName};

#[derive(Subcommand)]
pub enum BenchCmd {
    /// TUI frame draw time (200x60, 120x40) and key-press-to-screen latency while training.
    Tui(super::bench_tui::TuiBenchArgs),
    /// Scheduler lateness (memory sink, real port), JACK loopback, MIDI clock in, synth callback.
    Timing(super::bench_timing::TimingArgs),
    /// Reading + tokenizing a corpus, cold (no cache) and warm (from the cache).
    Corpus {
        dir: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "paper")]
        tokenizer: TokenizerName,
        /// Only the first N files in path order.
        #[arg(long)]
        limit: Option<usize>,
        /// Also run the music21 peer (peers/music21_tokenize.py) with this Python on
        /// the same files, and report the speed ratio and token agreement.
        #[arg(long)]
        peer: Option<PathBuf>,
        #[arg(long)]
        peer_script: Option<PathBuf>,
        /// Cold and warm runs to take the median of.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Accepted for symmetry with other commands: bench output is always JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Training throughput (tokens/s) and peak memory on random tokens.
    Train {
        #[arg(long, value_enum, default_value = "vae-lstm")]
        model: super::train::KindArg,
        #[arg(long, value_enum, default_value = "paper")]
        preset: super::train::PresetArg,
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// Timed steps (after two warm-up steps).
        #[arg(long, default_value_t = 10)]
        steps: usize,
        /// Threads (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Vocabulary size (384 matches the PyTorch peer).
        #[arg(long, default_value_t = 384)]
        vocab: usize,
        /// Also run the PyTorch peer (peers/torch_vae_lstm.py) with this Python.
        #[arg(long)]
        peer: Option<PathBuf>,
        #[arg(long)]
        peer_script: Option<PathBuf>,
        /// Accepted for symmetry with other commands: bench output is always JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// How well each attribute vector moves its attribute (Spearman rho between the amount
    /// added and the attribute measured on generated notes).
    Latent(super::bench_latent::LatentArgs),
    /// Latency of one next-token step with carried state (p50, p99), idle and beside training.
    Infer {
        /// Models to measure (default: both).
        #[arg(long, value_enum)]
        model: Vec<super::train::KindArg>,
        #[arg(long, value_enum, default_value = "paper")]
        preset: super::train::PresetArg,
        #[arg(long, default_value_t = 2000)]
        steps: usize,
        #[arg(long, default_value_t = 384)]
        vocab: usize,
        /// Accepted for symmetry with other commands: bench output is always JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// The live note stream on the bundled models: tokens/s, notes/s, and the time from a
    /// control change to the first regenerated note (p50, p99).
    Stream {
        #[arg(long, default_value_t = 2000)]
        notes: usize,
        #[arg(long, default_value_t = 200)]
        changes: usize,
        /// Also play the main voice with N layers through the mixer (each its own stream):
        /// compute time per second of music and the feeder's longest turns.
        #[arg(long, default_value_t = 0)]
        layers: usize,
        /// Accepted for symmetry with other commands: bench output is always JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// The whole instrument for MINUTES through JACK ports: a live stream with two layers, a
    /// model training beside it, a controller at 100 messages/s; memory, lateness and xruns
    /// every minute, hanging notes at the end (run under `scripts/with-jack.sh`).
    Soak {
        #[arg(long, default_value_t = 60.0)]
        minutes: f64,
        /// Accepted for symmetry with other commands: bench output is always JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// MIDI learn through a real port: controller message to the engine, and to a live stream
    /// (p50, p99; run under `scripts/with-jack.sh`).
    Control {
        #[arg(long, default_value_t = 100)]
        messages: usize,
        /// Accepted for symmetry with other commands: bench output is always JSON lines.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: BenchCmd) -> Result<()> {
    match cmd {
        BenchCmd::Tui(a) => super::bench_tui::run(a),
        BenchCmd::Timing(a) => super::bench_timing::run(a),
        BenchCmd::Latent(a) => super::bench_latent::run(a),
        BenchCmd::Corpus {
            dir,
            tokenizer,
            limit,
            peer,
            peer_script,
            rounds,
            json: _,
        } => corpus(
            &corpus_dir(dir),
            tokenizer,
            limit,
            peer,
            peer_script,
            rounds.max(1),
        ),
        BenchCmd::Train {
            model,
            preset,
            batch,
            steps,
            threads,
            vocab,
            peer,
            peer_script,
            json: _,
        } => super::bench_model::train(
            model,
            preset,
            batch.max(1),
            steps.max(1),
            threads,
            vocab,
            peer,
            peer_script,
        ),
        BenchCmd::Infer {
            model,
            preset,
            steps,
            vocab,
            json: _,
        } => {
            let models = if model.is_empty() {
                vec![
                    super::train::KindArg::VaeLstm,
                    super::train::KindArg::VaeTransformer,
                ]
            } else {
                model
            };
            super::bench_model::infer(models, preset, steps.max(1), vocab)
        }
        BenchCmd::Stream {
            notes,
            changes,
            layers,
            json: _,
        } => super::bench_stream::run(notes.max(1), changes.max(1), layers),
        BenchCmd::Control { messages, json: _ } => super::bench_control::run(messages.max(1)),
        BenchCmd::Soak { minutes, json: _ } => super::bench_soak::run(minutes.max(0.1)),
    }
}

/// Runs one command line on `e` and waits for it: the engine's one-line error otherwise.
pub(super) fn run_line(e: &improv::engine::EngineHandle, line: &str) -> Result<()> {
    let id = e
        .run_line(line)
        .map_err(|p| anyhow::anyhow!("{line}: {p}"))?
        .context("blank line")?;
    e.wait_for(id, |_| {})
        .map_err(|err| anyhow::anyhow!("{err}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn corpus(
    dir: &Path,
    tokenizer: TokenizerName,
    limit: Option<usize>,
    peer: Option<PathBuf>,
    peer_script: Option<PathBuf>,
    rounds: usize,
) -> Result<()> {
    let cache = tempfile::tempdir().context("bench corpus: temporary cache directory")?;
    let mut opts = LoadOptions::new(tokenizer.config());
    opts.limit = limit;
    let name = format!("{tokenizer:?}").to_lowercase();

    let report = |opts: &mut LoadOptions,
                  phase: &str,
                  cache_dir: Option<PathBuf>|
     -> Result<(Corpus, f64)> {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..rounds {
            opts.cache_dir = cache_dir.clone();
            let c = Corpus::load(dir, opts)?;
            times.push(c.report.seconds);
            last = Some(c);
        }
        let c = last.context("no rounds")?;
        let secs = median(times);
        println!(
            "{}",
            json!({
                "bench": "corpus", "phase": phase, "tokenizer": name,
                "corpus": dir.display().to_string(),
                "files": c.report.files, "files_read": c.report.read,
                "failed": c.report.failed.len(), "cached": c.report.cached,
                "notes": c.notes(), "tokens": c.tokens(),
                "seconds": secs,
                "files_per_s": (c.report.files as f64 / secs).round(),
                "notes_per_s": (c.notes() as f64 / secs).round(),
                "threads": rayon::current_num_threads(),
            })
        );
        Ok((c, secs))
    };
    let (ours, cold) = report(&mut opts, "cold", None)?;
    // Fill the cache once, then time loads from it.
    opts.cache_dir = Some(cache.path().to_path_buf());
    Corpus::load(dir, &opts)?;
    report(&mut opts, "warm", Some(cache.path().to_path_buf()))?;

    if let Some(python) = peer {
        let script = peer_script
            .unwrap_or_else(|| improv::paths::bundle_root().join("peers/music21_tokenize.py"));
        let mut cmd = Command::new(&python);
        cmd.arg(&script).arg(dir);
        if let Some(n) = limit {
            cmd.arg("--limit").arg(n.to_string());
        }
        let out = cmd.output().with_context(|| {
            format!(
                "bench corpus: running {} {}",
                python.display(),
                script.display()
            )
        })?;
        if !out.status.success() {
            bail!(
                "bench corpus: peer failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
        }
        let mut peer_tokens: HashMap<String, Vec<String>> = HashMap::new();
        let mut summary = Value::Null;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let v: Value = serde_json::from_str(line).context("bench corpus: peer output")?;
            if v.get("summary").is_some() {
                summary = v;
            } else if let (Some(f), Some(t)) = (v["file"].as_str(), v["tokens"].as_array()) {
                let toks = t
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect();
                peer_tokens.insert(f.to_string(), toks);
            }
        }
        let (mut compared, mut equal) = (0, 0);
        for p in &ours.pieces {
            if let Some(theirs) = peer_tokens.get(&p.path) {
                compared += 1;
                let mine: Vec<String> = p.tokens.iter().map(|t| t.to_string()).collect();
                equal += (&mine == theirs) as usize;
            }
        }
        let peer_fps = summary["files_per_s"].as_f64().unwrap_or(f64::NAN);
        let our_fps = ours.report.files as f64 / cold;
        println!(
            "{}",
            json!({
                "bench": "corpus", "phase": "peer", "peer": "music21",
                "files": summary["files"], "failed": summary["failed"],
                "seconds": summary["seconds"], "files_per_s": peer_fps,
                "ratio_cold": (our_fps / peer_fps).round(),
                "files_compared": compared, "files_tokens_equal": equal,
            })
        );
    }
    Ok(())
}

/// The `p` quantile (0 to 1) of `sorted` values, nearest rank; NaN when there are none.
pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The machine's one-minute load average (`/proc/loadavg`: the whole machine, other users' work
/// included), to label figures taken on a shared machine.
pub(super) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
