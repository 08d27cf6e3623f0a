//! Symbolic genre features straight from MIDI: pitch, interval, rhythm, density, drum and
//! instrument histograms. Our generator speaks MIDI, so these need no audio rendering.

use super::stats::mean_std;
use crate::music::{NoteSeq, DRUM_CHANNEL};

/// Onset-in-beat positions on a 12-step grid, inter-onset bins (in beats), drum groups.
const IOI_EDGES: [f64; 7] = [0.2, 0.3, 0.4, 0.6, 0.9, 1.4, 2.5];
const DRUM_GROUPS: [&[u8]; 7] = [
    &[35, 36],
    &[37, 38, 39, 40],
    &[42, 44],
    &[46],
    &[41, 43, 45, 47, 48, 50],
    &[49, 51, 52, 53, 55, 57, 59],
    &[
        54, 56, 58, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 73, 74, 75, 76, 77, 78, 79, 80, 81,
    ],
];

/// Names of the values [`features`] returns, in order.
pub fn names() -> Vec<String> {
    let mut n: Vec<String> = (0..12).map(|i| format!("pc{i}")).collect();
    n.extend(["pitch_mean", "pitch_std", "pitch_range"].map(String::from));
    n.extend((0..13).map(|i| format!("interval{i}")));
    n.extend((0..=IOI_EDGES.len()).map(|i| format!("ioi{i}")));
    n.extend((0..12).map(|i| format!("beatpos{i}")));
    n.extend(["density", "polyphony"].map(String::from));
    n.extend((0..DRUM_GROUPS.len()).map(|i| format!("drum{i}")));
    n.push("drum_share".into());
    n.extend((0..16).map(|i| format!("family{i}")));
    n.extend(["tempo", "velocity_mean", "velocity_std"].map(String::from));
    n
}

fn normalized(mut v: Vec<f64>) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        v.iter_mut().for_each(|x| *x /= s);
    }
    v
}

/// The feature row of a piece (histograms sum to 1; empty parts are zeros).
pub fn features(seq: &NoteSeq) -> Vec<f64> {
    let pitched: Vec<_> = seq
        .notes
        .iter()
        .filter(|n| n.channel != DRUM_CHANNEL)
        .collect();
    let drums: Vec<_> = seq
        .notes
        .iter()
        .filter(|n| n.channel == DRUM_CHANNEL)
        .collect();
    let mut out = Vec::with_capacity(names().len());

    let mut pc = vec![0.0; 12];
    for n in &pitched {
        pc[n.pitch as usize % 12] += n.duration;
    }
    out.extend(normalized(pc));
    let pitches: Vec<f64> = pitched.iter().map(|n| n.pitch as f64).collect();
    let (mean, std) = mean_std(&pitches);
    let (lo, hi) = pitched
        .iter()
        .fold((127u8, 0u8), |(l, h), n| (l.min(n.pitch), h.max(n.pitch)));
    out.extend([
        mean / 127.0,
        std / 127.0,
        hi.saturating_sub(lo) as f64 / 127.0,
    ]);

    let mut intervals = vec![0.0; 13];
    for ch in 0..16u8 {
        let line: Vec<u8> = pitched
            .iter()
            .filter(|n| n.channel == ch)
            .map(|n| n.pitch)
            .collect();
        for w in line.windows(2) {
            intervals[(w[0] as i32 - w[1] as i32).unsigned_abs().min(12) as usize] += 1.0;
        }
    }
    out.extend(normalized(intervals));

    let mut onsets: Vec<f64> = seq.notes.iter().map(|n| n.start).collect();
    onsets.sort_by(f64::total_cmp);
    onsets.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
    let mut ioi = vec![0.0; IOI_EDGES.len() + 1];
    for w in onsets.windows(2) {
        ioi[IOI_EDGES.partition_point(|&e| e <= w[1] - w[0])] += 1.0;
    }
    out.extend(normalized(ioi));
    let mut pos = vec![0.0; 12];
    for o in &onsets {
        pos[((o.fract() * 12.0).round() as usize) % 12] += 1.0;
    }
    out.extend(normalized(pos));

    let beats = seq.end.max(1.0);
    let sounding: f64 = seq.notes.iter().map(|n| n.duration).sum();
    out.extend([
        seq.notes.len() as f64 / beats / 10.0,
        sounding / beats / 10.0,
    ]);

    let mut groups = vec![0.0; DRUM_GROUPS.len()];
    for d in &drums {
        if let Some(g) = DRUM_GROUPS.iter().position(|g| g.contains(&d.pitch)) {
            groups[g] += 1.0;
        }
    }
    out.extend(normalized(groups));
    out.push(drums.len() as f64 / seq.notes.len().max(1) as f64);

    let mut families = vec![0.0; 16];
    for n in &pitched {
        families[(n.program / 8) as usize] += n.duration;
    }
    out.extend(normalized(families));

    let velocities: Vec<f64> = seq.notes.iter().map(|n| n.velocity as f64).collect();
    let (vel_mean, vel_std) = mean_std(&velocities);
    out.extend([
        seq.tempo.bpm_at(0.0) / 200.0,
        vel_mean / 127.0,
        vel_std / 127.0,
    ]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::Note;

    #[test]
    fn one_row_per_name_and_histograms_sum_to_one() {
        let mut notes: Vec<Note> = (0..8)
            .map(|i| Note::new(60 + i, 90, i as f64 * 0.5, 0.5))
            .collect();
        let mut kick = Note::new(36, 100, 0.0, 0.25);
        kick.channel = DRUM_CHANNEL;
        notes.push(kick);
        let row = features(&NoteSeq::from_notes(notes, 120.0));
        assert_eq!(row.len(), names().len());
        assert!((row[..12].iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let drum0 = names().iter().position(|n| n == "drum0").unwrap();
        assert_eq!(row[drum0], 1.0);
    }
}
