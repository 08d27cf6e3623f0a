//! Attributes of a passage measured from its notes, the quantities latent attribute vectors steer:
//! note density, pitch height, pitch range, polyphony and syncopation. Times are in beats
//! (quarter notes); pitch attributes ignore drums.

use serde::{Deserialize, Serialize};

use super::metrics;
use crate::music::{NoteSeq, DRUM_CHANNEL};

/// An attribute measured on notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteAttribute {
    Density,
    PitchHeight,
    PitchRange,
    Polyphony,
    Syncopation,
}

impl NoteAttribute {
    pub const ALL: [NoteAttribute; 5] = [
        NoteAttribute::Density,
        NoteAttribute::PitchHeight,
        NoteAttribute::PitchRange,
        NoteAttribute::Polyphony,
        NoteAttribute::Syncopation,
    ];

    /// The name a performer types (`add density 1`).
    pub fn name(self) -> &'static str {
        match self {
            NoteAttribute::Density => "density",
            NoteAttribute::PitchHeight => "pitch_height",
            NoteAttribute::PitchRange => "pitch_range",
            NoteAttribute::Polyphony => "polyphony",
            NoteAttribute::Syncopation => "syncopation",
        }
    }

    pub fn by_name(name: &str) -> Option<NoteAttribute> {
        NoteAttribute::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn measure(self, seq: &NoteSeq) -> f64 {
        match self {
            NoteAttribute::Density => density(seq),
            NoteAttribute::PitchHeight => pitch_height(seq),
            NoteAttribute::PitchRange => pitch_range(seq),
            NoteAttribute::Polyphony => metrics::polyphony(seq),
            NoteAttribute::Syncopation => syncopation(seq),
        }
    }
}

/// Notes (drums included) per beat over the whole passage, `0..seq.end`.
pub fn density(seq: &NoteSeq) -> f64 {
    if seq.end <= 0.0 {
        return 0.0;
    }
    seq.notes.len() as f64 / seq.end
}

fn pitched(seq: &NoteSeq) -> impl Iterator<Item = u8> + '_ {
    seq.notes
        .iter()
        .filter(|n| n.channel != DRUM_CHANNEL)
        .map(|n| n.pitch)
}

