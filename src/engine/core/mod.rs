//! The engine thread: the session state, the command queue, and the loop that runs commands,
//! collects what worker threads report and publishes the `Snapshot`.

mod control;
mod dispatch;
mod layers;
mod listen;
mod live;
mod model;
mod player;
mod recovery;
mod script;
mod session;
mod session_check;

pub use session::SessionFile;
pub use session_check::read_session;
mod snapshot;
mod steer;
mod training;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::command::*;
use super::event::{CommandId, Event, Level};
use super::handle::{EngineOptions, Msg};
use super::snapshot::{SamplingSettings, Snapshot};

pub(super) use model::ModelState;

/// Ids the engine gives to commands it queues itself (scripts, session restore); far above the
/// handle's so they never meet.
const INTERNAL_IDS: CommandId = 1 << 62;
const HISTORY: usize = 500;

/// A queued piece of work.
pub(super) enum Item {
    Command {
        id: CommandId,
        command: Command,
        /// The script (its `run` command's id) this line belongs to, and where it is.
        script: Option<(CommandId, String)>,
    },
    /// The end of a script: its `run` command is done.
    EndScript { id: CommandId },
    /// Session values applied after the session's corpus and model have loaded.
    Restore {
        id: CommandId,
        file: Box<session::SessionFile>,
    },
}

/// A job that holds the queue until it ends.
pub(super) struct Blocker {
    pub id: CommandId,
    pub what: String,
    pub kind: Block,
    /// The script that waits for it, so a failure can end the script.
    pub script: Option<(CommandId, String)>,
}

pub(super) enum Block {
    Job(Receiver<JobResult>),
    WaitTrain,
    /// Until the playhead reaches this beat (or playing stops).
    WaitBeat(f64),
    WaitJobs,
}

/// What a worker thread sends back.
pub(super) enum JobResult {
    Corpus(Result<crate::corpus::Corpus, String>),
    Model(Result<Box<ModelState>, String>),
    Piece(Result<model::Generated, String>),
    /// A phrase captured by `listen`.
    Phrase(Result<crate::music::NoteSeq, String>),
    Attributes(
        Result<
            (
                usize,
                crate::generate::attributes::AttributeVectors,
                Option<String>,
                String,
                f32,
            ),
            String,
        >,
    ),
}

pub(super) struct Core {
    pub opts: EngineOptions,
    pub events: Sender<Event>,
    pub shared: Arc<Mutex<Snapshot>>,
    pub queue: VecDeque<Item>,
    pub blocker: Option<Blocker>,
    /// Commands for the next bar line or beat: (beat, item).
    pub quantized: Vec<(f64, Item)>,
    pub next_internal: CommandId,
    pub models: model::Models,
    pub steering: steer::Steering,
    pub sampling: SamplingSettings,
    pub play: player::PlayState,
    /// The live stream while `play` streams from the model.
    pub live: Option<live::Live>,
    /// Voices besides the main one, and the loop.
    pub layers: layers::Layers,
    /// The MIDI input `listen` captures from (`input PORT`).
    pub input_port: Option<String>,
    /// Controller maps and the external clock (`map`, `clock in`).
    pub control: control::Control,
    pub watch: Option<script::Watcher>,
    /// The scripts running now: `run` id to its file and the script that ran it.
    pub scripts: std::collections::HashMap<CommandId, script::Frame>,
    pub history: Vec<String>,
    pub session_path: Option<PathBuf>,
    pub last_autosave: Instant,
    /// Set while the autosave failed to load: it is not written over.
    pub autosave_held: Option<session::AutosaveHeld>,
    pub quit: bool,
}

/// The most characters shown of one line of an error or log message (a 1 MB argument is cut).
const LINE_CHARS: usize = 1_000;

impl Core {
    pub fn new(opts: EngineOptions, events: Sender<Event>, shared: Arc<Mutex<Snapshot>>) -> Core {
        let play = player::PlayState::new(opts.clock.clone(), opts.realtime);
        Core {
            opts,
            events,
            shared,
            queue: VecDeque::new(),
            blocker: None,
            quantized: Vec::new(),
            next_internal: INTERNAL_IDS,
            models: model::Models::default(),
            steering: steer::Steering::default(),
            sampling: SamplingSettings::default(),
            play,
            live: None,
            layers: layers::Layers::default(),
            input_port: None,
            control: control::Control::default(),
            watch: None,
            scripts: Default::default(),
            history: Vec::new(),
            session_path: None,
            last_autosave: Instant::now(),
            autosave_held: None,
            quit: false,
        }
    }

