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

/// 16-bit PCM WAV bytes for interleaved samples in -1..=1.
pub fn wav_bytes(samples: &[f32], channels: u16, sample_rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&sample_rate.to_le_bytes());
    b.extend_from_slice(&(sample_rate * channels as u32 * 2).to_le_bytes());
    b.extend_from_slice(&(channels * 2).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        b.extend_from_slice(&v.to_le_bytes());
    }
    b
}

/// Writes a WAV file atomically (a crash leaves the old file or none, never half of one).
pub fn write_wav(
    path: &Path,
    samples: &[f32],
    channels: u16,
    sample_rate: u32,
) -> Result<(), RenderError> {
    crate::fsx::write_atomic(path, &wav_bytes(samples, channels, sample_rate)).map_err(|source| {
        RenderError {
            path: path.to_path_buf(),
            source,
        }
    })
}
