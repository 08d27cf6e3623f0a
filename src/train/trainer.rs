//! The trainer thread: owns the model while it trains, runs its matrix work on a thread pool of
//! its own (one thread while music plays), checks pause/stop between steps, sends `TrainEvent`s,
//! validates each epoch, keeps the best checkpoint and the last one (with optimiser state) for
//! resuming, and stops on a non-finite loss without writing anything.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{epoch_order, normal_draws, Batch, TrainData};
use super::eval::{validate, ValMetrics};
use super::events::{Control, TrainEvent};
use super::losses::{cross_entropy, kl_divergence, repeated_cross_entropy};
use super::optim::AdamW;
use super::schedule::LrSchedule;
use super::TrainConfig;
use crate::model::checkpoint::{self, CheckpointError, CheckpointMeta, StyleInfo, TensorMap};
use crate::model::{Model, Vae};
use crate::music::tokens::{TokenizerConfig, Vocab};

/// Where a run saves: `dir/best` (lowest validation negative ELBO) and `dir/last` (for resume).
#[derive(Clone, Debug)]
pub struct OutSpec {
    pub dir: PathBuf,
    pub tokenizer: TokenizerConfig,
    pub vocab: Vocab,
    pub corpus: String,
    /// Saved in every checkpoint's metadata (`CheckpointMeta::styles`).
    pub styles: std::collections::BTreeMap<String, StyleInfo>,
}

/// The progress of a run, saved in every checkpoint's metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    pub config: TrainConfig,
    /// Optimiser steps taken.
    pub step: usize,
    /// Epochs completed.
    pub epoch: usize,
    /// Batches of the current epoch already taken.
    pub batch_in_epoch: usize,
    pub best_nelbo: Option<f64>,
    pub history: Vec<ValMetrics>,
    pub adam_t: u64,
    /// The Kneser-Ney baseline on the same validation windows: (order, cross-entropy per token).
    #[serde(default)]
    pub baseline_kn: Option<(usize, f64)>,
}

/// A run to start: the model, its data, settings, where to save, and the state to resume from.
pub struct TrainJob {
    pub model: Model,
    pub config: TrainConfig,
    pub data: TrainData,
    pub out: Option<OutSpec>,
    /// A saved state and optimiser moments, to continue that run.
    pub resume: Option<(TrainState, TensorMap)>,
    /// The Kneser-Ney baseline measured on the same data, kept in the run's state.
    pub baseline_kn: Option<(usize, f64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("training stopped at step {step}: the {what} is not finite (NaN or infinite); nothing was saved after the last good checkpoint{}", kept.as_ref().map(|p| format!(" ({})", p.display())).unwrap_or_default())]
    NotFinite {
        step: usize,
        what: String,
        kept: Option<PathBuf>,
    },
    #[error("training: {0}")]
    Data(String),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("training thread: {0}")]
    Thread(String),
}

/// Why a run ended, with the trained model.
pub struct TrainOutcome {
    pub model: Model,
    pub state: TrainState,
    pub stopped: bool,
}

/// A run on its own thread.
pub struct Trainer {
    pub control: Arc<Control>,
    pub events: Receiver<TrainEvent>,
    /// Copies of the model asked for with `Control::request_snapshot`.
    pub snapshots: Receiver<Model>,
    handle: JoinHandle<Result<TrainOutcome, TrainError>>,
}

impl Trainer {
    pub fn spawn(job: TrainJob) -> Result<Trainer, TrainError> {
        let control = Arc::new(Control::default());
        control.set_threads(job.config.threads);
        let (tx, events) = channel();
        let (snap_tx, snapshots) = channel();
        let c = control.clone();
        let handle = std::thread::Builder::new()
            .name("improv-trainer".into())
            .spawn(move || run(job, &c, &tx, &snap_tx))
            .map_err(|e| TrainError::Thread(e.to_string()))?;
        Ok(Trainer {
            control,
            events,
            snapshots,
            handle,
        })
    }

    /// Waits for the run to end.
    pub fn join(self) -> Result<TrainOutcome, TrainError> {
        self.handle
            .join()
            .map_err(|_| TrainError::Thread("the trainer panicked".into()))?
    }
}

struct Pools(HashMap<usize, rayon::ThreadPool>);

