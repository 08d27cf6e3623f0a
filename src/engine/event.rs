//! What the engine tells its front ends: results, progress and errors, as `Event` values on one
//! channel. Front ends render them; they never need to ask.

use std::path::PathBuf;

use crate::train::TrainEvent;

/// Every command sent gets an id; `Event::Done` carries it when the command has finished.
pub type CommandId = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A line for the log (results of commands, progress worth a line).
    Log {
        level: Level,
        text: String,
    },
    /// Something went wrong; one line that names the command or the file. Shown by front ends.
    Error {
        text: String,
    },
    /// A command has finished (for long ones, when their job ends: a corpus load, a generation,
    /// a `wait`). `error` repeats the text of the `Error` event sent just before, for callers
    /// that run commands in order (scripts, a piped REPL); displays should show `Error` only.
    Done {
        id: CommandId,
        error: Option<String>,
    },
    /// Progress of training, as the trainer sends it.
    Train(TrainEvent),
    /// Training has ended.
    TrainDone {
        steps: usize,
        epochs: usize,
        stopped: bool,
        best_nelbo: Option<f64>,
    },
    CorpusLoaded {
        path: PathBuf,
        pieces: usize,
        notes: usize,
        tokens: usize,
    },
    ModelReady {
        label: String,
    },
    Generated {
        notes: usize,
        bars: usize,
        seconds: f64,
        out: Option<PathBuf>,
    },
    /// Playing started or stopped.
    Transport {
        playing: bool,
        bpm: f64,
    },
    /// A fixed-length playback has reached its end.
    PlayDone {
        notes: u64,
        dropped: u64,
    },
    SessionSaved {
        path: PathBuf,
    },
    SessionLoaded {
        path: PathBuf,
    },
    /// The engine has shut down; no more events come.
    Quit,
}
