//! GTZAN-style audio features with librosa's defaults (n_fft 2048, hop 512, 22,050 Hz): mean and
//! variance over frames of RMS, zero-crossing rate, spectral centroid, bandwidth, roll-off,
//! 12 chroma bins, harmonic and percussive energy (median-filter HPSS), 20 MFCCs, plus tempo.

use rustfft::FftPlanner;

use super::dsp::{self, Spec};
use super::SAMPLE_RATE;

pub const N_FFT: usize = 2048;
pub const HOP: usize = 512;
pub const N_MELS: usize = 128;
pub const N_MFCC: usize = 20;

/// Per-frame features of one clip.
#[derive(Clone, Debug)]
pub struct Frames {
    pub rms: Vec<f64>,
    pub zcr: Vec<f64>,
    pub centroid: Vec<f64>,
    pub bandwidth: Vec<f64>,
    pub rolloff: Vec<f64>,
    /// 12 rows (C, C#, ..., B), each frame scaled so its largest bin is 1.
    pub chroma: Spec,
    /// Mean power per frequency bin of the harmonic and percussive parts.
    pub harmonic: Vec<f64>,
    pub percussive: Vec<f64>,
    pub mfcc: Spec,
    pub tempo: f64,
}

fn rms(y: &[f32], frames: usize) -> Vec<f64> {
    let half = N_FFT as isize / 2;
    (0..frames)
        .map(|t| {
            let start = (t * HOP) as isize - half;
            let sum: f64 = (start..start + N_FFT as isize)
                .filter(|&i| i >= 0 && (i as usize) < y.len())
                .map(|i| (y[i as usize] as f64).powi(2))
                .sum();
            (sum / N_FFT as f64).sqrt()
        })
        .collect()
}

/// Zero-crossing rate: the signal is padded by repeating its end samples, values within 1e-10
/// of zero count as zero, and zero counts as positive.
fn zcr(y: &[f32], frames: usize) -> Vec<f64> {
    let half = N_FFT as isize / 2;
    let at = |i: isize| {
        let v = y[i.clamp(0, y.len() as isize - 1) as usize];
        if v.abs() <= 1e-10 {
            0.0
        } else {
            v
        }
    };
    (0..frames)
        .map(|t| {
            let start = (t * HOP) as isize - half;
            let crossings = (start + 1..start + N_FFT as isize)
                .filter(|&i| at(i).is_sign_negative() != at(i - 1).is_sign_negative())
                .count();
            crossings as f64 / N_FFT as f64
        })
        .collect()
}

/// Centroid, bandwidth (p = 2) and 85 % roll-off of every magnitude frame.
fn spectral_shape(s: &Spec, freqs: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mut c, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for t in 0..s.frames {
        let x = s.frame(t);
        let total: f64 = x.iter().sum();
        let norm = if total > f64::MIN_POSITIVE {
            total
        } else {
            1.0
        };
        let centroid: f64 = x.iter().zip(freqs).map(|(v, f)| v * f).sum::<f64>() / norm;
        let bw: f64 = x
            .iter()
            .zip(freqs)
            .map(|(v, f)| v / norm * (f - centroid).powi(2))
            .sum::<f64>()
            .sqrt();
        let threshold = 0.85 * total;
        let mut acc = 0.0;
        let mut roll = 0.0;
        for (v, f) in x.iter().zip(freqs) {
            acc += v;
            if acc >= threshold {
                roll = *f;
                break;
            }
        }
        c.push(centroid);
        b.push(bw);
        r.push(roll);
    }
    (c, b, r)
}

/// Harmonic and percussive power per frame: median filters of 31 across time and across
/// frequency, soft masks of power 2 (librosa's `decompose.hpss` defaults).
fn hpss_power(s: &Spec) -> (Vec<f64>, Vec<f64>) {
    let harm = dsp::median_filter(s, 31, true);
    let perc = dsp::median_filter(s, 31, false);
    let (mut h, mut p) = (Vec::with_capacity(s.frames), Vec::with_capacity(s.frames));
    for t in 0..s.frames {
        let (mut eh, mut ep) = (0.0, 0.0);
        for k in 0..s.bins {
            let (x, hv, pv) = (s.at(k, t), harm.at(k, t), perc.at(k, t));
            let z = hv.max(pv);
            let mh = if z < f32::MIN_POSITIVE as f64 {
                0.5
            } else {
                let (a, b) = ((hv / z).powi(2), (pv / z).powi(2));
                a / (a + b)
            };
            eh += (x * mh).powi(2);
            ep += (x * (1.0 - mh)).powi(2);
        }
        h.push(eh / s.bins as f64);
        p.push(ep / s.bins as f64);
    }
    (h, p)
}

