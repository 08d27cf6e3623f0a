//! Event tokens read one at a time: where in time the stream stands, the note each `Vel` token
//! completes (as the event tokenizer's `decode` would place it), and which next tokens keep onsets
//! moving forward and at or after a floor.

use crate::music::tokens::{self, velocity_of_bin, Token, TokenizerConfig, Vocab, STEPS_PER_BEAT};
use crate::music::{Note, DRUM_CHANNEL};

/// The kind of each vocabulary id, as the cursor needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    Bar { num: u8, den: u8 },
    Pos(u16),
    Program(u8),
    Pitch(u8),
    Drum(u8),
    Dur(u16),
    Vel(u8),
    Other,
}

/// Bar length in grid steps of a time signature, as the event tokenizer measures it (odd or
/// over-long signatures count as 4/4).
fn bar_steps(num: u8, den: u8) -> i64 {
    tokens::bar_steps(num, den).unwrap_or(4 * STEPS_PER_BEAT) as i64
}

/// The id -> kind table of a vocabulary.
pub(crate) fn kinds(vocab: &Vocab) -> Vec<Kind> {
    vocab
        .tokens()
        .iter()
        .map(|t| match *t {
            Token::Bar { num, den } => Kind::Bar { num, den },
            Token::Pos(p) => Kind::Pos(p),
            Token::Program(p) => Kind::Program(p),
            Token::Pitch(k) => Kind::Pitch(k),
            Token::Drum(k) => Kind::Drum(k),
            Token::Dur(d) => Kind::Dur(d),
            Token::Vel(v) => Kind::Vel(v),
            _ => Kind::Other,
        })
        .collect()
}

/// The decoder's state between tokens. Times are grid steps (12 per beat) from the first bar.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cursor {
    /// Start of the current bar (`None` before the first `Bar` token: bar 0).
    pub bar_start: Option<i64>,
    pub bar_len: i64,
    pub pos: i64,
    program: u8,
    programs: bool,
    pending: Option<(bool, u8)>,
    pending_dur: Option<u16>,
    channels: Vec<u8>,
}

/// What one token did to the cursor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Moved {
    /// A note ended (its `Vel`): onset and length in steps.
    Note(Note),
    /// A new bar begins at this step.
    Bar {
        start: i64,
        num: u8,
        den: u8,
    },
    Nothing,
}

impl Cursor {
    pub fn new(tokenizer: &TokenizerConfig) -> Self {
        let programs = matches!(tokenizer, TokenizerConfig::Event(c) if c.programs);
        Cursor {
            bar_start: None,
            bar_len: 4 * STEPS_PER_BEAT as i64,
            pos: 0,
            program: 0,
            programs,
            pending: None,
            pending_dur: None,
            channels: Vec::new(),
        }
    }

    /// The onset a note would get now, in steps.
    pub fn now(&self) -> i64 {
        self.bar_start.unwrap_or(0) + self.pos
    }

    /// Where the next bar would start.
    pub fn next_bar(&self) -> i64 {
        self.bar_start.map_or(0, |s| s + self.bar_len)
    }

    /// The program the next pitched note takes (0, General MIDI's default, before any program
    /// token).
    pub fn program(&self) -> u8 {
        self.program
    }

    /// True between a note's `Pitch`/`Drum` and its `Vel`.
    pub fn in_note(&self) -> bool {
        self.pending.is_some()
    }

    /// Follows one token, exactly as `EventTokenizer::decode` does. Notes come back with their
    /// onset and length in beats.
    pub fn feed(&mut self, kind: Kind) -> Moved {
        match kind {
            Kind::Bar { num, den } => {
                let start = self.next_bar();
                self.bar_start = Some(start);
                self.bar_len = bar_steps(num, den);
                self.pos = 0;
                self.pending = None;
                return Moved::Bar { start, num, den };
            }
            Kind::Pos(p) if (p as i64) < self.bar_len => {
                self.pos = p as i64;
                self.pending = None;
            }
            Kind::Program(p) => self.program = p,
            Kind::Pitch(k) => {
                self.pending = Some((false, k));
                self.pending_dur = None;
            }
            Kind::Drum(k) => {
                self.pending = Some((true, k));
                self.pending_dur = None;
            }
            Kind::Dur(d) if self.pending.is_some() => self.pending_dur = Some(d),
            Kind::Vel(v) => {
                if let (Some((drum, key)), Some(dur)) =
                    (self.pending.take(), self.pending_dur.take())
                {
                    let channel = self.channel(drum);
                    let step = STEPS_PER_BEAT as f64;
                    let mut n = Note::new(
                        key,
                        velocity_of_bin(v),
                        self.now() as f64 / step,
                        dur as f64 / step,
                    );
                    n.channel = channel;
                    n.program = if drum { 0 } else { self.program };
                    return Moved::Note(n);
                }
            }
            _ => {}
        }
        Moved::Nothing
    }

