//! Training runs in the engine: starting one on the loaded corpus, polling its events into the
//! loss chart and the log, and handing its weight snapshots to the playing streams.

use crossbeam_channel::Sender;

use crate::corpus::Split;
use crate::train::{BetaSchedule, TrainConfig, TrainData, TrainEvent, TrainJob, Trainer};

use super::super::command::{TrainCmd, TrainSettings};
use super::super::event::Event;
use super::model::Models;
use super::Core;

/// Loss points kept for the chart.
const SERIES: usize = 2000;

/// A training run in progress.
pub struct TrainRun {
    pub trainer: Trainer,
    /// The model's step count when the run began.
    pub base_step: usize,
    /// Ask for the weights every this many steps (`train ... swap N`).
    pub swap_every: Option<usize>,
}

fn push_point(series: &mut Vec<(f64, f64)>, x: f64, y: f64) {
    if y.is_finite() {
        series.push((x, y));
        if series.len() > SERIES {
            series.drain(..series.len() - SERIES);
        }
    }
}

impl Models {
    pub fn training(&self) -> bool {
        self.run.is_some()
    }

    /// Forwards the trainer's events, keeps the loss history, and takes the model back when the
    /// run ends.
    pub fn poll_training(&mut self, events: &Sender<Event>) {
        let Some(run) = &self.run else {
            return;
        };
        let base = run.base_step;
        let mut finished = false;
        loop {
            let e = match run.trainer.events.try_recv() {
                Ok(e) => e,
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                // The trainer thread has ended (its sender is gone).
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    finished = true;
                    break;
                }
            };
            let s = &mut self.status;
            match &e {
                TrainEvent::Start {
                    total_steps, step, ..
                } => {
                    s.total_steps = base + total_steps;
                    s.step = base + step;
                }
                TrainEvent::Step {
                    step,
                    epoch,
                    total,
                    recon,
                    kl,
                    beta,
                    lr,
                    tokens_per_s,
                    ..
                } => {
                    s.step = base + step;
                    s.epoch = *epoch;
                    s.beta = *beta;
                    s.lr = *lr;
                    s.tokens_per_s = *tokens_per_s;
                    let x = s.step as f64;
                    push_point(&mut s.train_total, x, *total);
                    push_point(&mut s.train_recon, x, *recon);
                    push_point(&mut s.train_kl, x, *kl);
                    if run.swap_every.is_some_and(|n| step % n == 0) {
                        run.trainer.control.request_snapshot();
                    }
                }
                TrainEvent::Epoch { step, val, .. } => {
                    let x = (base + step) as f64;
                    push_point(&mut s.val_total, x, val.nelbo);
                    push_point(&mut s.val_recon, x, val.recon);
                    push_point(&mut s.val_kl, x, val.kl);
                    // Hear the model learn: generation takes these weights from now on.
                    run.trainer.control.request_snapshot();
                }
                TrainEvent::Paused => s.paused = true,
                TrainEvent::Resumed => s.paused = false,
                TrainEvent::Saved { .. } => {}
            }
            let _ = events.send(Event::Train(e));
        }
        if !finished {
            return;
        }
        let Some(run) = self.run.take() else {
            return;
        };
        self.status.running = false;
        self.status.paused = false;
        match run.trainer.join() {
            Ok(outcome) => {
                let steps = outcome.state.step;
                if let Some(m) = self.model.as_mut().filter(|_| all_finite(&outcome.model)) {
                    m.model = outcome.model;
                    m.step = run.base_step + steps;
                    m.unsaved = true;
                    m.meta.training = serde_json::to_value(&outcome.state).unwrap_or_default();
                }
                let _ = events.send(Event::TrainDone {
                    steps,
                    epochs: outcome.state.epoch,
                    stopped: outcome.stopped,
                    best_nelbo: outcome.state.best_nelbo,
                });
                let _ = events.send(Event::Log {
                    level: super::super::event::Level::Info,
                    text: format!(
                        "training {}: {steps} steps, {} epochs",
                        if outcome.stopped { "stopped" } else { "done" },
                        outcome.state.epoch
                    ),
                });
            }
            Err(e) => {
                let _ = events.send(Event::Error {
                    text: format!("train: {e}"),
                });
            }
        }
    }

    /// Takes the trainer's latest weights for generation (asked for at each epoch, and every
    /// `swap N` steps); true when new ones came.
    pub fn poll_snapshots(&mut self, events: &Sender<Event>) -> bool {
        let Some(run) = &self.run else {
            return false;
        };
        let mut latest = None;
        while let Ok(m) = run.trainer.snapshots.try_recv() {
            latest = Some(m);
        }
        if let (Some(weights), Some(m)) = (latest, &mut self.model) {
            if !all_finite(&weights) {
                let _ = events.send(Event::Error {
                    text: "train: the new weights are not finite (NaN or infinity); \
                           the stream keeps the last good ones"
                        .into(),
                });
                return false;
            }
            m.model = weights;
            m.step = self.status.step;
            m.unsaved = true;
            let _ = events.send(Event::ModelReady {
                label: format!("{} (step {})", m.label, m.step),
            });
            return true;
        }
        false
    }

    pub fn stop_training(&mut self) {
        if let Some(run) = &self.run {
            run.trainer.control.stop();
        }
        if let Some(run) = self.run.take() {
            if let (Ok(outcome), Some(m)) = (
                run.trainer
                    .join()
                    .ok()
                    .filter(|o| all_finite(&o.model))
                    .ok_or(()),
                &mut self.model,
            ) {
                m.step = run.base_step + outcome.state.step;
                m.model = outcome.model;
                m.unsaved = true;
            }
        }
    }
}

