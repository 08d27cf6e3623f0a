//! Offline render of any note stream to audio and WAV: the same schedule and synth as live
//! playback, but every event lands on its exact sample.

use std::path::{Path, PathBuf};

use crate::music::NoteSeq;
use crate::play::params::Params;
use crate::play::schedule::{Item, Schedule};

use super::synth::Synth;

/// A render that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write WAV: {source}", path.display())]
pub struct RenderError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Seconds of tail rendered after the last note-off, for releases to ring out.
pub const TAIL_SECS: f64 = 1.5;

/// Renders `seq` (with `params` applied, as live) to interleaved samples of `channels`
/// channels at `sample_rate`, calling the synth in blocks of at most `block` frames.
pub fn render_seq(
    seq: &NoteSeq,
    params: Params,
    sample_rate: u32,
    channels: usize,
    block: usize,
) -> Vec<f32> {
    let mut schedule = Schedule::new(
        seq.tempo.bpm_at(0.0),
        seq.notes.len() + seq.tempo.changes().len() + 8,
    );
    for c in seq.tempo.changes() {
        let _ = schedule.push(Item::Tempo {
            beat: c.beat,
            bpm: c.bpm(),
        });
    }
    for n in &seq.notes {
        let _ = schedule.push(Item::Note(*n));
    }
    let _ = schedule.push(Item::End { beat: seq.end });
    schedule.set_params(0.0, params);
    schedule.start(0.0, 0.0);

    let sr = sample_rate as f64;
    let mut synth = Synth::new(sample_rate);
    let mut out = Vec::new();
    let mut frame = 0usize;
    let mut render_to = |synth: &mut Synth, out: &mut Vec<f32>, target: usize| {
        while frame < target {
            let n = (target - frame).min(block.max(1));
            let start = out.len();
            out.resize(start + n * channels, 0.0);
            synth.render(&mut out[start..], channels);
            frame += n;
        }
    };
    while let Some(t) = schedule.next_time() {
        let target = (t * sr).round().max(0.0) as usize;
        render_to(&mut synth, &mut out, target);
        while let Some(ev) = schedule.poll(t) {
            synth.handle(ev.msg);
        }
        if schedule.is_done() {
            break;
        }
    }
    let end = out.len() / channels.max(1) + (TAIL_SECS * sr) as usize;
    render_to(&mut synth, &mut out, end);
    out
}

/// 16-bit PCM WAV bytes for interleaved samples in -1..=1 (see [`crate::analysis::wav::encode`]).
pub fn wav_bytes(samples: &[f32], channels: u16, sample_rate: u32) -> std::io::Result<Vec<u8>> {
    crate::analysis::wav::encode(samples, channels, sample_rate).map_err(std::io::Error::other)
}

/// Writes a WAV file atomically (a crash leaves the old file or none, never half of one).
pub fn write_wav(
    path: &Path,
    samples: &[f32],
    channels: u16,
    sample_rate: u32,
) -> Result<(), RenderError> {
    wav_bytes(samples, channels, sample_rate)
        .and_then(|b| crate::fsx::write_atomic(path, &b))
        .map_err(|source| RenderError {
            path: path.to_path_buf(),
            source,
        })
}
