//! The TUI's state and its actions: a key becomes an `Action`, `App::apply` updates the state and
//! says which engine command lines to run. No I/O here, so every binding is testable.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::engine::{Command, GenCmd, LatentCmd};
use crate::tui::cmdline::{Candidate, CommandLine};
use crate::tui::panes::log::{Level, LogLine};
use crate::tui::view::View;

/// Lines kept in the log pane.
pub const LOG_LINES: usize = 1000;
/// A small and a large latent nudge.
pub const NUDGE: f32 = 0.25;
pub const BIG_NUDGE: f32 = 1.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Keys type into the command line.
    Command,
    /// Single keys steer: latent dimensions, play/stop, generate.
    Perform,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Insert(char),
    Backspace,
    Delete,
    CursorLeft,
    CursorRight,
    Home,
    End,
    ClearLine,
    DeleteWord,
    HistoryPrev,
    HistoryNext,
    Complete,
    Submit,
    CommandMode,
    PerformMode,
    ToggleHelp,
    CloseHelp,
    DimPrev,
    DimNext,
    Nudge(f32),
    ToggleSelect,
    ResetDims,
    TogglePlay,
    Generate,
    SampleLatent,
    /// Positive: further back in the log.
    ScrollLog(i32),
    Quit,
}

/// What the event loop must do for the engine after an action.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Run a command line exactly as the REPL would.
    Run(String),
    /// Send a command built as a value (the perform keys); the log and the history show it as
    /// the words that say it.
    Send(Command),
    Quit,
}

#[derive(Clone, Debug)]
pub struct App {
    pub view: View,
    pub cmd: CommandLine,
    pub mode: Mode,
    pub help: bool,
    /// The latent dimension the perform keys act on.
    pub dim: usize,
    /// Dimensions chosen with Space; nudges and resets apply to all of them.
    pub selected: Vec<usize>,
    pub log: Vec<LogLine>,
    pub log_scroll: usize,
    pub quit: bool,
}

impl Default for App {
    fn default() -> Self {
        App::new(View::default(), Vec::new())
    }
}

impl App {
    pub fn new(view: View, history: Vec<String>) -> Self {
        App {
            view,
            cmd: CommandLine::with_history(history),
            mode: Mode::Command,
            help: false,
            dim: 0,
            selected: Vec::new(),
            log: Vec::new(),
            log_scroll: 0,
            quit: false,
        }
    }

    /// Adds a message to the log, one entry per line of `text`.
    pub fn push_log(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        for line in text.lines() {
            self.log.push(LogLine {
                level,
                text: crate::text::printable(line, 1_000, false),
            });
        }
        if self.log.len() > LOG_LINES {
            self.log.drain(..self.log.len() - LOG_LINES);
        }
    }

    /// A new view from the engine; keeps the cursor dimension in range.
    pub fn set_view(&mut self, view: View) {
        self.view = view;
        let n = self.view.latent.z.len();
        if n > 0 && self.dim >= n {
            self.dim = n - 1;
        }
        self.selected.retain(|&d| d < n.max(1));
    }

