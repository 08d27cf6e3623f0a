//! Pitch names and pitch-class sets, spelled the way music21 spells them, so that our `paper`
//! tokens equal the seed paper's.

/// music21's default spelling of the twelve pitch classes (flats written `-`).
const NAMES: [&str; 12] = [
    "C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B",
];

/// `60` -> `C4`, `61` -> `C#4`, `63` -> `E-4` (music21's `nameWithOctave`).
pub fn name_with_octave(pitch: u8) -> String {
    let octave = pitch as i32 / 12 - 1;
    format!("{}{}", NAMES[pitch as usize % 12], octave)
}

/// Parses a name written by [`name_with_octave`]. Two-character names are tried first, so the
/// ambiguous `E-1` reads as E-flat 1 (as music21 reads it), not E in octave -1.
pub fn parse_name_with_octave(s: &str) -> Option<u8> {
    let mut order: Vec<usize> = (0..12).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(NAMES[i].len()));
    for pc in order {
        if let Some(rest) = s.strip_prefix(NAMES[pc]) {
            if let Ok(octave) = rest.parse::<i32>() {
                let p = (octave + 1) * 12 + pc as i32;
                return u8::try_from(p).ok().filter(|&p| p <= 127);
            }
        }
    }
    None
}

/// A set of pitch classes as a 12-bit mask (bit `pc` set when pitch class `pc` is present).
pub fn pc_mask(pitches: impl IntoIterator<Item = u8>) -> u16 {
    pitches.into_iter().fold(0, |m, p| m | 1 << (p % 12))
}

/// The pitch classes of a mask in normal order (Forte's: the rotation with the smallest span,
/// ties broken by the smallest interval from the first note to the second, third, ...; then the
/// lowest starting pitch class), which is what music21's `Chord.normalOrder` returns.
pub fn normal_order(mask: u16) -> Vec<u8> {
    let pcs: Vec<u8> = (0..12).filter(|i| mask >> i & 1 == 1).collect();
    let n = pcs.len();
    if n < 2 {
        return pcs;
    }
    let mut best: Option<(Vec<u8>, usize)> = None;
    for r in 0..n {
        let rel = |i: usize| (pcs[(r + i) % n] + 12 - pcs[r]) % 12;
        let mut key = Vec::with_capacity(n - 1);
        key.push(rel(n - 1));
        key.extend((1..n - 1).map(rel));
        if best.as_ref().is_none_or(|(k, _)| key < *k) {
            best = Some((key, r));
        }
    }
    let r = best.map(|b| b.1).unwrap_or(0);
    (0..n).map(|i| pcs[(r + i) % n]).collect()
}

/// `7.11.2` for G major.
pub fn normal_order_name(mask: u16) -> String {
    let parts: Vec<String> = normal_order(mask).iter().map(|p| p.to_string()).collect();
    parts.join(".")
}

/// Parses a dotted list of distinct pitch classes back to its mask.
pub fn parse_pc_list(s: &str) -> Option<u16> {
    let mut mask = 0u16;
    let mut count = 0;
    for part in s.split('.') {
        let pc: u8 = part.parse().ok()?;
        if pc >= 12 || mask >> pc & 1 == 1 {
            return None;
        }
        mask |= 1 << pc;
        count += 1;
    }
    (count >= 1).then_some(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_music21() {
        assert_eq!(name_with_octave(60), "C4");
        assert_eq!(name_with_octave(61), "C#4");
        assert_eq!(name_with_octave(70), "B-4");
        assert_eq!(name_with_octave(41), "F2");
        assert_eq!(name_with_octave(0), "C-1");
        for p in 12..=127u8 {
            assert_eq!(parse_name_with_octave(&name_with_octave(p)), Some(p));
        }
        assert_eq!(parse_name_with_octave("H4"), None);
    }

    #[test]
    fn g_major_is_7_11_2() {
        assert_eq!(normal_order_name(pc_mask([67, 71, 74])), "7.11.2");
        assert_eq!(parse_pc_list("7.11.2"), Some(pc_mask([67, 71, 74])));
        assert_eq!(parse_pc_list("7.7"), None);
        assert_eq!(parse_pc_list("12"), None);
    }
}
