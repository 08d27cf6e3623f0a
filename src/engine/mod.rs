//! The engine: the session state and the one command language every front end drives.
//!
//! - `parse(line) -> Result<Command, ParseError>` turns text into a `Command` value; errors carry
//!   a byte span (`ParseError::column` gives the column) and a suggestion for unknown words.
//! - `Engine::start(EngineOptions) -> io::Result<EngineHandle>` spawns the engine thread, which
//!   owns the state. `EngineHandle::send(Command) -> CommandId` and `run_line(&str)` queue a
//!   command and return at once; `events()` is a crossbeam `Receiver<Event>`; `snapshot()`
//!   copies the `Snapshot` a front end draws (a short lock only the engine thread and the UI
//!   take; the scheduler and the audio callback never do).
//! - Commands run in order. Long ones (loading a corpus or a model, generating, `wait`) hold
//!   later ones back until their job ends; `stop`, `panic`, `quit`, `help` and `train
//!   pause|resume|stop` run at once. Training and playing run in the background and do not
//!   hold anything back (`wait train`, `wait jobs` do). Every command ends with an
//!   `Event::Done { id, error }`; failures also send one `Event::Error` line naming the command.
//! - `complete(line, cursor, &Snapshot) -> Vec<Completion>`, `highlight(line)` and
//!   `validate(line)` serve the REPL and the TUI's command line from the same grammar
//!   (`grammar::COMMANDS`, which also holds the help text).

pub mod command;
pub mod complete;
mod core;
mod display;
pub mod event;
pub mod grammar;
mod handle;
pub mod parse;
pub mod snapshot;

pub use self::core::{read_session, SessionFile};
pub use command::*;
pub use complete::{complete, highlight, validate, Completion, Highlight};
pub use event::{CommandId, Event, Level};
pub use grammar::{help_text, CommandSpec, COMMANDS};
pub use handle::{Engine, EngineHandle, EngineOptions, SnapshotReader};
pub use parse::{is_blank, parse, words, ParseError, Word};
pub use snapshot::*;

#[cfg(test)]
mod complete_tests;
#[cfg(test)]
mod parse_tests;
