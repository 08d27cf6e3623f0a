//! `improv corpus ...`: statistics, the tokens of one file, and a tokenizer round trip.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;

use improv::corpus::{Corpus, LoadOptions};
use improv::music::midi;
use improv::music::tokens::TokenizerConfig;

use super::{corpus_dir, TokenizerName};

#[derive(Subcommand)]
pub enum CorpusCmd {
    /// Files, notes, tokens, vocabulary and duration of a corpus (default: the bundled one).
    Stats {
        dir: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "event")]
        tokenizer: TokenizerName,
        #[arg(long)]
        json: bool,
        /// Read every file again instead of using the token cache.
        #[arg(long)]
        no_cache: bool,
    },
    /// The tokens of one MIDI file.
    Show {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "event")]
        tokenizer: TokenizerName,
        #[arg(long)]
        json: bool,
    },
    /// Read a file, tokenize it (event tokens), decode the tokens and write the result.
    Roundtrip {
        file: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: CorpusCmd) -> Result<()> {
    match cmd {
        CorpusCmd::Stats {
            dir,
            tokenizer,
            json,
            no_cache,
        } => stats(&corpus_dir(dir), tokenizer, json, !no_cache),
        CorpusCmd::Show {
            file,
            tokenizer,
            json,
        } => show(&file, tokenizer.config(), json),
        CorpusCmd::Roundtrip { file, out } => roundtrip(&file, &out),
    }
}

pub fn stats(dir: &Path, tokenizer: TokenizerName, json: bool, cache: bool) -> Result<()> {
    let mut opts = LoadOptions::new(tokenizer.config());
    if !cache {
        opts.cache_dir = None;
    }
    let corpus = Corpus::load(dir, &opts)?;
    let r = &corpus.report;
    for line in r.failed.iter().chain(&r.warnings) {
        eprintln!("warning: {line}");
    }
    let vocab = corpus.vocab();
    let split = corpus.split_report(improv::train::TrainConfig::default().val_fraction);
    if json {
        println!(
            "{}",
            json!({
                "corpus": dir.display().to_string(),
                "tokenizer": format!("{tokenizer:?}").to_lowercase(),
                "files": r.files,
                "files_read": r.read,
                "files_failed": r.failed.len(),
                "duplicates": r.duplicates,
                "cached": r.cached,
                "notes": corpus.notes(),
                "tokens": corpus.tokens(),
                "vocab": vocab.len(),
                "styles": corpus.styles(),
                "duration_s": (corpus.seconds() * 10.0).round() / 10.0,
                "split": split,
                "seconds": r.seconds,
            })
        );
    } else {
        let hours = corpus.seconds() / 3600.0;
        println!("corpus     {}", dir.display());
        println!("tokenizer  {}", format!("{tokenizer:?}").to_lowercase());
        println!(
            "files      {} found, {} read, {} failed, {} duplicate(s), {} from cache",
            r.files,
            r.read,
            r.failed.len(),
            r.duplicates,
            r.cached
        );
        println!("notes      {}", corpus.notes());
        println!(
            "tokens     {} (vocabulary {})",
            corpus.tokens(),
            vocab.len()
        );
        println!("styles     {}", corpus.styles().join(", "));
        println!("duration   {hours:.1} h");
        println!(
            "split      {} groups of near-duplicates ({} pieces grouped, largest {}); {} train, {} held out ({:.0} %)",
            split.groups,
            split.grouped_pieces,
            split.largest_group,
            split.train_pieces,
            split.validation_pieces,
            split.val_fraction * 100.0
        );
        println!(
            "           the old per-path split held out {} pieces, {} of them with a near-duplicate in training",
            split.old_split_validation, split.old_split_leaked
        );
        println!("took       {:.3} s", r.seconds);
    }
    Ok(())
}

fn show(file: &Path, config: TokenizerConfig, json: bool) -> Result<()> {
    let read = midi::read_file(file)?;
    for w in read.warnings() {
        eprintln!("warning: {}: {w}", file.display());
    }
    let tokens = config
        .build()
        .encode(&read.seq, None)
        .with_context(|| file.display().to_string())?;
    let text: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
    if json {
        println!(
            "{}",
            json!({"file": file.display().to_string(), "tokens": text})
        );
    } else {
        println!("{}", text.join(" "));
    }
    Ok(())
}

fn roundtrip(file: &Path, out: &Path) -> Result<()> {
    let read = midi::read_file(file)?;
    let config = TokenizerConfig::Event(improv::music::tokens::EventConfig {
        programs: true,
        drums: true,
        styles: false,
    });
    let tk = config.build();
    let tokens = tk
        .encode(&read.seq, None)
        .with_context(|| file.display().to_string())?;
    let mut seq = tk.decode(&tokens);
    seq.tempo = read.seq.tempo.clone();
    seq.retime();
    midi::write_file(&seq, out)?;
    println!(
        "{} -> {}: {} notes, {} tokens, {} notes written",
        file.display(),
        out.display(),
        read.seq.notes.len(),
        tokens.len(),
        seq.notes.len()
    );
    Ok(())
}
