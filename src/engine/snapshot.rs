//! The state a front end draws each frame, copied out of the engine under a short lock.

use std::path::PathBuf;

use crate::play::Params;

/// Everything a screen shows. Cheap to clone (a few hundred small values and bounded vectors).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub corpus: Option<CorpusSummary>,
    /// A job is loading a corpus.
    pub corpus_loading: bool,
    pub model: Option<ModelSummary>,
    pub train: TrainStatus,
    /// The latent the generator uses.
    pub latent: Vec<f32>,
    /// Dimensions a front end highlights (the last ones set or nudged).
    pub selected_dims: Vec<usize>,
    pub sampling: SamplingSettings,
    pub transport: TransportState,
    /// Live playing parameters (tempo override, swing, transpose, channel, program, scale).
    pub params: Params,
    pub sinks: Vec<SinkStatus>,
    pub synth_on: bool,
    pub virtual_port: bool,
    pub recording: Option<PathBuf>,
    /// The current piece (the last generated).
    pub piece: Option<PieceSummary>,
    /// Notes around the playhead, for a piano roll: from a bar before the playhead to two bars
    /// after it, in beats from the start. While streaming, the streamed notes (those played and
    /// those handed to the player ahead of the playhead); else the current piece's.
    pub notes: Vec<RollNote>,
    /// The live stream, while `play` streams from the model.
    pub live: Option<LiveStatus>,
    pub watching: Option<PathBuf>,
    pub session: Option<PathBuf>,
    /// Commands entered, oldest first (the last 500).
    pub history: Vec<String>,
    /// A `wait` or long command holds later commands back.
    pub busy: Option<String>,
    /// The layers (voices besides the main one), in the order they were added.
    pub layers: Vec<LayerStatus>,
    /// `mute main` is in force.
    pub main_muted: bool,
    pub presets: Vec<String>,
    pub maps: Vec<(u8, String)>,
    /// The external MIDI clock followed (`clock in PORT`).
    pub clock_in: Option<ClockInStatus>,
    pub attributes: Vec<String>,
    pub ports: PortList,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CorpusSummary {
    pub path: PathBuf,
    pub pieces: usize,
    pub notes: usize,
    pub tokens: usize,
    pub seconds: f64,
    pub styles: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelSummary {
    /// e.g. "vae-lstm tiny (new)" or the checkpoint path.
    pub label: String,
    pub kind: String,
    pub latent: usize,
    pub params: usize,
    /// Where it was loaded from or last saved to.
    pub path: Option<PathBuf>,
    /// The training step whose weights generation uses (0: untrained or unknown).
    pub step: usize,
    /// While streaming: the training step of the weights whose notes are playing now.
    pub playing_weights: Option<u64>,
}

/// The live stream `play` runs with a model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveStatus {
    /// Training step of the weights whose notes the player was handed last.
    pub playing_weights: u64,
    /// Changes of latent, sampling or weights the stream has taken so far.
    pub changes_applied: u64,
    /// The beat the last change took effect from.
    pub applied_beat: Option<f64>,
    /// Notes handed to the player and tokens sampled so far.
    pub notes: u64,
    pub tokens: u64,
}

/// A layer as the screen shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerStatus {
    pub name: String,
    /// 1-based.
    pub channel: u8,
    /// `None`: the programs the model writes.
    pub program: Option<u8>,
    /// Silent now (`mute`; the switch happens at a bar line).
    pub muted: bool,
    /// Notes handed to the player since `play`.
    pub notes: u64,
    /// Its voice plays now.
    pub playing: bool,
}

/// Training progress and the loss history for charts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainStatus {
    pub running: bool,
    pub paused: bool,
    pub step: usize,
    pub epoch: usize,
    pub total_steps: usize,
    pub beta: f64,
    pub lr: f64,
    pub tokens_per_s: f64,
    /// (step, loss per window) of the training steps logged, at most the last 2000.
    pub train_total: Vec<(f64, f64)>,
    pub train_recon: Vec<(f64, f64)>,
    pub train_kl: Vec<(f64, f64)>,
    /// (step, value) at each validation: -ELBO per token, reconstruction per token, KL.
    pub val_total: Vec<(f64, f64)>,
    pub val_recon: Vec<(f64, f64)>,
    pub val_kl: Vec<(f64, f64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SamplingSettings {
    pub temperature: f32,
    pub top_k: Option<usize>,
    pub top_p: Option<f32>,
    pub seed: u64,
    pub style: Option<String>,
}

impl Default for SamplingSettings {
    fn default() -> Self {
        SamplingSettings {
            temperature: 1.0,
            top_k: None,
            top_p: Some(0.95),
            seed: 1,
            style: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TransportState {
    pub playing: bool,
    pub bpm: f64,
    /// 1-based bar and beat of the playhead.
    pub bar: u32,
    pub beat: f64,
    /// The playhead in beats from the start of the piece.
    pub position: f64,
    pub clock_out: bool,
    /// Bars repeating now (`loop BARS`).
    pub loop_bars: Option<u32>,
}

impl Default for TransportState {
    fn default() -> Self {
        TransportState {
            playing: false,
            bpm: 120.0,
            bar: 1,
            beat: 1.0,
            position: 0.0,
            clock_out: false,
            loop_bars: None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SinkStatus {
    pub name: String,
    pub latency_ms: f64,
    pub sent: u64,
    pub errors: u64,
    /// How late the scheduler handed messages to the sink since playing started (p99, max).
    pub late_p99_us: f64,
    pub late_max_us: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PieceSummary {
    pub notes: usize,
    pub beats: f64,
    pub seconds: f64,
}

/// A note for the piano roll.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RollNote {
    pub pitch: u8,
    pub channel: u8,
    pub velocity: u8,
    /// Start and length in beats.
    pub start: f64,
    pub length: f64,
}

/// An external MIDI clock being followed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClockInStatus {
    pub port: String,
    /// The smoothed tempo of its clock, once enough ticks have come.
    pub bpm: Option<f64>,
    /// Between its Start (or Continue) and Stop.
    pub running: bool,
}

/// MIDI ports as last listed (by `ports` or at start).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PortList {
    pub outputs: Vec<String>,
    pub inputs: Vec<String>,
}
