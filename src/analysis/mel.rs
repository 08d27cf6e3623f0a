//! Mel spectrograms (128 bands, dB) of 3-second windows, the CNN's input, and the paper's
//! training-time augmentation: one frequency mask, one time mask and Gaussian noise.

use serde::{Deserialize, Serialize};

use super::features::{self, HOP, N_FFT, N_MELS};
use super::{dsp, SAMPLE_RATE};
use crate::rng::Rng;

/// Seconds of audio in one CNN window.
pub const WINDOW_SECONDS: usize = 3;
/// Frames of one window's spectrogram (centred STFT of 66,150 samples, hop 512).
pub const WINDOW_FRAMES: usize = WINDOW_SECONDS * SAMPLE_RATE as usize / HOP + 1;

/// A mel spectrogram in dB, band-major: `data[band * frames + t]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MelSpec {
    pub bands: usize,
    pub frames: usize,
    pub data: Vec<f32>,
}

impl MelSpec {
    pub fn at(&self, band: usize, t: usize) -> f32 {
        self.data[band * self.frames + t]
    }
}

/// The 128-band mel power spectrogram of `y` in dB: librosa's
/// `power_to_db(melspectrogram(y=y, sr=22050))` (n_fft 2048, hop 512, ref 1.0, top_db 80).
pub fn mel_spectrogram(y: &[f32]) -> MelSpec {
    let s = features::mel_db(&dsp::stft_magnitude(y, N_FFT, HOP));
    let mut data = vec![0.0f32; s.bins * s.frames];
    for t in 0..s.frames {
        for (b, v) in s.frame(t).iter().enumerate() {
            data[b * s.frames + t] = *v as f32;
        }
    }
    MelSpec {
        bands: N_MELS,
        frames: s.frames,
        data,
    }
}

/// The mel spectrogram of every full 3-second window of a clip, each computed on its own.
pub fn windows(y: &[f32]) -> Vec<MelSpec> {
    y.chunks_exact(WINDOW_SECONDS * SAMPLE_RATE as usize)
        .map(mel_spectrogram)
        .collect()
}

/// SpecAugment-style settings: each mask covers a width drawn uniformly from 0..=max.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AugmentConfig {
    pub freq_mask: usize,
    pub time_mask: usize,
    /// Standard deviation of the Gaussian noise added to every value (the paper's 0.3).
    pub noise_std: f32,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig {
            freq_mask: 16,
            time_mask: 16,
            noise_std: 0.3,
        }
    }
}

/// Which bands and frames one augmentation zeroed.
#[derive(Clone, Debug, PartialEq)]
pub struct Masked {
    pub bands: std::ops::Range<usize>,
    pub frames: std::ops::Range<usize>,
}

/// Augments a (normalised) spectrogram `data` of `bands` x `frames` in place: adds the noise,
/// then sets one band range and one frame range to zero. Training only.
pub fn augment(
    data: &mut [f32],
    bands: usize,
    frames: usize,
    cfg: &AugmentConfig,
    rng: &mut Rng,
) -> Masked {
    if cfg.noise_std > 0.0 {
        for v in data.iter_mut() {
            *v += (rng.normal() as f32) * cfg.noise_std;
        }
    }
    let span = |rng: &mut Rng, max: usize, len: usize| {
        let w = rng.below(max.min(len) + 1);
        let start = rng.below(len - w + 1);
        start..start + w
    };
    let fb = span(rng, cfg.freq_mask, bands);
    let ft = span(rng, cfg.time_mask, frames);
    for b in fb.clone() {
        data[b * frames..(b + 1) * frames].fill(0.0);
    }
    for b in 0..bands {
        data[b * frames + ft.start..b * frames + ft.end].fill(0.0);
    }
    Masked {
        bands: fb,
        frames: ft,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_zero_exactly_the_bands_and_frames_they_report() {
        let (bands, frames) = (128, WINDOW_FRAMES);
        let cfg = AugmentConfig {
            freq_mask: 20,
            time_mask: 30,
            noise_std: 0.0,
        };
        let mut rng = Rng::new(3);
        let mut seen_mask = false;
        for _ in 0..20 {
            let mut data = vec![1.5f32; bands * frames];
            let m = augment(&mut data, bands, frames, &cfg, &mut rng);
            assert!(m.bands.len() <= 20 && m.frames.len() <= 30);
            seen_mask |= !m.bands.is_empty() && !m.frames.is_empty();
            for b in 0..bands {
                for t in 0..frames {
                    let masked = m.bands.contains(&b) || m.frames.contains(&t);
                    let v = data[b * frames + t];
                    assert_eq!(v, if masked { 0.0 } else { 1.5 }, "band {b} frame {t}");
                }
            }
        }
        assert!(seen_mask);
    }

    #[test]
    fn noise_has_the_stated_standard_deviation() {
        let cfg = AugmentConfig {
            freq_mask: 0,
            time_mask: 0,
            noise_std: 0.3,
        };
        let mut data = vec![2.0f32; 128 * WINDOW_FRAMES];
        augment(&mut data, 128, WINDOW_FRAMES, &cfg, &mut Rng::new(9));
        let n = data.len() as f64;
        let mean = data.iter().map(|v| *v as f64 - 2.0).sum::<f64>() / n;
        let var = data
            .iter()
            .map(|v| (*v as f64 - 2.0 - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var.sqrt() - 0.3).abs() < 0.01, "std {}", var.sqrt());
    }

    #[test]
    fn a_window_has_128_bands_and_130_frames() {
        let y: Vec<f32> = (0..3 * SAMPLE_RATE as usize + 100)
            .map(|i| (i as f32 * 0.05).sin() * 0.3)
            .collect();
        let w = windows(&y);
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].bands, w[0].frames), (128, 130));
        assert_eq!(WINDOW_FRAMES, 130);
    }
}
