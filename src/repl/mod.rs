//! The REPL front end (`improv repl`, `improv run FILE`): reedline with history, completion,
//! highlighting and validation when a person types at a terminal; line by line, stopping at the
//! first error, when commands come from a pipe or a file.

pub mod editor;

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use reedline::{
    default_emacs_keybindings, ColumnarMenu, DefaultPrompt, DefaultPromptSegment, Emacs,
    ExternalPrinter, FileBackedHistory, KeyCode, KeyModifiers, MenuBuilder, Reedline,
    ReedlineEvent, ReedlineMenu, Signal,
};

use crate::engine::{Command, Engine, EngineHandle, EngineOptions, Event, Level, Wait};
use crate::train::TrainEvent;

use editor::{EngineCompleter, EngineHighlighter, EngineValidator};

/// A line that failed, as the binary reports it (`improv: line N: ...`).
#[derive(Debug, thiserror::Error)]
pub enum ReplError {
    #[error("{place}: {message}")]
    Line { place: String, message: String },
    #[error("{0}")]
    Io(String),
}

/// One line of text for an event, or nothing for events another line already tells.
pub fn describe(e: &Event) -> Option<String> {
    match e {
        Event::Log { level: Level::Warn, text } => Some(format!("warning: {text}")),
        Event::Log { text, .. } => Some(text.clone()),
        Event::Error { text } => Some(format!("error: {text}")),
        Event::Train(TrainEvent::Step {
            step,
            epoch,
            total,
            recon_per_token,
            kl,
            beta,
            tokens_per_s,
            ..
        }) => Some(format!(
            "step {step:>5} epoch {epoch:>2}  loss {total:8.3}  recon/token {recon_per_token:6.3}  kl {kl:7.3}  beta {beta:4.2}  {tokens_per_s:6.0} tokens/s"
        )),
        Event::Train(TrainEvent::Epoch { epoch, step, val, .. }) => Some(format!(
            "epoch {epoch} (step {step}): validation -elbo/token {:.3}  recon/token {:.3}  kl {:.2}",
            val.nelbo, val.recon, val.kl
        )),
        Event::PlayDone { notes, dropped } => Some(format!("played {notes} notes ({dropped} dropped)")),
        _ => None,
    }
}

fn engine_options() -> EngineOptions {
    EngineOptions::default()
}

/// Runs commands from `input` line by line, each to its end, printing what happens; stops at
/// the first error (`place(n)` names line n). At the end of the input waits for training and
/// playback, then shuts the engine down.
pub fn run_lines(
    engine: EngineHandle,
    input: impl BufRead,
    place: impl Fn(usize) -> String,
) -> Result<(), ReplError> {
    let result = (|| {
        for (i, line) in input.lines().enumerate() {
            let line = line.map_err(|e| ReplError::Io(e.to_string()))?;
            let n = i + 1;
            let fail = |message: String| ReplError::Line {
                place: place(n),
                message,
            };
            let id = match engine.run_line(&line) {
                Ok(Some(id)) => id,
                Ok(None) => continue,
                Err(e) => return Err(fail(format!("column {}: {e}", e.column(&line)))),
            };
            let quit = matches!(crate::engine::parse(&line), Ok(Command::Quit));
            wait(&engine, id).map_err(fail)?;
            if quit {
                return Ok(());
            }
        }
        let id = engine.send(Command::Wait(Wait::Jobs));
        wait(&engine, id).map_err(|message| ReplError::Line {
            place: "end of input".into(),
            message,
        })
    })();
    engine.shutdown();
    result
}

/// Waits for command `id`, printing events; background errors go to stderr, the command's own
/// error is returned.
fn wait(engine: &EngineHandle, id: u64) -> Result<(), String> {
    let mut errors = Vec::new();
    let r = engine.wait_for(id, |e| match e {
        Event::Error { text } => errors.push(text.clone()),
        e => {
            if let Some(line) = describe(e) {
                println!("{line}");
            }
        }
    });
    for e in errors {
        if r.as_ref().err() != Some(&e) {
            eprintln!("improv: {e}");
        }
    }
    r
}

