//! Several voices on one transport, and looping. The [`Mixer`] is the player source that merges
//! the main voice and its layers (each a [`NoteSource`] of its own, usually a live stream) on one
//! bar grid: a layer added while playing joins at the next bar line, `mute` and `unmute` switch
//! a voice at the next bar line, and `loop BARS` repeats the last BARS bars handed to the player
//! (every voice, exactly as heard) from the next bar line while the voices' own sources wait;
//! `unloop` lets them go on, from the next bar line, where they paused.
//!
//! Each voice keeps a beat offset (`shift`): its source counts its own beats, the mixer adds the
//! offset. A voice that joins at bar line B has offset B; a loop from L to U adds U - L to every
//! voice, so a live stream continues exactly where it paused and keeps its bar lines on the grid.
//! Runs on the feeder thread; the engine talks to it through [`MixHandle`] and [`VoiceCtl`]
//! (atomics, and a mutex held only to push a new voice).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::music::{Note, DRUM_CHANNEL};

use super::looper::{Loop, Played};
use super::schedule::Item;
use super::source::NoteSource;

/// The most bars a loop repeats (and so how much the mixer remembers).
pub const MAX_LOOP_BARS: u32 = 64;
/// How far ahead the mixer hands notes over when no voice asks for less: short, so that a loop,
/// a mute or a joining layer starts at the very next bar line.
const DEFAULT_HORIZON_SECS: f64 = 0.25;

/// One voice's settings and counters, shared by the engine and the mixer.
#[derive(Debug)]
pub struct VoiceCtl {
    name: String,
    /// A layer stamps its own channel and program on its notes; the main voice leaves them to
    /// the player's parameters.
    layer: bool,
    channel: AtomicI32,
    program: AtomicI32,
    transpose: AtomicI32,
    want_muted: AtomicBool,
    muted: AtomicBool,
    removed: AtomicBool,
    notes: AtomicU64,
}

impl VoiceCtl {
    /// The main voice (the player's channel, program and transpose apply to it).
    pub fn main(muted: bool) -> Arc<VoiceCtl> {
        Arc::new(VoiceCtl::new("main", false, 0, None, 0, muted))
    }

    /// A layer: every note on `channel` (zero-based), with `program` (or the note's own) and
    /// `transpose` semitones on top of the player's.
    pub fn layer(
        name: &str,
        channel: u8,
        program: Option<u8>,
        transpose: i32,
        muted: bool,
    ) -> Arc<VoiceCtl> {
        Arc::new(VoiceCtl::new(
            name, true, channel, program, transpose, muted,
        ))
    }

