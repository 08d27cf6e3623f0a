//! Training: losses, schedules, the optimiser, validation, and the trainer thread with the
//! `TrainEvent`s it sends.

pub mod data;
pub mod eval;
mod events;
pub mod losses;
pub mod optim;
pub mod schedule;
mod trainer;

pub use data::{Batch, TrainData};
pub use eval::{validate, ValMetrics};
pub use events::{Control, TrainEvent};
pub use schedule::{Anneal, BetaSchedule, LrSchedule};
pub use trainer::{
    train_step, OutSpec, StepStats, TrainError, TrainJob, TrainOutcome, TrainState, Trainer,
};

use serde::{Deserialize, Serialize};

use crate::corpus::Corpus;

/// Settings of a run, saved with its checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub min_lr: f64,
    /// Warm-up steps of the learning rate.
    pub warmup: usize,
    pub weight_decay: f64,
    /// Global gradient-norm clip (0: none).
    pub clip: f64,
    pub beta: BetaSchedule,
    /// Free bits per latent dimension (nats): KL below this costs nothing and gets no gradient.
    pub free_bits: f64,
    /// Weight of the bag-of-words loss on z (0: off).
    #[serde(default)]
    pub bow_weight: f64,
    pub seed: u64,
    /// Share of pieces held out for validation (chosen by path hash).
    #[serde(default = "default_val_fraction")]
    pub val_fraction: f64,
    pub val_batch: usize,
    /// At most this many validation windows per epoch (evenly spaced).
    pub val_windows: usize,
    /// Matrix-work threads (0: one per core). `Control::set_threads` changes it mid-run.
    pub threads: usize,
    /// A `Step` event every this many steps.
    pub log_every: usize,
    /// Stop after this many steps in all (a partial epoch is validated and saved).
    pub max_steps: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch: 64,
            lr: 2e-3,
            min_lr: 1e-4,
            warmup: 100,
            weight_decay: 0.01,
            clip: 1.0,
            beta: BetaSchedule {
                max: 1.0,
                anneal: Anneal::Cyclical {
                    cycles: 4,
                    ratio: 0.5,
                },
            },
            free_bits: 0.25,
            bow_weight: 0.5,
            seed: 0,
            val_fraction: default_val_fraction(),
            val_batch: 64,
            val_windows: 512,
            threads: 0,
            log_every: 10,
            max_steps: None,
        }
    }
}

fn default_val_fraction() -> f64 {
    0.1
}

/// blake3 over the tokenizer settings and the content hash of every piece, in path order: two
/// corpora with the same fingerprint give the same windows.
pub fn corpus_fingerprint(corpus: &Corpus) -> String {
    let mut h = blake3::Hasher::new();
    h.update(corpus.tokenizer.fingerprint().as_bytes());
    let mut pieces: Vec<(&str, &str)> = corpus
        .pieces
        .iter()
        .map(|p| (p.path.as_str(), p.hash.as_str()))
        .collect();
    pieces.sort();
    for (path, hash) in pieces {
        h.update(path.as_bytes());
        h.update(hash.as_bytes());
    }
    h.finalize().to_hex().to_string()
}
