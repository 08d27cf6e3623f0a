//! Signal processing with librosa's conventions (so our numbers can be checked against its):
//! centred STFT with a periodic Hann window, Slaney mel filters, dB scaling, orthonormal DCT-II,
//! chroma filters, median filters and autocorrelation.

use std::f64::consts::PI;

use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

/// A spectrogram: `bins` rows (frequency) by `frames` columns (time), stored frame-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    pub bins: usize,
    pub frames: usize,
    pub data: Vec<f64>,
}

impl Spec {
    pub fn zeros(bins: usize, frames: usize) -> Spec {
        Spec {
            bins,
            frames,
            data: vec![0.0; bins * frames],
        }
    }

    pub fn frame(&self, t: usize) -> &[f64] {
        &self.data[t * self.bins..(t + 1) * self.bins]
    }

    pub fn frame_mut(&mut self, t: usize) -> &mut [f64] {
        &mut self.data[t * self.bins..(t + 1) * self.bins]
    }

    pub fn at(&self, bin: usize, t: usize) -> f64 {
        self.data[t * self.bins + bin]
    }

    /// Applies a (rows x bins) filter bank to every frame.
    pub fn apply(&self, bank: &[Vec<f64>]) -> Spec {
        let mut out = Spec::zeros(bank.len(), self.frames);
        for t in 0..self.frames {
            let x = self.frame(t);
            for (r, row) in bank.iter().enumerate() {
                out.data[t * bank.len() + r] = row.iter().zip(x).map(|(w, v)| w * v).sum();
            }
        }
        out
    }
}

/// A periodic Hann window (scipy's `get_window('hann', n, fftbins=True)`).
pub fn hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos())
        .collect()
}

/// Magnitude STFT, centred with zero padding of `n_fft / 2` at both ends (librosa >= 0.10).
pub fn stft_magnitude(y: &[f32], n_fft: usize, hop: usize) -> Spec {
    let pad = n_fft / 2;
    let frames = 1 + y.len() / hop;
    let bins = n_fft / 2 + 1;
    let window = hann(n_fft);
    let fft = FftPlanner::<f64>::new().plan_fft_forward(n_fft);
    let mut out = Spec::zeros(bins, frames);
    let mut buf = vec![Complex::new(0.0, 0.0); n_fft];
    for t in 0..frames {
        for (i, b) in buf.iter_mut().enumerate() {
            let idx = (t * hop + i) as isize - pad as isize;
            let v = if idx >= 0 && (idx as usize) < y.len() {
                y[idx as usize] as f64
            } else {
                0.0
            };
            *b = Complex::new(v * window[i], 0.0);
        }
        fft.process(&mut buf);
        for (k, o) in out.frame_mut(t).iter_mut().enumerate() {
            *o = buf[k].norm();
        }
    }
    out
}

/// Frequencies of the FFT bins: 0 ..= sr/2.
pub fn fft_frequencies(sr: f64, n_fft: usize) -> Vec<f64> {
    (0..=n_fft / 2)
        .map(|k| k as f64 * sr / n_fft as f64)
        .collect()
}

fn hz_to_mel(f: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if f >= min_log_hz {
        min_log_mel + (f / min_log_hz).ln() / logstep
    } else {
        f / f_sp
    }
}

fn mel_to_hz(m: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if m >= min_log_mel {
        min_log_hz * (logstep * (m - min_log_mel)).exp()
    } else {
        f_sp * m
    }
}

/// Slaney-style mel filter bank with Slaney area normalisation (librosa's default), fmin 0,
/// fmax sr/2.
pub fn mel_filters(sr: f64, n_fft: usize, n_mels: usize) -> Vec<Vec<f64>> {
    let fft_f = fft_frequencies(sr, n_fft);
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    (0..n_mels)
        .map(|i| {
            let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
            fft_f
                .iter()
                .map(|&f| {
                    let lower = (f - mel_f[i]) / (mel_f[i + 1] - mel_f[i]);
                    let upper = (mel_f[i + 2] - f) / (mel_f[i + 2] - mel_f[i + 1]);
                    lower.min(upper).max(0.0) * enorm
                })
                .collect()
        })
        .collect()
}

