//! A short note list typed by a person, as a primer: `c4 e4 g4/2 r c5:8`.
//!
//! Items are separated by spaces. A note is a letter `a`-`g`, any number of `#` or `b`, and an
//! octave (`c4` is middle C, MIDI 60; `-1` to `9`); notes joined by `+` sound together (`c4+e4+g4`).
//! `r` is a rest. A length may follow: `:N` a note value (`:4` quarter, `:8` eighth, `:1` whole,
//! a trailing `.` dots it: `:4.`), `/N` a beat divided by N (`/2` half a beat), or `*X` a number
//! of beats (`*1.5`). Without one, an item lasts as long as the item before (the first: one beat).

use crate::music::{Note, NoteSeq};

/// A note list that does not parse: the 1-based column and what is wrong there.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("column {column}: {message}")]
pub struct NotesTextError {
    pub column: usize,
    pub message: String,
}

fn err(column: usize, message: impl Into<String>) -> NotesTextError {
    NotesTextError {
        column,
        message: message.into(),
    }
}

/// Velocity of typed notes.
const VELOCITY: u8 = 80;

/// Parses a note list into a piece at `bpm` (beats from 0).
pub fn parse_notes(text: &str, bpm: f64) -> Result<NoteSeq, NotesTextError> {
    let mut notes = Vec::new();
    let mut beat = 0.0;
    let mut length = 1.0;
    let mut items = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let (pitches, len) = parse_item(&text[start..i], start + 1)?;
        if let Some(l) = len {
            length = l;
        }
        for p in pitches {
            notes.push(Note::new(p, VELOCITY, beat, length));
        }
        beat += length;
        items += 1;
    }
    if items == 0 {
        return Err(err(1, "no notes (e.g. \"c4 e4 g4/2 r c5:8\")"));
    }
    let mut seq = NoteSeq::from_notes(notes, bpm);
    seq.end = seq.end.max(beat);
    Ok(seq)
}

/// One item: its pitches (none for a rest) and its length if it gives one. `col` is the
/// column of its first character.
fn parse_item(item: &str, col: usize) -> Result<(Vec<u8>, Option<f64>), NotesTextError> {
    let cut = item.find([':', '/', '*']).unwrap_or(item.len());
    let (head, tail) = item.split_at(cut);
    let len = if tail.is_empty() {
        None
    } else {
        Some(parse_length(tail, col + cut)?)
    };
    if head.eq_ignore_ascii_case("r") {
        return Ok((Vec::new(), len));
    }
    let mut pitches = Vec::new();
    let mut at = col;
    for part in head.split('+') {
        pitches.push(parse_pitch(part, at)?);
        at += part.len() + 1;
    }
    Ok((pitches, len))
}

fn parse_pitch(s: &str, col: usize) -> Result<u8, NotesTextError> {
    let mut chars = s.char_indices().peekable();
    let Some((_, letter)) = chars.next() else {
        return Err(err(col, "expected a note name (a-g) or r"));
    };
    let base: i32 = match letter.to_ascii_lowercase() {
        'c' => 0,
        'd' => 2,
        'e' => 4,
        'f' => 5,
        'g' => 7,
        'a' => 9,
        'b' => 11,
        other => return Err(err(col, format!("'{other}' is not a note name (a-g) or r"))),
    };
    let mut shift = 0;
    while let Some(&(_, c)) = chars.peek() {
        match c {
            '#' => shift += 1,
            'b' => shift -= 1,
            _ => break,
        }
        chars.next();
    }
    let rest_at = chars.peek().map_or(s.len(), |&(i, _)| i);
    let octave_text = &s[rest_at..];
    let octave: i32 = octave_text.parse().map_err(|_| {
        err(
            col + rest_at,
            format!(
                "expected an octave number after {}, got \"{octave_text}\"",
                &s[..rest_at]
            ),
        )
    })?;
    let key = (octave + 1) * 12 + base + shift;
    u8::try_from(key)
        .ok()
        .filter(|&k| k <= 127)
        .ok_or_else(|| err(col, format!("{s} is outside the MIDI range (c-1 to g9)")))
}

fn parse_length(s: &str, col: usize) -> Result<f64, NotesTextError> {
    let (kind, num) = s.split_at(1);
    let bad = |what: &str| {
        err(
            col + 1,
            format!("expected {what} after '{kind}', got \"{num}\""),
        )
    };
    let beats = match kind {
        ":" => {
            let (value, dotted) = match num.strip_suffix('.') {
                Some(v) => (v, true),
                None => (num, false),
            };
            let v: u32 = value
                .parse()
                .ok()
                .filter(|v: &u32| v.is_power_of_two() && *v <= 64)
                .ok_or_else(|| bad("a note value (1, 2, 4, 8, 16, 32 or 64)"))?;
            let b = 4.0 / v as f64;
            if dotted {
                b * 1.5
            } else {
                b
            }
        }
        "/" => {
            let d: u32 = num
                .parse()
                .ok()
                .filter(|&d| d > 0)
                .ok_or_else(|| bad("a whole number above 0"))?;
            1.0 / d as f64
        }
        _ => num
            .parse::<f64>()
            .ok()
            .filter(|b| b.is_finite() && *b > 0.0)
            .ok_or_else(|| bad("a number of beats above 0"))?,
    };
    Ok(beats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_rests_lengths_and_chords() {
        let seq = parse_notes("c4 e4 g4/2 r c5:8 c4+e4+g4:2. bb3*1.5 f#4", 120.0).unwrap();
        let got: Vec<(u8, f64, f64)> = seq
            .notes
            .iter()
            .map(|n| (n.pitch, n.start, n.duration))
            .collect();
        let want = vec![
            (60, 0.0, 1.0),
            (64, 1.0, 1.0),
            (67, 2.0, 0.5),
            // The rest keeps the half beat; c5:8 is an eighth.
            (72, 3.0, 0.5),
            (60, 3.5, 3.0),
            (64, 3.5, 3.0),
            (67, 3.5, 3.0),
            (58, 6.5, 1.5),
            (66, 8.0, 1.5),
        ];
        assert_eq!(got, want);
        assert_eq!(seq.end, 9.5);
    }

    #[test]
    fn errors_point_at_the_column() {
        let cases = [
            ("c4 h4", 4, "not a note name"),
            ("c4 e", 5, "octave"),
            ("c4 e4:3", 7, "note value"),
            ("c4/0", 4, "whole number"),
            ("c4 g9 a9", 7, "MIDI range"),
            ("c4+x4", 4, "not a note name"),
            ("   ", 1, "no notes"),
            ("c4*-1", 4, "beats"),
        ];
        for (text, column, what) in cases {
            let e = parse_notes(text, 120.0).unwrap_err();
            assert_eq!(e.column, column, "{text}: {e}");
            assert!(e.message.contains(what), "{text}: {e}");
        }
    }
}
