//! A full screen's worth of real data for snapshot tests and the frame benchmark: the loss
//! curves of the bundled VAE-LSTM's training log, the notes of a bundled Bach chorale around a
//! playhead, a 64-dimensional latent.

use std::path::Path;

use crate::music::midi;
use crate::rng::Rng;
use crate::tui::app::App;
use crate::tui::panes::log::Level;
use crate::tui::view::{
    LatentView, LossSeries, PortsView, RollNote, RollView, TrainView, TransportView, View,
};

/// The training log and the piece the sample view is made of, under the bundle root.
pub const TRAIN_LOG: &str = "models/logs/vae-lstm-small.jsonl";
pub const PIECE: &str = "data/classical/bach/bach__bwv1.6.mid";

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("{path}: {problem}")]
    Read { path: String, problem: String },
}

/// Loss curves from a training log written by `improv train --json`: per step total,
/// reconstruction and KL; per epoch validation -ELBO, reconstruction (per token) and KL.
pub fn losses_from_log(text: &str) -> LossSeries {
    let mut s = LossSeries::default();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let step = v["step"].as_f64().unwrap_or(0.0);
        match v["event"].as_str() {
            Some("step") => {
                let get = |k: &str| v[k].as_f64();
                if let (Some(t), Some(r), Some(k)) = (get("total"), get("recon"), get("kl")) {
                    s.total.push((step, t));
                    s.recon.push((step, r));
                    s.kl.push((step, k));
                }
            }
            Some("epoch") => {
                let val = &v["val"];
                if let (Some(n), Some(r), Some(k)) = (
                    val["nelbo"].as_f64(),
                    val["recon"].as_f64(),
                    val["kl"].as_f64(),
                ) {
                    s.val_total.push((step, n));
                    s.val_recon.push((step, r));
                    s.val_kl.push((step, k));
                }
            }
            _ => {}
        }
    }
    s
}

/// The notes of a MIDI file for the piano roll.
pub fn roll_notes(path: &Path) -> Result<Vec<RollNote>, SampleError> {
    let read = midi::read_file(path).map_err(|e| SampleError::Read {
        path: path.display().to_string(),
        problem: e.to_string(),
    })?;
    Ok(read
        .seq
        .notes
        .iter()
        .map(|n| RollNote {
            pitch: n.pitch,
            start: n.start,
            end: n.end(),
            velocity: n.velocity,
        })
        .collect())
}

/// The full sample view, read from files under `root` (the bundle root).
pub fn realistic_view(root: &Path) -> Result<View, SampleError> {
    let log_path = root.join(TRAIN_LOG);
    let log = std::fs::read_to_string(&log_path).map_err(|e| SampleError::Read {
        path: log_path.display().to_string(),
        problem: e.to_string(),
    })?;
    let losses = losses_from_log(&log);
    let step = losses.total.last().map_or(0, |p| p.0 as u64);
    let mut rng = Rng::new(7);
    let z: Vec<f32> = (0..64).map(|_| rng.normal() as f32).collect();
    Ok(View {
        corpus: Some("data/ (bundled)".into()),
        model: Some("vae-lstm small (models/vae-lstm-small)".into()),
        train: TrainView {
            status: "training".into(),
            step,
            epoch: 12,
            target_steps: Some(1644),
            tokens_per_s: Some(2240.0),
            losses,
        },
        latent: LatentView {
            z,
            marked: vec![3, 17],
        },
        roll: RollView {
            notes: roll_notes(&root.join(PIECE))?,
            playhead: 17.5,
        },
        transport: TransportView {
            bpm: 96.0,
            beat: 17.5,
            playing: true,
            temperature: 0.9,
            top_k: Some(20),
            top_p: Some(0.95),
            seed: Some(1),
            style: Some("bach".into()),
            transpose: -2,
            swing: 0.1,
            weights_step: Some(step),
            ..Default::default()
        },
        ports: PortsView {
            available: vec![
                "Midi Through:Midi Through Port-0".into(),
                "system:playback_1".into(),
            ],
            connected: vec!["Midi Through:Midi Through Port-0".into()],
            virtual_port: Some("improv".into()),
            synth: true,
            synth_patch: Some("piano".into()),
            recording: None,
            controls: vec!["cc 74 -> latent 3".into()],
        },
    })
}

/// An app showing the realistic view, with some history, log lines and a line being typed.
pub fn realistic_app(root: &Path) -> Result<App, SampleError> {
    let history = [
        "load corpus data",
        "model load models/vae-lstm-small",
        "train epochs 12",
        "play",
    ];
    let mut app = App::new(
        realistic_view(root)?,
        history.iter().map(|s| s.to_string()).collect(),
    );
    app.push_log(Level::Command, "load corpus data");
    app.push_log(Level::Info, "corpus data: loaded");
    app.push_log(Level::Command, "train epochs 12");
    app.push_log(Level::Info, "epoch 1: val -ELBO 3.376/token, KL 19.4");
    app.push_log(
        Level::Warn,
        "connect: no port named 'fluid'; using Midi Through",
    );
    app.push_log(
        Level::Error,
        "gen: style 'jazz' is not in the corpus (styles: bach, folk)",
    );
    app.dim = 5;
    app.selected = vec![5, 9];
    for c in "temperature 0.9".chars() {
        app.cmd.insert(c);
    }
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bundled_log_and_piece() {
        let view = realistic_view(&crate::paths::bundle_root()).unwrap();
        let l = &view.train.losses;
        assert!(l.total.len() > 50, "{} steps", l.total.len());
        assert_eq!(l.total.len(), l.kl.len());
        assert!(!l.val_total.is_empty());
        // Training brings the loss down.
        assert!(l.total.last().unwrap().1 < l.total[0].1);
        assert!(view.roll.notes.len() > 100);
        assert!(view.roll.notes.iter().all(|n| n.end > n.start));
    }

    #[test]
    fn missing_file_names_it() {
        let err = realistic_view(Path::new("/nonexistent"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/nonexistent/models/logs/vae-lstm-small.jsonl: "),
            "{err}"
        );
    }
}
