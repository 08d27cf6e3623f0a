//! The engine's public face: `Engine::start` spawns the engine thread that owns the session
//! state, and the `EngineHandle` front ends hold. Nothing here blocks a front end: `send` and
//! `run_line` queue a command, `events` is a channel, `snapshot` copies state under a short lock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver, Sender};

use crate::play::{Clock, MonotonicClock};

use super::command::Command;
use super::core::Core;
use super::event::{CommandId, Event};
use super::parse::{parse, ParseError};
use super::snapshot::Snapshot;

/// How an engine starts.
#[derive(Clone)]
pub struct EngineOptions {
    /// Where sessions, autosaves and history go (`$IMPROV_HOME` by default).
    pub home: PathBuf,
    /// Save `home/sessions/autosave.toml` this often (and on quit); `None`: never autosave.
    pub autosave_every: Option<Duration>,
    /// The clock the player runs on.
    pub clock: Arc<dyn Clock>,
    /// Ask the scheduler thread for real-time priority (off in tests).
    pub realtime: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            home: crate::paths::improv_home(),
            autosave_every: Some(Duration::from_secs(60)),
            clock: MonotonicClock::shared(),
            realtime: true,
        }
    }
}

/// What the engine thread receives.
pub(super) enum Msg {
    Command {
        id: CommandId,
        command: Command,
        /// The text typed, kept in the session's history.
        line: Option<String>,
    },
    Shutdown,
}

/// The engine as a front end holds it. Dropping it shuts the engine down (autosaving).
pub struct EngineHandle {
    tx: Sender<Msg>,
    events: Receiver<Event>,
    snapshot: Arc<Mutex<Snapshot>>,
    next_id: AtomicU64,
    thread: Option<JoinHandle<()>>,
}

/// Reads the engine's latest `Snapshot` (see `EngineHandle::snapshot_reader`).
#[derive(Clone)]
pub struct SnapshotReader(Arc<Mutex<Snapshot>>);

impl SnapshotReader {
    pub fn get(&self) -> Snapshot {
        match self.0.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Starts engines.
pub struct Engine;

impl Engine {
    /// Spawns the engine thread with empty state (no corpus, no model).
    pub fn start(opts: EngineOptions) -> std::io::Result<EngineHandle> {
        let (tx, rx) = unbounded();
        let (ev_tx, events) = unbounded();
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let shared = snapshot.clone();
        let thread = std::thread::Builder::new()
            .name("improv-engine".into())
            .spawn(move || Core::new(opts, ev_tx, shared).run(rx))?;
        Ok(EngineHandle {
            tx,
            events,
            snapshot,
            next_id: AtomicU64::new(1),
            thread: Some(thread),
        })
    }
}

impl EngineHandle {
    fn next(&self) -> CommandId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Queues a command; its `Event::Done` carries the id returned.
    pub fn send(&self, command: Command) -> CommandId {
        let id = self.next();
        let _ = self.tx.send(Msg::Command {
            id,
            command,
            line: None,
        });
        id
    }

    /// Queues a command built as a value (a perform key), kept in the session's history as the
    /// line that says it, as if it had been typed.
    pub fn send_kept(&self, command: Command) -> CommandId {
        let id = self.next();
        let line = command.to_string();
        let _ = self.tx.send(Msg::Command {
            id,
            command,
            line: Some(line),
        });
        id
    }

    /// Parses and queues a line (kept in the session's history). A blank line or a comment is
    /// an error of its own kind only for `parse`; here it is `Ok(None)`.
    pub fn run_line(&self, line: &str) -> Result<Option<CommandId>, ParseError> {
        if super::parse::is_blank(line) {
            return Ok(None);
        }
        let command = parse(line)?;
        let id = self.next();
        let _ = self.tx.send(Msg::Command {
            id,
            command,
            line: Some(line.trim().to_string()),
        });
        Ok(Some(id))
    }

    /// Results, progress and errors, in order.
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }

    /// A copy of the state to draw.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_reader().get()
    }

    /// A cheap, cloneable reader of the snapshot, for helpers that outlive a borrow of the
    /// handle (a completer inside a line editor).
    pub fn snapshot_reader(&self) -> SnapshotReader {
        SnapshotReader(self.snapshot.clone())
    }

    /// Waits for the command `id` to finish, passing every other event to `other`; the error
    /// text if it failed. Returns `Err` with a message if the engine went away first.
    pub fn wait_for(&self, id: CommandId, mut other: impl FnMut(&Event)) -> Result<(), String> {
        loop {
            match self.events.recv() {
                Ok(Event::Done { id: done, error }) if done == id => {
                    return error.map_or(Ok(()), Err);
                }
                Ok(Event::Quit) => {
                    other(&Event::Quit);
                    return Err("the engine has quit".into());
                }
                Ok(e) => other(&e),
                Err(_) => return Err("the engine has quit".into()),
            }
        }
    }

    /// Stops playing and training, autosaves and ends the engine thread.
    pub fn shutdown(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        let _ = self.tx.send(Msg::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.stop_thread();
    }
}
