//! Objective music metrics of pieces, and how far a set of pieces lies from a reference set
//! (Yang and Lerch 2020: kernel density estimates of intra-set and inter-set distances,
//! compared by overlapping area and KL divergence).

use serde::Serialize;

use super::stats::mean_std;
use crate::music::{NoteSeq, DRUM_CHANNEL};

/// Grid steps per beat for polyphony, empty beats and groove.
const STEPS: usize = 12;

/// The metrics of one piece. Pitch metrics ignore drums.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Shannon entropy (bits) of the pitch-class histogram of note onsets.
    pub pc_entropy: f64,
    /// The same per bar, averaged over bars that have notes.
    pub pc_entropy_bar: f64,
    /// Largest share of notes inside one major or natural-minor scale.
    pub scale_consistency: f64,
    /// Highest minus lowest pitch, in semitones.
    pub pitch_range: f64,
    /// Mean number of pitches sounding at grid steps where at least one sounds.
    pub polyphony: f64,
    /// Notes per beat.
    pub note_density: f64,
    /// Share of beats in which no note sounds.
    pub empty_beat_rate: f64,
    /// 1 - mean Hamming distance between onset patterns of neighbouring bars (per grid step).
    pub groove_consistency: f64,
    /// Mean time between distinct onsets, in seconds.
    pub avg_ioi: f64,
    /// Share of pitch 4-grams (in onset order) that already occurred earlier in the piece.
    pub repetition_rate: f64,
}

/// Names of the metrics, in the order of [`Metrics::values`].
pub const NAMES: [&str; 10] = [
    "pc_entropy",
    "pc_entropy_bar",
    "scale_consistency",
    "pitch_range",
    "polyphony",
    "note_density",
    "empty_beat_rate",
    "groove_consistency",
    "avg_ioi",
    "repetition_rate",
];

fn entropy(hist: &[f64]) -> f64 {
    let total: f64 = hist.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    -hist
        .iter()
        .filter(|&&c| c > 0.0)
        .map(|c| {
            let p = c / total;
            p * p.log2()
        })
        .sum::<f64>()
}

impl Metrics {
    pub fn values(&self) -> [f64; 10] {
        [
            self.pc_entropy,
            self.pc_entropy_bar,
            self.scale_consistency,
            self.pitch_range,
            self.polyphony,
            self.note_density,
            self.empty_beat_rate,
            self.groove_consistency,
            self.avg_ioi,
            self.repetition_rate,
        ]
    }