    fn new(
        name: &str,
        layer: bool,
        channel: u8,
        program: Option<u8>,
        transpose: i32,
        muted: bool,
    ) -> VoiceCtl {
        VoiceCtl {
            name: name.to_string(),
            layer,
            channel: AtomicI32::new((channel & 0x0f) as i32),
            program: AtomicI32::new(program.map_or(-1, |p| (p & 0x7f) as i32)),
            transpose: AtomicI32::new(transpose),
            want_muted: AtomicBool::new(muted),
            muted: AtomicBool::new(muted),
            removed: AtomicBool::new(false),
            notes: AtomicU64::new(0),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// From the next note handed over.
    pub fn set_channel(&self, channel: u8) {
        self.channel
            .store((channel & 0x0f) as i32, Ordering::Relaxed);
    }

    pub fn set_program(&self, program: Option<u8>) {
        self.program
            .store(program.map_or(-1, |p| (p & 0x7f) as i32), Ordering::Relaxed);
    }

    pub fn set_transpose(&self, semitones: i32) {
        self.transpose
            .store(semitones.clamp(-127, 127), Ordering::Relaxed);
    }

    /// Silences (or restores) the voice from the next bar line.
    pub fn set_muted(&self, muted: bool) {
        self.want_muted.store(muted, Ordering::Relaxed);
    }

    /// Whether the voice is silent now (after its bar line came).
    pub fn muted(&self) -> bool {
        self.muted.load(Ordering::Relaxed)
    }

    /// Whether the voice has been told to be silent (now or from the next bar line).
    pub fn wants_muted(&self) -> bool {
        self.want_muted.load(Ordering::Relaxed)
    }

    /// Takes the voice out of the mix; the notes it handed over play out.
    pub fn remove(&self) {
        self.removed.store(true, Ordering::Relaxed);
    }

    /// Notes of this voice handed to the player (loop repeats included).
    pub fn notes(&self) -> u64 {
        self.notes.load(Ordering::Relaxed)
    }

    /// The note as the voice plays it, or `None` when its transpose takes it out of range.
    fn stamp(&self, mut n: Note) -> Option<Item> {
        if !self.layer {
            return Some(Item::Note(n));
        }
        n.channel = self.channel.load(Ordering::Relaxed) as u8;
        let program = self.program.load(Ordering::Relaxed);
        if program >= 0 {
            n.program = program as u8;
        }
        if n.channel != DRUM_CHANNEL {
            let p = n.pitch as i32 + self.transpose.load(Ordering::Relaxed);
            n.pitch = u8::try_from(p).ok().filter(|p| *p < 128)?;
        }
        Some(Item::Voiced(n))
    }
}

/// A voice waiting to join.
type Joining = (Arc<VoiceCtl>, Box<dyn NoteSource>);

struct MixShared {
    inbox: Mutex<Vec<Joining>>,
    /// Bars the engine wants looped (0: no loop).
    want_loop: AtomicU32,
    /// Bars looping now (0: none).
    looping: AtomicU32,
}

/// The engine's side of a mixer. Cheap to clone.
#[derive(Clone)]
pub struct MixHandle {
    inner: Arc<MixShared>,
}

impl MixHandle {
    /// A voice that joins at the next bar line (its source starts from its own beat 0 there).
    pub fn add(&self, ctl: Arc<VoiceCtl>, source: Box<dyn NoteSource>) {
        self.inner
            .inbox
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((ctl, source));
    }

    /// Loops the last `bars` bars from the next bar line (`None`: ends the loop there). Bars are
    /// clamped to 1..=[`MAX_LOOP_BARS`].
    pub fn set_loop(&self, bars: Option<u32>) {
        let b = bars.map_or(0, |b| b.clamp(1, MAX_LOOP_BARS));
        self.inner.want_loop.store(b, Ordering::Relaxed);
    }

    /// The bars looping now, if a loop plays.
    pub fn looping(&self) -> Option<u32> {
        Some(self.inner.looping.load(Ordering::Relaxed)).filter(|b| *b > 0)
    }

    /// The bars asked for (the loop may start at the next bar line).
    pub fn loop_wanted(&self) -> Option<u32> {
        Some(self.inner.want_loop.load(Ordering::Relaxed)).filter(|b| *b > 0)
    }
}

struct Voice {
    id: u64,
    ctl: Arc<VoiceCtl>,
    source: Box<dyn NoteSource>,
    /// Mixer beat of the voice's own beat 0.
    shift: f64,
    /// A mute switch waiting for its bar line: (beat, muted). The muting in force is
    /// `ctl.muted()`, which only the mixer writes.
    switch: Option<(f64, bool)>,
    ended: bool,
}

impl Voice {
    fn muted_at(&self, beat: f64) -> bool {
        match self.switch {
            Some((at, m)) if beat >= at => m,
            _ => self.ctl.muted(),
        }
    }
}

/// The player source that plays every voice (see the module docs).
pub struct Mixer {
    voices: Vec<Voice>,
    shared: Arc<MixShared>,
    next_id: u64,
    bar: f64,
    /// Everything before this beat has been handed over.
    handed: f64,
    /// What was handed over (and what muted voices would have played), for loops.
    played: Played,
    looping: Option<Loop>,
    /// Where the voices paused for the loop.
    paused_at: f64,
    /// A loop switch waiting for its bar line: (beat, bars; 0 ends the loop).
    switch: Option<(f64, u32)>,
    ended: bool,
    scratch: Vec<Item>,
    batch: Vec<Item>,
}

impl Mixer {
    /// A mixer playing `main` (whose bar length sets the grid) as the voice `ctl`.
    pub fn new(ctl: Arc<VoiceCtl>, main: Box<dyn NoteSource>) -> (Mixer, MixHandle) {
        let shared = Arc::new(MixShared {
            inbox: Mutex::new(Vec::new()),
            want_loop: AtomicU32::new(0),
            looping: AtomicU32::new(0),
        });
        let bar = main.bar_beats().max(0.25);
        let mut m = Mixer {
            voices: Vec::new(),
            shared: shared.clone(),
            next_id: 0,
            bar,
            handed: 0.0,
            played: Played::new(MAX_LOOP_BARS as f64 * bar),
            looping: None,
            paused_at: 0.0,
            switch: None,
            ended: false,
            scratch: Vec::new(),
            batch: Vec::new(),
        };
        m.push(ctl, main, 0.0);
        (m, MixHandle { inner: shared })
    }

    /// A voice that starts with the mixer (before it plays).
    pub fn with(mut self, ctl: Arc<VoiceCtl>, source: Box<dyn NoteSource>) -> Mixer {
        self.push(ctl, source, 0.0);
        self
    }

    fn push(&mut self, ctl: Arc<VoiceCtl>, source: Box<dyn NoteSource>, shift: f64) {
        ctl.muted.store(ctl.wants_muted(), Ordering::Relaxed);
        self.next_id += 1;
        self.voices.push(Voice {
            id: self.next_id,
            ctl,
            source,
            shift,
            switch: None,
            ended: false,
        });
    }

    /// The first bar line at or after the last beat handed over.
    fn next_bar_line(&self) -> f64 {
        (self.handed / self.bar - 1e-9).ceil().max(0.0) * self.bar
    }

    /// Takes what the engine asked for: new voices, removals, mutes, loops.
    fn take_requests(&mut self) {
        let joining =
            std::mem::take(&mut *self.shared.inbox.lock().unwrap_or_else(|e| e.into_inner()));
        let at = self.next_bar_line();
        for (ctl, source) in joining {
            // While looping, a new voice waits with the others and starts when the loop ends.
            let shift = if self.looping.is_some() {
                self.paused_at
            } else {
                at
            };
            self.push(ctl, source, shift);
        }
        // The main voice (the first) stays: its end is the mixer's end.
        let mut first = true;
        self.voices.retain(|v| {
            let keep = first || !v.ctl.removed.load(Ordering::Relaxed);
            first = false;
            keep
        });
        for v in &mut self.voices {
            let want = v.ctl.wants_muted();
            let now = v.ctl.muted();
            let target = v.switch.map_or(now, |s| s.1);
            if want != target {
                v.switch = (want != now).then_some((at, want));
            }
        }
        let want = self.shared.want_loop.load(Ordering::Relaxed);
        let now = self.looping.as_ref().map_or(0, |l| l.bars);
        let target = self.switch.map_or(now, |s| s.1);
        if want != target {
            self.switch = (want != now).then_some((at, want));
        }
    }

    /// Starts, changes or ends the loop at `beat`.
    fn switch_loop(&mut self, beat: f64, bars: u32) {
        if bars == 0 {
            for v in &mut self.voices {
                v.shift += beat - self.paused_at;
            }
            self.looping = None;
        } else {
            if self.looping.is_none() {
                self.paused_at = beat;
            }
            let len = bars as f64 * self.bar;
            self.looping = Some(self.played.take_loop(beat - len, beat, bars));
        }
        self.shared.looping.store(bars, Ordering::Relaxed);
    }

    /// Moves the voices' own notes from `self.handed` up to `to` into the batch.
    fn fill_voices(&mut self, to: f64) -> Option<f64> {
        let mut end = None;
        for (i, v) in self.voices.iter_mut().enumerate() {
            if v.ended || to <= v.shift {
                continue;
            }
            self.scratch.clear();
            let done = v.source.fill(to - v.shift, &mut self.scratch);
            for item in self.scratch.drain(..) {
                match item {
                    Item::Note(n) | Item::Voiced(n) => {
                        let mut n = n;
                        n.start += v.shift;
                        let Some(item) = v.ctl.stamp(n) else { continue };
                        self.played.push(v.id, item);
                        if !v.muted_at(n.start) {
                            v.ctl.notes.fetch_add(1, Ordering::Relaxed);
                            self.batch.push(item);
                        }
                    }
                    Item::Tempo { beat, bpm } if i == 0 => self.batch.push(Item::Tempo {
                        beat: beat + v.shift,
                        bpm,
                    }),
                    Item::Tempo { .. } => {}
                    Item::End { beat } if i == 0 => end = Some(beat + v.shift),
                    Item::End { .. } => v.ended = true,
                }
            }
            v.ended |= done && i > 0;
        }
        end
    }

    /// Moves the loop's repeats from `self.handed` up to `to` into the batch.
    fn fill_loop(&mut self, to: f64) {
        let Some(l) = &self.looping else { return };
        for (id, item) in l.repeats(self.handed, to) {
            let Some(v) = self.voices.iter().find(|v| v.id == id) else {
                continue;
            };
            self.played.push(id, item);
            let beat = match item {
                Item::Note(n) | Item::Voiced(n) => n.start,
                _ => continue,
            };
            if !v.muted_at(beat) {
                v.ctl.notes.fetch_add(1, Ordering::Relaxed);
                self.batch.push(item);
            }
        }
    }

    /// Commits the mute switches whose bar line has been handed over.
    fn commit_mutes(&mut self) {
        for v in &mut self.voices {
            if let Some((_, m)) = v.switch.filter(|s| s.0 <= self.handed) {
                v.ctl.muted.store(m, Ordering::Relaxed);
                v.switch = None;
            }
        }
    }
}

impl NoteSource for Mixer {
    fn fill(&mut self, until: f64, out: &mut Vec<Item>) -> bool {
        if self.ended {
            return true;
        }
        self.take_requests();
        let mut end = None;
        while self.handed < until && end.is_none() {
            if let Some((at, bars)) = self.switch.filter(|s| s.0 <= self.handed) {
                self.switch = None;
                self.switch_loop(at, bars);
                continue;
            }
            let to = self.switch.map_or(until, |s| s.0.min(until));
            if self.looping.is_some() {
                self.fill_loop(to);
            } else {
                end = self.fill_voices(to);
            }
            self.handed = to;
        }
        self.commit_mutes();
        self.played.forget_before(self.handed);
        self.batch.sort_by(|a, b| a.beat().total_cmp(&b.beat()));
        out.append(&mut self.batch);
        if let Some(beat) = end {
            out.push(Item::End { beat });
            self.ended = true;
        }
        self.ended
    }

    fn bar_beats(&self) -> f64 {
        self.bar
    }

    fn horizon_secs(&self) -> Option<f64> {
        let h = self
            .voices
            .iter()
            .filter_map(|v| v.source.horizon_secs())
            .fold(DEFAULT_HORIZON_SECS, f64::min);
        Some(h)
    }

    fn prepare(&mut self, playhead: f64) -> bool {
        if self.ended {
            return false;
        }
        // While looping the voices wait where they paused: they work ahead of that point only.
        let pos = match self.looping {
            Some(_) => playhead.min(self.paused_at),
            None => playhead,
        };
        let mut more = false;
        for v in self.voices.iter_mut().filter(|v| !v.ended) {
            more |= v.source.prepare((pos - v.shift).max(0.0));
        }
        more
    }
}

#[cfg(test)]
#[path = "mixer_tests.rs"]
mod tests;
