//! The leak-free train/validation split: pieces are grouped so that near-duplicates fall on one
//! side. A genre piece's group is its groove family (every groove is rendered over eight chord
//! progressions in two keys, so its files share their patterns); any other piece is grouped with
//! the pieces whose melody it shares, found by a transposition- and tempo-invariant fingerprint
//! (the two keys of a tune, the same tune in O'Neill's and Ryan's books, chorales on one melody).
//! A group's side is a stable hash of its key, so the split is the same on every run and machine.

use std::collections::HashMap;

use serde::Serialize;

use crate::music::NoteSeq;

/// Which side of the split a piece is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Validation,
}

impl Split {
    /// The side of a group by its key: stable across runs, machines and corpus edits that leave
    /// the group alone.
    pub fn of_key(key: &str, val_fraction: f64) -> Split {
        let x = hash64(key.as_bytes());
        if (x as f64 / u64::MAX as f64) < val_fraction {
            Split::Validation
        } else {
            Split::Train
        }
    }

    /// The split this project used before the grouped one: by each file's own path, so that
    /// near-duplicates crossed it. Kept only to report how many pieces it leaked.
    pub fn of_path(path: &str, val_fraction: f64) -> Split {
        Split::of_key(path, val_fraction)
    }
}

/// A stable 64-bit hash of `bytes` (the first eight bytes of their blake3, little-endian).
pub fn hash64(bytes: &[u8]) -> u64 {
    let h = blake3::hash(bytes);
    u64::from_le_bytes(h.as_bytes()[..8].try_into().unwrap_or([0; 8]))
}

/// Melody intervals per shingle: long enough that two unrelated tunes rarely share one, short
/// enough that an ornament or a changed note leaves most of a tune's shingles intact.
const SHINGLE: usize = 6;
/// Two pieces are near-duplicates when this share of their shingles (Jaccard) is common.
pub const NEAR_DUPLICATE: f64 = 0.3;
/// A shingle found in more pieces than this is a commonplace (a scale, an arpeggio), not a
/// sign of a shared tune, and proposes no pairs.
const COMMONPLACE: usize = 64;
/// Pieces with fewer shingles than this are too short to match anyone reliably.
const MIN_SHINGLES: usize = 4;