    pub fn run(mut self, rx: Receiver<Msg>) {
        session::install_panic_hook(&self.opts.home);
        let home = self.opts.home.clone();
        let said = recovery::silence_outputs(&home)
            .into_iter()
            .chain(recovery::recover_all(&home));
        for said in said {
            match said {
                Ok(text) => self.warn(text),
                Err(text) => self.emit(Event::Error { text }),
            }
        }
        self.publish();
        while !self.quit {
            let wait = if self.busy() { 5 } else { 50 };
            match rx.recv_timeout(Duration::from_millis(wait)) {
                Ok(Msg::Command { id, command, line }) => {
                    if let Some(l) = line {
                        self.history.push(crate::text::printable(&l, 1_000, false));
                        if self.history.len() > HISTORY {
                            self.history.remove(0);
                        }
                    }
                    let item = Item::Command {
                        id,
                        command,
                        script: None,
                    };
                    if matches!(&item, Item::Command { command, .. } if command.is_urgent()) {
                        self.run_item(item);
                    } else {
                        self.queue.push_back(item);
                    }
                }
                Ok(Msg::Shutdown) | Err(RecvTimeoutError::Disconnected) => self.quit = true,
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.tick();
        }
        self.shutdown();
    }

    /// Whether anything runs that needs a quick loop (playing, training, a job).
    fn busy(&self) -> bool {
        self.blocker.is_some()
            || self.play.is_playing()
            || self.models.training()
            || self.watch.is_some()
            || self.control.active()
            || !self.queue.is_empty()
    }

    /// Sends `e` to the front ends; its text is made safe for a terminal first (a command
    /// line's control characters are shown escaped, a huge argument is cut).
    pub fn emit(&self, e: Event) {
        let e = match e {
            Event::Error { text } => Event::Error {
                text: crate::text::printable_lines(&text, LINE_CHARS),
            },
            Event::Done { id, error } => Event::Done {
                id,
                error: error.map(|t| crate::text::printable_lines(&t, LINE_CHARS)),
            },
            Event::Log { level, text } => Event::Log {
                level,
                text: crate::text::printable_lines(&text, LINE_CHARS),
            },
            e => e,
        };
        let _ = self.events.send(e);
    }

    pub fn log(&self, text: impl Into<String>) {
        self.emit(Event::Log {
            level: Level::Info,
            text: text.into(),
        });
    }

    pub fn warn(&self, text: impl Into<String>) {
        self.emit(Event::Log {
            level: Level::Warn,
            text: text.into(),
        });
    }

    pub fn internal_id(&mut self) -> CommandId {
        self.next_internal += 1;
        self.next_internal
    }

    /// Ends command `id`: an `Error` line first when it failed, then `Done`.
    pub fn done(
        &mut self,
        id: CommandId,
        result: Result<(), String>,
        script: Option<(CommandId, String)>,
    ) {
        // Whoever waits for `Done` sees the command's effect in the snapshot.
        self.publish();
        match result {
            Ok(()) => self.emit(Event::Done { id, error: None }),
            Err(text) => {
                let text = match &script {
                    Some((_, place)) => format!("{place}: {text}"),
                    None => text,
                };
                self.emit(Event::Error { text: text.clone() });
                self.emit(Event::Done {
                    id,
                    error: Some(text.clone()),
                });
                if let Some((run_id, _)) = script {
                    self.abort_script(run_id, text);
                }
            }
        }
    }

    /// Drops the rest of a failed script and ends its `run` command with the error.
    fn abort_script(&mut self, run_id: CommandId, text: String) {
        // A script run by another fails that one too.
        let parent = self.scripts.remove(&run_id).and_then(|f| f.parent);
        let before = self.queue.len();
        self.queue.retain(|i| match i {
            Item::Command { script, .. } => script.as_ref().map(|s| s.0) != Some(run_id),
            Item::EndScript { id } => *id != run_id,
            Item::Restore { id, .. } => *id != run_id,
        });
        self.quantized.retain(|(_, i)| match i {
            Item::Command { script, .. } => script.as_ref().map(|s| s.0) != Some(run_id),
            _ => true,
        });
        if before != self.queue.len() || run_id < INTERNAL_IDS {
            self.emit(Event::Done {
                id: run_id,
                error: Some(text.clone()),
            });
        }
        if let Some(p) = parent {
            self.abort_script(p, text);
        }
    }

    fn tick(&mut self) {
        self.poll_blocker();
        let was_training = self.models.training();
        self.models.poll_training(&self.events);
        // New weights (an epoch's or `swap N` steps', or the run's last) for a live stream.
        if self.models.poll_snapshots(&self.events) || was_training && !self.models.training() {
            self.swap_live_weights();
        }
        if let Some(stats) = self.play.poll() {
            self.emit(stats);
        }
        self.poll_live();
        self.poll_control();
        self.step_motion();
        // Motion steps and finished jobs (attribute vectors) reach the stream here.
        if let Err(e) = self.sync_live(crate::play::Quantize::Now) {
            self.emit(Event::Error { text: e });
        }
        self.release_quantized();
        self.poll_watch();
        while self.blocker.is_none() && !self.quit {
            let Some(item) = self.queue.pop_front() else {
                break;
            };
            self.run_item(item);
        }
        if let Some(every) = self.opts.autosave_every {
            if self.last_autosave.elapsed() >= every {
                self.last_autosave = Instant::now();
                self.autosave();
            }
        }
        self.publish();
    }

    /// Runs quantized commands whose beat has come (all of them once playing has stopped).
    fn release_quantized(&mut self) {
        if self.quantized.is_empty() {
            return;
        }
        let pos = self.play.position();
        let playing = self.play.is_playing();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.quantized)
            .into_iter()
            .partition(|(beat, _)| !playing || pos >= *beat);
        self.quantized = later;
        // In order, ahead of what was queued after them.
        for (_, item) in due.into_iter().rev() {
            self.queue.push_front(item);
        }
    }

