//! Listening to music by numbers: audio rendering and features for genre classification.

pub mod attributes;
pub mod classify;
pub mod copies;
pub mod dsp;
pub mod features;
pub mod fidelity;
pub mod genre;
pub mod mel;
pub mod metrics;
pub mod render;
pub mod stats;
pub mod symbolic;
pub mod two_sample;
pub mod wav;

/// The sample rate every audio feature is computed at (GTZAN's and librosa's default).
pub const SAMPLE_RATE: u32 = 22_050;