impl Pools {
    fn get(&mut self, n: usize) -> Result<&rayon::ThreadPool, TrainError> {
        let n = if n == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            n
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = self.0.entry(n) {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(|i| format!("improv-train-{i}"))
                .build()
                .map_err(|e| TrainError::Thread(e.to_string()))?;
            slot.insert(pool);
        }
        Ok(&self.0[&n])
    }
}

/// What one optimiser step measured.
pub struct StepStats {
    pub total: f64,
    pub recon: f64,
    pub kl: f64,
    pub grad_norm: f64,
}

/// One optimiser step on batch `b` at step `step` (which keys the latent noise and dropout).
/// `Err` names what was not finite; the model is then unchanged.
pub fn train_step(
    model: &mut Model,
    opt: &mut AdamW,
    b: &Batch,
    cfg: &TrainConfig,
    step: usize,
    lr: f64,
    beta: f64,
) -> Result<StepStats, String> {
    let eps = normal_draws(cfg.seed, step as u64, b.batch * model.config().latent);
    let dropout_seed = cfg.seed.wrapping_mul(1_000_003).wrapping_add(step as u64);
    let out = model.forward(
        &b.enc,
        &b.dec,
        b.batch,
        Some(&eps),
        OwnedTape::default(),
        Some(dropout_seed),
    );
    let (recon, ce) = cross_entropy(out.logits, &b.target, b.batch);
    let (kl, ks) = kl_divergence(out.stats, cfg.free_bits);
    let mut total = recon + kl * beta as f32;
    if cfg.bow_weight > 0.0 {
        let (bow, _) = repeated_cross_entropy(out.bow, &b.target, b.batch);
        total = total + bow * cfg.bow_weight as f32;
    }
    let value = total.array() as f64;
    if !value.is_finite() {
        return Err("loss".into());
    }
    let mut grads = total.backward();
    let report = opt
        .step(model.params_mut(), &mut grads, lr, cfg.clip)
        .map_err(|p| format!("gradient of {p}"))?;
    Ok(StepStats {
        total: value,
        recon: ce.nll_sum / b.batch as f64,
        kl: ks.total(),
        grad_norm: report.grad_norm,
    })
}

fn save(
    out: &Option<OutSpec>,
    which: &str,
    model: &Model,
    state: &TrainState,
    opt: Option<&AdamW>,
    tx: &Sender<TrainEvent>,
) -> Result<(), TrainError> {
    let Some(spec) = out else { return Ok(()) };
    let meta = CheckpointMeta {
        format: checkpoint::FORMAT,
        model: model.config().clone(),
        tokenizer: spec.tokenizer.clone(),
        vocab: spec.vocab.clone(),
        corpus: spec.corpus.clone(),
        styles: spec.styles.clone(),
        training: serde_json::to_value(state).map_err(|e| TrainError::Data(e.to_string()))?,
    };
    let names: Vec<String> = model.params().into_iter().map(|(n, _)| n).collect();
    let opt_state = opt.map(|o| o.state(&names));
    let dir = spec.dir.join(which);
    checkpoint::save(&dir, model, &meta, opt_state.as_ref())?;
    let _ = tx.send(TrainEvent::Saved {
        path: dir.display().to_string(),
    });
    Ok(())
}

