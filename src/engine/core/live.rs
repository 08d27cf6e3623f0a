//! `play` with a model: the live stream from the current model, latent and sampling settings,
//! kept in step with the engine's commands through the `LiveHandle`, new training weights
//! swapped in as they come, and the notes it hands the player kept for the piano roll.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::generate::piece;
use crate::generate::sample::Sampling;
use crate::generate::stream::{Controls, NoteStream};
use crate::model::Vae;
use crate::music::tokens::TokenizerConfig;
use crate::music::Note;
use crate::play::{Item, LiveConfig, LiveHandle, LiveSource, NoteSource, Quantize};
use crate::rng::Rng;

use super::super::command::{Command, LatentCmd, PresetCmd, Quantum};
use super::super::snapshot::LiveStatus;
use super::Core;

/// Streamed notes kept for the piano roll.
const ROLL_KEEP: usize = 256;

/// The stream playing now.
pub struct Live {
    pub handle: LiveHandle,
    /// Notes handed to the player, oldest first (filled on the feeder thread).
    pub roll: Arc<Mutex<VecDeque<Note>>>,
    /// The controls last given to the handle.
    sent: Controls,
}

/// The live source with a tap that keeps what it hands over for the roll. Runs on the feeder
/// thread, never the scheduler's; the lock is held only to push a few notes.
struct Tapped {
    inner: Box<dyn NoteSource>,
    roll: Arc<Mutex<VecDeque<Note>>>,
}

impl NoteSource for Tapped {
    fn fill(&mut self, until: f64, out: &mut Vec<Item>) -> bool {
        let from = out.len();
        let ended = self.inner.fill(until, out);
        if out.len() > from {
            let mut roll = self.roll.lock().unwrap_or_else(|e| e.into_inner());
            for item in &out[from..] {
                if let Item::Note(n) | Item::Voiced(n) = item {
                    roll.push_back(*n);
                    if roll.len() > ROLL_KEEP {
                        roll.pop_front();
                    }
                }
            }
        }
        ended
    }

    fn bar_beats(&self) -> f64 {
        self.inner.bar_beats()
    }

    fn horizon_secs(&self) -> Option<f64> {
        self.inner.horizon_secs()
    }

    fn prepare(&mut self, playhead: f64) -> bool {
        self.inner.prepare(playhead)
    }
}

/// Whether `c` changes what the stream's controls are made of (latent, sampling, seed).
pub(super) fn is_live_control(c: &Command) -> bool {
    matches!(
        c,
        Command::Latent(_)
            | Command::Temperature(_)
            | Command::TopK(_)
            | Command::TopP(_)
            | Command::Seed(_)
            | Command::Preset(PresetCmd::Load(_))
    ) && !matches!(c, Command::Latent(LatentCmd::Add { .. }))
}

pub(super) fn quantize_of(q: Quantum) -> Quantize {
    match q {
        Quantum::Bar => Quantize::Bar,
        Quantum::Beat => Quantize::Beat,
    }
}

impl Core {
    /// Whether `play` streams from the model (one is loaded and it uses event tokens).
    pub(super) fn can_stream(&self) -> bool {
        self.models
            .model
            .as_ref()
            .is_some_and(|m| !matches!(m.meta.tokenizer, TokenizerConfig::Paper(_)))
    }

    pub(super) fn streaming(&self) -> bool {
        self.live.is_some() && self.play.is_playing()
    }

    /// The controls the engine's latent and sampling settings make.
    fn live_controls(&self) -> Controls {
        Controls {
            z: self.models.latent.clone(),
            sampling: Sampling {
                temperature: self.sampling.temperature,
                top_k: self.sampling.top_k,
                top_p: self.sampling.top_p,
                ..Sampling::default()
            },
            seed: Some(self.sampling.seed),
        }
    }

