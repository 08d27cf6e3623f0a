//! The scheduler thread: sends each scheduled message to every sink at its deadline, sleeping to
//! absolute deadlines on one monotonic clock. The control side (`Player`) talks to it only through
//! lock-free queues and atomics, so it never waits on the UI or a generator.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::clock::Clock;
use super::msg::MidiMsg;
use super::params::LiveParams;
use super::rt::RtStatus;
use super::schedule::{Item, Schedule};
use super::sink::{Sink, SinkStats};
use super::source::{spawn_feeder, FeedState, NoteSource};

/// The longest the thread sleeps before looking at commands, parameters and new items again.
const IDLE_WAKE: f64 = 0.002;
const MAX_SINKS: usize = 32;
const SLOT_QUEUE: usize = 4096;

/// How the player runs.
#[derive(Clone, Copy, Debug)]
pub struct PlayerConfig {
    /// Tempo until the source gives one.
    pub bpm: f64,
    /// Send MIDI clock to the sinks that want it.
    pub clock_out: bool,
    /// Ask for SCHED_FIFO at this priority (None: normal scheduling).
    pub realtime: Option<i32>,
    /// Items the queue holds ahead of the playhead.
    pub capacity: usize,
    /// Beats the feeder stays ahead (at least one bar).
    pub lookahead: f64,
}

impl Default for PlayerConfig {
    fn default() -> Self {
        PlayerConfig {
            bpm: 120.0,
            clock_out: false,
            realtime: Some(70),
            capacity: 8192,
            lookahead: 4.0,
        }
    }
}

/// A sink's channel mask that lets every channel through.
pub const ALL_CHANNELS: u16 = 0xffff;

/// A sink as the scheduler thread holds it.
struct Slot {
    id: usize,
    sink: Box<dyn Sink>,
    stats: Arc<SinkStats>,
    latency: f64,
    delay: f64,
    clock: bool,
    /// Bit c set: the sink gets the messages of channel c (zero-based).
    channels: u16,
    queue: VecDeque<(f64, MidiMsg)>,
}

enum Command {
    Start,
    Pause,
    Resume,
    Stop,
    Panic,
    AddSink(Box<Slot>),
    RemoveSink(usize),
    SetLatency(usize, f64),
    SetChannels(usize, u16),
    Quit,
}

/// What the thread publishes.
#[derive(Default)]
struct Shared {
    params: LiveParams,
    beat: Arc<AtomicU64>,
    bpm: Arc<AtomicU64>,
    playing: AtomicBool,
    done: AtomicBool,
    rt: AtomicI32,
    notes: AtomicU64,
    dropped: AtomicU64,
    feeder_quit: Arc<AtomicBool>,
}

/// A sink handle on the control side.
#[derive(Clone)]
pub struct SinkInfo {
    pub id: usize,
    pub name: String,
    pub stats: Arc<SinkStats>,
}

/// The control side of the scheduler thread.
pub struct Player {
    shared: Arc<Shared>,
    cmd: rtrb::Producer<Command>,
    items: Option<rtrb::Producer<Item>>,
    trash: rtrb::Consumer<Box<Slot>>,
    thread: Option<JoinHandle<Vec<Box<dyn Sink>>>>,
    feeder: Option<JoinHandle<()>>,
    sinks: Vec<SinkInfo>,
    next_id: usize,
    lookahead: f64,
    bpm: f64,
    started: bool,
}

/// A player that could not start.
#[derive(Debug, thiserror::Error)]
pub enum PlayerError {
    #[error("cannot start the scheduler thread: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("a source is already playing")]
    AlreadyFed,
    #[error("too many sinks (at most {MAX_SINKS})")]
    TooManySinks,
}

impl Player {
    /// Starts the scheduler thread (stopped until `start`).
    pub fn new(cfg: PlayerConfig, clock: Arc<dyn Clock>) -> Result<Self, PlayerError> {
        let shared = Arc::new(Shared::default());
        let (cmd, cmd_rx) = rtrb::RingBuffer::new(256);
        let (items, items_rx) = rtrb::RingBuffer::new(cfg.capacity.max(64));
        let (trash_tx, trash) = rtrb::RingBuffer::new(MAX_SINKS * 2);
        let mut schedule = Schedule::new(cfg.bpm, cfg.capacity.max(64));
        schedule.set_clock_out(cfg.clock_out);
        let th = Thread {
            shared: shared.clone(),
            clock,
            schedule,
            cmd: cmd_rx,
            items: items_rx,
            trash: trash_tx,
            slots: Vec::with_capacity(MAX_SINKS),
            realtime: cfg.realtime,
        };
        let thread = std::thread::Builder::new()
            .name("improv-scheduler".into())
            .spawn(move || th.run())?;
        Ok(Player {
            shared,
            cmd,
            items: Some(items),
            trash,
            thread: Some(thread),
            feeder: None,
            sinks: Vec::new(),
            next_id: 0,
            lookahead: cfg.lookahead,
            bpm: cfg.bpm,
            started: false,
        })
    }

