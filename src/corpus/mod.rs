//! A corpus: a folder of MIDI files read in parallel, tokenized, cached, split and cut into
//! training windows.

mod cache;
mod dataset;
pub mod split;
mod styles;

pub use dataset::Windows;
pub use split::{Split, SplitReport};

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::music::midi;
use crate::music::tokens::{Token, Tokenizer, TokenizerConfig};

/// Why a corpus could not be loaded at all (single bad files are skipped, not errors).
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("corpus {}: no such directory", .0.display())]
    NotFound(PathBuf),
    #[error("corpus {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corpus {}: no .mid or .midi files found", .0.display())]
    Empty(PathBuf),
    #[error("manifest {}: {problem}", path.display())]
    Manifest { path: PathBuf, problem: String },
}

/// How to load a corpus.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub tokenizer: TokenizerConfig,
    /// Where the token cache lives; `None` reads every file from scratch and writes no cache.
    pub cache_dir: Option<PathBuf>,
    /// Read at most this many files (the first in path order), for benchmarks and quick looks.
    pub limit: Option<usize>,
}

impl LoadOptions {
    /// Default settings with the cache under `$IMPROV_HOME`.
    pub fn new(tokenizer: TokenizerConfig) -> Self {
        LoadOptions {
            tokenizer,
            cache_dir: Some(crate::paths::cache_dir()),
            limit: None,
        }
    }
}

/// One piece of the corpus, tokenized.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Piece {
    /// Path relative to the corpus root, with `/` separators.
    pub path: String,
    /// blake3 of the file's bytes, hex.
    pub hash: String,
    pub style: Option<String>,
    pub tokens: Vec<Token>,
    pub notes: usize,
    pub seconds: f64,
    /// The group of near-duplicates this piece belongs to (see [`split`]): the whole group
    /// falls on one side of the split.
    #[serde(default)]
    pub group: String,
}

impl Piece {
    pub fn split(&self, val_fraction: f64) -> Split {
        Split::of_key(&self.group, val_fraction)
    }

    /// The sub-corpus a piece belongs to, for per-sub-corpus figures: its style label (a genre,
    /// or the top folder such as `classical` or `folk`), else `all`.
    pub fn sub_corpus(&self) -> &str {
        self.style.as_deref().unwrap_or("all")
    }
}

/// What happened while loading.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadReport {
    /// MIDI files found.
    pub files: usize,
    /// Files read into pieces (duplicates excluded).
    pub read: usize,
    /// Files that could not be read, one line each: `FILE: problem`.
    pub failed: Vec<String>,
    /// Files whose bytes equal an earlier file's.
    pub duplicates: usize,
    /// Pieces taken from the cache rather than parsed.
    pub cached: usize,
    /// Warnings about files that were read: `FILE: warning`.
    pub warnings: Vec<String>,
    pub seconds: f64,
}

/// A loaded corpus.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub root: PathBuf,
    pub tokenizer: TokenizerConfig,
    pub pieces: Vec<Piece>,
    pub report: LoadReport,
}

/// What reading one file produced: the tokens and counts, or the one-line problem.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum FileResult {
    Read {
        tokens: Vec<Token>,
        notes: usize,
        seconds: f64,
        warnings: Vec<String>,
        /// [`split::melody_fingerprint`] of the notes read, for grouping near-duplicates.
        fingerprint: Vec<u32>,
    },
    Failed(String),
}

/// One file after reading: its content hash, what reading gave, and whether it came from cache.
type Loaded = (String, FileResult, bool);

fn read_one(bytes: &[u8], style: Option<&str>, tokenizer: &dyn Tokenizer) -> FileResult {
    match midi::read_bytes(bytes) {
        Ok(read) => match tokenizer.encode(&read.seq, style) {
            Ok(tokens) => FileResult::Read {
                tokens,
                notes: read.seq.notes.len(),
                seconds: read.seq.duration_secs(),
                warnings: read.warnings(),
                fingerprint: split::melody_fingerprint(&read.seq),
            },
            Err(e) => FileResult::Failed(e.to_string()),
        },
        Err(e) => FileResult::Failed(e.to_string()),
    }
}

