//! The token type shared by all tokenizers, with its text form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::music::pitch;

/// One token. `paper` tokens are `Note` and `Chord`; the rest are `event` tokens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Token {
    /// A single note by MIDI key: text `C#4`.
    Note(u8),
    /// Notes starting together, as a pitch-class mask: text in normal order, `7.11.2`.
    Chord(u16),
    /// Start of a bar and its time signature: `Bar_6/8`.
    Bar { num: u8, den: u8 },
    /// Onset within the bar in 1/12-beat steps: `Pos_18`.
    Pos(u16),
    /// General MIDI program of the notes that follow: `Prog_33`.
    Program(u8),
    /// A pitched note's key: `Pitch_60`.
    Pitch(u8),
    /// A drum hit's key (General MIDI percussion map): `Drum_36`.
    Drum(u8),
    /// Length in 1/12-beat steps: `Dur_6`.
    Dur(u16),
    /// Velocity bin: `Vel_20`.
    Vel(u8),
    /// Style label for conditioning: `Style_jazz`.
    Style(String),
}

impl Token {
    /// The token moved by `semitones`; `None` when a pitch would leave 0..=127. Drums, chords'
    /// pitch classes wrap around the octave.
    pub fn transposed(&self, semitones: i32) -> Option<Token> {
        let shift = |p: u8| {
            u8::try_from(p as i32 + semitones)
                .ok()
                .filter(|&p| p <= 127)
        };
        Some(match self {
            Token::Note(p) => Token::Note(shift(*p)?),
            Token::Pitch(p) => Token::Pitch(shift(*p)?),
            Token::Chord(m) => {
                let k = semitones.rem_euclid(12) as u32;
                let m = *m as u32;
                Token::Chord((((m << k) | (m >> (12 - k))) & 0xfff) as u16)
            }
            other => other.clone(),
        })
    }

    /// The token's kind as a word (`note`, `chord`, `bar`, ...), for statistics and display.
    pub fn kind(&self) -> &'static str {
        match self {
            Token::Note(_) => "note",
            Token::Chord(_) => "chord",
            Token::Bar { .. } => "bar",
            Token::Pos(_) => "pos",
            Token::Program(_) => "program",
            Token::Pitch(_) => "pitch",
            Token::Drum(_) => "drum",
            Token::Dur(_) => "dur",
            Token::Vel(_) => "vel",
            Token::Style(_) => "style",
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Note(p) => f.write_str(&pitch::name_with_octave(*p)),
            Token::Chord(m) => f.write_str(&pitch::normal_order_name(*m)),
            Token::Bar { num, den } => write!(f, "Bar_{num}/{den}"),
            Token::Pos(p) => write!(f, "Pos_{p}"),
            Token::Program(p) => write!(f, "Prog_{p}"),
            Token::Pitch(p) => write!(f, "Pitch_{p}"),
            Token::Drum(p) => write!(f, "Drum_{p}"),
            Token::Dur(d) => write!(f, "Dur_{d}"),
            Token::Vel(v) => write!(f, "Vel_{v}"),
            Token::Style(s) => write!(f, "Style_{s}"),
        }
    }
}

/// A token's text could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("not a token: '{0}'")]
pub struct BadToken(pub String);

impl FromStr for Token {
    type Err = BadToken;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadToken(s.to_string());
        if let Some((kind, arg)) = s.split_once('_') {
            let num = || arg.parse::<u16>().map_err(|_| bad());
            let byte = || arg.parse::<u8>().ok().filter(|&v| v <= 127).ok_or_else(bad);
            return match kind {
                "Bar" => {
                    let (n, d) = arg.split_once('/').ok_or_else(bad)?;
                    Ok(Token::Bar {
                        num: n.parse().map_err(|_| bad())?,
                        den: d.parse().map_err(|_| bad())?,
                    })
                }
                "Pos" => Ok(Token::Pos(num()?)),
                "Prog" => Ok(Token::Program(byte()?)),
                "Pitch" => Ok(Token::Pitch(byte()?)),
                "Drum" => Ok(Token::Drum(byte()?)),
                "Dur" => Ok(Token::Dur(num()?)),
                "Vel" => Ok(Token::Vel(byte()?)),
                "Style" if !arg.is_empty() => Ok(Token::Style(arg.to_string())),
                _ => Err(bad()),
            };
        }
        if s.starts_with(|c: char| c.is_ascii_digit()) {
            return pitch::parse_pc_list(s).map(Token::Chord).ok_or_else(bad);
        }
        pitch::parse_name_with_octave(s)
            .map(Token::Note)
            .ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Token::Note(41), "F2")]
    #[case(Token::Note(61), "C#4")]
    #[case(Token::Chord(0b1000_1000_0100), "7.11.2")]
    #[case(Token::Chord(1), "0")]
    #[case(Token::Bar { num: 6, den: 8 }, "Bar_6/8")]
    #[case(Token::Pos(18), "Pos_18")]
    #[case(Token::Program(33), "Prog_33")]
    #[case(Token::Pitch(60), "Pitch_60")]
    #[case(Token::Drum(36), "Drum_36")]
    #[case(Token::Dur(6), "Dur_6")]
    #[case(Token::Vel(20), "Vel_20")]
    #[case(Token::Style("jazz".into()), "Style_jazz")]
    fn text_round_trip(#[case] token: Token, #[case] text: &str) {
        assert_eq!(token.to_string(), text);
        assert_eq!(text.parse::<Token>().unwrap(), token);
    }

    #[rstest]
    #[case("")]
    #[case("Pitch_200")]
    #[case("Bar_4")]
    #[case("Foo_1")]
    #[case("0.0")]
    #[case("X9")]
    fn bad_text_is_an_error(#[case] text: &str) {
        assert!(text.parse::<Token>().is_err());
    }

    #[test]
    fn transposing_a_chord_rotates_its_classes() {
        let g = Token::Chord(0b1000_1000_0100);
        assert_eq!(g.transposed(5).unwrap().to_string(), "0.4.7");
        assert_eq!(Token::Note(127).transposed(1), None);
        assert_eq!(Token::Drum(36).transposed(3), Some(Token::Drum(36)));
    }
}