    /// The action a key stands for in the current mode (None: the key does nothing).
    pub fn action_for(&self, key: KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return Some(Action::Quit);
        }
        if self.help {
            return Some(Action::CloseHelp);
        }
        match key.code {
            KeyCode::F(1) => return Some(Action::ToggleHelp),
            KeyCode::PageUp => return Some(Action::ScrollLog(5)),
            KeyCode::PageDown => return Some(Action::ScrollLog(-5)),
            _ => {}
        }
        match self.mode {
            Mode::Command => Some(match key.code {
                KeyCode::Char('u') if ctrl => Action::ClearLine,
                KeyCode::Char('w') if ctrl => Action::DeleteWord,
                KeyCode::Char('a') if ctrl => Action::Home,
                KeyCode::Char('e') if ctrl => Action::End,
                KeyCode::Char(_) if ctrl => return None,
                KeyCode::Char('?') if self.cmd.input.is_empty() => Action::ToggleHelp,
                KeyCode::Char(c) => Action::Insert(c),
                KeyCode::Backspace => Action::Backspace,
                KeyCode::Delete => Action::Delete,
                KeyCode::Left => Action::CursorLeft,
                KeyCode::Right => Action::CursorRight,
                KeyCode::Home => Action::Home,
                KeyCode::End => Action::End,
                KeyCode::Up => Action::HistoryPrev,
                KeyCode::Down => Action::HistoryNext,
                KeyCode::Tab => Action::Complete,
                KeyCode::Enter => Action::Submit,
                KeyCode::Esc => Action::PerformMode,
                _ => return None,
            }),
            Mode::Perform => Some(match key.code {
                KeyCode::Char('?') => Action::ToggleHelp,
                KeyCode::Char(':') | KeyCode::Char('i') | KeyCode::Enter => Action::CommandMode,
                KeyCode::Char('j') | KeyCode::Down => Action::DimNext,
                KeyCode::Char('k') | KeyCode::Up => Action::DimPrev,
                KeyCode::Char('h') | KeyCode::Left => Action::Nudge(-NUDGE),
                KeyCode::Char('l') | KeyCode::Right => Action::Nudge(NUDGE),
                KeyCode::Char('H') => Action::Nudge(-BIG_NUDGE),
                KeyCode::Char('L') => Action::Nudge(BIG_NUDGE),
                KeyCode::Char(' ') => Action::ToggleSelect,
                KeyCode::Char('0') => Action::ResetDims,
                KeyCode::Char('p') => Action::TogglePlay,
                KeyCode::Char('g') => Action::Generate,
                KeyCode::Char('s') => Action::SampleLatent,
                KeyCode::Char('q') => Action::Quit,
                _ => return None,
            }),
        }
    }

    /// The dimensions a nudge or reset acts on.
    fn targets(&self) -> Vec<usize> {
        if self.selected.is_empty() {
            vec![self.dim]
        } else {
            self.selected.clone()
        }
    }

    /// Applies an action; `complete` is the engine's completer (for Tab). Returns what the
    /// engine must be asked to do.
    pub fn apply(
        &mut self,
        action: Action,
        complete: &dyn Fn(&str, usize) -> Vec<Candidate>,
    ) -> Vec<Request> {
        let dims = self.view.latent.z.len();
        match action {
            Action::Insert(c) => self.cmd.insert(c),
            Action::Backspace => self.cmd.backspace(),
            Action::Delete => self.cmd.delete(),
            Action::CursorLeft => self.cmd.left(),
            Action::CursorRight => self.cmd.right(),
            Action::Home => self.cmd.home(),
            Action::End => self.cmd.end(),
            Action::ClearLine => self.cmd.clear(),
            Action::DeleteWord => self.cmd.delete_word(),
            Action::HistoryPrev => self.cmd.history_prev(),
            Action::HistoryNext => self.cmd.history_next(),
            Action::Complete => self.cmd.complete(complete),
            Action::Submit => {
                let line = self.cmd.submit();
                self.log_scroll = 0;
                if line.is_empty() {
                    return vec![];
                }
                return vec![Request::Run(line)];
            }
            Action::CommandMode => self.mode = Mode::Command,
            Action::PerformMode => self.mode = Mode::Perform,
            Action::ToggleHelp => self.help = !self.help,
            Action::CloseHelp => self.help = false,
            Action::DimPrev => self.dim = self.dim.saturating_sub(1),
            Action::DimNext => self.dim = (self.dim + 1).min(dims.saturating_sub(1)),
            Action::ToggleSelect => {
                if let Some(i) = self.selected.iter().position(|&d| d == self.dim) {
                    self.selected.remove(i);
                } else if self.dim < dims {
                    self.selected.push(self.dim);
                }
            }
            Action::Nudge(delta) if dims > 0 => {
                return self
                    .targets()
                    .into_iter()
                    .map(|dim| Request::Send(Command::Latent(LatentCmd::Nudge { dim, delta })))
                    .collect();
            }
            Action::ResetDims if dims > 0 => {
                return self
                    .targets()
                    .into_iter()
                    .map(|dim| Request::Send(Command::Latent(LatentCmd::Set { dim, value: 0.0 })))
                    .collect();
            }
            Action::Nudge(_) | Action::ResetDims => {
                self.push_log(Level::Warn, "no latent yet: load a model first");
            }
            Action::TogglePlay => {
                let c = if self.view.transport.playing {
                    Command::Stop
                } else {
                    Command::Play
                };
                return vec![Request::Send(c)];
            }
            Action::Generate => return vec![Request::Send(Command::Gen(GenCmd::default()))],
            Action::SampleLatent => return vec![Request::Send(Command::Latent(LatentCmd::Sample))],
            Action::ScrollLog(n) => {
                let max = self.log.len().saturating_sub(1) as i64;
                self.log_scroll = (self.log_scroll as i64 + n as i64).clamp(0, max) as usize;
            }
            Action::Quit => {
                self.quit = true;
                return vec![Request::Quit];
            }
        }
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::view::LatentView;

    fn nudge(dim: usize, delta: f32) -> Request {
        Request::Send(Command::Latent(LatentCmd::Nudge { dim, delta }))
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn none(_: &str, _: usize) -> Vec<Candidate> {
        Vec::new()
    }

    fn perform_app(z: Vec<f32>) -> App {
        let mut app = App::new(
            View {
                latent: LatentView { z, marked: vec![] },
                ..Default::default()
            },
            vec![],
        );
        app.mode = Mode::Perform;
        app
    }

    /// Presses keys in order; returns every request they made.
    fn press(app: &mut App, keys: &[KeyEvent]) -> Vec<Request> {
        let mut out = vec![];
        for k in keys {
            if let Some(a) = app.action_for(*k) {
                out.extend(app.apply(a, &none));
            }
        }
        out
    }

    #[test]
    fn typing_and_enter_run_the_line() {
        let mut app = App::default();
        let keys: Vec<KeyEvent> = "tempo 90".chars().map(|c| key(KeyCode::Char(c))).collect();
        assert!(press(&mut app, &keys).is_empty());
        assert_eq!(app.cmd.input, "tempo 90");
        assert_eq!(
            press(&mut app, &[key(KeyCode::Enter)]),
            [Request::Run("tempo 90".into())]
        );
        assert_eq!(app.cmd.input, "");
        press(&mut app, &[key(KeyCode::Up)]);
        assert_eq!(app.cmd.input, "tempo 90");
    }

    #[test]
    fn question_mark_is_help_only_on_an_empty_line() {
        let mut app = App::default();
        assert_eq!(
            app.action_for(key(KeyCode::Char('?'))),
            Some(Action::ToggleHelp)
        );
        press(&mut app, &[key(KeyCode::Char('?'))]);
        assert!(app.help);
        // Any key closes help and does nothing else.
        press(&mut app, &[key(KeyCode::Char('x'))]);
        assert!(!app.help && app.cmd.input.is_empty());
        press(
            &mut app,
            &[key(KeyCode::Char('h')), key(KeyCode::Char('?'))],
        );
        assert_eq!(app.cmd.input, "h?");
    }

    #[test]
    fn perform_keys_become_latent_commands() {
        let mut app = perform_app(vec![0.0; 8]);
        let down = key(KeyCode::Char('j'));
        assert_eq!(
            press(&mut app, &[down, down, key(KeyCode::Right)]),
            [nudge(2, 0.25)]
        );
        assert_eq!(
            press(&mut app, &[key(KeyCode::Char('H'))]),
            [nudge(2, -1.0)]
        );
        // Space selects; a nudge then moves every selected dimension.
        let reqs = press(
            &mut app,
            &[
                key(KeyCode::Char(' ')),
                down,
                key(KeyCode::Char(' ')),
                key(KeyCode::Char('l')),
            ],
        );
        assert_eq!(reqs, [nudge(2, 0.25), nudge(3, 0.25)]);
        assert_eq!(
            press(&mut app, &[key(KeyCode::Char('0'))]),
            [
                Request::Send(Command::Latent(LatentCmd::Set { dim: 2, value: 0.0 })),
                Request::Send(Command::Latent(LatentCmd::Set { dim: 3, value: 0.0 }))
            ]
        );
        // The cursor stops at the last dimension.
        let many = vec![down; 20];
        press(&mut app, &many);
        assert_eq!(app.dim, 7);
        press(&mut app, &[key(KeyCode::Up)]);
        assert_eq!(app.dim, 6);
    }

    #[test]
    fn perform_keys_for_transport_and_modes() {
        let mut app = perform_app(vec![]);
        assert_eq!(
            press(&mut app, &[key(KeyCode::Char('p'))]),
            [Request::Send(Command::Play)]
        );
        app.view.transport.playing = true;
        assert_eq!(
            press(&mut app, &[key(KeyCode::Char('p'))]),
            [Request::Send(Command::Stop)]
        );
        assert_eq!(
            press(&mut app, &[key(KeyCode::Char('g'))]),
            [Request::Send(Command::Gen(GenCmd::default()))]
        );
        assert_eq!(
            press(&mut app, &[key(KeyCode::Char('s'))]),
            [Request::Send(Command::Latent(LatentCmd::Sample))]
        );
        // Without a latent a nudge says why instead of sending a command.
        assert!(press(&mut app, &[key(KeyCode::Char('l'))]).is_empty());
        assert_eq!(app.log.last().unwrap().level, Level::Warn);
        press(&mut app, &[key(KeyCode::Char(':'))]);
        assert_eq!(app.mode, Mode::Command);
        press(&mut app, &[key(KeyCode::Char('q'))]);
        assert_eq!(app.cmd.input, "q");
        press(&mut app, &[key(KeyCode::Esc)]);
        assert_eq!(press(&mut app, &[key(KeyCode::Char('q'))]), [Request::Quit]);
        assert!(app.quit);
    }

    #[test]
    fn ctrl_c_quits_from_any_mode_and_release_is_ignored() {
        let mut app = App::default();
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        app.help = true;
        assert_eq!(app.action_for(ctrl_c), Some(Action::Quit));
        let mut release = key(KeyCode::Char('a'));
        release.kind = KeyEventKind::Release;
        assert_eq!(app.action_for(release), None);
    }

    #[test]
    fn tab_uses_the_completer() {
        let mut app = App::default();
        press(
            &mut app,
            &[key(KeyCode::Char('p')), key(KeyCode::Char('l'))],
        );
        let complete = |line: &str, cur: usize| {
            assert_eq!((line, cur), ("pl", 2));
            vec![Candidate {
                start: 0,
                text: "play".into(),
            }]
        };
        let a = app.action_for(key(KeyCode::Tab)).unwrap();
        app.apply(a, &complete);
        assert_eq!(app.cmd.input, "play ");
    }

    #[test]
    fn log_is_bounded_and_scrolls() {
        let mut app = App::default();
        for i in 0..LOG_LINES + 10 {
            app.push_log(Level::Info, format!("{i}"));
        }
        assert_eq!(app.log.len(), LOG_LINES);
        app.push_log(Level::Error, "panicked at x.rs:1:2:\nattempt to multiply");
        assert_eq!(app.log.len(), LOG_LINES);
        assert_eq!(app.log.last().unwrap().text, "attempt to multiply");
        assert_eq!(app.log[0].text, "12");
        app.apply(Action::ScrollLog(5), &none);
        app.apply(Action::ScrollLog(-20), &none);
        assert_eq!(app.log_scroll, 0);
        app.apply(Action::ScrollLog(5000), &none);
        assert_eq!(app.log_scroll, LOG_LINES - 1);
    }
}