    pub fn of(seq: &NoteSeq) -> Metrics {
        let pitched: Vec<_> = seq
            .notes
            .iter()
            .filter(|n| n.channel != DRUM_CHANNEL)
            .collect();
        if seq.notes.is_empty() {
            return Metrics::default();
        }
        let mut pc = [0.0; 12];
        for n in &pitched {
            pc[n.pitch as usize % 12] += 1.0;
        }
        let bars = seq.bars();
        let mut bar_entropies = Vec::new();
        for (i, (start, _)) in bars.iter().enumerate() {
            let end = bars.get(i + 1).map_or(f64::INFINITY, |b| b.0);
            let mut h = [0.0; 12];
            for n in pitched
                .iter()
                .filter(|n| n.start >= *start - 1e-9 && n.start < end - 1e-9)
            {
                h[n.pitch as usize % 12] += 1.0;
            }
            if h.iter().any(|&c| c > 0.0) {
                bar_entropies.push(entropy(&h));
            }
        }
        const MAJOR: [usize; 7] = [0, 2, 4, 5, 7, 9, 11];
        const MINOR: [usize; 7] = [0, 2, 3, 5, 7, 8, 10];
        let total = pc.iter().sum::<f64>().max(1.0);
        let scale_consistency = (0..12)
            .flat_map(|root| [MAJOR, MINOR].map(|s| (root, s)))
            .map(|(root, s)| s.iter().map(|d| pc[(root + d) % 12]).sum::<f64>() / total)
            .fold(0.0, f64::max);
        let (lo, hi) = pitched
            .iter()
            .fold((u8::MAX, 0u8), |(l, h), n| (l.min(n.pitch), h.max(n.pitch)));

        // Onsets per grid step (drums count towards onsets and empty beats, not towards
        // polyphony).
        let steps = (seq.end * STEPS as f64).ceil().max(1.0) as usize;
        let mut onset = vec![false; steps];
        for n in &seq.notes {
            onset[((n.start * STEPS as f64).round() as usize).min(steps - 1)] = true;
        }
        let polyphony = polyphony(seq);
        let mut any_sound = vec![false; steps];
        for n in &seq.notes {
            let a = ((n.start * STEPS as f64).round() as usize).min(steps - 1);
            let b = ((n.end() * STEPS as f64).round() as usize).clamp(a + 1, steps);
            any_sound[a..b].iter_mut().for_each(|s| *s = true);
        }
        let beats: Vec<&[bool]> = any_sound.chunks(STEPS).collect();
        let empty = beats.iter().filter(|b| !b.iter().any(|&s| s)).count();
        let empty_beat_rate = empty as f64 / beats.len().max(1) as f64;

        let mut patterns: Vec<Vec<bool>> = Vec::new();
        for (i, (start, ts)) in bars.iter().enumerate() {
            let a = (start * STEPS as f64).round() as usize;
            let len = (ts.bar_beats() * STEPS as f64).round() as usize;
            let end = bars
                .get(i + 1)
                .map_or(a + len, |b| (b.0 * STEPS as f64).round() as usize);
            if end - a == len && end <= steps {
                patterns.push(onset[a..end].to_vec());
            }
        }
        let groove_consistency = if patterns.len() < 2 {
            1.0
        } else {
            let d: f64 = patterns
                .windows(2)
                .map(|w| {
                    w[0].iter().zip(&w[1]).filter(|(a, b)| a != b).count() as f64
                        / w[0].len() as f64
                })
                .sum();
            1.0 - d / (patterns.len() - 1) as f64
        };

        let mut onsets: Vec<f64> = seq.notes.iter().map(|n| n.start_secs).collect();
        onsets.sort_by(f64::total_cmp);
        onsets.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
        let avg_ioi = if onsets.len() < 2 {
            0.0
        } else {
            (onsets[onsets.len() - 1] - onsets[0]) / (onsets.len() - 1) as f64
        };

        let line: Vec<u8> = pitched.iter().map(|n| n.pitch).collect();
        let grams: Vec<&[u8]> = line.windows(4).collect();
        let mut seen = std::collections::HashSet::new();
        let repeats = grams.iter().filter(|g| !seen.insert(**g)).count();
        let repetition_rate = repeats as f64 / grams.len().max(1) as f64;

        Metrics {
            pc_entropy: entropy(&pc),
            pc_entropy_bar: bar_entropies.iter().sum::<f64>() / bar_entropies.len().max(1) as f64,
            scale_consistency,
            pitch_range: if pitched.is_empty() {
                0.0
            } else {
                (hi - lo) as f64
            },
            polyphony,
            note_density: seq.notes.len() as f64 / seq.end.max(1e-9),
            empty_beat_rate,
            groove_consistency,
            avg_ioi,
            repetition_rate,
        }
    }
}

fn mean_active(sounding: &[u32]) -> f64 {
    let active: Vec<u32> = sounding.iter().copied().filter(|&s| s > 0).collect();
    active.iter().sum::<u32>() as f64 / active.len().max(1) as f64
}

/// Mean number of pitched (non-drum) notes sounding at the 1/12-beat grid steps where at least
/// one sounds (the `polyphony` of [`Metrics`]); 0 without pitched notes.
pub fn polyphony(seq: &NoteSeq) -> f64 {
    let steps = (seq.end * STEPS as f64).ceil().max(1.0) as usize;
    let mut sounding = vec![0u32; steps];
    for n in seq.notes.iter().filter(|n| n.channel != DRUM_CHANNEL) {
        let a = ((n.start * STEPS as f64).round() as usize).min(steps - 1);
        let b = ((n.end() * STEPS as f64).round() as usize).clamp(a + 1, steps);
        sounding[a..b].iter_mut().for_each(|s| *s += 1);
    }
    mean_active(&sounding)
}

/// How a set of values of one metric compares with a reference set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub mean: f64,
    pub std: f64,
    pub reference_mean: f64,
    pub reference_std: f64,
    /// Overlapping area of the KDEs of intra-set and inter-set distances (1 = same spread).
    pub overlap: f64,
    /// KL divergence from the intra-set to the inter-set distance KDE (nats; 0 = same).
    pub kl: f64,
}

/// A Gaussian KDE with Scott's bandwidth, evaluated at `x`.
fn kde(samples: &[f64], x: f64) -> f64 {
    let n = samples.len() as f64;
    let (_, sd) = mean_std(samples);
    let h = (sd * n.powf(-0.2)).max(1e-6);
    samples
        .iter()
        .map(|s| (-0.5 * ((x - s) / h).powi(2)).exp())
        .sum::<f64>()
        / (n * h * (2.0 * std::f64::consts::PI).sqrt())
}