    /// The primer: a window of a piece of the style set, else the current piece's tail, else the
    /// model's empty primer.
    fn live_primer(&self) -> Result<Vec<u32>, String> {
        let m = self.models.model.as_ref().ok_or("play: no model")?;
        if let Some(style) = self.sampling.style.as_deref() {
            let mut rng = Rng::new(self.sampling.seed);
            return self
                .primer(m, Some(style), &mut rng)
                .map_err(|e| format!("play: {e}"));
        }
        let tail = self.models.piece.as_ref().and_then(|p| {
            let tokens = m.meta.tokenizer.build().encode(p, None).ok()?;
            let ids = m.meta.vocab.encode(&tokens).0;
            let from = ids.len().saturating_sub(m.meta.model.window);
            (ids.len() > 2).then(|| ids[from..].to_vec())
        });
        Ok(tail.unwrap_or_else(|| piece::empty_primer(&m.meta)))
    }

    /// `play` with a model: streams until stopped.
    pub(super) fn start_streaming(&mut self) -> Result<(), String> {
        let m = self.models.model.as_ref().ok_or("play: no model")?;
        let controls = self.live_controls();
        let primer = self.live_primer()?;
        let gen = NoteStream::new(
            m.model.stream(),
            m.step as u64,
            &m.meta,
            controls.clone(),
            &primer,
        )
        .map_err(|e| format!("play: {e}"))?;
        let (source, handle) = LiveSource::new(gen, LiveConfig::default());
        let roll = Arc::new(Mutex::new(VecDeque::new()));
        let tapped = Tapped {
            inner: self.mixed(Box::new(source)),
            roll: roll.clone(),
        };
        self.play
            .start(Box::new(tapped), Vec::new(), &self.events)?;
        self.live = Some(Live {
            handle,
            roll,
            sent: controls,
        });
        self.log("play: streaming live from the model (stop to end)");
        Ok(())
    }

    /// Gives the stream the engine's controls when they changed, from `q`.
    pub(super) fn sync_live(&mut self, q: Quantize) -> Result<(), String> {
        if !self.streaming() {
            return Ok(());
        }
        let controls = self.live_controls();
        let Some(live) = self.live.as_mut() else {
            return Ok(());
        };
        if controls == live.sent {
            return Ok(());
        }
        // Remembered even when refused, so that a refusal is reported once, not at every tick.
        live.sent = controls.clone();
        let r = live.handle.set(controls, q);
        self.note_loop_wait();
        r.map_err(|e| format!("play: {e}"))
    }

    /// New weights (the trainer's latest) for the stream, from its next bar line.
    pub(super) fn swap_live_weights(&mut self) {
        // Layers stream from the model whether the main voice streams or plays a piece.
        self.swap_layer_weights();
        if !self.streaming() {
            return;
        }
        let (Some(live), Some(m)) = (&self.live, &self.models.model) else {
            return;
        };
        live.handle.swap_weights(m.model.stream(), m.step as u64);
        self.log(format!(
            "play: the weights of step {} from the next bar",
            m.step
        ));
    }

    /// A new model while streaming: the stream starts again from it (a model that cannot
    /// stream ends it).
    pub(super) fn restart_live(&mut self) {
        if !self.streaming() {
            return;
        }
        let r = if self.can_stream() {
            self.start_streaming()
        } else {
            self.live = None;
            self.play.stop(&self.events)
        };
        if let Err(e) = r {
            self.live = None;
            self.emit(super::super::event::Event::Error { text: e });
        }
    }

    /// Drops the stream once playing has ended.
    pub(super) fn poll_live(&mut self) {
        if self.live.is_some() && !self.play.is_playing() {
            self.live = None;
        }
        self.poll_layers();
    }

    pub(super) fn live_status(&self) -> Option<LiveStatus> {
        let live = self.live.as_ref()?;
        let (notes, tokens) = live.handle.counts();
        Some(LiveStatus {
            playing_weights: live.handle.playing_weights(),
            changes_applied: live.handle.changes_applied(),
            applied_beat: live.handle.applied_beat(),
            notes,
            tokens,
        })
    }

    /// Streamed notes from `from` to `to` beats.
    pub(super) fn live_roll(&self, from: f64, to: f64) -> Option<Vec<Note>> {
        let live = self.live.as_ref()?;
        let roll = live.roll.lock().unwrap_or_else(|e| e.into_inner());
        Some(
            roll.iter()
                .filter(|n| n.end() >= from && n.start <= to)
                .copied()
                .collect(),
        )
    }
}
