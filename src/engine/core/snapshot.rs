//! Copies the engine's state into the shared `Snapshot` front ends draw.

use crate::model::Vae;

use super::super::snapshot::{
    CorpusSummary, ModelSummary, PieceSummary, RollNote, Snapshot, TransportState,
};
use super::Core;

/// Beats of the piece shown before and after the playhead.
const ROLL_BEFORE: f64 = 4.0;
const ROLL_AFTER: f64 = 8.0;

impl Core {
    /// `play piece`: the current piece once.
    pub(super) fn start_playing(&mut self) -> Result<(), String> {
        let piece = self
            .models
            .piece
            .as_ref()
            .ok_or("play: no piece (gen first)")?;
        let (seq, sigs) = (piece.clone(), piece.time_sigs.clone());
        let source = self.mixed(Box::new(crate::play::SeqSource::new(seq)));
        self.play.start(source, sigs, &self.events)
    }

    pub(super) fn snapshot(&self) -> Snapshot {
        let m = &self.models;
        let position = self.play.position();
        let (from, to) = (position - ROLL_BEFORE, position + ROLL_AFTER);
        let streamed = self.live_roll(from, to);
        let notes = match (&streamed, &m.piece) {
            (Some(s), _) => s.as_slice(),
            (None, Some(p)) => p.notes.as_slice(),
            (None, None) => &[],
        };
        let notes = notes
            .iter()
            .filter(|n| n.end() >= from && n.start <= to)
            .map(|n| RollNote {
                pitch: n.pitch,
                channel: n.channel,
                velocity: n.velocity,
                start: n.start,
                length: n.duration,
            })
            .collect();
        let live = self.live_status();
        Snapshot {
            corpus: m.corpus.as_ref().map(|c| CorpusSummary {
                path: c.root.clone(),
                pieces: c.pieces.len(),
                notes: c.notes(),
                tokens: c.tokens(),
                seconds: c.seconds(),
                styles: c.styles(),
            }),
            corpus_loading: m.corpus_loading,
            model: m.model.as_ref().map(|s| ModelSummary {
                label: s.label.clone(),
                kind: s.meta.model.kind.name().to_string(),
                latent: s.model.config().latent,
                params: s.model.num_params(),
                path: s.path.clone(),
                step: s.step,
                playing_weights: live.as_ref().map(|l| l.playing_weights),
            }),
            train: m.status.clone(),
            latent: m.latent.clone(),
            selected_dims: m.selected.clone(),
            sampling: self.sampling.clone(),
            transport: TransportState {
                loop_bars: self.layers.looping().0,
                ..self.play.transport()
            },
            params: self.play.params,
            sinks: self.play.sinks(),
            synth_on: self.play.synth_on,
            virtual_port: self.play.virtual_on,
            recording: self.play.recording(),
            piece: m.piece.as_ref().map(|p| PieceSummary {
                notes: p.notes.len(),
                beats: p.end,
                seconds: p.duration_secs(),
            }),
            notes,
            live,
            watching: self.watch.as_ref().map(|w| w.path.clone()),
            session: self.session_path.clone(),
            history: self.history.clone(),
            busy: self.blocker.as_ref().map(|b| b.what.clone()),
            layers: self.layer_statuses(),
            main_muted: self.main_muted(),
            presets: self
                .steering
                .presets
                .names()
                .into_iter()
                .map(String::from)
                .collect(),
            maps: self.control.summary(),
            clock_in: self.control.clock_status(),
            attributes: self.models.attribute_names.clone(),
            ports: self.play.ports.clone(),
        }
    }

    /// Stores a fresh snapshot (the lock is held only for the swap).
    pub(super) fn publish(&self) {
        let snap = self.snapshot();
        match self.shared.lock() {
            Ok(mut s) => *s = snap,
            Err(poisoned) => *poisoned.into_inner() = snap,
        }
    }
}
