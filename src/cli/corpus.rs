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
    /// How often the paper tokenizer gives exactly music21's tokens: reads the JSON lines that
    /// `peers/music21_tokenize.py DIR` prints and tokenizes the same files under `dir`.
    Music21 {
        /// The peer's output (`{"file", "tokens"}` per line; its summary line is skipped).
        reference: PathBuf,
        /// The folder the peer was run on (its file names are relative to it).
        #[arg(long)]
        dir: PathBuf,
        /// Print this many differing files, each from its first differing token.
        #[arg(long, default_value_t = 0)]
        show: usize,
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
        CorpusCmd::Music21 {
            reference,
            dir,
            show,
            json,
        } => music21(&reference, &dir, show, json),
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

fn music21(reference: &Path, dir: &Path, show: usize, json: bool) -> Result<()> {
    let text = std::fs::read_to_string(reference)
        .with_context(|| format!("cannot read {}", reference.display()))?;
    let tk = TokenizerConfig::by_name("paper")
        .expect("the paper tokenizer exists")
        .build();
    let (mut files, mut equal, mut unreadable, mut tokens, mut same) = (0usize, 0usize, 0, 0, 0);
    let mut shown = 0;
    for (i, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}", reference.display(), i + 1))?;
        let (Some(file), Some(theirs)) = (v["file"].as_str(), v["tokens"].as_array()) else {
            continue; // the peer's summary line
        };
        let theirs: Vec<&str> = theirs.iter().filter_map(|t| t.as_str()).collect();
        files += 1;
        let ours: Vec<String> = match midi::read_file(&dir.join(file)) {
            Ok(read) => tk
                .encode(&read.seq, None)?
                .iter()
                .map(|t| t.to_string())
                .collect(),
            Err(e) => {
                eprintln!("warning: {e}");
                unreadable += 1;
                continue;
            }
        };
        tokens += theirs.len();
        same += ours.iter().zip(&theirs).filter(|(a, b)| a == b).count();
        if ours == theirs {
            equal += 1;
        } else if shown < show {
            shown += 1;
            let at = ours
                .iter()
                .zip(&theirs)
                .position(|(a, b)| a != b)
                .unwrap_or(ours.len().min(theirs.len()));
            let from = at.saturating_sub(2);
            println!(
                "{file}: {} vs {} tokens, first difference at {at}\n  ours    {}\n  music21 {}",
                ours.len(),
                theirs.len(),
                ours[from.min(ours.len())..(at + 8).min(ours.len())].join(" "),
                theirs[from.min(theirs.len())..(at + 8).min(theirs.len())].join(" ")
            );
        }
    }
    let share = equal as f64 / files.max(1) as f64;
    let token_share = same as f64 / tokens.max(1) as f64;
    if json {
        println!(
            "{}",
            json!({
                "reference": reference.display().to_string(),
                "files": files,
                "equal": equal,
                "unreadable": unreadable,
                "share": (share * 10000.0).round() / 10000.0,
                "token_share": (token_share * 10000.0).round() / 10000.0,
            })
        );
    } else {
        println!(
            "{}: {equal} of {files} files equal ({:.1} %), {unreadable} unreadable; {:.1} % of tokens equal in place",
            reference.display(),
            share * 100.0,
            token_share * 100.0
        );
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
