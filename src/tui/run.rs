//! The event loop: one loop selects over terminal input, engine events and a frame tick. Keys
//! become actions, actions become engine command lines; drawing reads only the engine's
//! snapshot, so the loop never waits on training or generation. Workers never draw.

use std::io;
use std::time::{Duration, Instant};

use crossbeam_channel::{select, tick, Receiver};
use crossterm::event::{Event as TermEvent, KeyEventKind};
use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;

use crate::engine::{EngineHandle, Event};
use crate::tui::app::{Action, App, Request};
use crate::tui::link;
use crate::tui::panes::log::Level;

/// At most ~30 frames a second for engine events and the playhead; keys draw at once.
pub const FRAME: Duration = Duration::from_millis(33);

/// Runs a command line as typed: echoed in the log, parse errors shown at their column on the
/// command line (the line stays there to be fixed) or in the log when it did not come from it.
pub fn run_line(app: &mut App, engine: &EngineHandle, line: &str) {
    app.push_log(Level::Command, line);
    if let Err(e) = engine.run_line(line) {
        app.push_log(Level::Error, format!("{line}: {e}"));
    }
}

/// Applies one action, asking the engine for completions and running what it requests.
/// Returns false when the app should quit.
pub fn act(app: &mut App, engine: &EngineHandle, action: Action) -> bool {
    if action == Action::Submit {
        // Check before taking the line: a typo stays on the command line with the error under
        // its column, and nothing runs.
        if let Some(err) = link::check(&app.cmd.input) {
            app.cmd.error = Some(err);
            return true;
        }
    }
    let requests = if action == Action::Complete {
        let snap = engine.snapshot();
        app.apply(action, &|line, cursor| {
            link::candidates(line, cursor, &snap)
        })
    } else {
        app.apply(action, &|_, _| Vec::new())
    };
    for r in requests {
        match r {
            Request::Run(line) => run_line(app, engine, &line),
            Request::Send(command) => {
                app.push_log(Level::Command, command.to_string());
                engine.send_kept(command);
            }
            Request::Quit => return false,
        }
    }
    !app.quit
}

/// Handles one terminal event; returns false when the app should quit.
pub fn on_input(app: &mut App, engine: &EngineHandle, ev: TermEvent) -> bool {
    match ev {
        TermEvent::Key(k) if k.kind != KeyEventKind::Release => match app.action_for(k) {
            Some(a) => act(app, engine, a),
            None => true,
        },
        TermEvent::Paste(text) => {
            for c in text.chars().filter(|c| !c.is_control()) {
                app.cmd.insert(c);
            }
            true
        }
        _ => true,
    }
}

/// The loop. `input` carries terminal events (from `spawn_input` or a test); `on_frame` sees
/// every drawn buffer (the benchmark watches it; the real app passes a no-op).
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    engine: &EngineHandle,
    input: &Receiver<TermEvent>,
    on_frame: &mut dyn FnMut(&Buffer),
) -> io::Result<()>
where
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let ticks = tick(FRAME);
    let mut last_draw: Option<Instant> = None;
    let mut dirty = true;
    loop {
        let mut now = false;
        select! {
            recv(input) -> ev => match ev {
                Ok(ev) => {
                    if !on_input(app, engine, ev) {
                        return Ok(());
                    }
                    now = true;
                }
                // The input thread has ended: the terminal is gone.
                Err(_) => return Ok(()),
            },
            recv(engine.events()) -> ev => match ev {
                Ok(Event::Quit) | Err(_) => return Ok(()),
                Ok(ev) => {
                    if let Some((level, text)) = link::log_of(&ev) {
                        app.push_log(level, text);
                    }
                    dirty = true;
                }
            },
            recv(ticks) -> _ => dirty = true,
        }
        for text in crate::tui::term::take_worker_panics() {
            app.push_log(Level::Error, text);
        }
        let due = last_draw.is_none_or(|t| t.elapsed() >= FRAME);
        if now || (dirty && due) {
            app.set_view(link::view_of(&engine.snapshot()));
            let frame = terminal.draw(|f| app.draw(f)).map_err(io::Error::other)?;
            on_frame(frame.buffer);
            last_draw = Some(Instant::now());
            dirty = false;
        }
    }
}

/// A thread reading terminal events into a channel; it ends when the channel is dropped (at the
/// next event) or the terminal fails.
pub fn spawn_input() -> io::Result<Receiver<TermEvent>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new()
        .name("improv-tui-input".into())
        .spawn(move || {
            while let Ok(ev) = crossterm::event::read() {
                if tx.send(ev).is_err() {
                    break;
                }
            }
        })?;
    Ok(rx)
}
