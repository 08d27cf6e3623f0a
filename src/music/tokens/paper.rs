//! The seed paper's tokens, as music21 reads them from MIDI (see `music21.rs`): a note by its name
//! (`F2`), notes music21 gathers into a chord by their pitch classes in normal order (`7.11.2`),
//! and a note held over a bar line once more per bar, as music21's tied notes. Rhythm is dropped,
//! as in the paper.

use serde::{Deserialize, Serialize};

use super::{music21, Token, TokenError, Tokenizer};
use crate::music::{pitch, Note, NoteSeq};

/// Settings of the paper tokenizer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaperConfig {
    /// Beats between decoded onsets and the length of each decoded note (the paper's notebooks
    /// used a fixed half beat).
    pub step_beats: f64,
    /// Notes whose onsets lie less than this many beats after a first note's, and whose ends lie
    /// within it of that note's end, join its chord (music21's window: its finest quantization
    /// unit, a quarter of a beat, counted in the file's ticks before quantizing).
    pub chord_window_beats: f64,
    /// Which reproduction of music21's MIDI import made the tokens; part of the cache key, so a
    /// change to the tokens' logic makes caches and corpora read again.
    #[serde(default)]
    pub music21_import: u32,
}

/// The present [`PaperConfig::music21_import`]: 2 follows music21's quantization, measures,
/// voices and ties (1, unnumbered, grouped by beats and tied at bar lines only).
pub const MUSIC21_IMPORT: u32 = 2;

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig {
            step_beats: 0.5,
            chord_window_beats: 0.25,
            music21_import: MUSIC21_IMPORT,
        }
    }
}

pub struct PaperTokenizer {
    config: PaperConfig,
}

impl PaperTokenizer {
    pub fn new(config: PaperConfig) -> Self {
        PaperTokenizer { config }
    }
}

impl Tokenizer for PaperTokenizer {
    fn name(&self) -> &'static str {
        "paper"
    }

    fn encode(&self, seq: &NoteSeq, _style: Option<&str>) -> Result<Vec<Token>, TokenError> {
        // The notes and chords music21 reads from the file, in its order (see `music21.rs`).
        Ok(music21::elements(seq, self.config.chord_window_beats)
            .into_iter()
            .map(|pitches| match pitches[..] {
                [p] => Token::Note(p),
                _ => Token::Chord(pitch::pc_mask(pitches)),
            })
            .collect())
    }

    fn decode(&self, tokens: &[Token]) -> NoteSeq {
        let step = self.config.step_beats;
        let mut notes = Vec::new();
        let mut onset = 0.0;
        for t in tokens {
            match t {
                Token::Note(p) => notes.push(Note::new(*p, 100, onset, step)),
                Token::Chord(m) => {
                    // Pitch classes in normal order, stacked upwards from middle C's octave.
                    let mut last = 59u8;
                    for pc in pitch::normal_order(*m) {
                        let mut p = 60 + pc;
                        while p <= last {
                            p += 12;
                        }
                        if p <= 127 {
                            notes.push(Note::new(p, 100, onset, step));
                            last = p;
                        }
                    }
                }
                _ => continue,
            }
            onset += step;
        }
        NoteSeq::from_notes(notes, 120.0)
    }

    fn fixed_vocab(&self) -> Option<Vec<Token>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_chords_by_onset() {
        let seq = NoteSeq::from_notes(
            vec![
                Note::new(41, 80, 0.0, 1.0),
                Note::new(67, 80, 1.0, 1.0),
                Note::new(71, 80, 1.0, 2.0),
                Note::new(74, 80, 5.0, 4.0),
                Note::new(74, 80, 1.01, 1.0),
                Note::new(61, 80, 3.0, 1.0),
            ],
            120.0,
        );
        let toks = PaperTokenizer::new(PaperConfig::default())
            .encode(&seq, None)
            .unwrap();
        let text: Vec<String> = toks.iter().map(|t| t.to_string()).collect();
        // B4 starts with the G and D but ends later, so (as in music21) it is a note of its own.
        // A note held over a bar line sounds again as a tied note in the next bar.
        assert_eq!(text, ["F2", "2.7", "B4", "C#4", "D5", "D5"]);
    }

    #[test]
    fn decode_writes_fixed_length_notes() {
        let tk = PaperTokenizer::new(PaperConfig::default());
        let seq = tk.decode(&[Token::Note(41), Token::Chord(0b1000_1000_0100)]);
        let got: Vec<(u8, f64, f64)> = seq
            .notes
            .iter()
            .map(|n| (n.pitch, n.start, n.duration))
            .collect();
        assert_eq!(
            got,
            [
                (41, 0.0, 0.5),
                (67, 0.5, 0.5),
                (71, 0.5, 0.5),
                (74, 0.5, 0.5)
            ]
        );
    }
}
