//! What a training run says and hears: the `TrainEvent`s it sends and the `Control` switches
//! (pause, resume, stop, threads, snapshot) it checks between steps.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde::Serialize;

use super::eval::ValMetrics;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum TrainEvent {
    Start {
        params: usize,
        train_windows: usize,
        val_windows: usize,
        steps_per_epoch: usize,
        total_steps: usize,
        step: usize,
    },
    Step {
        step: usize,
        epoch: usize,
        /// Loss per window: recon + beta * KL (with free bits) + the weighted bag-of-words loss.
        total: f64,
        /// Reconstruction cross-entropy per window and per token.
        recon: f64,
        recon_per_token: f64,
        /// KL per window (no free bits).
        kl: f64,
        beta: f64,
        lr: f64,
        grad_norm: f64,
        tokens_per_s: f64,
    },
    Epoch {
        epoch: usize,
        step: usize,
        seconds: f64,
        val: ValMetrics,
        best: bool,
    },
    Saved {
        path: String,
    },
    Paused,
    Resumed,
}

/// Shared switches between the trainer and whoever drives it.
#[derive(Debug, Default)]
pub struct Control {
    pub(super) paused: AtomicBool,
    pub(super) stop: AtomicBool,
    pub(super) threads: AtomicUsize,
    pub(super) snapshot: AtomicBool,
}

impl Control {
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
    /// Matrix-work threads from the next step on (0: one per core).
    pub fn set_threads(&self, n: usize) {
        self.threads.store(n, Ordering::SeqCst);
    }
    /// Asks for a copy of the model as it is after the current step, sent on
    /// `Trainer::snapshots` (so generation can use a model while it trains).
    pub fn request_snapshot(&self) {
        self.snapshot.store(true, Ordering::SeqCst);
    }
}