/// `10 log10(max(S, 1e-10))`, floored at 80 dB below the loudest value (librosa's
/// `power_to_db` with ref 1.0).
pub fn power_to_db(s: &Spec) -> Spec {
    let mut out = s.clone();
    for v in &mut out.data {
        *v = 10.0 * v.max(1e-10).log10();
    }
    let top = out.data.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    for v in &mut out.data {
        *v = v.max(top - 80.0);
    }
    out
}

/// The first `n` coefficients of the orthonormal DCT-II of every frame.
pub fn dct_ortho(s: &Spec, n: usize) -> Spec {
    let m = s.bins;
    let basis: Vec<Vec<f64>> = (0..n)
        .map(|k| {
            let scale = if k == 0 {
                (1.0 / m as f64).sqrt()
            } else {
                (2.0 / m as f64).sqrt()
            };
            (0..m)
                .map(|i| scale * (PI * k as f64 * (2 * i + 1) as f64 / (2 * m) as f64).cos())
                .collect()
        })
        .collect();
    s.apply(&basis)
}

/// librosa's chroma filter bank (`filters.chroma`, 12 bins, tuning 0, centred on octave 5 with
/// a 2-octave Gaussian, each FFT bin's weights of unit L2 norm, starting at C).
pub fn chroma_filters(sr: f64, n_fft: usize) -> Vec<Vec<f64>> {
    let n_chroma = 12usize;
    let nc = n_chroma as f64;
    let a440 = 440.0;
    let mut frqbins: Vec<f64> = (1..n_fft)
        .map(|k| nc * (k as f64 * sr / n_fft as f64 / (a440 / 16.0)).log2())
        .collect();
    frqbins.insert(0, frqbins[0] - 1.5 * nc);
    let mut widths: Vec<f64> = frqbins.windows(2).map(|w| (w[1] - w[0]).max(1.0)).collect();
    widths.push(1.0);
    let half = (nc / 2.0).round();
    let mut wts = vec![vec![0.0; n_fft]; n_chroma];
    for k in 0..n_fft {
        let mut col: Vec<f64> = (0..n_chroma)
            .map(|c| {
                let d = (frqbins[k] - c as f64 + half + 10.0 * nc).rem_euclid(nc) - half;
                (-0.5 * (2.0 * d / widths[k]).powi(2)).exp()
            })
            .collect();
        let norm = col.iter().map(|v| v * v).sum::<f64>().sqrt();
        let oct = (-0.5 * ((frqbins[k] / nc - 5.0) / 2.0).powi(2)).exp();
        for (c, v) in col.iter_mut().enumerate() {
            wts[c][k] = if norm > 0.0 { *v / norm } else { *v } * oct;
        }
    }
    // Rotate so that the first row is C (librosa's base_c) and keep the non-negative bins.
    wts.rotate_left(3);
    wts.into_iter()
        .map(|r| r[..n_fft / 2 + 1].to_vec())
        .collect()
}