/// Every `.mid`/`.midi` file under `root`, as (relative path with `/`, absolute path), sorted.
pub fn midi_files(root: &Path) -> Result<Vec<MidiFile>, CorpusError> {
    scan(root).map(|s| s.0)
}

/// A MIDI file of a corpus: (relative path with `/`, absolute path).
pub type MidiFile = (String, PathBuf);

/// One walk of the corpus folder: its MIDI files (sorted) and its `manifest.json` files.
fn scan(root: &Path) -> Result<(Vec<MidiFile>, Vec<PathBuf>), CorpusError> {
    fn walk(
        dir: &Path,
        root: &Path,
        midi: &mut Vec<MidiFile>,
        manifests: &mut Vec<PathBuf>,
    ) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            let ft = entry.file_type()?;
            if ft.is_dir() || (ft.is_symlink() && path.is_dir()) {
                walk(&path, root, midi, manifests)?;
            } else if is_midi_name(&path) {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                midi.push((rel.join("/"), path));
            } else if entry.file_name() == "manifest.json" {
                manifests.push(path);
            }
        }
        Ok(())
    }
    if !root.is_dir() {
        return Err(CorpusError::NotFound(root.to_path_buf()));
    }
    let (mut midi, mut manifests) = (Vec::new(), Vec::new());
    walk(root, root, &mut midi, &mut manifests).map_err(|e| CorpusError::Io {
        path: root.to_path_buf(),
        source: e,
    })?;
    midi.sort();
    manifests.sort();
    Ok((midi, manifests))
}

fn is_midi_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
}

impl Corpus {
    /// Loads every MIDI file under `root`: bad files are skipped with one line each, exact
    /// duplicates are dropped, and unchanged files come from the cache.
    pub fn load(root: &Path, opts: &LoadOptions) -> Result<Corpus, CorpusError> {
        let t0 = Instant::now();
        let (mut files, manifests) = scan(root)?;
        if files.is_empty() {
            return Err(CorpusError::Empty(root.to_path_buf()));
        }
        if let Some(limit) = opts.limit {
            files.truncate(limit);
        }
        let labels = styles::labels(root, &files, &manifests)?;
        let (labels, grooves) = (labels.styles, labels.grooves);
        let tokenizer = opts.tokenizer.build();
        let fingerprint = opts.tokenizer.fingerprint();
        let cache = opts
            .cache_dir
            .as_ref()
            .map(|dir| cache::Cache::open(dir, root, &fingerprint));

        // Read, hash and (when not cached) parse every file in parallel.
        let results: Vec<(String, Option<String>, Result<Loaded, String>)> = files
            .par_iter()
            .map(|(rel, abs)| {
                let style = labels.get(rel).cloned();
                let r = midi::file_bytes(abs)
                    .map_err(|e| e.to_string())
                    .map(|bytes| {
                        let hash = blake3::hash(&bytes).to_hex().to_string();
                        let key = cache::entry_key(&hash, style.as_deref());
                        match cache.as_ref().and_then(|c| c.get(&key)) {
                            Some(hit) => (hash, hit.clone(), true),
                            None => (hash, read_one(&bytes, style.as_deref(), &*tokenizer), false),
                        }
                    });
                (rel.clone(), style, r)
            })
            .collect();

        let mut report = LoadReport {
            files: files.len(),
            ..LoadReport::default()
        };
        let mut seen: HashSet<String> = HashSet::new();
        let mut pieces = Vec::new();
        let mut prints: Vec<Vec<u32>> = Vec::new();
        let mut fresh = Vec::new();
        for (rel, style, r) in results {
            let shown = root.join(&rel).display().to_string();
            let (hash, result, hit) = match r {
                Ok(v) => v,
                Err(line) => {
                    report.failed.push(line);
                    continue;
                }
            };
            if !seen.insert(hash.clone()) {
                report.duplicates += 1;
                continue;
            }
            report.cached += hit as usize;
            if cache.is_some() {
                fresh.push((cache::entry_key(&hash, style.as_deref()), result.clone()));
            }
            match result {
                FileResult::Read {
                    tokens,
                    notes,
                    seconds,
                    warnings,
                    fingerprint,
                } => {
                    report
                        .warnings
                        .extend(warnings.iter().map(|w| format!("{shown}: {w}")));
                    report.read += 1;
                    pieces.push(Piece {
                        path: rel,
                        hash,
                        style,
                        tokens,
                        notes,
                        seconds,
                        group: String::new(),
                    });
                    prints.push(fingerprint);
                }
                FileResult::Failed(problem) => report.failed.push(format!("{shown}: {problem}")),
            }
        }
        if let Some(cache) = cache {
            if report.cached < fresh.len() || cache.len() != fresh.len() {
                // Something changed since the cache was written. A cache that cannot be written
                // only costs speed next time: say so and go on.
                if let Err(e) = cache.save(fresh) {
                    report.warnings.push(format!("token cache not saved: {e}"));
                }
            }
        }
        let members: Vec<split::Member> = pieces
            .iter()
            .zip(&prints)
            .map(|(p, f)| split::Member {
                path: &p.path,
                groove: grooves.get(&p.path).map(String::as_str),
                fingerprint: f,
            })
            .collect();
        let keys = split::group_keys(&members);
        for (p, key) in pieces.iter_mut().zip(keys) {
            p.group = key;
        }
        report.seconds = t0.elapsed().as_secs_f64();
        Ok(Corpus {
            root: root.to_path_buf(),
            tokenizer: opts.tokenizer.clone(),
            pieces,
            report,
        })
    }

