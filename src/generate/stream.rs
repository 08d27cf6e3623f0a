//! The live note stream: a model's token stream, sampling settings, a random source and a latent,
//! yielding one decoded note at a time (in beats) for as long as anyone listens.
//!
//! Each note comes with a [`Checkpoint`] of everything from just before its first token, so a
//! caller can roll back to any queued note and regenerate from there with new settings. Past the
//! training window the Transformer's stream re-primes itself from its last half window; the LSTM
//! carries its state. A primer that starts with a style token keeps it at the front of every
//! re-primed context (the Transformer's lanes, re-priming after a change), as in training. New
//! settings and new weights take effect from a given beat: the stream never places a note before
//! it ("the floor"), and onsets never go back within a bar.

use super::palette::Palette;
use crate::model::checkpoint::CheckpointMeta;
use crate::model::{StreamState, TokenStream};
use crate::music::tokens::{TokenizerConfig, STEPS_PER_BEAT};
use crate::music::Note;
use crate::rng::Rng;

use super::cursor::{kinds, Cursor, Kind, Moved};
use super::sample::{SampleError, Sampling};

/// What the performer steers: the latent, how tokens are drawn, and (when set) a new seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Controls {
    pub z: Vec<f32>,
    pub sampling: Sampling,
    /// Reseed the random source when these controls take effect (`None`: keep drawing).
    pub seed: Option<u64>,
}

impl Controls {
    /// Legal sampling values and a latent of `latent` values, or the error saying which is not.
    pub fn check(&self, latent: usize) -> Result<(), StreamError> {
        self.sampling.validate()?;
        if self.z.len() != latent {
            return Err(StreamError::Latent {
                got: self.z.len(),
                want: latent,
            });
        }
        Ok(())
    }
}

/// A stream that cannot start.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StreamError {
    #[error("live streaming needs event tokens; this model uses {0} tokens")]
    Tokenizer(&'static str),
    #[error("the latent has {got} values; the model wants {want}")]
    Latent { got: usize, want: usize },
    #[error(transparent)]
    Sampling(#[from] SampleError),
    #[error("the primer holds token id {0}, outside the model's vocabulary")]
    Primer(u32),
}

/// Everything a stream needs to go on from a point: model state, random source, recent tokens and
/// the decoder's place in time.
pub struct Checkpoint {
    state: StreamState,
    controls: Controls,
    weights: u64,
    rng: Rng,
    recent: Vec<u32>,
    logits: Vec<f32>,
    cursor: Cursor,
    floor: i64,
    tokens: u64,
}

impl Checkpoint {
    /// Label of the weights that produced the state.
    pub fn weights(&self) -> u64 {
        self.weights
    }
}

/// One step of the stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StreamEvent {
    Note(Note),
    /// A bar line at `beat`, with its time signature.
    Bar {
        beat: f64,
        num: u8,
        den: u8,
    },
    /// A token that placed nothing (a position, pitch, length, ...).
    Token,
}

/// The live generator. Beats count from the first bar line after the primer.
pub struct NoteStream {
    stream: Box<dyn TokenStream>,
    weights: u64,
    kinds: Vec<Kind>,
    window: usize,
    controls: Controls,
    rng: Rng,
    /// The last tokens fed (at least a window and the repetition penalty's reach).
    recent: Vec<u32>,
    /// The primer's style token: every re-primed context starts with it, as training windows do.
    head: Option<u32>,
    /// The head style's instruments, where the model keeps them (`generate::palette`).
    palette: Option<Palette>,
    keep: usize,
    logits: Vec<f32>,
    masked: Vec<f32>,
    cursor: Cursor,
    /// No onset before this step.
    floor: i64,
    /// The step beat 0 stands for.
    origin: i64,
    tokens: u64,
    /// The checkpoint for the note being generated, taken at the last note boundary.
    pending: Option<Checkpoint>,
    /// Recent bar lines (steps), oldest first.
    bars: std::collections::VecDeque<i64>,
}

/// Bar lines remembered for quantized changes.
const KEEP_BARS: usize = 64;

fn steps_of(beats: f64) -> i64 {
    (beats * STEPS_PER_BEAT as f64).round() as i64
}

fn beats_of(steps: i64) -> f64 {
    steps as f64 / STEPS_PER_BEAT as f64
}