/// `improv run FILE`: the file's lines as a piped REPL runs them.
pub fn run_file(path: &Path) -> Result<(), ReplError> {
    let path = &crate::paths::resolve_input(path.to_path_buf());
    let file =
        std::fs::File::open(path).map_err(|e| ReplError::Io(format!("{}: {e}", path.display())))?;
    let engine = Engine::start(engine_options()).map_err(|e| ReplError::Io(e.to_string()))?;
    let name = path.display().to_string();
    run_lines(engine, std::io::BufReader::new(file), |n| {
        format!("{name} line {n}")
    })
}

/// `improv repl`: interactive at a terminal, line by line from a pipe.
pub fn run() -> Result<(), ReplError> {
    let opts = engine_options();
    let home = opts.home.clone();
    let engine = Engine::start(opts).map_err(|e| ReplError::Io(e.to_string()))?;
    let stdin = std::io::stdin();
    if !stdin.is_terminal() || !std::io::stdout().is_terminal() {
        return run_lines(engine, stdin.lock(), |n| format!("line {n}"));
    }
    interactive(engine, &home)
}

fn interactive(engine: EngineHandle, home: &Path) -> Result<(), ReplError> {
    let engine = std::sync::Arc::new(engine);
    let printer = ExternalPrinter::<String>::new(1024);
    let sender = printer.sender();
    let events = engine.clone();
    let printer_thread = std::thread::Builder::new()
        .name("improv-repl-printer".into())
        .spawn(move || {
            while let Ok(e) = events.events().recv() {
                if matches!(e, Event::Quit) {
                    break;
                }
                if let Some(line) = describe(&e) {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            }
        })
        .map_err(|e| ReplError::Io(e.to_string()))?;
    std::fs::create_dir_all(home).map_err(|e| ReplError::Io(format!("{}: {e}", home.display())))?;
    let history = FileBackedHistory::with_file(5000, home.join("history.txt"))
        .map_err(|e| ReplError::Io(format!("history: {e}")))?;
    let mut keys = default_emacs_keybindings();
    keys.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![
            ReedlineEvent::Menu("completion_menu".into()),
            ReedlineEvent::MenuNext,
        ]),
    );
    let mut editor = Reedline::create()
        .with_history(Box::new(history))
        .with_completer(Box::new(EngineCompleter(engine.snapshot_reader())))
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(
            ColumnarMenu::default().with_name("completion_menu"),
        )))
        .with_highlighter(Box::new(EngineHighlighter))
        .with_validator(Box::new(EngineValidator))
        .with_edit_mode(Box::new(Emacs::new(keys)))
        .with_external_printer(printer);
    let prompt = DefaultPrompt::new(
        DefaultPromptSegment::Basic("improv".into()),
        DefaultPromptSegment::Empty,
    );
    println!("improv: type `help` for the commands, Tab to complete, Ctrl-D to leave");
    loop {
        match editor.read_line(&prompt) {
            Ok(Signal::Success(line)) => match engine.run_line(&line) {
                Ok(_) if matches!(crate::engine::parse(&line), Ok(Command::Quit)) => break,
                Ok(_) => {}
                Err(e) => {
                    let col = e.column(&line);
                    println!("{}^ {e}", " ".repeat(col - 1 + "improv> ".len()));
                }
            },
            Ok(Signal::CtrlD) => break,
            Ok(_) => {}
            Err(e) => return Err(ReplError::Io(e.to_string())),
        }
    }
    drop(editor);
    // `quit` ends the engine (autosaving); its last event ends the printer thread, which lets
    // go of the handle.
    engine.send(Command::Quit);
    let _ = printer_thread.join();
    match std::sync::Arc::try_unwrap(engine) {
        Ok(engine) => engine.shutdown(),
        Err(shared) => drop(shared),
    }
    Ok(())
}