/// scipy's `median_filter` along one axis with window `size` (odd) and mode "reflect"
/// (a b c | c b a), applied to each row (`along_time`) or each frame. A sorted window slides
/// along each line: one removal and one insertion per step.
pub fn median_filter(s: &Spec, size: usize, along_time: bool) -> Spec {
    let half = size / 2;
    let reflect = |i: isize, n: usize| -> usize {
        let n = n as isize;
        let mut i = i;
        loop {
            if i < 0 {
                i = -i - 1;
            } else if i >= n {
                i = 2 * n - i - 1;
            } else {
                return i as usize;
            }
        }
    };
    let (lines, len) = if along_time {
        (s.bins, s.frames)
    } else {
        (s.frames, s.bins)
    };
    let get = |line: usize, i: usize| {
        if along_time {
            s.at(line, i)
        } else {
            s.at(i, line)
        }
    };
    let mut out = Spec::zeros(s.bins, s.frames);
    let mut win: Vec<f64> = Vec::with_capacity(size);
    for line in 0..lines {
        win.clear();
        win.extend((0..size).map(|j| get(line, reflect(j as isize - half as isize, len))));
        win.sort_by(f64::total_cmp);
        for i in 0..len {
            let m = win[half];
            if along_time {
                out.data[i * s.bins + line] = m;
            } else {
                out.data[line * s.bins + i] = m;
            }
            if i + 1 < len {
                let gone = get(line, reflect(i as isize - half as isize, len));
                let new = get(line, reflect((i + 1 + half) as isize, len));
                let at = win.partition_point(|v| v.total_cmp(&gone).is_lt());
                win.remove(at);
                let at = win.partition_point(|v| v.total_cmp(&new).is_lt());
                win.insert(at, new);
            }
        }
    }
    out
}

/// Full linear autocorrelation of `x` at lags 0..x.len() (librosa's `autocorrelate`).
pub fn autocorrelate(x: &[f64], planner: &mut FftPlanner<f64>) -> Vec<f64> {
    let n = x.len();
    let size = (2 * n).next_power_of_two();
    let mut buf: Vec<Complex<f64>> = x.iter().map(|&v| Complex::new(v, 0.0)).collect();
    buf.resize(size, Complex::new(0.0, 0.0));
    planner.plan_fft_forward(size).process(&mut buf);
    for v in &mut buf {
        *v = Complex::new(v.norm_sqr(), 0.0);
    }
    planner.plan_fft_inverse(size).process(&mut buf);
    buf[..n].iter().map(|v| v.re / size as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_of_a_constant_is_its_scaled_mean() {
        let s = Spec {
            bins: 4,
            frames: 1,
            data: vec![1.0; 4],
        };
        let d = dct_ortho(&s, 3);
        assert!((d.data[0] - 2.0).abs() < 1e-12);
        assert!(d.data[1].abs() < 1e-12 && d.data[2].abs() < 1e-12);
    }

    #[test]
    fn autocorrelation_matches_the_direct_sum() {
        let x = [1.0, -2.0, 3.0, 0.5, 0.0, 4.0];
        let ac = autocorrelate(&x, &mut FftPlanner::new());
        for (lag, v) in ac.iter().enumerate() {
            let direct: f64 = (0..x.len() - lag).map(|i| x[i] * x[i + lag]).sum();
            assert!((v - direct).abs() < 1e-9);
        }
    }

    #[test]
    fn median_filter_reflects_at_the_edges() {
        let s = Spec {
            bins: 1,
            frames: 5,
            data: vec![5.0, 1.0, 4.0, 2.0, 3.0],
        };
        let m = median_filter(&s, 3, true);
        assert_eq!(m.data, vec![5.0, 4.0, 2.0, 3.0, 3.0]);
        let t = Spec {
            bins: 5,
            frames: 1,
            data: s.data.clone(),
        };
        assert_eq!(median_filter(&t, 3, false).data, m.data);
        // A window wider than the line reflects more than once.
        assert_eq!(
            median_filter(&s, 9, true).data,
            vec![3.0, 3.0, 3.0, 3.0, 3.0]
        );
    }

    #[test]
    fn a_sine_peaks_in_its_bin() {
        let sr = 22_050.0;
        let y: Vec<f32> = (0..22_050)
            .map(|i| (2.0 * PI * 1000.0 * i as f64 / sr).sin() as f32)
            .collect();
        let s = stft_magnitude(&y, 2048, 512);
        let f = s.frame(10);
        let peak = (0..f.len()).max_by(|&a, &b| f[a].total_cmp(&f[b])).unwrap();
        assert_eq!(peak, (1000.0 * 2048.0 / sr).round() as usize);
    }
}
