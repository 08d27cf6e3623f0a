//! The live generator as a player source: a [`NoteStream`] run ahead of the playhead on the
//! feeder thread, handing the scheduler only the notes due within a short horizon (100 ms by
//! default). What it has not handed over it can still change: when the engine sets new controls
//! or new weights through the shared [`LiveHandle`], the queued notes from the change's beat on
//! are dropped and regenerated from the model state saved with the first of them. Notes already
//! handed over play out with their note-offs; the scheduler thread never waits on any of this.
//!
//! Typical use (an engine):
//! ```ignore
//! let (source, handle) = LiveSource::new(stream, LiveConfig::default());
//! player.feed(Box::new(source))?;
//! handle.set(new_controls, Quantize::Now)?;      // heard within ~100 ms
//! handle.swap_weights(model.stream(), step);    // from the next bar line
//! let playing = handle.playing_weights();
//! ```

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::generate::stream::{Checkpoint, Controls, NoteStream, StreamError};
use crate::model::TokenStream;
use crate::music::Note;

use super::schedule::Item;
use super::source::NoteSource;

/// When a change takes effect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Quantize {
    /// From the first note not handed to the scheduler yet (within the horizon, ~100 ms).
    #[default]
    Now,
    /// From the next beat after the horizon.
    Beat,
    /// From the next bar line after the horizon (the stream's own bar lines).
    Bar,
}

/// How the live source runs.
#[derive(Clone, Copy, Debug)]
pub struct LiveConfig {
    /// Seconds ahead of the playhead the scheduler gets notes; the latency of a change.
    pub horizon_secs: f64,
    /// Beats the generator works ahead of the playhead.
    pub ahead_beats: f64,
    /// End after this many beats (`None`: play until stopped).
    pub length_beats: Option<f64>,
    /// Tokens one `prepare` call may sample (bounds the feeder's time away from handing over).
    pub tokens_per_prepare: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            horizon_secs: 0.1,
            ahead_beats: 8.0,
            length_beats: None,
            tokens_per_prepare: 16,
        }
    }
}

/// A change waiting for the generator.
struct Change {
    controls: Option<Controls>,
    weights: Option<(Box<dyn TokenStream>, u64)>,
    quantize: Quantize,
}

/// The engine's side: set controls, swap weights, read what plays. Cheap to clone (an `Arc`).
/// The mutex is held only to copy a value in or out; the scheduler thread never touches it.
#[derive(Clone)]
pub struct LiveHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    change: Mutex<Option<Change>>,
    controls: Mutex<Controls>,
    /// Label of the weights of the last note handed to the scheduler.
    playing: AtomicU64,
    /// Beat (f64 bits) the last change took effect from; NaN before any.
    applied: AtomicU64,
    /// Changes applied so far.
    changes: AtomicU64,
    notes: AtomicU64,
    tokens: AtomicU64,
    /// Size of the latent the model takes.
    latent: usize,
}

impl LiveHandle {
    fn lock_change(&self) -> std::sync::MutexGuard<'_, Option<Change>> {
        self.inner.change.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// New controls (latent, sampling, seed) from the next note not yet handed over, or the
    /// next beat or bar. A later call before the generator picks it up replaces it. Illegal
    /// sampling values or a latent of the wrong size are refused here, and the music goes on.
    pub fn set(&self, controls: Controls, quantize: Quantize) -> Result<(), StreamError> {
        controls.check(self.inner.latent)?;
        *self
            .inner
            .controls
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = controls.clone();
        let mut c = self.lock_change();
        let weights = c.take().and_then(|c| c.weights);
        *c = Some(Change {
            controls: Some(controls),
            weights,
            quantize,
        });
        Ok(())
    }

    /// Changes the controls in place (`f` gets the latest ones set).
    pub fn update(
        &self,
        quantize: Quantize,
        f: impl FnOnce(&mut Controls),
    ) -> Result<(), StreamError> {
        let mut now = self.controls();
        f(&mut now);
        self.set(now, quantize)
    }

    /// The latest controls set (or those the source started with).
    pub fn controls(&self) -> Controls {
        self.inner
            .controls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// New weights (a stream built from the trainer's latest snapshot, labelled `label`, e.g.
    /// its step) from the next bar line, primed with the recent tokens.
    pub fn swap_weights(&self, stream: Box<dyn TokenStream>, label: u64) {
        let mut c = self.lock_change();
        let controls = c.take().and_then(|c| c.controls);
        *c = Some(Change {
            controls,
            weights: Some((stream, label)),
            quantize: Quantize::Bar,
        });
    }

    /// Label of the weights whose notes the scheduler has been handed last.
    pub fn playing_weights(&self) -> u64 {
        self.inner.playing.load(Ordering::Relaxed)
    }

    /// The beat the last change took effect from (`None` before any).
    pub fn applied_beat(&self) -> Option<f64> {
        let b = f64::from_bits(self.inner.applied.load(Ordering::Relaxed));
        (!b.is_nan()).then_some(b)
    }

    /// How many changes the generator has applied.
    pub fn changes_applied(&self) -> u64 {
        self.inner.changes.load(Ordering::Relaxed)
    }

    /// Notes handed to the scheduler and tokens sampled so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.inner.notes.load(Ordering::Relaxed),
            self.inner.tokens.load(Ordering::Relaxed),
        )
    }
}

/// A generated note not yet handed over, with the state to regenerate it from.
struct Queued {
    note: Note,
    checkpoint: Checkpoint,
}

