//! Where scheduled messages go: one `Sink` trait for ports, the synth, the recorder and tests,
//! and the per-sink counters the scheduler thread keeps in atomics.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::histogram::{Histogram, Percentiles};

use super::msg::MidiMsg;

/// Why a send failed. `Copy` and without text, so the real-time thread never formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    #[error("the port or device is gone")]
    Gone,
    #[error("its queue is full")]
    Full,
    #[error("the send failed")]
    Failed,
}

/// A destination for MIDI messages, called from the scheduler thread at each message's deadline.
/// `send` must return quickly and should not allocate once running.
pub trait Sink: Send {
    fn name(&self) -> &str;
    /// Sends `msg`, due at `deadline` seconds on the player's clock (it is now about then).
    fn send(&mut self, msg: MidiMsg, deadline: f64) -> Result<(), SinkError>;
    /// Whether MIDI clock and song position messages go here too.
    fn wants_clock(&self) -> bool {
        false
    }
}

/// What happened at one sink, written by the scheduler thread, read by anyone.
#[derive(Debug, Default)]
pub struct SinkStats {
    pub sent: AtomicU64,
    pub errors: AtomicU64,
    pub gone: AtomicBool,
    reported: AtomicBool,
    /// How late messages were handed to the sink.
    pub late: Histogram,
}

impl SinkStats {
    /// Counts one send `late_ns` after its deadline.
    pub fn record(&self, late_ns: i64, ok: bool) {
        self.late.record(late_ns);
        if ok {
            self.sent.fetch_add(1, Ordering::Relaxed);
        } else {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn lateness(&self) -> Percentiles {
        self.late.percentiles()
    }

    /// True once, the first time this is asked after the sink went away.
    pub fn take_gone_report(&self) -> bool {
        self.gone.load(Ordering::Relaxed) && !self.reported.swap(true, Ordering::Relaxed)
    }
}

/// One message as a memory sink saw it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Record {
    pub deadline: f64,
    pub msg: MidiMsg,
}

/// Keeps every message in a lock-free queue for a test or benchmark to read.
pub struct MemorySink {
    name: String,
    tx: rtrb::Producer<Record>,
    clock: bool,
}

/// The reading end of a [`MemorySink`].
pub struct MemoryLog {
    rx: rtrb::Consumer<Record>,
    seen: Vec<Record>,
}

impl MemorySink {
    /// A sink holding up to `capacity` unread messages; `clock` asks for MIDI clock too.
    pub fn new(name: &str, capacity: usize, clock: bool) -> (Self, MemoryLog) {
        let (tx, rx) = rtrb::RingBuffer::new(capacity);
        let sink = MemorySink {
            name: name.to_string(),
            tx,
            clock,
        };
        (
            sink,
            MemoryLog {
                rx,
                seen: Vec::new(),
            },
        )
    }
}

impl Sink for MemorySink {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&mut self, msg: MidiMsg, deadline: f64) -> Result<(), SinkError> {
        self.tx
            .push(Record { deadline, msg })
            .map_err(|_| SinkError::Full)
    }

    fn wants_clock(&self) -> bool {
        self.clock
    }
}

impl MemoryLog {
    /// Everything received so far, oldest first.
    pub fn records(&mut self) -> &[Record] {
        while let Ok(r) = self.rx.pop() {
            self.seen.push(r);
        }
        &self.seen
    }
}

/// `(note-ons, keys left sounding)` in a message stream: a key sounds from its note-on until a
/// note-off, all-notes-off or all-sound-off on its channel.
pub fn hanging_notes(msgs: impl IntoIterator<Item = MidiMsg>) -> (usize, usize) {
    let mut s = Sounding::default();
    for m in msgs {
        s.take(m);
    }
    (s.note_ons as usize, s.hanging())
}

/// Which notes sound at a synth's end of the wire, message by message, as a synth hears them:
/// a note-off ends the note however many note-ons it had; all-notes-off or all-sound-off ends
/// its channel's.
pub struct Sounding {
    on: Box<[[bool; 128]; 16]>,
    pub note_ons: u64,
}

impl Default for Sounding {
    fn default() -> Self {
        Sounding {
            on: Box::new([[false; 128]; 16]),
            note_ons: 0,
        }
    }
}

impl Sounding {
    pub fn take(&mut self, m: MidiMsg) {
        if let Some((c, p, _)) = m.as_note_on() {
            self.on[c as usize][p as usize] = true;
            self.note_ons += 1;
        } else if let Some((c, p)) = m.as_note_off() {
            self.on[c as usize][p as usize] = false;
        } else if let Some((c, cc, _)) = m.as_control() {
            if cc == super::msg::CC_ALL_NOTES_OFF || cc == super::msg::CC_ALL_SOUND_OFF {
                self.on[c as usize] = [false; 128];
            }
        }
    }

    /// Notes sounding now.
    pub fn hanging(&self) -> usize {
        self.on.iter().flatten().filter(|n| **n).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sends_errors_and_a_lost_sink_once() {
        let s = SinkStats::default();
        s.record(1_000, true);
        s.record(-5, false);
        assert_eq!(s.lateness().count, 2);
        assert_eq!(s.errors.load(Ordering::Relaxed), 1);
        assert!(!s.take_gone_report());
        s.gone.store(true, Ordering::Relaxed);
        assert!(s.take_gone_report());
        assert!(!s.take_gone_report());
    }

    #[test]
    fn hanging_notes_counts_keys_left_on() {
        let msgs = [
            MidiMsg::note_on(0, 60, 90),
            MidiMsg::note_on(1, 62, 90),
            MidiMsg::note_off(0, 60),
            MidiMsg::note_on(2, 64, 90),
            MidiMsg::control(2, 123, 0),
        ];
        assert_eq!(hanging_notes(msgs), (3, 1));
    }
}
