//! Command-line front end: parses arguments with clap and calls the library.

mod bench;
mod bench_control;
mod bench_latent;
mod bench_model;
mod bench_soak;
mod bench_stream;
mod bench_timing;
mod bench_tui;
mod corpus;
mod eval;
mod generate;
mod genre;
mod model;
mod play;
mod train;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};

use improv::music::tokens::TokenizerConfig;

#[derive(Parser)]
#[command(
    name = "improv",
    version,
    about = "Live-coding music with machine learning"
)]
pub struct Cli {
    /// With no command: open the TUI on the last autosave instead of `sessions/default.improv`.
    #[arg(long)]
    pub resume: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Look at a corpus of MIDI files.
    #[command(subcommand)]
    Corpus(corpus::CorpusCmd),
    /// List MIDI ports.
    Ports {
        #[arg(long)]
        json: bool,
    },
    /// Play a MIDI file in real time to MIDI ports and/or the built-in synth.
    Play(play::PlayArgs),
    /// Render a MIDI file to WAV with the built-in synth.
    Render(play::RenderArgs),
    /// Genre: render MIDI to audio, audio features.
    #[command(subcommand)]
    Genre(genre::GenreCmd),
    /// Benchmarks; each prints one JSON object per line.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Generate a piece with a trained model and write it as MIDI.
    Generate(generate::GenerateArgs),
    /// Train a VAE on a MIDI folder.
    Train(train::TrainArgs),
    /// Objective metrics of generated music beside the training set and an n-gram baseline.
    Eval(eval::EvalArgs),
    /// Look at a trained model.
    #[command(subcommand)]
    Model(model::ModelCmd),
    /// The command language at a prompt (line by line from a pipe, stopping at the first error).
    Repl,
    /// Run a script of commands (as `improv repl < FILE` would), then wait for its jobs.
    Run { file: PathBuf },
}

impl Command {
    /// Commands that print a report and end, as opposed to the live ones that play or prompt.
    pub fn is_report(&self) -> bool {
        !matches!(
            self,
            Command::Play(_) | Command::Repl | Command::Run { .. } | Command::Train(_)
        )
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TokenizerName {
    Paper,
    Event,
}

impl TokenizerName {
    pub fn config(self) -> TokenizerConfig {
        match self {
            TokenizerName::Paper => TokenizerConfig::by_name("paper"),
            TokenizerName::Event => TokenizerConfig::by_name("event"),
        }
        .unwrap_or_default()
    }
}

/// The bundled corpus when no folder is given.
pub fn corpus_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(improv::paths::bundled_corpus)
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => live(cli.resume),
        Some(Command::Corpus(c)) => corpus::run(c),
        Some(Command::Bench(b)) => bench::run(b),
        Some(Command::Ports { json }) => play::ports(json),
        Some(Command::Play(a)) => play::play(a),
        Some(Command::Render(a)) => play::render(a),
        Some(Command::Genre(g)) => genre::run(g),
        Some(Command::Generate(g)) => generate::run(g),
        Some(Command::Train(t)) => train::run(t),
        Some(Command::Model(m)) => model::run(m),
        Some(Command::Repl) => Ok(improv::repl::run()?),
        Some(Command::Run { file }) => Ok(improv::repl::run_file(&file)?),
        Some(Command::Eval(e)) => eval::run(e),
    }
}

/// `improv` with no command: the TUI on a terminal; without one (a pipe, CI), the REPL's
/// line-by-line behaviour instead of a broken screen.
fn live(resume: bool) -> Result<()> {
    use std::io::IsTerminal;
    let opts = improv::tui::TuiOptions::default_session(resume);
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return improv::tui::run(opts).context("tui");
    }
    piped(&opts.startup)
}

/// The REPL's line-by-line mode on the startup lines, then standard input.
fn piped(startup: &[String]) -> Result<()> {
    use std::io::Read;
    let engine = improv::engine::Engine::start(improv::engine::EngineOptions::default())?;
    let first: String = startup.iter().map(|l| format!("{l}\n")).collect();
    let input = std::io::Cursor::new(first).chain(std::io::stdin().lock());
    let k = startup.len();
    improv::repl::run_lines(engine, std::io::BufReader::new(input), |n| {
        if n <= k {
            format!("startup line {n}")
        } else {
            format!("line {}", n - k)
        }
    })?;
    Ok(())
}
