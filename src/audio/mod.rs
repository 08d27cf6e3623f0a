//! The built-in synth, its cpal output and offline render to WAV.

#[cfg(feature = "jack")]
pub mod jack_tap;
pub mod output;
pub mod render;
pub mod synth;
pub mod voice;

pub use output::{open_synth, AudioError, AudioStats, SynthOutput, SynthSink};
pub use render::{render_seq, write_wav, RenderError};
pub use synth::Synth;