impl NoteStream {
    /// Primes `stream` (built from the model `meta` describes, its weights labelled `weights`)
    /// with `primer` under `controls`. Generation starts at the primer's next bar line (or in
    /// its last bar when the primer ends on a bar line), which is beat 0.
    pub fn new(
        stream: Box<dyn TokenStream>,
        weights: u64,
        meta: &CheckpointMeta,
        controls: Controls,
        primer: &[u32],
    ) -> Result<Self, StreamError> {
        if let TokenizerConfig::Paper(_) = meta.tokenizer {
            return Err(StreamError::Tokenizer("paper"));
        }
        controls.check(meta.model.latent)?;
        let kinds = kinds(&meta.vocab);
        if let Some(&bad) = primer.iter().find(|&&i| i as usize >= kinds.len()) {
            return Err(StreamError::Primer(bad));
        }
        let window = meta.model.window.max(1);
        let keep = (window + 1).max(controls.sampling.penalty_window) * 2;
        let head = super::piece::style_head(meta, primer);
        let mut stream = stream;
        stream.set_head(head);
        let mut s = NoteStream {
            stream,
            head,
            palette: head.and_then(|h| Palette::of_head(meta, h)),
            weights,
            window,
            rng: Rng::new(controls.seed.unwrap_or(1)),
            controls,
            recent: Vec::with_capacity(keep * 2),
            keep,
            logits: Vec::new(),
            masked: vec![0.0; kinds.len()],
            cursor: Cursor::new(&meta.tokenizer),
            kinds,
            floor: 0,
            origin: 0,
            tokens: 0,
            pending: None,
            bars: std::collections::VecDeque::with_capacity(KEEP_BARS + 1),
        };
        let bar = meta
            .vocab
            .id(&crate::music::tokens::Token::Bar { num: 4, den: 4 });
        let primer: Vec<u32> = if primer.is_empty() {
            bar.into_iter().collect()
        } else {
            primer.to_vec()
        };
        // A primer cut from the middle of a piece starts in a bar of its own: count it, so that
        // its first bar line comes after it rather than on top of it.
        if !matches!(
            primer.first().map(|&i| s.kinds[i as usize]),
            Some(Kind::Bar { .. })
        ) {
            s.cursor.feed(Kind::Bar { num: 4, den: 4 });
        }
        for &id in &primer {
            s.cursor.feed(s.kinds[id as usize]);
            s.push_recent(id);
        }
        s.prime();
        let ends_on_bar = matches!(
            primer.last().map(|&i| s.kinds[i as usize]),
            Some(Kind::Bar { .. })
        );
        s.origin = if ends_on_bar {
            s.cursor.bar_start.unwrap_or(0)
        } else {
            s.cursor.next_bar()
        };
        s.floor = s.origin;
        Ok(s)
    }

    fn push_recent(&mut self, id: u32) {
        self.recent.push(id);
        if self.recent.len() >= self.keep * 2 {
            self.recent.drain(..self.recent.len() - self.keep);
        }
    }

    /// Resets the model to the current latent and feeds it the last window of tokens.
    fn prime(&mut self) {
        self.stream.reset(&self.controls.z);
        for id in super::piece::context(&self.recent, self.window, self.head) {
            self.logits.clear();
            self.logits.extend_from_slice(self.stream.step(id));
        }
        if self.logits.is_empty() {
            self.logits.resize(self.kinds.len(), 0.0);
        }
    }

    /// Samples and feeds one token.
    pub fn next_event(&mut self) -> StreamEvent {
        let program = self.cursor.program();
        for (id, ((m, &l), &k)) in self
            .masked
            .iter_mut()
            .zip(&self.logits)
            .zip(&self.kinds)
            .enumerate()
        {
            let instrument_ok = self
                .palette
                .as_ref()
                .is_none_or(|p| p.allows(id as u32, program));
            *m = if instrument_ok && self.cursor.allows(k, self.floor) {
                l
            } else {
                f32::NEG_INFINITY
            };
        }
        let from = self
            .recent
            .len()
            .saturating_sub(self.controls.sampling.penalty_window);
        let id = self
            .controls
            .sampling
            .sample(&self.masked, &self.recent[from..], &mut self.rng);
        self.feed(id)
    }

    fn feed(&mut self, id: u32) -> StreamEvent {
        let moved = self.cursor.feed(self.kinds[id as usize]);
        self.push_recent(id);
        self.tokens += 1;
        self.logits.clear();
        self.logits.extend_from_slice(self.stream.step(id));
        match moved {
            Moved::Note(mut n) => {
                n.start -= beats_of(self.origin);
                StreamEvent::Note(n)
            }
            Moved::Bar { start, num, den } => {
                self.bars.push_back(start);
                if self.bars.len() > KEEP_BARS {
                    self.bars.pop_front();
                }
                StreamEvent::Bar {
                    beat: beats_of(start - self.origin),
                    num,
                    den,
                }
            }
            Moved::Nothing => StreamEvent::Token,
        }
    }