/// The player source. Runs on the feeder thread.
pub struct LiveSource {
    gen: NoteStream,
    handle: LiveHandle,
    cfg: LiveConfig,
    queue: VecDeque<Queued>,
    /// Everything before this beat has been handed over.
    handed: f64,
    /// A change waiting for a bar line the stream has not reached yet.
    waiting: Option<Change>,
    ended: bool,
}

/// Tokens one note may take before the source gives up on it for now.
const TOKENS_PER_NOTE: usize = 64;
/// The most tokens one `fill` samples to reach its horizon.
const TOKENS_PER_FILL: usize = 4096;

impl LiveSource {
    pub fn new(gen: NoteStream, cfg: LiveConfig) -> (Self, LiveHandle) {
        let handle = LiveHandle {
            inner: Arc::new(HandleInner {
                change: Mutex::new(None),
                controls: Mutex::new(gen.controls().clone()),
                playing: AtomicU64::new(gen.weights()),
                applied: AtomicU64::new(f64::NAN.to_bits()),
                changes: AtomicU64::new(0),
                notes: AtomicU64::new(0),
                tokens: AtomicU64::new(0),
                latent: gen.controls().z.len(),
            }),
        };
        let src = LiveSource {
            gen,
            handle: handle.clone(),
            cfg,
            queue: VecDeque::new(),
            handed: 0.0,
            waiting: None,
            ended: false,
        };
        (src, handle)
    }

    /// The generator (for tests and benchmarks).
    pub fn stream(&self) -> &NoteStream {
        &self.gen
    }

    /// Notes generated and not handed over yet.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Samples up to `budget` tokens, queueing the notes; stops early at `until` beats.
    fn generate(&mut self, until: f64, budget: usize) -> usize {
        let mut used = 0;
        while used < budget && self.gen.position() < until {
            let before = self.gen.tokens();
            let got = self.gen.next_note(TOKENS_PER_NOTE.min(budget - used));
            used += (self.gen.tokens() - before) as usize;
            if let Some((note, checkpoint)) = got {
                self.queue.push_back(Queued { note, checkpoint });
            }
        }
        self.handle
            .inner
            .tokens
            .store(self.gen.tokens(), Ordering::Relaxed);
        used
    }

    /// Picks up a change from the handle (or the one waiting) and applies it if its beat is
    /// known.
    fn take_change(&mut self) {
        if let Some(c) = self.handle.lock_change().take() {
            self.waiting = Some(match self.waiting.take() {
                // Weights still waiting for their bar line are not lost to a later control change.
                Some(old) if c.weights.is_none() && old.weights.is_some() => Change {
                    weights: old.weights,
                    quantize: Quantize::Bar,
                    ..c
                },
                _ => c,
            });
        }
        let Some(change) = self.waiting.take() else {
            return;
        };
        let beat = match change.quantize {
            Quantize::Now => Some(self.handed),
            Quantize::Beat => Some(self.handed.ceil()),
            Quantize::Bar => self.gen.bar_line_from(self.handed),
        };
        let Some(beat) = beat else {
            // The stream has not placed the next bar line yet: keep the old settings until it has.
            self.waiting = Some(change);
            return;
        };
        self.apply(change, beat);
    }

    fn apply(&mut self, change: Change, beat: f64) {
        if let Some(i) = self.queue.iter().position(|q| q.note.start >= beat) {
            self.gen.rollback(&self.queue[i].checkpoint);
            self.queue.truncate(i);
        }
        if let Some((stream, label)) = change.weights {
            self.gen.swap_weights(stream, label, beat);
        }
        if let Some(c) = change.controls {
            // The handle has validated the controls; were one refused anyway, the old ones
            // would go on playing.
            let _ = self.gen.set_controls(c, beat);
        }
        self.gen.raise_floor(beat);
        let inner = &self.handle.inner;
        inner.applied.store(beat.to_bits(), Ordering::Relaxed);
        inner.changes.fetch_add(1, Ordering::Relaxed);
    }
}

impl NoteSource for LiveSource {
    fn fill(&mut self, until: f64, out: &mut Vec<Item>) -> bool {
        if self.ended {
            return true;
        }
        self.take_change();
        let end = self.cfg.length_beats.unwrap_or(f64::INFINITY);
        let want = until.min(end);
        self.generate(want, TOKENS_PER_FILL);
        // Whatever the stream did not reach in time, it must never place before `want` later.
        self.gen.raise_floor(want);
        while let Some(q) = self.queue.front().filter(|q| q.note.start < want) {
            let mut n = q.note;
            n.duration = n.duration.min(end - n.start);
            self.handle
                .inner
                .playing
                .store(q.checkpoint.weights(), Ordering::Relaxed);
            out.push(Item::Note(n));
            self.queue.pop_front();
            self.handle.inner.notes.fetch_add(1, Ordering::Relaxed);
        }
        self.handed = self.handed.max(want);
        if until >= end {
            out.push(Item::End { beat: end });
            self.ended = true;
        }
        self.ended
    }

    fn bar_beats(&self) -> f64 {
        self.gen.bar().1
    }

    fn horizon_secs(&self) -> Option<f64> {
        Some(self.cfg.horizon_secs)
    }

    fn prepare(&mut self, playhead: f64) -> bool {
        if self.ended {
            return false;
        }
        self.take_change();
        let target = (playhead.max(self.handed) + self.cfg.ahead_beats)
            .min(self.cfg.length_beats.unwrap_or(f64::INFINITY));
        let budget = self.cfg.tokens_per_prepare.max(1);
        self.generate(target, budget) == budget
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
