//! The TUI's adapter to the engine: the engine's `Snapshot` becomes the panes' `View`, its
//! events become log lines, and its completer feeds the command line.

use crate::engine::{self, Event, Snapshot};
use crate::tui::cmdline::Candidate;
use crate::tui::panes::log::Level;
use crate::tui::view::{
    LatentView, LossSeries, PortsView, RollNote, RollView, TrainView, TransportView, View,
};

/// What the panes draw, from what the engine knows.
pub fn view_of(s: &Snapshot) -> View {
    let corpus = match (&s.corpus, s.corpus_loading) {
        (_, true) => Some("loading...".to_string()),
        (Some(c), false) => Some(format!(
            "{} ({} pieces, {} notes)",
            c.path.display(),
            c.pieces,
            c.notes
        )),
        (None, false) => None,
    };
    let t = &s.train;
    let status = if t.running && t.paused {
        "paused"
    } else if t.running {
        "training"
    } else if t.step > 0 {
        "done"
    } else {
        "idle"
    };
    let weights_step = s.model.as_ref().map(|m| m.step as u64).filter(|&st| st > 0);
    View {
        corpus,
        model: s.model.as_ref().map(|m| m.label.clone()),
        train: TrainView {
            status: status.into(),
            step: t.step as u64,
            epoch: t.epoch as u64,
            target_steps: (t.total_steps > 0).then_some(t.total_steps as u64),
            tokens_per_s: (t.tokens_per_s > 0.0).then_some(t.tokens_per_s),
            losses: LossSeries {
                total: t.train_total.clone(),
                recon: t.train_recon.clone(),
                kl: t.train_kl.clone(),
                val_total: t.val_total.clone(),
                val_recon: t.val_recon.clone(),
                val_kl: t.val_kl.clone(),
            },
        },
        latent: LatentView {
            z: s.latent.clone(),
            marked: s.selected_dims.clone(),
        },
        roll: RollView {
            notes: s
                .notes
                .iter()
                .map(|n| RollNote {
                    pitch: n.pitch,
                    start: n.start,
                    end: n.start + n.length,
                    velocity: n.velocity,
                })
                .collect(),
            playhead: s.transport.position,
        },
        transport: TransportView {
            bpm: s.params.tempo.unwrap_or(s.transport.bpm),
            beats_per_bar: 4,
            beat: s.transport.position,
            playing: s.transport.playing,
            temperature: s.sampling.temperature,
            top_k: s.sampling.top_k,
            top_p: s.sampling.top_p,
            seed: Some(s.sampling.seed),
            style: s.sampling.style.clone(),
            transpose: s.params.transpose,
            swing: s.params.swing as f32,
            weights_step,
            loop_bars: s.transport.loop_bars,
            layers: s
                .main_muted
                .then(|| "main:m".to_string())
                .into_iter()
                .chain(s.layers.iter().map(|l| {
                    let muted = if l.muted { ":m" } else { "" };
                    format!("{}:{}{muted}", l.name, l.channel)
                }))
                .collect(),
        },
        ports: PortsView {
            available: s.ports.outputs.clone(),
            connected: s
                .sinks
                .iter()
                .map(|k| k.name.clone())
                .filter(|n| n != "synth")
                .collect(),
            virtual_port: s.virtual_port.then(|| "improv".to_string()),
            synth: s.synth_on,
            synth_patch: s
                .params
                .program
                .filter(|_| s.synth_on)
                .map(|p| crate::music::gm::GM_PROGRAMS[usize::from(p.min(127))].to_string()),
            recording: s.recording.as_ref().map(|p| p.display().to_string()),
            controls: controls_of(s),
        },
    }
}

/// Controller maps and the followed clock, one line each.
fn controls_of(s: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = s
        .maps
        .iter()
        .map(|(cc, target)| format!("cc {cc} -> {target}"))
        .collect();
    if let Some(c) = &s.clock_in {
        out.push(match c.bpm {
            Some(bpm) => format!("clock in: {} {bpm:.1} bpm", c.port),
            None => format!("clock in: {} (waiting)", c.port),
        });
    }
    out
}

/// The message an engine event adds to the log, if any (training steps go to the chart, not
/// the log); `App::push_log` splits it into lines.
pub fn log_of(e: &Event) -> Option<(Level, &str)> {
    match e {
        Event::Log {
            level: engine::Level::Info,
            text,
        } => Some((Level::Info, text)),
        Event::Log {
            level: engine::Level::Warn,
            text,
        } => Some((Level::Warn, text)),
        Event::Error { text } => Some((Level::Error, text)),
        _ => None,
    }
}

/// The engine's completions as command-line candidates.
pub fn candidates(line: &str, cursor: usize, snap: &Snapshot) -> Vec<Candidate> {
    engine::complete(line, cursor, snap)
        .into_iter()
        .map(|c| Candidate {
            start: c.span.start,
            text: c.value,
        })
        .collect()
}

/// The parse error of a line about to run: (byte column, message with the suggestion).
pub fn check(line: &str) -> Option<(usize, String)> {
    engine::validate(line)
        .err()
        .map(|e| (e.span.start, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ClockInStatus;

    #[test]
    fn the_ports_pane_shows_maps_clock_and_patch() {
        let mut s = Snapshot {
            maps: vec![(1, "tempo".into()), (74, "latent 3".into())],
            clock_in: Some(ClockInStatus {
                port: "Keys:0".into(),
                bpm: Some(121.34),
                running: true,
            }),
            synth_on: true,
            ..Snapshot::default()
        };
        s.params.program = Some(4);
        let p = view_of(&s).ports;
        assert_eq!(
            p.controls,
            [
                "cc 1 -> tempo",
                "cc 74 -> latent 3",
                "clock in: Keys:0 121.3 bpm"
            ]
        );
        assert_eq!(p.synth_patch.as_deref(), Some("Electric Piano 1"));
        s.synth_on = false;
        assert_eq!(view_of(&s).ports.synth_patch, None);
    }
}
