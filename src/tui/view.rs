//! The plain data every pane draws from: one `View` per frame, filled from the engine's snapshot.
//!
//! Panes never reach into the engine; keeping their input a plain struct lets tests and the frame
//! benchmark build a realistic screen without threads, ports or a model.

/// Everything on screen except the TUI's own state (command line, focus, log).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View {
    /// One line about the loaded corpus, e.g. `data/ 43 files, 61,240 notes`.
    pub corpus: Option<String>,
    /// One line about the model, e.g. `vae-lstm tiny (models/vae-lstm-small)`.
    pub model: Option<String>,
    pub train: TrainView,
    pub latent: LatentView,
    pub roll: RollView,
    pub transport: TransportView,
    pub ports: PortsView,
}

/// Training status and the loss history for the chart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainView {
    /// `idle`, `training`, `paused`, `done`, ...
    pub status: String,
    pub step: u64,
    pub epoch: u64,
    /// The step count the current run stops at, when it has one.
    pub target_steps: Option<u64>,
    pub tokens_per_s: Option<f64>,
    pub losses: LossSeries,
}

/// Loss curves as `(step, value)` points.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LossSeries {
    pub total: Vec<(f64, f64)>,
    pub recon: Vec<(f64, f64)>,
    pub kl: Vec<(f64, f64)>,
    pub val_total: Vec<(f64, f64)>,
    pub val_recon: Vec<(f64, f64)>,
    pub val_kl: Vec<(f64, f64)>,
}

impl LossSeries {
    pub fn is_empty(&self) -> bool {
        self.all().iter().all(|(_, s)| s.is_empty())
    }

    /// Every series with its legend name, in drawing order.
    pub fn all(&self) -> [(&'static str, &[(f64, f64)]); 6] {
        [
            ("total", &self.total),
            ("recon", &self.recon),
            ("kl", &self.kl),
            ("val total", &self.val_total),
            ("val recon", &self.val_recon),
            ("val kl", &self.val_kl),
        ]
    }
}

/// The latent vector being played.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatentView {
    pub z: Vec<f32>,
    /// Dimensions the engine marks (mapped to a controller, or chosen by the user).
    pub marked: Vec<usize>,
}

/// One note of the piano roll, in beats from the start of playback.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RollNote {
    pub pitch: u8,
    pub start: f64,
    pub end: f64,
    pub velocity: u8,
}

/// Notes recently played and queued, and where the playhead is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RollView {
    pub notes: Vec<RollNote>,
    pub playhead: f64,
}

/// Tempo, position and the sampling settings.
#[derive(Clone, Debug, PartialEq)]
pub struct TransportView {
    pub bpm: f64,
    pub beats_per_bar: u32,
    /// Playhead in beats from the start.
    pub beat: f64,
    pub playing: bool,
    pub temperature: f32,
    pub top_k: Option<usize>,
    pub top_p: Option<f32>,
    pub seed: Option<u64>,
    pub style: Option<String>,
    pub transpose: i32,
    pub swing: f32,
    /// Which training step's weights the generator plays (None: weights as loaded).
    pub weights_step: Option<u64>,
    /// Bars repeating (`loop BARS`).
    pub loop_bars: Option<u32>,
    /// The voices besides the main one, compactly: `bass:3` (name and channel), `:m` muted;
    /// `main:m` first when the main voice is muted.
    pub layers: Vec<String>,
}

impl Default for TransportView {
    fn default() -> Self {
        TransportView {
            bpm: 120.0,
            beats_per_bar: 4,
            beat: 0.0,
            playing: false,
            temperature: 1.0,
            top_k: None,
            top_p: None,
            seed: None,
            style: None,
            transpose: 0,
            swing: 0.0,
            weights_step: None,
            loop_bars: None,
            layers: Vec::new(),
        }
    }
}

impl TransportView {
    /// `bar:beat`, both counted from 1.
    pub fn bar_beat(&self) -> (u64, u32) {
        let bpb = self.beats_per_bar.max(1);
        let whole = self.beat.max(0.0).floor() as u64;
        (whole / bpb as u64 + 1, (whole % bpb as u64) as u32 + 1)
    }
}

/// Where the notes go.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PortsView {
    /// Output ports the system offers.
    pub available: Vec<String>,
    /// Ports notes are sent to.
    pub connected: Vec<String>,
    pub virtual_port: Option<String>,
    pub synth: bool,
    pub synth_patch: Option<String>,
    pub recording: Option<String>,
    /// What hardware drives: "cc 74 -> latent 3", "clock in: PORT 121.3 bpm".
    pub controls: Vec<String>,
}
