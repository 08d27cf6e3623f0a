//! The `improv` command line.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // A reader that stops early (`improv genre predict x.mid | head -1`) ends a report like it
    // ends any Unix tool's: SIGPIPE's default action, not a panic in `println!`. Not for the
    // live commands (TUI, REPL, scripts, play), where a dropped socket must not end the music.
    #[cfg(unix)]
    if args.command.as_ref().is_some_and(cli::Command::is_report) {
        // SAFETY: sets a signal's disposition before any other thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line: the outermost context first, then its causes.
            let msg: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("improv: {}", msg.join(": "));
            ExitCode::FAILURE
        }
    }
}
