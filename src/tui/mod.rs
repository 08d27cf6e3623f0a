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
pub mod panes;
pub mod sample;
pub mod screen;
pub mod term;
pub mod view;

pub use app::{Action, App, Mode, Request};
pub use view::View;