/// Mean MIDI pitch of the pitched notes (0 when there are none).
pub fn pitch_height(seq: &NoteSeq) -> f64 {
    let (sum, n) = pitched(seq).fold((0.0, 0usize), |(s, n), p| (s + p as f64, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

/// Highest minus lowest pitched note, in semitones (0 when there are none).
pub fn pitch_range(seq: &NoteSeq) -> f64 {
    let (lo, hi) = pitched(seq).fold((u8::MAX, 0u8), |(l, h), p| (l.min(p), h.max(p)));
    if lo > hi {
        0.0
    } else {
        (hi - lo) as f64
    }
}

/// Grid steps per beat the syncopation measure rounds onsets to (sixteenths and triplets).
const GRID: f64 = 12.0;

/// Metrical weight of an onset at `beat`: 0 on a quarter-note beat, 0.5 on the eighth between
/// two beats, 1 anywhere else (sixteenths, triplets and finer).
fn offbeat_weight(beat: f64) -> f64 {
    let step = (beat * GRID).round() as i64;
    match step.rem_euclid(GRID as i64) {
        0 => 0.0,
        6 => 0.5,
        _ => 1.0,
    }
}

/// Syncopation: the mean off-beat weight of the distinct onset times (drums included, rounded
/// to a 1/12-beat grid). An onset on a quarter-note beat weighs 0, on the eighth-note off-beat
/// 0.5, on any other position 1; so straight quarter notes give 0, straight eighths 0.25,
/// straight sixteenths 0.625, and 0 for an empty passage.
pub fn syncopation(seq: &NoteSeq) -> f64 {
    let mut steps: Vec<i64> = seq
        .notes
        .iter()
        .map(|n| (n.start * GRID).round() as i64)
        .collect();
    steps.sort_unstable();
    steps.dedup();
    if steps.is_empty() {
        return 0.0;
    }
    steps
        .iter()
        .map(|&s| offbeat_weight(s as f64 / GRID))
        .sum::<f64>()
        / steps.len() as f64
}

/// Ranks (1-based) with ties sharing their mean rank.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        order[i..=j].iter().for_each(|&k| r[k] = mean);
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation of `x` and `y` (Pearson's r of the tie-averaged ranks); 0 when
/// either side is constant or there are fewer than two pairs.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    if n < 2 {
        return 0.0;
    }
    let (rx, ry) = (ranks(&x[..n]), ranks(&y[..n]));
    let m = (n as f64 + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - m) * (b - m);
        sxx += (a - m) * (a - m);
        syy += (b - m) * (b - m);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return 0.0;
    }
    sxy / (sxx * syy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::midi;

    fn piece(rel: &str) -> NoteSeq {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        midi::read_file(&path).unwrap().seq
    }

    /// The first two bars (6/8) of "The Monks of the Screw", O'Neill's no. 20:
    /// D5 (beat 0) D5 (0.5) A4 (1.75) A4 (2) | G4 (3.25) F#4 (3.5) D4 (4), over 6 beats.
    fn jig() -> NoteSeq {
        let mut seq = piece("data/folk/oneills1850/0001-005020.mid");
        seq.notes.retain(|n| n.start < 6.0);
        seq.end = 6.0;
        seq
    }

    #[test]
    fn attributes_of_two_bars_of_a_jig_match_hand_counts() {
        let seq = jig();
        let pitches: Vec<u8> = seq.notes.iter().map(|n| n.pitch).collect();
        assert_eq!(pitches, [74, 74, 69, 69, 67, 66, 62]);
        let a = |x: NoteAttribute| x.measure(&seq);
        assert!((a(NoteAttribute::Density) - 7.0 / 6.0).abs() < 1e-12);
        let mean = (74 + 74 + 69 + 69 + 67 + 66 + 62) as f64 / 7.0;
        assert!((a(NoteAttribute::PitchHeight) - mean).abs() < 1e-12);
        assert_eq!(a(NoteAttribute::PitchRange), 12.0);
        assert_eq!(a(NoteAttribute::Polyphony), 1.0);
        // Onsets in grid steps {0, 6, 21, 24, 39, 42, 48}: weights 0, .5, 1, 0, 1, .5, 0.
        assert!((a(NoteAttribute::Syncopation) - 3.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn the_first_bar_of_a_chorale_as_the_event_tokens_see_it() {
        // Bach's BWV 1.6, bar 1 through the event tokenizer (12 positions a beat), by hand:
        // beat 0: F3 A3 C4 F4 (a beat each); beat 1: E3 G3 C4 C5 (a beat) and G4 (half), then
        // C4 (half) at 1.5; beat 2: F3 A3 C4 A4 (a beat) and F4 (half), then F3 (half) at 2.5;
        // beat 3: D3 D4 F4 (a beat) and A3 (half), then F3 (half) at 3.5.
        let seq = piece("data/classical/bach/bach__bwv1.6.mid");
        let config = crate::music::tokens::TokenizerConfig::by_name("event").unwrap();
        let tokenizer = config.build();
        let tokens = tokenizer.encode(&seq, None).unwrap();
        let second_bar = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| matches!(t, crate::music::tokens::Token::Bar { .. }))
            .nth(1)
            .unwrap()
            .0;
        let bar = tokenizer.decode(&tokens[..second_bar]);
        assert_eq!(bar.notes.len(), 21);
        assert!((bar.end - 4.0).abs() < 1e-9, "{}", bar.end);
        assert!((density(&bar) - 21.0 / 4.0).abs() < 1e-12);
        let sum = 235 + 306 + 60 + 304 + 53 + 234 + 53;
        assert!((pitch_height(&bar) - sum as f64 / 21.0).abs() < 1e-12);
        assert_eq!(pitch_range(&bar), 22.0); // C5 (72) down to D3 (50)
                                             // Sounding: 4 voices on beat 0, 5 on beats 1 and 2 (the half-beat notes hand over),
                                             // 4 on beat 3.
        assert!((metrics::polyphony(&bar) - 4.5).abs() < 1e-12);
        // Onsets at beats 0, 1, 1.5, 2, 2.5, 3, 3.5: three eighth off-beats of 0.5 each.
        assert!((syncopation(&bar) - 1.5 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn syncopation_of_straight_rhythms_follows_its_definition() {
        let line = |step: f64, n: usize| {
            NoteSeq::from_notes(
                (0..n)
                    .map(|i| crate::music::Note::new(60, 80, i as f64 * step, step))
                    .collect(),
                120.0,
            )
        };
        assert_eq!(syncopation(&line(1.0, 8)), 0.0);
        assert!((syncopation(&line(0.5, 16)) - 0.25).abs() < 1e-12);
        assert!((syncopation(&line(0.25, 32)) - 0.625).abs() < 1e-12);
        // Pushed eighths: every onset a sixteenth late.
        let pushed = NoteSeq::from_notes(
            (0..8)
                .map(|i| crate::music::Note::new(60, 80, i as f64 * 0.5 + 0.25, 0.25))
                .collect(),
            120.0,
        );
        assert_eq!(syncopation(&pushed), 1.0);
        assert_eq!(syncopation(&NoteSeq::default()), 0.0);
        assert_eq!(density(&NoteSeq::default()), 0.0);
        assert_eq!(pitch_height(&NoteSeq::default()), 0.0);
    }

    #[test]
    fn spearman_matches_hand_ranks() {
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 25.0, 100.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // Ranks x: 1 2 3 4 5, y: 2 1 4 3 5 -> d^2 = 4, rho = 1 - 6 * 4 / (5 * 24) = 0.8.
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[0.2, 0.1, 0.4, 0.3, 0.9]);
        assert!((rho - 0.8).abs() < 1e-12, "{rho}");
        // Ties share the mean rank: y ranks 1.5 1.5 3 -> Pearson of (1,2,3) and (1.5,1.5,3).
        let rho = spearman(&[1.0, 2.0, 3.0], &[5.0, 5.0, 7.0]);
        assert!((rho - 0.75f64.sqrt()).abs() < 1e-12, "{rho}");
        assert_eq!(spearman(&[1.0, 2.0], &[4.0, 4.0]), 0.0);
    }
}
