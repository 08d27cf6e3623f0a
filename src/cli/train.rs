//! `improv train`: train a VAE on a MIDI folder, printing progress (one JSON object per line
//! with `--json`), keeping `OUT/best` and `OUT/last`; `--resume` continues from `OUT/last`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use dfdx::prelude::Cpu;

use improv::corpus::{Corpus, LoadOptions, Split};
use improv::generate::palette::style_infos;
use improv::model::ngram::KneserNey;
use improv::model::{checkpoint, Model, ModelConfig, ModelKind, Preset};
use improv::music::tokens::{EventConfig, TokenizerConfig};
use improv::train::{
    corpus_fingerprint, Anneal, BetaSchedule, OutSpec, TrainConfig, TrainData, TrainEvent,
    TrainJob, TrainState, Trainer,
};

use super::{corpus_dir, TokenizerName};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KindArg {
    VaeLstm,
    VaeTransformer,
}

impl KindArg {
    pub fn kind(self) -> ModelKind {
        match self {
            KindArg::VaeLstm => ModelKind::VaeLstm,
            KindArg::VaeTransformer => ModelKind::VaeTransformer,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PresetArg {
    Paper,
    Small,
    Tiny,
}

impl PresetArg {
    pub fn preset(self) -> Preset {
        match self {
            PresetArg::Paper => Preset::Paper,
            PresetArg::Small => Preset::Small,
            PresetArg::Tiny => Preset::Tiny,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TokensArg {
    Plain,
    Full,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AnnealArg {
    None,
    Linear,
    Cyclical,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// MIDI folder (default: the bundled corpus).
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "vae-lstm")]
    pub model: KindArg,
    #[arg(long, value_enum, default_value = "small")]
    pub preset: PresetArg,
    #[arg(long, value_enum, default_value = "event")]
    pub tokenizer: TokenizerName,
    /// Event-token extras: "full" adds program, drum and style tokens (for genre work; every
    /// piece needs a style label from its folder or manifest.json).
    #[arg(long, value_enum, default_value = "plain")]
    pub tokens: TokensArg,
    /// With style tokens: no learned prior per style (the decoder then reads the style only as
    /// its first input token, as models before the prior did).
    #[arg(long)]
    pub no_style_prior: bool,
    /// Checkpoint folder: OUT/best (lowest validation loss) and OUT/last (for --resume).
    #[arg(long)]
    pub out: PathBuf,
    /// Continue the run saved in OUT/last.
    #[arg(long)]
    pub resume: bool,
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long)]
    pub batch: Option<usize>,
    /// Maximum KL weight.
    #[arg(long)]
    pub beta: Option<f64>,
    #[arg(long, value_enum, default_value = "cyclical")]
    pub anneal: AnnealArg,
    /// Free bits per latent dimension (nats).
    #[arg(long)]
    pub free_bits: Option<f64>,
    #[arg(long)]
    pub lr: Option<f64>,
    /// Weight of the bag-of-words loss that makes z carry the window's content.
    #[arg(long)]
    pub bow_weight: Option<f64>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Matrix-work threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Stop after this many steps in all.
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Tokens per training window (default: the preset's). Longer windows let the decoder learn
    /// whole bars of dense multi-instrument music (a genre's groove).
    #[arg(long)]
    pub window: Option<usize>,
    /// Window stride in tokens (default: the window, no overlap).
    #[arg(long)]
    pub stride: Option<usize>,
    /// Transpose training pieces to every key within +-N semitones.
    #[arg(long, default_value_t = 0)]
    pub transpose: u8,
    /// Share of pieces held out for validation (by path hash).
    #[arg(long, default_value_t = 0.1)]
    pub val_fraction: f64,
    #[arg(long, default_value_t = 10)]
    pub log_every: usize,
    /// Order of the Kneser-Ney baseline measured on the same validation windows (0: skip).
    #[arg(long, default_value_t = 4)]
    pub kn_order: usize,
    /// One JSON object per event.
    #[arg(long)]
    pub json: bool,
}

fn config_from(args: &TrainArgs, base: TrainConfig) -> TrainConfig {
    let max = args.beta.unwrap_or(base.beta.max);
    TrainConfig {
        epochs: args.epochs.unwrap_or(base.epochs),
        batch: args.batch.unwrap_or(base.batch),
        lr: args.lr.unwrap_or(base.lr),
        free_bits: args.free_bits.unwrap_or(base.free_bits),
        bow_weight: args.bow_weight.unwrap_or(base.bow_weight),
        beta: BetaSchedule {
            max,
            anneal: match args.anneal {
                AnnealArg::None => Anneal::None,
                AnnealArg::Linear => Anneal::Linear { steps: 2000 },
                AnnealArg::Cyclical => Anneal::Cyclical {
                    cycles: 4,
                    ratio: 0.5,
                },
            },
        },
        seed: args.seed,
        val_fraction: args.val_fraction,
        threads: args.threads,
        max_steps: args.max_steps,
        log_every: args.log_every,
        ..base
    }
}

fn print_event(e: &TrainEvent, json: bool) {
    if json {
        println!("{}", serde_json::to_string(e).unwrap_or_default());
        return;
    }
    match e {
        TrainEvent::Start {
            params,
            train_windows,
            val_windows,
            steps_per_epoch,
            total_steps,
            step,
        } => println!(
            "{params} parameters; {train_windows} training and {val_windows} validation windows; \
             {steps_per_epoch} steps an epoch, {total_steps} in all, from step {step}"
        ),
        TrainEvent::Step {
            step,
            epoch,
            total,
            recon_per_token,
            kl,
            beta,
            lr,
            tokens_per_s,
            ..
        } => println!(
            "step {step:>6} epoch {epoch:>3}  loss {total:9.3}  recon/token {recon_per_token:6.3}  \
             kl {kl:7.3}  beta {beta:4.2}  lr {lr:.2e}  {tokens_per_s:6.0} tokens/s"
        ),
        TrainEvent::Epoch {
            epoch,
            step,
            seconds,
            val,
            best,
        } => println!(
            "epoch {epoch} (step {step}, {seconds:.0} s): val recon/token {:.3}  kl {:.2}  \
             -elbo/token {:.3}  ppl<= {:.2}  acc {:.3}  active {}  shuffle gap {:.3}{}",
            val.recon,
            val.kl,
            val.nelbo,
            val.perplexity,
            val.accuracy,
            val.active_units,
            val.shuffle_gap,
            if *best { "  (best)" } else { "" }
        ),
        TrainEvent::Saved { path } => println!("saved {path}"),
        TrainEvent::Paused => println!("paused"),
        TrainEvent::Resumed => println!("resumed"),
    }
}

fn tokenizer_config(args: &TrainArgs) -> Result<TokenizerConfig> {
    match (args.tokens, args.tokenizer) {
        (TokensArg::Plain, t) => Ok(t.config()),
        (TokensArg::Full, TokenizerName::Event) => Ok(TokenizerConfig::Event(EventConfig::full())),
        (TokensArg::Full, TokenizerName::Paper) => {
            bail!(
                "train --tokens full: only the event tokenizer has program, drum and style tokens"
            )
        }
    }
}

/// The checkpoint `--resume` continues from: `OUT/last`, or `OUT/best` (with a warning, and
/// fresh optimiser moments) when `last` is missing or damaged.
fn resume_point(
    out: &std::path::Path,
    dev: &Cpu,
) -> Result<(PathBuf, Model, checkpoint::CheckpointMeta)> {
    let last = out.join("last");
    let best = out.join("best");
    match checkpoint::load(&last, dev) {
        Ok((model, meta)) => Ok((last, model, meta)),
        Err(e) => match checkpoint::load(&best, dev) {
            Ok((model, meta)) => {
                eprintln!(
                    "warning: --resume: {e}; resuming from {} instead (its epoch, optimizer restarted)",
                    best.display()
                );
                Ok((best, model, meta))
            }
            Err(_) => {
                Err(anyhow::Error::new(e).context(format!("--resume: reading {}", last.display())))
            }
        },
    }
}

pub fn run(args: TrainArgs) -> Result<()> {
    let dir = corpus_dir(args.corpus.clone());
    let dev = Cpu::default();
    let last = args.out.join("last");
    let (model, resume, tokenizer) = if args.resume {
        let (from, model, meta) = resume_point(&args.out, &dev)?;
        let state: TrainState = serde_json::from_value(meta.training)
            .with_context(|| format!("--resume: {} has no training state", from.display()))?;
        let moments = if from == last {
            checkpoint::load_optimizer(&last)?.unwrap_or_default()
        } else {
            Default::default()
        };
        (
            Some((model, meta.vocab, meta.corpus)),
            Some((state, moments)),
            meta.tokenizer,
        )
    } else {
        (None, None, tokenizer_config(&args)?)
    };
    let corpus = Corpus::load(&dir, &LoadOptions::new(tokenizer.clone()))?;
    let fingerprint = corpus_fingerprint(&corpus);
    let (model, vocab) = match model {
        Some((model, vocab, saved_corpus)) => {
            if saved_corpus != fingerprint {
                bail!(
                    "--resume: {} was trained on another corpus (fingerprint differs)",
                    last.display()
                );
            }
            (model, vocab)
        }
        None => {
            let vocab = corpus.vocab();
            let mut cfg = ModelConfig::preset(args.model.kind(), args.preset.preset(), vocab.len());
            if !args.no_style_prior {
                cfg = cfg.with_style_prior(&vocab);
            }
            if let Some(w) = args.window {
                cfg.window = w;
            }
            (
                Model::build(&cfg, &dev, args.seed).map_err(anyhow::Error::msg)?,
                vocab,
            )
        }
    };
    let base = match &resume {
        Some((state, _)) => state.config.clone(),
        None => TrainConfig::default(),
    };
    let config = config_from(&args, base);
    let window = improv::model::Vae::config(&model).window;
    let stride = args.stride.unwrap_or(window);
    let data = TrainData {
        train: corpus.windows(
            &vocab,
            Split::Train,
            args.val_fraction,
            window,
            stride,
            args.transpose,
        ),
        val: corpus.windows(
            &vocab,
            Split::Validation,
            args.val_fraction,
            window,
            window,
            0,
        ),
    };
    if data.train.count() == 0 {
        bail!(
            "{}: no piece is long enough for a window of {window} tokens",
            dir.display()
        );
    }
    let baseline_kn = (args.kn_order > 0).then(|| {
        let train: Vec<Vec<u32>> = corpus
            .pieces_in(Split::Train, args.val_fraction)
            .map(|p| vocab.encode(&p.tokens).0)
            .collect();
        let kn = KneserNey::train(
            args.kn_order,
            vocab.len(),
            train.iter().map(|s| s.as_slice()),
        );
        (kn.order, kn.cross_entropy(&data.val))
    });
    if let Some((order, ce)) = baseline_kn {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"event": "baseline", "model": "kneser-ney", "order": order,
                    "cross_entropy": ce, "perplexity": ce.exp(), "val_windows": data.val.count()})
            );
        } else {
            println!(
                "baseline: {order}-gram Kneser-Ney on the validation windows: {ce:.4} nats/token (perplexity {:.2})",
                ce.exp()
            );
        }
    }
    let trainer = Trainer::spawn(TrainJob {
        baseline_kn,
        model,
        config,
        data,
        out: Some(OutSpec {
            dir: args.out.clone(),
            tokenizer,
            styles: style_infos(&corpus, &vocab, args.val_fraction),
            vocab,
            corpus: fingerprint,
        }),
        resume,
    })?;
    for e in trainer.events.iter() {
        print_event(&e, args.json);
    }
    let outcome = trainer.join()?;
    if !args.json {
        println!(
            "done: {} steps, {} epochs; best validation -elbo/token {}",
            outcome.state.step,
            outcome.state.epoch,
            outcome
                .state
                .best_nelbo
                .map_or("-".into(), |b| format!("{b:.4}"))
        );
    }
    Ok(())
}
