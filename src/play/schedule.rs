//! The pure part of playback: notes in beats, the live parameters and a clock reading in, MIDI
//! messages with their deadlines out. No threads and no I/O, so tests drive it with a fake clock.
//!
//! Times are seconds on the player's clock. The transport maps beats to seconds through an anchor
//! (a beat and the second it falls on) and a tempo; a tempo change re-anchors at the moment it
//! happens, so every later event (note-ons and the note-offs of sounding notes alike, both kept
//! in beats) follows the new tempo from the next event on.

use std::collections::VecDeque;

use crate::music::{Note, DRUM_CHANNEL};

use super::msg::MidiMsg;
use super::params::Params;
pub use super::transport::{bar_beat, swing_beat, Transport};

/// MIDI clock resolution: ticks per quarter note.
pub const CLOCK_PPQN: u64 = 24;

/// What a producer feeds the schedule, in beat order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Item {
    Note(Note),
    /// A note that keeps its own channel and program (a layer's voice): the player's channel
    /// and program parameters do not apply to it; transpose, scale, swing and velocity do.
    Voiced(Note),
    /// The source's own tempo from `beat` on (ignored while a tempo parameter is set).
    Tempo {
        beat: f64,
        bpm: f64,
    },
    /// The source has nothing after `beat`.
    End {
        beat: f64,
    },
}

impl Item {
    /// Where the item falls, in beats: a note's onset, a tempo change's or end's beat.
    pub(crate) fn beat(&self) -> f64 {
        match self {
            Item::Note(n) | Item::Voiced(n) => n.start,
            Item::Tempo { beat, .. } | Item::End { beat } => *beat,
        }
    }

    /// The same item with its note (if it has one) changed by `f`, keeping the variant.
    pub(crate) fn map_note(self, f: impl FnOnce(Note) -> Note) -> Item {
        match self {
            Item::Note(n) => Item::Note(f(n)),
            Item::Voiced(n) => Item::Voiced(f(n)),
            other => other,
        }
    }

    fn key(&self) -> (f64, u8) {
        let order = match self {
            Item::Tempo { .. } => 0,
            Item::Note(_) | Item::Voiced(_) => 1,
            Item::End { .. } => 2,
        };
        (self.beat(), order)
    }
}

/// A message and the moment it is due.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timed {
    /// Deadline in seconds on the player's clock.
    pub at: f64,
    /// Musical position of the event in beats (unswung).
    pub beat: f64,
    pub msg: MidiMsg,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Stopped,
    Playing,
    Paused { beat: f64 },
}

/// A note that has had its note-on: the key it sounds on and when it ends.
#[derive(Clone, Copy, Debug)]
struct Sounding {
    channel: u8,
    pitch: u8,
    off_beat: f64,
}

/// Counts of what the schedule had to leave out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScheduleStats {
    pub notes: u64,
    /// Notes that arrived after their end had passed.
    pub dropped_late: u64,
    /// Notes transposed out of 0..=127 or scaled to velocity 0.
    pub dropped_range: u64,
    /// Items refused because the queue was full.
    pub refused: u64,
    /// Notes cut because the sounding-note table was full.
    pub stolen: u64,
}

/// Notes waiting to start, notes sounding, and the transport.
pub struct Schedule {
    transport: Transport,
    state: State,
    params: Params,
    source_bpm: f64,
    pending: VecDeque<Item>,
    sounding: Vec<Sounding>,
    programs: [u8; 16],
    outbox: VecDeque<Timed>,
    clock_out: bool,
    next_tick: u64,
    ended: bool,
    stats: ScheduleStats,
}

const MAX_SOUNDING: usize = 256;
/// How late a note may start and still be played, in seconds.
pub const LATE_GRACE: f64 = 0.05;

