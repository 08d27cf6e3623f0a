//! Mono WAV files at the analysis sample rate: read with clear errors, written atomically.

use std::path::{Path, PathBuf};

use super::SAMPLE_RATE;

/// What is wrong with an audio file, with the file's name: displays as one line.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct AudioError {
    pub path: PathBuf,
    pub problem: String,
}

fn err(path: &Path, problem: impl Into<String>) -> AudioError {
    AudioError {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

/// Reads a WAV file as mono samples in -1..1 (stereo is averaged). The file must be at
/// 22,050 Hz and hold at least one sample.
pub fn read_mono(path: &Path) -> Result<Vec<f32>, AudioError> {
    let bytes = std::fs::read(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    if bytes.is_empty() {
        return Err(err(path, "empty file (0 bytes)"));
    }
    let mut reader = hound::WavReader::new(std::io::Cursor::new(bytes))
        .map_err(|e| err(path, format!("not a WAV file ({e})")))?;
    let spec = reader.spec();
    if spec.sample_rate != SAMPLE_RATE {
        return Err(err(
            path,
            format!(
                "sample rate {} Hz, expected {SAMPLE_RATE} Hz (resample it first)",
                spec.sample_rate
            ),
        ));
    }
    let channels = spec.channels.max(1) as usize;
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| err(path, format!("corrupt samples ({e})")))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| err(path, format!("corrupt samples ({e})")))?
        }
    };
    let mono: Vec<f32> = interleaved
        .chunks(channels)
        .map(|c| c.iter().sum::<f32>() / c.len() as f32)
        .collect();
    if mono.is_empty() {
        return Err(err(path, "no samples"));
    }
    Ok(mono)
}

/// Reads a clip to classify: as [`read_mono`], and it must not be silent.
pub fn read_clip(path: &Path) -> Result<Vec<f32>, AudioError> {
    let y = read_mono(path)?;
    require_sound(path, &y)?;
    Ok(y)
}

/// A clip whose peak is below -80 dBFS has nothing to classify.
pub fn require_sound(path: &Path, y: &[f32]) -> Result<(), AudioError> {
    let peak = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak < 1e-4 {
        return Err(err(
            path,
            format!(
                "silent (peak {:.1} dBFS): nothing to analyse",
                20.0 * (peak.max(1e-12)).log10()
            ),
        ));
    }
    Ok(())
}

/// 16-bit PCM WAV bytes (hound's writer) of interleaved samples in -1..=1, clipped there: the
/// one WAV encoder of the crate (analysis files here, rendered audio in `audio::render`).
pub fn encode(samples: &[f32], channels: u16, sample_rate: u32) -> Result<Vec<u8>, String> {
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut buf = std::io::Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    {
        let mut w = hound::WavWriter::new(&mut buf, spec).map_err(|e| e.to_string())?;
        let mut w16 = w.get_i16_writer(samples.len() as u32);
        for &s in samples {
            w16.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16);
        }
        w16.flush().map_err(|e| e.to_string())?;
        w.finalize().map_err(|e| e.to_string())?;
    }
    Ok(buf.into_inner())
}

/// Writes mono samples as a 16-bit WAV at 22,050 Hz, atomically.
pub fn write_mono(path: &Path, samples: &[f32]) -> Result<(), AudioError> {
    let bytes = encode(samples, 1, SAMPLE_RATE).map_err(|e| err(path, e))?;
    crate::fsx::write_atomic(path, &bytes).map_err(|e| err(path, format!("cannot write: {e}")))
}
