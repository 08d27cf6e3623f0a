//! Scales for pitch quantization: a root and a mode, packed into one `u32` so it can change live
//! through an atomic.

use std::fmt;
use std::str::FromStr;

/// Modes as 12-bit masks of the pitch classes above the root (bit 0 is the root).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Major,
    Minor,
    Dorian,
    Phrygian,
    Lydian,
    Mixolydian,
    Locrian,
    HarmonicMinor,
    MajorPentatonic,
    MinorPentatonic,
    Blues,
    Chromatic,
}

const MODES: [(Mode, &str, [u8; 7], usize); 12] = [
    (Mode::Major, "major", [0, 2, 4, 5, 7, 9, 11], 7),
    (Mode::Minor, "minor", [0, 2, 3, 5, 7, 8, 10], 7),
    (Mode::Dorian, "dorian", [0, 2, 3, 5, 7, 9, 10], 7),
    (Mode::Phrygian, "phrygian", [0, 1, 3, 5, 7, 8, 10], 7),
    (Mode::Lydian, "lydian", [0, 2, 4, 6, 7, 9, 11], 7),
    (Mode::Mixolydian, "mixolydian", [0, 2, 4, 5, 7, 9, 10], 7),
    (Mode::Locrian, "locrian", [0, 1, 3, 5, 6, 8, 10], 7),
    (
        Mode::HarmonicMinor,
        "harmonic-minor",
        [0, 2, 3, 5, 7, 8, 11],
        7,
    ),
    (
        Mode::MajorPentatonic,
        "major-pentatonic",
        [0, 2, 4, 7, 9, 0, 0],
        5,
    ),
    (
        Mode::MinorPentatonic,
        "minor-pentatonic",
        [0, 3, 5, 7, 10, 0, 0],
        5,
    ),
    (Mode::Blues, "blues", [0, 3, 5, 6, 7, 10, 0], 6),
    (Mode::Chromatic, "chromatic", [0; 7], 0),
];

impl Mode {
    fn entry(self) -> &'static (Mode, &'static str, [u8; 7], usize) {
        &MODES[self as usize]
    }

    /// Pitch classes above the root, as a 12-bit mask.
    pub fn mask(self) -> u16 {
        let (_, _, steps, n) = self.entry();
        if *n == 0 {
            return 0x0fff;
        }
        steps[..*n].iter().fold(0, |m, s| m | 1 << s)
    }

    pub fn name(self) -> &'static str {
        self.entry().1
    }
}

/// A scale: root pitch class (0 = C) and mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    pub root: u8,
    pub mode: Mode,
}

/// A scale that could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("unknown scale {0:?}: expected ROOT MODE, e.g. \"D dorian\" (modes: {modes})", modes = MODES.iter().map(|m| m.1).collect::<Vec<_>>().join(", "))]
pub struct ScaleError(pub String);

impl Scale {
    pub fn new(root: u8, mode: Mode) -> Self {
        Scale {
            root: root % 12,
            mode,
        }
    }

    pub fn contains(&self, pitch: u8) -> bool {
        let pc = (pitch as i32 - self.root as i32).rem_euclid(12);
        self.mode.mask() & (1 << pc) != 0
    }

    /// The nearest pitch in the scale; on a tie the lower one.
    pub fn quantize(&self, pitch: u8) -> u8 {
        for d in 0..12i32 {
            for cand in [pitch as i32 - d, pitch as i32 + d] {
                if (0..=127).contains(&cand) && self.contains(cand as u8) {
                    return cand as u8;
                }
            }
        }
        pitch
    }

    /// Packs into a non-zero `u32` (0 means "no scale" in the live parameters).
    pub fn pack(&self) -> u32 {
        1 << 16 | (self.mode as u32) << 8 | self.root as u32
    }

    pub fn unpack(v: u32) -> Option<Scale> {
        if v >> 16 != 1 {
            return None;
        }
        let mode = MODES.get(((v >> 8) & 0xff) as usize)?.0;
        Some(Scale::new((v & 0xff) as u8, mode))
    }
}

/// The pitch-class names, C first, sharps for the black keys.
pub const NOTE_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", NOTE_NAMES[self.root as usize], self.mode.name())
    }
}

impl FromStr for Scale {
    type Err = ScaleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ScaleError(s.to_string());
        let mut parts = s.split_whitespace();
        let root = parts.next().ok_or_else(err)?;
        let mode = parts.next().unwrap_or("major").to_ascii_lowercase();
        if parts.next().is_some() {
            return Err(err());
        }
        let mut chars = root.chars();
        let letter = chars.next().ok_or_else(err)?.to_ascii_uppercase();
        let mut pc = NOTE_NAMES
            .iter()
            .position(|n| n.starts_with(letter))
            .ok_or_else(err)? as i32;
        for c in chars {
            pc += match c {
                '#' => 1,
                'b' => -1,
                _ => return Err(err()),
            };
        }
        let mode = MODES.iter().find(|m| m.1 == mode).ok_or_else(err)?.0;
        Ok(Scale::new(pc.rem_euclid(12) as u8, mode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantizes_to_nearest_lower_on_tie() {
        let c_major = Scale::new(0, Mode::Major);
        assert_eq!(c_major.quantize(60), 60);
        assert_eq!(c_major.quantize(61), 60); // C# -> C (tie C/D goes down)
        assert_eq!(c_major.quantize(66), 65); // F# -> F
        let a_minor_pent: Scale = "A minor-pentatonic".parse().unwrap();
        assert_eq!(a_minor_pent.quantize(71), 72); // B -> C, the nearer
        assert_eq!(a_minor_pent.quantize(70), 69); // A# -> A
        assert_eq!(a_minor_pent.quantize(58), 57); // A# -> A
        let chromatic = Scale::new(3, Mode::Chromatic);
        assert!((0..128).all(|p| chromatic.quantize(p) == p));
    }

    #[test]
    fn parses_and_packs() {
        let s: Scale = "Eb dorian".parse().unwrap();
        assert_eq!(s, Scale::new(3, Mode::Dorian));
        assert_eq!(Scale::unpack(s.pack()), Some(s));
        assert_eq!(Scale::unpack(0), None);
        assert_eq!(s.to_string(), "D# dorian");
        assert!("H major".parse::<Scale>().is_err());
        assert!("C bogus".parse::<Scale>().is_err());
    }
}