    fn send(&mut self, c: Command) {
        while let Ok(slot) = self.trash.pop() {
            drop(slot);
        }
        // The queue holds 256 commands and the thread drains it every few milliseconds.
        let mut c = c;
        while let Err(rtrb::PushError::Full(back)) = self.cmd.push(c) {
            c = back;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Adds a sink heard `latency` seconds after a message reaches it; the others are delayed
    /// to match the slowest.
    pub fn add_sink(&mut self, sink: Box<dyn Sink>, latency: f64) -> Result<SinkInfo, PlayerError> {
        if self.sinks.len() >= MAX_SINKS {
            return Err(PlayerError::TooManySinks);
        }
        let info = SinkInfo {
            id: self.next_id,
            name: sink.name().to_string(),
            stats: Arc::new(SinkStats::default()),
        };
        self.next_id += 1;
        let slot = Box::new(Slot {
            id: info.id,
            clock: sink.wants_clock(),
            sink,
            stats: info.stats.clone(),
            latency: latency.max(0.0),
            delay: 0.0,
            channels: ALL_CHANNELS,
            queue: VecDeque::with_capacity(SLOT_QUEUE),
        });
        self.send(Command::AddSink(slot));
        self.sinks.push(info.clone());
        Ok(info)
    }

    /// Which channels' messages a sink gets from now on (bit c: zero-based channel c; every
    /// channel at first). System messages (clock), note-offs (a note started before a change
    /// of routing still ends) and `panic` are not filtered.
    pub fn set_channels(&mut self, id: usize, channels: u16) {
        self.send(Command::SetChannels(id, channels));
    }

    pub fn remove_sink(&mut self, id: usize) {
        self.sinks.retain(|s| s.id != id);
        self.send(Command::RemoveSink(id));
    }

    /// Changes a sink's latency offset (seconds) live.
    pub fn set_latency(&mut self, id: usize, latency: f64) {
        self.send(Command::SetLatency(id, latency.max(0.0)));
    }

    pub fn sinks(&self) -> &[SinkInfo] {
        &self.sinks
    }

    /// Names of sinks that went away since the last call (each reported once).
    pub fn take_lost_sinks(&self) -> Vec<String> {
        self.sinks
            .iter()
            .filter(|s| s.stats.take_gone_report())
            .map(|s| s.name.clone())
            .collect()
    }

    /// Plays `source`, fed `lookahead` beats (at least a bar; or the source's own horizon) ahead
    /// on a feeder thread.
    pub fn feed(&mut self, source: Box<dyn NoteSource>) -> Result<(), PlayerError> {
        let tx = self.items.take().ok_or(PlayerError::AlreadyFed)?;
        let state = FeedState {
            beat: self.shared.beat.clone(),
            bpm: self.shared.bpm.clone(),
            start_bpm: self.bpm,
            quit: self.shared.feeder_quit.clone(),
        };
        self.feeder = Some(spawn_feeder(source, tx, self.lookahead, state)?);
        Ok(())
    }

    pub fn params(&self) -> &LiveParams {
        &self.shared.params
    }

    /// Starts playback from the top (once; later, use `resume`).
    pub fn start(&mut self) {
        self.started = true;
        self.send(Command::Start);
    }

    pub fn has_started(&self) -> bool {
        self.started
    }

    pub fn pause(&mut self) {
        self.send(Command::Pause);
    }

    pub fn resume(&mut self) {
        self.send(Command::Resume);
    }

    /// Stops: every sounding note gets its note-off.
    pub fn stop(&mut self) {
        self.send(Command::Stop);
    }

    /// Note-offs for the sounding notes, then all-notes-off and all-sound-off on every channel
    /// of every sink. The transport goes on.
    pub fn panic(&mut self) {
        self.send(Command::Panic);
    }

    /// Playhead in beats.
    pub fn position(&self) -> f64 {
        f64::from_bits(self.shared.beat.load(Ordering::Relaxed))
    }

    pub fn bpm(&self) -> f64 {
        f64::from_bits(self.shared.bpm.load(Ordering::Relaxed))
    }

    pub fn is_playing(&self) -> bool {
        self.shared.playing.load(Ordering::Relaxed)
    }

    /// The source ended (or playback stopped) and every note has had its note-off.
    pub fn is_done(&self) -> bool {
        self.shared.done.load(Ordering::Relaxed)
    }

    /// Notes started so far and notes dropped (late, out of range or for lack of room).
    pub fn note_counts(&self) -> (u64, u64) {
        (
            self.shared.notes.load(Ordering::Relaxed),
            self.shared.dropped.load(Ordering::Relaxed),
        )
    }

    /// Whether the thread got real-time scheduling (NotAsked until it has started).
    pub fn rt_status(&self) -> RtStatus {
        RtStatus::unpack(self.shared.rt.load(Ordering::Relaxed))
    }

    /// Stops the threads after the sinks' delay queues have drained; gives the sinks back.
    pub fn finish(mut self) -> Vec<Box<dyn Sink>> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Vec<Box<dyn Sink>> {
        self.shared.feeder_quit.store(true, Ordering::Relaxed);
        if let Some(f) = self.feeder.take() {
            let _ = f.join();
        }
        let Some(t) = self.thread.take() else {
            return Vec::new();
        };
        self.send(Command::Quit);
        let sinks = t.join().unwrap_or_default();
        while let Ok(slot) = self.trash.pop() {
            drop(slot);
        }
        sinks
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[path = "scheduler_thread.rs"]
mod thread;
use thread::Thread;

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
