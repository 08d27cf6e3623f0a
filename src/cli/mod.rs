//! Command-line front end: parses arguments with clap and calls the library.

mod bench;
mod bench_latent;
mod bench_model;
mod bench_stream;
mod bench_timing;
mod corpus;
mod eval;
mod generate;
mod genre;
mod model;
mod play;
mod train;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

use improv::music::tokens::TokenizerConfig;

#[derive(Parser)]
#[command(
    name = "improv",
    version,
    about = "Live-coding music with machine learning"
)]
pub struct Cli {
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
        // Until the live surface lands, the main job is a look at the bundled corpus.
        None => corpus::stats(&corpus_dir(None), TokenizerName::Event, false, true),
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