    fn channel(&mut self, drum: bool) -> u8 {
        if drum {
            return DRUM_CHANNEL;
        }
        if !self.programs {
            return 0;
        }
        let program = self.program;
        let i = self
            .channels
            .iter()
            .position(|&p| p == program)
            .unwrap_or_else(|| {
                self.channels.push(program);
                self.channels.len() - 1
            });
        let ch = if i >= DRUM_CHANNEL as usize { i + 1 } else { i };
        ch.min(15) as u8
    }

    /// Whether `kind` may come next: onsets never go back within a bar and never fall before
    /// `floor` (steps); below the floor only bar lines and positions that reach it are allowed.
    pub fn allows(&self, kind: Kind, floor: i64) -> bool {
        let start = self.bar_start.unwrap_or(0);
        let below = self.now() < floor;
        match kind {
            Kind::Bar { .. } => true,
            Kind::Pos(p) => {
                let p = p as i64;
                p < self.bar_len && p >= self.pos && start + p >= floor
            }
            Kind::Other => true,
            _ => !below,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::tokens::{EventConfig, EventTokenizer, Tokenizer};

    #[test]
    fn cursor_places_notes_as_the_tokenizer_decodes_them() {
        let path = crate::paths::bundled_corpus().join("classical/bach/bach__bwv1.6.mid");
        let seq = crate::music::midi::read_file(&path).unwrap().seq;
        let cfg = TokenizerConfig::Event(EventConfig::default());
        let tok = EventTokenizer::new(EventConfig::default());
        let tokens = tok.encode(&seq, None).unwrap();
        let vocab = Vocab::new(tok.fixed_vocab().unwrap());
        let (ids, _) = vocab.encode(&tokens);
        let kinds = kinds(&vocab);
        let mut c = Cursor::new(&cfg);
        let notes: Vec<Note> = ids
            .iter()
            .filter_map(|&i| match c.feed(kinds[i as usize]) {
                Moved::Note(n) => Some(n),
                _ => None,
            })
            .collect();
        let want = tok.decode(&tokens);
        assert!(notes.len() > 100);
        assert_eq!(notes.len(), want.notes.len());
        let key = |n: &Note| (n.start.to_bits(), n.pitch, n.duration.to_bits(), n.velocity);
        let mut got: Vec<_> = notes.iter().map(key).collect();
        let mut exp: Vec<_> = want.notes.iter().map(key).collect();
        got.sort_unstable();
        exp.sort_unstable();
        assert_eq!(got, exp);
    }

    #[test]
    fn the_floor_allows_only_bar_lines_and_later_positions() {
        let cfg = TokenizerConfig::Event(EventConfig::default());
        let mut c = Cursor::new(&cfg);
        c.feed(Kind::Bar { num: 4, den: 4 });
        c.feed(Kind::Pos(12));
        assert!(c.allows(Kind::Pitch(60), 0));
        assert!(!c.allows(Kind::Pos(6), 0), "positions never go back");
        assert!(c.allows(Kind::Pos(12), 0));
        assert!(!c.allows(Kind::Pitch(60), 24));
        assert!(!c.allows(Kind::Pos(18), 24));
        assert!(c.allows(Kind::Pos(24), 24));
        assert!(!c.allows(Kind::Pos(48), 24), "past the bar's end");
        assert!(c.allows(Kind::Bar { num: 3, den: 4 }, 24));
        assert_eq!(c.next_bar(), 48);
    }
}