/// Compares the values of one metric over a set (`ours`) with a reference set: intra-set
/// distances |a_i - a_j| of `ours` against inter-set distances |a_i - b_j|.
pub fn compare(ours: &[f64], reference: &[f64]) -> Comparison {
    let (mean, std) = mean_std(ours);
    let (reference_mean, reference_std) = mean_std(reference);
    let mut intra = Vec::new();
    for i in 0..ours.len() {
        for j in i + 1..ours.len() {
            intra.push((ours[i] - ours[j]).abs());
        }
    }
    let inter: Vec<f64> = ours
        .iter()
        .flat_map(|a| reference.iter().map(move |b| (a - b).abs()))
        .collect();
    let (mut overlap, mut kl) = (0.0, 0.0);
    if !intra.is_empty() && !inter.is_empty() {
        let hi = intra.iter().chain(&inter).cloned().fold(0.0, f64::max) * 1.5 + 1e-6;
        let n = 1000;
        let dx = hi / n as f64;
        for k in 0..n {
            let x = (k as f64 + 0.5) * dx;
            let (p, q) = (kde(&intra, x), kde(&inter, x));
            overlap += p.min(q) * dx;
            if p > 1e-12 {
                kl += p * (p / q.max(1e-12)).ln() * dx;
            }
        }
    }
    Comparison {
        mean,
        std,
        reference_mean,
        reference_std,
        overlap: overlap.min(1.0),
        kl: kl.max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::midi;

    /// The first two bars (6/8) of "The Monks of the Screw", O'Neill's no. 20: D5 D5 A4 A4 | G4 F#4 D4.
    fn two_bars() -> NoteSeq {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/folk/oneills1850/0001-005020.mid");
        let mut seq = midi::read_file(&path).unwrap().seq;
        seq.notes.retain(|n| n.start < 6.0);
        seq.end = 6.0;
        seq
    }

    #[test]
    fn metrics_of_two_bars_of_a_jig_match_hand_counts() {
        let m = Metrics::of(&two_bars());
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        // Pitch classes D D A A G F# D: 3/7, 2/7, 1/7, 1/7.
        let h = -(3.0 / 7.0 * (3.0f64 / 7.0).log2()
            + 2.0 / 7.0 * (2.0f64 / 7.0).log2()
            + 2.0 / 7.0 * (1.0f64 / 7.0).log2());
        assert!(close(m.pc_entropy, h), "{}", m.pc_entropy);
        // Bar 1: D D A A (1 bit); bar 2: G F# D (log2 3 bits).
        assert!(close(m.pc_entropy_bar, (1.0 + 3f64.log2()) / 2.0));
        assert!(close(m.scale_consistency, 1.0)); // all in D major
        assert!(close(m.pitch_range, 12.0)); // D5 down to D4
        assert!(close(m.polyphony, 1.0));
        assert!(close(m.note_density, 7.0 / 6.0));
        assert!(close(m.empty_beat_rate, 0.0));
        // Onsets on the 1/12 grid: bar 1 {0, 6, 21, 24}, bar 2 {3, 6, 12}: 5 of 36 differ.
        assert!(
            close(m.groove_consistency, 1.0 - 5.0 / 36.0),
            "{}",
            m.groove_consistency
        );
        // Seven onsets over 4 beats at 120 BPM: 2 s / 6 gaps.
        assert!((m.avg_ioi - 2.0 / 6.0).abs() < 1e-6, "{}", m.avg_ioi);
        assert!(close(m.repetition_rate, 0.0));
    }

    #[test]
    fn one_repeated_note_is_the_paper_laziness() {
        let notes = (0..16)
            .map(|i| crate::music::Note::new(60, 80, i as f64, 1.0))
            .collect();
        let m = Metrics::of(&NoteSeq::from_notes(notes, 120.0));
        assert_eq!(m.pc_entropy, 0.0);
        // 13 four-grams, all the same: every one after the first repeats.
        assert!((m.repetition_rate - 12.0 / 13.0).abs() < 1e-12);
        assert_eq!(m.groove_consistency, 1.0);
    }

    #[test]
    fn a_set_compared_with_itself_overlaps_and_a_shifted_set_does_not() {
        let a: Vec<f64> = (0..40).map(|i| (i as f64 * 0.37).sin()).collect();
        let same = compare(&a, &a);
        assert!(same.overlap > 0.8 && same.kl < 0.2, "{same:?}");
        let far: Vec<f64> = a.iter().map(|v| v + 10.0).collect();
        let apart = compare(&a, &far);
        assert!(apart.overlap < 0.05 && apart.kl > 1.0, "{apart:?}");
    }
}