/// The melody fingerprint of a piece: the sorted set of hashes of every run of [`SHINGLE`]
/// intervals of its top line (the highest pitch at each onset, drums left out). Intervals make it
/// transposition-invariant, ignoring durations makes it tempo- and rhythm-invariant; runs of
/// repeated notes only say nothing and are left out.
pub fn melody_fingerprint(seq: &NoteSeq) -> Vec<u32> {
    let mut onsets: Vec<(i64, u8)> = seq
        .notes
        .iter()
        .filter(|n| !n.is_drum())
        .map(|n| ((n.start * 12.0).round() as i64, n.pitch))
        .collect();
    onsets.sort_unstable();
    let mut top: Vec<u8> = Vec::with_capacity(onsets.len());
    let mut last = None;
    for (t, p) in onsets {
        if last == Some(t) {
            if let Some(x) = top.last_mut() {
                *x = (*x).max(p);
            }
        } else {
            top.push(p);
            last = Some(t);
        }
    }
    let steps: Vec<i8> = top
        .windows(2)
        .map(|w| (w[1] as i16 - w[0] as i16).clamp(-24, 24) as i8)
        .collect();
    let mut out: Vec<u32> = steps
        .windows(SHINGLE)
        .filter(|w| w.iter().any(|&s| s != 0))
        .map(|w| {
            let bytes: [u8; SHINGLE] = std::array::from_fn(|k| w[k] as u8);
            hash64(&bytes) as u32
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A groove's family: MMA numbers and letters the variants of one groove (`metal1A`,
/// `CountrySwing1`, `HIP05`, `Hip-Hop`), and variants share their patterns.
pub fn groove_family(groove: &str) -> String {
    let mut s: String = groove
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    // One trailing variant letter after digits, then the digits.
    let bytes = s.as_bytes();
    if bytes.len() >= 2
        && bytes[bytes.len() - 1].is_ascii_alphabetic()
        && bytes[bytes.len() - 2].is_ascii_digit()
    {
        s.pop();
    }
    while s.len() > 1 && s.ends_with(|c: char| c.is_ascii_digit()) {
        s.pop();
    }
    s
}

/// What grouping needs to know of one piece.
pub struct Member<'a> {
    pub path: &'a str,
    pub groove: Option<&'a str>,
    pub fingerprint: &'a [u32],
}

/// The group key of every member, in order: `groove:<family>` for genre pieces, otherwise the
/// smallest path among the piece's near-duplicates (itself when it has none).
pub fn group_keys(members: &[Member]) -> Vec<String> {
    let n = members.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    // Candidate pairs: pieces that share an uncommon shingle, counted per pair.
    let mut postings: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, m) in members.iter().enumerate() {
        if m.groove.is_some() || m.fingerprint.len() < MIN_SHINGLES {
            continue;
        }
        for &s in m.fingerprint {
            postings.entry(s).or_default().push(i as u32);
        }
    }
    let mut shared: HashMap<(u32, u32), u32> = HashMap::new();
    for list in postings.values() {
        if list.len() < 2 || list.len() > COMMONPLACE {
            continue;
        }
        for (a, &i) in list.iter().enumerate() {
            for &j in &list[a + 1..] {
                *shared.entry((i, j)).or_default() += 1;
            }
        }
    }
    let mut pairs: Vec<(u32, u32)> = shared
        .into_iter()
        .filter(|&((i, j), common)| {
            let (a, b) = (
                members[i as usize].fingerprint.len(),
                members[j as usize].fingerprint.len(),
            );
            let jaccard = common as f64 / (a + b - common as usize) as f64;
            jaccard >= NEAR_DUPLICATE
        })
        .map(|(pair, _)| pair)
        .collect();
    pairs.sort_unstable();
    for (i, j) in pairs {
        let (a, b) = (find(&mut parent, i as usize), find(&mut parent, j as usize));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut smallest: HashMap<usize, &str> = HashMap::new();
    for (i, m) in members.iter().enumerate() {
        let root = find(&mut parent, i);
        let e = smallest.entry(root).or_insert(m.path);
        if m.path < *e {
            *e = m.path;
        }
    }
    members
        .iter()
        .enumerate()
        .map(|(i, m)| match m.groove {
            Some(g) => format!("groove:{}", groove_family(g)),
            None => smallest[&find(&mut parent, i)].to_string(),
        })
        .collect()
}

/// How the grouped split falls, and what the old per-path split leaked.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SplitReport {
    pub val_fraction: f64,
    pub pieces: usize,
    pub groups: usize,
    /// Pieces in groups of more than one piece.
    pub grouped_pieces: usize,
    pub largest_group: usize,
    pub train_pieces: usize,
    pub validation_pieces: usize,
    /// Pieces the old path-hash split held out although a piece of their group was trained on.
    pub old_split_validation: usize,
    pub old_split_leaked: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::Note;

    fn tune(pitches: &[u8], shift: i32, beat: f64) -> NoteSeq {
        let notes = pitches
            .iter()
            .enumerate()
            .map(|(i, &p)| Note::new((p as i32 + shift) as u8, 80, i as f64 * beat, beat))
            .collect();
        NoteSeq::from_notes(notes, 120.0)
    }

    const A: [u8; 16] = [
        62, 64, 66, 67, 69, 71, 69, 67, 66, 64, 62, 69, 74, 73, 71, 69,
    ];
    const B: [u8; 16] = [
        60, 67, 65, 64, 62, 60, 72, 71, 60, 59, 57, 55, 57, 59, 60, 64,
    ];

    #[test]
    fn fingerprint_ignores_key_and_tempo() {
        assert_eq!(
            melody_fingerprint(&tune(&A, 0, 0.5)),
            melody_fingerprint(&tune(&A, 5, 1.0))
        );
        assert_ne!(
            melody_fingerprint(&tune(&A, 0, 0.5)),
            melody_fingerprint(&tune(&B, 0, 0.5))
        );
    }

    #[test]
    fn near_duplicates_share_a_group_and_strangers_do_not() {
        let mut varied = A;
        varied[14] = 72;
        let prints = [
            melody_fingerprint(&tune(&A, 0, 0.5)),
            melody_fingerprint(&tune(&varied, -3, 0.5)),
            melody_fingerprint(&tune(&B, 0, 0.5)),
        ];
        let members: Vec<Member> = ["z/a.mid", "b/a-variant.mid", "c/b.mid"]
            .iter()
            .zip(&prints)
            .map(|(p, f)| Member {
                path: p,
                groove: None,
                fingerprint: f,
            })
            .collect();
        let keys = group_keys(&members);
        assert_eq!(keys, ["b/a-variant.mid", "b/a-variant.mid", "c/b.mid"]);
    }

    #[test]
    fn genre_pieces_group_by_groove_family() {
        for (g, f) in [
            ("metal1A", "metal"),
            ("CountrySwing1", "countryswing"),
            ("HIP05", "hip"),
            ("Hip-Hop", "hiphop"),
            ("8BeatDance", "8beatdance"),
            ("8Beat", "8beat"),
            ("SKA01", "ska"),
        ] {
            assert_eq!(groove_family(g), f, "{g}");
        }
    }
}
