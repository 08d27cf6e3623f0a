//! The seed paper's tokens: one per onset, a note by its name (`F2`), notes starting together
//! by their pitch classes in normal order (`7.11.2`). Rhythm is dropped, as in the paper.

use serde::{Deserialize, Serialize};

use super::{Token, TokenError, Tokenizer};
use crate::music::{pitch, Note, NoteSeq};

/// Settings of the paper tokenizer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaperConfig {
    /// Beats between decoded onsets and the length of each decoded note (the paper's notebooks
    /// used a fixed half beat).
    pub step_beats: f64,
    /// Notes whose onsets and ends both lie within this many beats of a first note join its
    /// chord (music21 groups within a 16th of its 480-tick quarter after quantizing to 1/4 beat).
    pub chord_window_beats: f64,
}

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig {
            step_beats: 0.5,
            chord_window_beats: 0.25,
        }
    }
}

/// A time snapped to the nearer of the quarter-beat and third-beat grids (music21's default
/// quantization).
fn quantize(beat: f64) -> f64 {
    let q4 = (beat * 4.0).round() / 4.0;
    let q3 = (beat * 3.0).round() / 3.0;
    if (q4 - beat).abs() <= (q3 - beat).abs() {
        q4
    } else {
        q3
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
        let notes: Vec<&Note> = seq.notes.iter().filter(|n| !n.is_drum()).collect();
        let window = self.config.chord_window_beats;
        // Greedy grouping as music21 does it: a note gathers the later notes that start within
        // the window and also end within it; notes that start together but end elsewhere stay
        // separate tokens.
        let mut gathered = vec![false; notes.len()];
        let bars = seq.bars();
        let mut groups: Vec<(f64, Token)> = Vec::new();
        for i in 0..notes.len() {
            if gathered[i] {
                continue;
            }
            let mut members = vec![notes[i].pitch];
            for j in i + 1..notes.len() {
                if notes[j].start - notes[i].start >= window {
                    break;
                }
                if gathered[j] || (notes[j].end() - notes[i].end()).abs() > window {
                    continue;
                }
                gathered[j] = true;
                members.push(notes[j].pitch);
            }
            let token = if members.len() == 1 {
                Token::Note(members[0])
            } else {
                Token::Chord(pitch::pc_mask(members))
            };
            // Like music21's measures, a note held across a bar line sounds again as a tied note
            // in the next bar, which is one more token.
            let onset = quantize(notes[i].start);
            let end = onset + quantize(notes[i].duration);
            for (bar, _) in &bars {
                if *bar > onset && *bar < end {
                    groups.push((*bar, token.clone()));
                }
            }
            groups.push((onset, token));
        }
        groups.sort_by(|a, b| a.0.total_cmp(&b.0));
        let out: Vec<Token> = groups.into_iter().map(|g| g.1).collect();
        Ok(out)
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