    /// Generates until the next note and returns it with the checkpoint from just after the
    /// previous note (or the last rollback or change). Gives up after `max_tokens` tokens with
    /// `None` (empty bars, say); the next call goes on from there with the same checkpoint.
    pub fn next_note(&mut self, max_tokens: usize) -> Option<(Note, Checkpoint)> {
        if self.pending.is_none() {
            self.pending = Some(self.checkpoint());
        }
        for _ in 0..max_tokens {
            if let StreamEvent::Note(n) = self.next_event() {
                return self.pending.take().map(|cp| (n, cp));
            }
        }
        None
    }

    /// Where the stream stands in beats: no later token places a note before this.
    pub fn position(&self) -> f64 {
        beats_of(self.cursor.now().max(self.floor) - self.origin)
    }

    /// True at a note boundary (not between a note's pitch and its velocity).
    pub fn between_notes(&self) -> bool {
        !self.cursor.in_note()
    }

    /// Beat of the current bar's start and its length in beats.
    pub fn bar(&self) -> (f64, f64) {
        let start = self.cursor.bar_start.unwrap_or(0);
        (beats_of(start - self.origin), beats_of(self.cursor.bar_len))
    }

    /// The first bar line the stream has placed at or after `beat`, if any yet.
    pub fn bar_line_from(&self, beat: f64) -> Option<f64> {
        let at = self.origin + steps_of(beat) - 1;
        self.bars
            .iter()
            .find(|&&b| b > at)
            .map(|&b| beats_of(b - self.origin))
    }

    /// No note from here on starts before `beat`.
    pub fn raise_floor(&mut self, beat: f64) {
        self.floor = self.floor.max(self.origin + steps_of(beat));
    }

    /// The state from this point on.
    pub fn checkpoint(&self) -> Checkpoint {
        let from = self.recent.len().saturating_sub(self.keep);
        Checkpoint {
            state: self.stream.save(),
            controls: self.controls.clone(),
            weights: self.weights,
            rng: self.rng.clone(),
            recent: self.recent[from..].to_vec(),
            logits: self.logits.clone(),
            cursor: self.cursor.clone(),
            floor: self.floor,
            tokens: self.tokens,
        }
    }

    /// Goes back to `cp`. A checkpoint from other weights is re-primed into the current ones
    /// from its recent tokens.
    pub fn rollback(&mut self, cp: &Checkpoint) {
        self.pending = None;
        self.controls.clone_from(&cp.controls);
        self.rng = cp.rng.clone();
        self.recent.clear();
        self.recent.extend_from_slice(&cp.recent);
        self.cursor = cp.cursor.clone();
        let last_bar = self.cursor.bar_start.unwrap_or(i64::MIN);
        while self.bars.back().is_some_and(|&b| b > last_bar) {
            self.bars.pop_back();
        }
        self.floor = cp.floor;
        self.tokens = cp.tokens;
        if cp.weights == self.weights && self.stream.restore(&cp.state) {
            self.logits.clone_from(&cp.logits);
        } else {
            self.prime();
        }
    }

    /// New controls from `beat` on: no note before it is generated from here. A new latent
    /// re-primes the model with the recent tokens; a seed other than the current one restarts
    /// the random source.
    pub fn set_controls(&mut self, controls: Controls, beat: f64) -> Result<(), StreamError> {
        controls.check(self.controls.z.len())?;
        self.pending = None;
        let new_z = controls.z != self.controls.z;
        if let Some(seed) = controls.seed.filter(|&s| Some(s) != self.controls.seed) {
            self.rng = Rng::new(seed);
        }
        self.controls = controls;
        if new_z {
            self.prime();
        }
        self.floor = self.floor.max(self.origin + steps_of(beat));
        Ok(())
    }

    /// Switches to `stream` (new weights labelled `weights`) from `beat` on, primed with the
    /// recent tokens under the current latent.
    pub fn swap_weights(&mut self, stream: Box<dyn TokenStream>, weights: u64, beat: f64) {
        self.pending = None;
        self.stream = stream;
        self.stream.set_head(self.head);
        self.weights = weights;
        self.prime();
        self.floor = self.floor.max(self.origin + steps_of(beat));
    }

    pub fn controls(&self) -> &Controls {
        &self.controls
    }

    /// Label of the weights generating now.
    pub fn weights(&self) -> u64 {
        self.weights
    }

    /// Tokens sampled since the start.
    pub fn tokens(&self) -> u64 {
        self.tokens
    }

    /// The last tokens fed, oldest first (the primer's among them at the start).
    pub fn recent(&self) -> &[u32] {
        &self.recent
    }
}
