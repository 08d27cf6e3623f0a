//! The ratatui front end: one screen a performer reads at a glance (loss chart, latent panel,
//! piano roll, transport, output, log, command line), over the same engine as the REPL.
//!
//! Shape: `App` (state) + `impl Widget for &App` (a pure draw, `screen.rs`) + `Action` (what a
//! key means, `app.rs`); `run::run_loop` is the one loop selecting over terminal input, engine
//! events and a ~30 fps tick. Panes draw a plain `View` (`view.rs`) that `link::view_of` makes
//! from the engine's `Snapshot`, so they are tested and benchmarked without an engine.
//!
//! Entry point: `tui::run(TuiOptions)` (what `improv` with no arguments calls on a terminal).

pub mod app;
pub mod cmdline;
pub mod link;
pub mod panes;
pub mod run;
pub mod sample;
pub mod screen;
pub mod term;
pub mod view;

use std::io;
use std::path::PathBuf;

use crate::engine::{Engine, EngineOptions};

pub use app::{Action, App, Mode, Request};
pub use view::View;

/// How the TUI starts.
#[derive(Clone, Debug, Default)]
pub struct TuiOptions {
    /// Command lines run first, as if typed (e.g. `run sessions/default.improv`).
    pub startup: Vec<String>,
}

impl TuiOptions {
    /// Opens `sessions/default.improv` from the bundle (bundled corpus and model, ready to
    /// `play`), or with `resume` the last autosave.
    pub fn default_session(resume: bool) -> Self {
        let line = if resume {
            "session load autosave".to_string()
        } else {
            let root = crate::paths::bundle_root();
            let script: PathBuf = if std::env::current_dir().ok().as_deref() == Some(root.as_path())
            {
                PathBuf::from("sessions/default.improv")
            } else {
                root.join("sessions/default.improv")
            };
            format!("run {}", script.display())
        };
        TuiOptions {
            startup: vec![line],
        }
    }
}

/// Runs the TUI on this terminal until the user quits; the terminal is restored however it
/// ends (the engine autosaves when its handle drops).
pub fn run(opts: TuiOptions) -> io::Result<()> {
    let engine = Engine::start(EngineOptions::default())?;
    let snap = engine.snapshot();
    let mut app = App::new(link::view_of(&snap), snap.history.clone());
    let mut guard = term::TermGuard::enter()?;
    let input = run::spawn_input()?;
    for line in &opts.startup {
        run::run_line(&mut app, &engine, line);
    }
    let result = run::run_loop(&mut guard.terminal, &mut app, &engine, &input, &mut |_| {});
    drop(guard);
    drop(engine);
    result
}