    fn poll_blocker(&mut self) {
        let Some(b) = &self.blocker else {
            return;
        };
        let finished: Option<Result<(), String>> = match &b.kind {
            Block::Job(rx) => match rx.try_recv() {
                Ok(r) => Some(self.job_finished(r)),
                Err(crossbeam_channel::TryRecvError::Empty) => None,
                Err(_) => Some(Err(format!("{}: the worker thread failed", b.what))),
            },
            Block::WaitTrain => (!self.models.training()).then_some(Ok(())),
            Block::WaitBeat(beat) => {
                (!self.play.is_playing() || self.play.position() >= *beat).then_some(Ok(()))
            }
            // A live stream plays until stopped: waiting for it would never end.
            Block::WaitJobs => (!self.models.training()
                && (!self.play.is_playing() || self.live.is_some()))
            .then_some(Ok(())),
        };
        if let Some(result) = finished {
            if let Some(b) = self.blocker.take() {
                self.done(b.id, result, b.script);
            }
        }
    }

    fn job_finished(&mut self, r: JobResult) -> Result<(), String> {
        match r {
            JobResult::Corpus(r) => self.corpus_loaded(r),
            JobResult::Model(r) => self.model_loaded(r),
            JobResult::Piece(r) => self.piece_generated(r),
            JobResult::Phrase(r) => self.phrase_captured(r),
            JobResult::Attributes(r) => self.attributes_ready(r),
        }
    }

    fn run_item(&mut self, item: Item) {
        match item {
            Item::EndScript { id } => {
                self.scripts.remove(&id);
                self.done(id, Ok(()), None)
            }
            Item::Restore { id, file } => {
                let r = self.restore(*file);
                self.done(id, r, None);
            }
            Item::Command {
                id,
                command,
                script,
            } => self.execute(id, command, script, crate::play::Quantize::Now),
        }
    }

    /// Holds the queue until `kind` ends; `Done` for `id` comes then.
    pub fn block(
        &mut self,
        id: CommandId,
        what: &str,
        kind: Block,
        script: Option<(CommandId, String)>,
    ) {
        self.blocker = Some(Blocker {
            id,
            what: what.to_string(),
            kind,
            script,
        });
    }

    fn shutdown(&mut self) {
        self.models.stop_training();
        if self.play.recording().is_some() {
            if let Err(text) = self.record(RecordCmd::Stop) {
                eprintln!("improv: {text}");
                self.emit(Event::Error { text });
            }
        }
        self.play.shutdown(&self.events);
        // A clean exit: every note-off has been sent.
        let _ = recovery::mark_outputs(&self.opts.home, &[]);
        if self.opts.autosave_every.is_some() {
            self.autosave();
        }
        self.publish();
        self.emit(Event::Quit);
    }
}

pub(super) use crate::paths::resolve_input;