fn run(
    job: TrainJob,
    control: &Control,
    tx: &Sender<TrainEvent>,
    snapshots: &Sender<Model>,
) -> Result<TrainOutcome, TrainError> {
    let TrainJob {
        mut model,
        config: cfg,
        data,
        out,
        resume,
        baseline_kn,
    } = job;
    let steps = model.config().window;
    if data.train.len != steps + 1 || data.train.count() == 0 {
        return Err(TrainError::Data(format!(
            "need training windows of {} tokens, have {} of {}",
            steps + 1,
            data.train.count(),
            data.train.len
        )));
    }
    let batch = cfg.batch.clamp(1, data.train.count());
    let per_epoch = data.train.count().div_ceil(batch);
    // Schedules span the planned run, so a run cut short by `max_steps` and resumed follows
    // the same curves as an unbroken one.
    let planned = per_epoch * cfg.epochs;
    let total_steps = cfg.max_steps.unwrap_or(usize::MAX).min(planned);
    let sched = LrSchedule {
        lr: cfg.lr,
        min_lr: cfg.min_lr,
        warmup: cfg.warmup,
        total: planned,
    };
    let mut opt = AdamW::new(cfg.weight_decay);
    let mut state = TrainState {
        config: cfg.clone(),
        step: 0,
        epoch: 0,
        batch_in_epoch: 0,
        best_nelbo: None,
        history: Vec::new(),
        adam_t: 0,
        baseline_kn,
    };
    if let Some((saved, moments)) = resume {
        let (names, sizes): (Vec<String>, Vec<usize>) = model
            .params()
            .into_iter()
            .map(|(n, p)| (n, p.shape().0 * p.shape().1))
            .unzip();
        if saved.adam_t > 0 {
            opt.restore(saved.adam_t, &names, &sizes, moments)
                .map_err(TrainError::Data)?;
        }
        state = TrainState {
            config: cfg.clone(),
            baseline_kn: baseline_kn.or(saved.baseline_kn),
            ..saved
        };
    }
    let _ = tx.send(TrainEvent::Start {
        params: model.num_params(),
        train_windows: data.train.count(),
        val_windows: data.val.count(),
        steps_per_epoch: per_epoch,
        total_steps,
        step: state.step,
    });
    let mut pools = Pools(HashMap::new());
    let last_good = |out: &Option<OutSpec>| out.as_ref().map(|o| o.dir.join("last"));
    let mut stopped = false;
    while state.epoch < cfg.epochs && state.step < total_steps && !stopped {
        let started = Instant::now();
        let order = epoch_order(data.train.count(), cfg.seed, state.epoch);
        let chunks: Vec<&[usize]> = order.chunks(batch).collect();
        while state.batch_in_epoch < chunks.len() && state.step < total_steps {
            if control.snapshot.swap(false, Ordering::SeqCst) {
                // Tensors share their data until the next update copies it, so this is cheap
                // and the copy does not change as training goes on.
                let _ = snapshots.send(model.clone());
            }
            if control.stop.load(Ordering::SeqCst) {
                stopped = true;
                break;
            }
            if control.paused.load(Ordering::SeqCst) {
                let _ = tx.send(TrainEvent::Paused);
                while control.paused.load(Ordering::SeqCst) && !control.stop.load(Ordering::SeqCst)
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                let _ = tx.send(TrainEvent::Resumed);
                continue;
            }
            let b = Batch::from_windows(&data.train, chunks[state.batch_in_epoch]);
            let lr = sched.at(state.step);
            let beta = cfg.beta.at(state.step, planned);
            let t0 = Instant::now();
            let pool = pools.get(control.threads.load(Ordering::SeqCst))?;
            let s = pool
                .install(|| train_step(&mut model, &mut opt, &b, &cfg, state.step, lr, beta))
                .map_err(|what| TrainError::NotFinite {
                    step: state.step,
                    what,
                    kept: last_good(&out).filter(|p| p.exists()),
                })?;
            let secs = t0.elapsed().as_secs_f64();
            state.step += 1;
            state.batch_in_epoch += 1;
            state.adam_t = opt.t;
            if state.step.is_multiple_of(cfg.log_every.max(1)) || state.step == total_steps {
                let _ = tx.send(TrainEvent::Step {
                    step: state.step,
                    epoch: state.epoch,
                    total: s.total,
                    recon: s.recon,
                    recon_per_token: s.recon / steps as f64,
                    kl: s.kl,
                    beta,
                    lr,
                    grad_norm: s.grad_norm,
                    tokens_per_s: b.tokens() as f64 / secs,
                });
            }
        }
        if stopped {
            break;
        }
        let pool = pools.get(control.threads.load(Ordering::SeqCst))?;
        let val =
            pool.install(|| validate(&model, &data.val, cfg.val_batch, cfg.val_windows, cfg.seed));
        let epoch_done = state.batch_in_epoch >= chunks.len();
        if epoch_done {
            state.epoch += 1;
            state.batch_in_epoch = 0;
        }
        let best = val.windows > 0 && state.best_nelbo.is_none_or(|b| val.nelbo < b);
        if best {
            state.best_nelbo = Some(val.nelbo);
        }
        state.history.push(val.clone());
        let _ = tx.send(TrainEvent::Epoch {
            epoch: state.epoch,
            step: state.step,
            seconds: started.elapsed().as_secs_f64(),
            val,
            best,
        });
        if best || data.val.count() == 0 {
            save(&out, "best", &model, &state, None, tx)?;
        }
        save(&out, "last", &model, &state, Some(&opt), tx)?;
    }
    if stopped {
        save(&out, "last", &model, &state, Some(&opt), tx)?;
    }
    Ok(TrainOutcome {
        model,
        state,
        stopped,
    })
}