impl Schedule {
    /// An empty schedule at `bpm` (the source's tempo until its first tempo item) holding up to
    /// `capacity` pending items without allocating.
    pub fn new(bpm: f64, capacity: usize) -> Self {
        Schedule {
            transport: Transport {
                anchor_secs: 0.0,
                anchor_beat: 0.0,
                bpm,
            },
            state: State::Stopped,
            params: Params::default(),
            source_bpm: bpm,
            pending: VecDeque::with_capacity(capacity.max(16)),
            sounding: Vec::with_capacity(MAX_SOUNDING),
            programs: [0xff; 16],
            outbox: VecDeque::with_capacity(MAX_SOUNDING * 2 + 16),
            clock_out: false,
            next_tick: 0,
            ended: false,
            stats: ScheduleStats::default(),
        }
    }

    /// Also emit MIDI clock (24 per beat, start/stop/continue, song position).
    pub fn set_clock_out(&mut self, on: bool) {
        self.clock_out = on;
    }

    pub fn stats(&self) -> ScheduleStats {
        self.stats
    }

    pub fn params(&self) -> Params {
        self.params
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    pub fn bpm(&self) -> f64 {
        self.params.tempo.unwrap_or(self.source_bpm)
    }

    pub fn is_playing(&self) -> bool {
        self.state == State::Playing
    }

    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    pub fn sounding_len(&self) -> usize {
        self.sounding.len()
    }

    /// Free room in the queue.
    pub fn room(&self) -> usize {
        self.pending.capacity() - self.pending.len()
    }

    /// The source has ended and every note has had its note-off.
    pub fn is_done(&self) -> bool {
        self.ended && self.sounding.is_empty() && self.outbox.is_empty()
    }

    /// Beat position at `now`.
    pub fn beat_at(&self, now: f64) -> f64 {
        match self.state {
            State::Playing => self.transport.beat_at(now),
            State::Paused { beat } => beat,
            State::Stopped => self.transport.anchor_beat,
        }
    }

    /// Queues an item; gives it back when the queue is full (it never grows while playing).
    pub fn push(&mut self, item: Item) -> Result<(), Item> {
        if self.pending.len() == self.pending.capacity() {
            self.stats.refused += 1;
            return Err(item);
        }
        let key = item.key();
        let at = self.pending.partition_point(|x| {
            let k = x.key();
            k.0 < key.0 || (k.0 == key.0 && k.1 <= key.1)
        });
        self.pending.insert(at, item);
        Ok(())
    }

    fn clock_msg(&mut self, now: f64, beat: f64, msg: MidiMsg) {
        if self.clock_out {
            self.outbox.push_back(Timed { at: now, beat, msg });
        }
    }

    fn song_position(beat: f64) -> MidiMsg {
        MidiMsg::song_position((beat * 4.0).round().clamp(0.0, 16383.0) as u16)
    }

    /// Starts playing from `beat` at `now`.
    pub fn start(&mut self, now: f64, beat: f64) {
        self.transport = Transport {
            anchor_secs: now,
            anchor_beat: beat,
            bpm: self.bpm(),
        };
        self.next_tick = (beat * CLOCK_PPQN as f64 - 1e-9).ceil().max(0.0) as u64;
        if beat <= 0.0 {
            self.clock_msg(now, beat, MidiMsg::start());
        } else {
            self.clock_msg(now, beat, Self::song_position(beat));
            self.clock_msg(now, beat, MidiMsg::continue_());
        }
        self.state = State::Playing;
    }

    /// Note-offs for every sounding note, due now (the transport goes on).
    pub fn release_all(&mut self, now: f64) {
        let beat = self.beat_at(now);
        for s in self.sounding.drain(..) {
            self.outbox.push_back(Timed {
                at: now,
                beat,
                msg: MidiMsg::note_off(s.channel, s.pitch),
            });
        }
    }

    /// Holds the position; sounding notes get their note-offs now.
    pub fn pause(&mut self, now: f64) {
        if self.state != State::Playing {
            return;
        }
        let beat = self.transport.beat_at(now);
        self.release_all(now);
        self.clock_msg(now, beat, MidiMsg::stop());
        self.state = State::Paused { beat };
    }

    /// Goes on from where `pause` held.
    pub fn resume(&mut self, now: f64) {
        if let State::Paused { beat } = self.state {
            self.start(now, beat);
            if beat <= 0.0 {
                // `start` sent Start; a resume at 0 is a Continue all the same.
                if let Some(last) = self.outbox.back_mut() {
                    last.msg = MidiMsg::continue_();
                }
            }
        }
    }

    /// Stops for good: note-offs for every sounding note, the queue emptied.
    pub fn stop(&mut self, now: f64) {
        if self.state == State::Stopped {
            return;
        }
        let beat = self.beat_at(now);
        self.release_all(now);
        if self.state == State::Playing {
            self.clock_msg(now, beat, MidiMsg::stop());
        }
        self.pending.clear();
        self.ended = true;
        self.state = State::Stopped;
    }

    /// Takes new parameters from `now`: a tempo change re-anchors the transport here.
    pub fn set_params(&mut self, now: f64, p: Params) {
        let old = self.bpm();
        self.params = p;
        let new = self.bpm();
        if new != old {
            self.retempo(now, new);
        }
    }

    fn retempo(&mut self, at: f64, bpm: f64) {
        if self.state == State::Playing {
            self.transport.retempo(at, bpm);
        } else {
            self.transport.bpm = bpm;
        }
    }

    fn swung(&self, beat: f64) -> f64 {
        swing_beat(beat, self.params.swing, self.params.swing_unit)
    }

    fn time_of(&self, beat: f64) -> f64 {
        self.transport.secs_at(self.swung(beat))
    }

    /// The next deadline, if anything is scheduled.
    pub fn next_time(&self) -> Option<f64> {
        if let Some(t) = self.outbox.front() {
            return Some(t.at);
        }
        if self.state != State::Playing {
            return None;
        }
        self.next_candidate().map(|c| c.0)
    }

    /// `(time, rank, index)`: the earliest of the next clock tick (rank 0), note-off (1) and
    /// queued item (2); equal times go in rank order.
    fn next_candidate(&self) -> Option<(f64, u8, usize)> {
        let mut best: Option<(f64, u8, usize)> = None;
        let mut consider = |t: f64, rank: u8, i: usize| {
            if best.is_none_or(|b| t < b.0 || (t == b.0 && rank < b.1)) {
                best = Some((t, rank, i));
            }
        };
        if self.clock_out {
            let beat = self.next_tick as f64 / CLOCK_PPQN as f64;
            consider(self.transport.secs_at(beat), 0, 0);
        }
        for (i, s) in self.sounding.iter().enumerate() {
            consider(self.time_of(s.off_beat), 1, i);
        }
        match self.pending.front() {
            Some(Item::Note(n)) | Some(Item::Voiced(n)) => consider(self.time_of(n.start), 2, 0),
            Some(Item::Tempo { beat, .. }) | Some(Item::End { beat }) => {
                consider(self.transport.secs_at(*beat), 2, 0)
            }
            None => {}
        }
        best
    }

    /// The next message due by `now`, if any. Call until it returns `None`.
    pub fn poll(&mut self, now: f64) -> Option<Timed> {
        loop {
            if let Some(t) = self.outbox.pop_front() {
                return Some(t);
            }
            if self.state != State::Playing {
                return None;
            }
            let (at, rank, i) = self.next_candidate()?;
            if at > now {
                return None;
            }
            match rank {
                0 => {
                    let beat = self.next_tick as f64 / CLOCK_PPQN as f64;
                    self.next_tick += 1;
                    let msg = MidiMsg::clock();
                    return Some(Timed { at, beat, msg });
                }
                1 => {
                    let s = self.sounding.swap_remove(i);
                    let msg = MidiMsg::note_off(s.channel, s.pitch);
                    return Some(Timed {
                        at,
                        beat: s.off_beat,
                        msg,
                    });
                }
                _ => {}
            }
            match self.pending.front().copied() {
                Some(Item::Tempo { beat, bpm }) => {
                    self.pending.pop_front();
                    self.source_bpm = bpm;
                    if self.params.tempo.is_none() {
                        // Anchor on the exact beat so tempo maps add no rounding drift.
                        self.transport.anchor_beat = beat;
                        self.transport.anchor_secs = at;
                        self.transport.bpm = bpm;
                    }
                }
                Some(Item::End { .. }) => {
                    self.pending.pop_front();
                    self.ended = true;
                }
                Some(Item::Note(n)) => {
                    if let Some(t) = self.start_note(at, now, n, false) {
                        return Some(t);
                    }
                }
                Some(Item::Voiced(n)) => {
                    if let Some(t) = self.start_note(at, now, n, true) {
                        return Some(t);
                    }
                }
                None => return None,
            }
        }
    }

    /// The message that starts `n` (a program change first when its channel needs one);
    /// `own`: `n` keeps its channel and program whatever the parameters say.
    fn start_note(&mut self, at: f64, now: f64, n: Note, own: bool) -> Option<Timed> {
        let off_beat = n.start + n.duration.max(1e-6);
        // A note is dropped only when it comes so late that it would already be over; a short
        // note handed over a little late (within LATE_GRACE) still sounds.
        if self.time_of(off_beat) <= now && now - at > LATE_GRACE {
            self.pending.pop_front();
            self.stats.dropped_late += 1;
            return None;
        }
        let p = self.params;
        let drum = n.channel == DRUM_CHANNEL;
        let channel = if drum || own {
            n.channel
        } else {
            p.channel.unwrap_or(n.channel)
        };
        let program = if drum || own {
            n.program
        } else {
            p.program.unwrap_or(n.program)
        };
        if self.programs[channel as usize] != program {
            self.programs[channel as usize] = program;
            let msg = MidiMsg::program(channel, program);
            return Some(Timed {
                at,
                beat: n.start,
                msg,
            });
        }
        self.pending.pop_front();
        let mut pitch = n.pitch as i32;
        if !drum {
            pitch += p.transpose;
            if let (Some(scale), true) = (p.scale, (0..=127).contains(&pitch)) {
                pitch = scale.quantize(pitch as u8) as i32;
            }
        }
        let velocity = (n.velocity as f64 * p.velocity_scale).round().min(127.0);
        if !(0..=127).contains(&pitch) || velocity < 1.0 {
            self.stats.dropped_range += 1;
            return None;
        }
        let (pitch, velocity) = (pitch as u8, velocity as u8);
        let on = Timed {
            at,
            beat: n.start,
            msg: MidiMsg::note_on(channel, pitch, velocity),
        };
        self.stats.notes += 1;
        // The same key sounding, or a full table: end the old note first, then start this one.
        let evict = self
            .sounding
            .iter()
            .position(|s| s.channel == channel && s.pitch == pitch)
            .or_else(|| {
                (self.sounding.len() == MAX_SOUNDING).then(|| {
                    self.stats.stolen += 1;
                    self.sounding
                        .iter()
                        .enumerate()
                        .min_by(|a, b| a.1.off_beat.total_cmp(&b.1.off_beat))
                        .map_or(0, |(i, _)| i)
                })
            });
        let first = match evict {
            Some(i) => {
                let s = self.sounding.swap_remove(i);
                self.outbox.push_back(on);
                Timed {
                    at,
                    beat: n.start,
                    msg: MidiMsg::note_off(s.channel, s.pitch),
                }
            }
            None => on,
        };
        self.sounding.push(Sounding {
            channel,
            pitch,
            off_beat,
        });
        Some(first)
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
