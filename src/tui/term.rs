//! The terminal: raw mode and the alternate screen on the way in, and always back out again: on
//! return, on error and on panic (the hook restores the terminal before the message prints).

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::thread::ThreadId;

use crossterm::cursor::Show;
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back as the shell had it. Safe to call more than once.
pub fn restore() -> io::Result<()> {
    let raw = disable_raw_mode();
    execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    )?;
    raw
}

/// The thread that draws, while the TUI owns the terminal.
static UI_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Panics of other threads while the TUI is up, for the log pane (printing them would scribble
/// over the screen; the engine also reports a worker that died as an error).
static WORKER_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Takes the messages of worker-thread panics caught by the hook since the last call.
pub fn take_worker_panics() -> Vec<String> {
    WORKER_PANICS
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
}

/// Wraps the current panic hook: a panic on the UI thread restores the terminal first and then
/// prints as usual (otherwise the message would land in the alternate screen, in raw mode, and
/// vanish); a panic on another thread while the TUI is up is kept for the log pane instead.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ui = UI_THREAD.lock().ok().and_then(|t| *t);
            let here = std::thread::current();
            if ACTIVE.load(Ordering::SeqCst) && ui.is_some_and(|t| t != here.id()) {
                let name = here.name().unwrap_or("a worker").to_string();
                if let Ok(mut v) = WORKER_PANICS.lock() {
                    v.push(format!("panic in thread {name}: {info}"));
                }
                return;
            }
            let _ = restore();
            previous(info);
        }));
    });
}

/// The terminal in raw mode on the alternate screen; restored when the guard drops.
pub struct TermGuard {
    pub terminal: Term,
}

impl TermGuard {
    pub fn enter() -> io::Result<TermGuard> {
        install_panic_hook();
        if let Ok(mut t) = UI_THREAD.lock() {
            *t = Some(std::thread::current().id());
        }
        enable_raw_mode()?;
        let entered = execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)
            .and_then(|_| Terminal::new(CrosstermBackend::new(io::stdout())));
        match entered {
            Ok(mut terminal) => {
                ACTIVE.store(true, Ordering::SeqCst);
                terminal.clear()?;
                Ok(TermGuard { terminal })
            }
            Err(e) => {
                let _ = restore();
                Err(e)
            }
        }
    }
}

impl Drop for TermGuard {
    fn drop(&mut self) {
        ACTIVE.store(false, Ordering::SeqCst);
        let _ = restore();
    }
}