    pub fn notes(&self) -> usize {
        self.pieces.iter().map(|p| p.notes).sum()
    }

    pub fn tokens(&self) -> usize {
        self.pieces.iter().map(|p| p.tokens.len()).sum()
    }

    pub fn seconds(&self) -> f64 {
        self.pieces.iter().map(|p| p.seconds).sum()
    }

    /// How the grouped split falls at `val_fraction`, and how many pieces the old per-path
    /// split held out although a near-duplicate was trained on.
    pub fn split_report(&self, val_fraction: f64) -> SplitReport {
        let mut sizes: HashMap<&str, usize> = HashMap::new();
        for p in &self.pieces {
            *sizes.entry(&p.group).or_default() += 1;
        }
        let mut old_trained: HashSet<&str> = HashSet::new();
        for p in &self.pieces {
            if Split::of_path(&p.path, val_fraction) == Split::Train {
                old_trained.insert(&p.group);
            }
        }
        let old_val: Vec<&Piece> = self
            .pieces
            .iter()
            .filter(|p| Split::of_path(&p.path, val_fraction) == Split::Validation)
            .collect();
        let validation = self
            .pieces
            .iter()
            .filter(|p| p.split(val_fraction) == Split::Validation)
            .count();
        SplitReport {
            val_fraction,
            pieces: self.pieces.len(),
            groups: sizes.len(),
            grouped_pieces: sizes.values().filter(|&&n| n > 1).sum(),
            largest_group: sizes.values().copied().max().unwrap_or(0),
            train_pieces: self.pieces.len() - validation,
            validation_pieces: validation,
            old_split_validation: old_val.len(),
            old_split_leaked: old_val
                .iter()
                .filter(|p| old_trained.contains(p.group.as_str()))
                .count(),
        }
    }

    /// Style labels present, sorted.
    pub fn styles(&self) -> Vec<String> {
        let mut s: Vec<String> = self.pieces.iter().filter_map(|p| p.style.clone()).collect();
        s.sort();
        s.dedup();
        s
    }
}