impl Core {
    pub(super) fn train(&mut self, t: TrainCmd) -> Result<(), String> {
        let control = self.models.run.as_ref().map(|r| r.trainer.control.clone());
        match (t, control) {
            (TrainCmd::Pause, Some(c)) => c.pause(),
            (TrainCmd::Resume, Some(c)) => c.resume(),
            (TrainCmd::Stop, Some(c)) => c.stop(),
            (TrainCmd::Pause | TrainCmd::Resume | TrainCmd::Stop, None) => {
                return Err("train: no training is running".into())
            }
            (TrainCmd::Start(_), Some(_)) => {
                return Err("train: training is already running (train stop first)".into())
            }
            (TrainCmd::Start(s), None) => return self.start_training(s),
        }
        Ok(())
    }

    fn start_training(&mut self, s: TrainSettings) -> Result<(), String> {
        let corpus = self
            .models
            .corpus
            .clone()
            .ok_or("train: no corpus loaded (load corpus PATH)")?;
        let m = self
            .models
            .model
            .as_ref()
            .ok_or("train: no model (model new KIND or model load PATH)")?;
        if corpus.tokenizer != m.meta.tokenizer {
            return Err("train: the corpus was read with another tokenizer than the model's; load corpus again after loading the model".into());
        }
        let base = TrainConfig::default();
        let mut config = TrainConfig {
            epochs: s.epochs.unwrap_or(base.epochs),
            max_steps: s.steps,
            batch: s.batch.unwrap_or(if m.meta.model.window <= 64 {
                16
            } else {
                base.batch
            }),
            lr: s.lr.unwrap_or(base.lr),
            beta: BetaSchedule {
                max: s.beta.unwrap_or(base.beta.max),
                ..base.beta
            },
            seed: self.sampling.seed,
            log_every: 1,
            // Leave a core for the player and the UI.
            threads: std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1).max(1)),
            ..base
        };
        let window = m.meta.model.window;
        let vocab = &m.meta.vocab;
        let data = TrainData {
            train: corpus.windows(vocab, Split::Train, config.val_fraction, window, window, 0),
            val: corpus.windows(
                vocab,
                Split::Validation,
                config.val_fraction,
                window,
                window,
                0,
            ),
        };
        if data.train.count() == 0 {
            return Err(format!(
                "train: no piece of the corpus is longer than the model's window ({window} tokens)"
            ));
        }
        if let (Some(steps), None) = (s.steps, s.epochs) {
            // Enough epochs for the steps asked for; `max_steps` ends the run.
            let per_epoch = data.train.count().div_ceil(config.batch.max(1)).max(1);
            config.epochs = steps.div_ceil(per_epoch).max(1);
        }
        let trainer = Trainer::spawn(TrainJob {
            model: m.model.clone(),
            config,
            data,
            out: None,
            resume: None,
            baseline_kn: None,
        })
        .map_err(|e| format!("train: {e}"))?;
        let base_step = m.step;
        self.models.status.running = true;
        self.models.status.paused = false;
        self.models.status.step = base_step;
        self.models.run = Some(TrainRun {
            trainer,
            base_step,
            swap_every: s.swap_every,
        });
        self.log("training started");
        Ok(())
    }
}

/// Whether every weight of `model` is a finite number: weights that are not never reach a
/// stream or replace the model in use.
fn all_finite(model: &crate::model::Model) -> bool {
    use crate::model::Vae;
    model
        .params()
        .into_iter()
        .all(|(_, p)| p.as_vec().iter().all(|x| x.is_finite()))
}

#[cfg(test)]
mod tests {
    use super::all_finite;
    use crate::model::{Model, ModelConfig, ModelKind, Preset, Vae};

    #[test]
    fn weights_with_a_nan_are_not_finite() {
        let cfg = ModelConfig::preset(ModelKind::VaeLstm, Preset::Tiny, 40);
        let mut model = Model::build(&cfg, &dfdx::prelude::Cpu::default(), 1).unwrap();
        assert!(all_finite(&model));
        let (_, p) = model.params_mut().into_iter().next().unwrap();
        let mut v = p.as_vec();
        v[0] = f32::NAN;
        p.copy_from(&v);
        assert!(!all_finite(&model));
    }
}