/// Tempo in BPM as librosa estimates it: onset strength from the mel spectrogram in dB, an
/// autocorrelation tempogram over 8 s windows, averaged, weighted by a log-normal prior around
/// 120 BPM.
pub fn tempo(mel_db: &Spec) -> f64 {
    let n = mel_db.frames;
    let mut onset = vec![0.0; n];
    for t in 1..n {
        let d: f64 = (0..mel_db.bins)
            .map(|b| (mel_db.at(b, t) - mel_db.at(b, t - 1)).max(0.0))
            .sum::<f64>()
            / mel_db.bins as f64;
        // Shifted by the lag plus half a frame of the STFT's centring.
        let at = t + N_FFT / (2 * HOP);
        if at < n {
            onset[at] = d;
        }
    }
    let win = (8.0 * SAMPLE_RATE as f64 / HOP as f64) as usize;
    let half = win / 2;
    let mut padded = Vec::with_capacity(n + 2 * half);
    let (first, last) = (
        onset.first().copied().unwrap_or(0.0),
        onset.last().copied().unwrap_or(0.0),
    );
    padded.extend((0..half).map(|i| first * i as f64 / half as f64));
    padded.extend_from_slice(&onset);
    padded.extend((0..half).map(|j| last * (half - 1 - j) as f64 / half as f64));
    let window = dsp::hann(win);
    let mut planner = FftPlanner::new();
    let mut mean = vec![0.0; win];
    for t in 0..n {
        let frame: Vec<f64> = padded[t..t + win]
            .iter()
            .zip(&window)
            .map(|(a, w)| a * w)
            .collect();
        let ac = dsp::autocorrelate(&frame, &mut planner);
        let peak = ac.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scale = if peak > f64::MIN_POSITIVE { peak } else { 1.0 };
        for (m, v) in mean.iter_mut().zip(&ac) {
            *m += v / scale / n as f64;
        }
    }
    let mut best = (f64::NEG_INFINITY, 0.0);
    for (lag, tg) in mean.iter().enumerate().skip(1) {
        let bpm = 60.0 * SAMPLE_RATE as f64 / (HOP as f64 * lag as f64);
        if bpm >= 320.0 {
            continue;
        }
        let score = (1e6 * tg).ln_1p() - 0.5 * (bpm.log2() - 120f64.log2()).powi(2);
        if score > best.0 {
            best = (score, bpm);
        }
    }
    best.1
}

/// Mel power spectrogram (128 bands) in dB, from a magnitude STFT.
pub fn mel_db(s: &Spec) -> Spec {
    let mut power = s.clone();
    for v in &mut power.data {
        *v *= *v;
    }
    let mel = power.apply(&dsp::mel_filters(SAMPLE_RATE as f64, N_FFT, N_MELS));
    dsp::power_to_db(&mel)
}

/// Every per-frame feature of a mono clip at 22,050 Hz.
pub fn frames(y: &[f32]) -> Frames {
    let s = dsp::stft_magnitude(y, N_FFT, HOP);
    let freqs = dsp::fft_frequencies(SAMPLE_RATE as f64, N_FFT);
    let (centroid, bandwidth, rolloff) = spectral_shape(&s, &freqs);
    let mut power = s.clone();
    for v in &mut power.data {
        *v *= *v;
    }
    let mut chroma = power.apply(&dsp::chroma_filters(SAMPLE_RATE as f64, N_FFT));
    for t in 0..chroma.frames {
        let f = chroma.frame_mut(t);
        let m = f.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        if m > f64::MIN_POSITIVE {
            f.iter_mut().for_each(|v| *v /= m);
        }
    }
    let (harmonic, percussive) = hpss_power(&s);
    let mel = mel_db(&s);
    Frames {
        rms: rms(y, s.frames),
        zcr: zcr(y, s.frames),
        centroid,
        bandwidth,
        rolloff,
        chroma,
        harmonic,
        percussive,
        mfcc: dsp::dct_ortho(&mel, N_MFCC),
        tempo: tempo(&mel),
    }
}

fn row(s: &Spec, r: usize) -> impl Iterator<Item = f64> + '_ {
    (0..s.frames).map(move |t| s.at(r, t))
}

fn mean_var(v: impl Iterator<Item = f64>) -> [f64; 2] {
    let (mean, std) = super::stats::mean_std(&v.collect::<Vec<_>>());
    [mean, std * std]
}

/// Names of the values [`summarize`] returns, in order.
pub fn names() -> Vec<String> {
    let mut n = Vec::new();
    let mut pair = |base: String| {
        n.push(format!("{base}_mean"));
        n.push(format!("{base}_var"));
    };
    for b in ["rms", "zcr", "centroid", "bandwidth", "rolloff"] {
        pair(b.to_string());
    }
    for c in 0..12 {
        pair(format!("chroma{c}"));
    }
    pair("harmonic".into());
    pair("percussive".into());
    for m in 1..=N_MFCC {
        pair(format!("mfcc{m}"));
    }
    n.push("tempo".into());
    n
}

/// The feature table row of a clip: mean and variance of every per-frame feature, then tempo.
pub fn summarize(f: &Frames) -> Vec<f64> {
    let mut out = Vec::with_capacity(names().len());
    for v in [&f.rms, &f.zcr, &f.centroid, &f.bandwidth, &f.rolloff] {
        out.extend(mean_var(v.iter().copied()));
    }
    for c in 0..12 {
        out.extend(mean_var(row(&f.chroma, c)));
    }
    out.extend(mean_var(f.harmonic.iter().copied()));
    out.extend(mean_var(f.percussive.iter().copied()));
    for m in 0..N_MFCC {
        out.extend(mean_var(row(&f.mfcc, m)));
    }
    out.push(f.tempo);
    out
}

/// The feature rows of a clip: the whole clip, and each full 3-second window of it.
pub fn clip_and_windows(y: &[f32]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let whole = summarize(&frames(y));
    let w = 3 * SAMPLE_RATE as usize;
    let windows = y.chunks_exact(w).map(|c| summarize(&frames(c))).collect();
    (whole, windows)
}
