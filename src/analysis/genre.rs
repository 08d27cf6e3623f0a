//! Genre datasets and models: labelled MIDI (MMA genres by manifest, classical by composer),
//! features (audio through the SoundFont, or symbolic), grouped cross-validation that never
//! tests on a groove or composer it trained on, and a saved genre model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::classify::{argmax, Kind, MelLayout, Model, Standardizer};
use super::render::{RenderError, Renderer};
use super::stats::mean_std;
use super::{features, mel, symbolic, wav};
use crate::music::{midi, NoteSeq};

/// Folds of the grouped cross-validation.
pub const FOLDS: usize = 8;
/// Seconds of each piece rendered for audio features (GTZAN's clip length).
pub const CLIP_SECONDS: f64 = 30.0;

#[derive(Debug, thiserror::Error)]
pub enum GenreError {
    #[error("genre data {}: {problem}", path.display())]
    Data { path: PathBuf, problem: String },
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Midi(#[from] midi::MidiError),
    #[error(transparent)]
    Audio(#[from] wav::AudioError),
    #[error("genre model {}: {problem}", path.display())]
    Model { path: PathBuf, problem: String },
}

/// Audio features of the rendered piece, or symbolic features of its notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Features {
    Audio,
    Symbolic,
}

/// One labelled piece and the fold that holds it out.
#[derive(Clone, Debug)]
pub struct Item {
    pub path: PathBuf,
    pub label: String,
    /// The groove (genres) or composer (classical) it belongs to.
    pub group: String,
    pub fold: usize,
}

#[derive(Deserialize)]
struct ManifestEntry {
    file: String,
    label: String,
    groove: String,
    #[serde(default)]
    error: Option<String>,
}

/// Finds the labelled pieces under `data`: `genres/manifest.json` (or `manifest.json`) and,
/// when present, `classical/<composer>/`. Fold i holds out the i-th groove of every genre and
/// every 8th composer (every 8th piece when there are fewer than 8 composers). At most `per_label` pieces per label, taken round-robin over groups.
pub fn discover(data: &Path, per_label: Option<usize>) -> Result<Vec<Item>, GenreError> {
    let bad = |problem: String| GenreError::Data {
        path: data.to_path_buf(),
        problem,
    };
    let genres = [data.join("genres"), data.to_path_buf()]
        .into_iter()
        .find(|d| d.join("manifest.json").is_file())
        .ok_or_else(|| bad("no manifest.json here or in genres/".into()))?;
    let text =
        std::fs::read_to_string(genres.join("manifest.json")).map_err(|e| bad(e.to_string()))?;
    let entries: Vec<ManifestEntry> =
        serde_json::from_str(&text).map_err(|e| bad(format!("manifest.json: {e}")))?;
    let mut items = Vec::new();
    let mut grooves: HashMap<String, Vec<String>> = HashMap::new();
    for e in entries.iter().filter(|e| e.error.is_none()) {
        grooves
            .entry(e.label.clone())
            .or_default()
            .push(e.groove.clone());
    }
    for g in grooves.values_mut() {
        g.sort();
        g.dedup();
    }
    for e in entries.iter().filter(|e| e.error.is_none()) {
        let path = genres.join(&e.file);
        if path.is_file() {
            let fold = grooves[&e.label]
                .iter()
                .position(|g| *g == e.groove)
                .unwrap_or(0)
                % FOLDS;
            items.push(Item {
                path,
                label: e.label.clone(),
                group: e.groove.clone(),
                fold,
            });
        }
    }
    let classical = data.join("classical");
    if classical.is_dir() {
        let files = crate::corpus::midi_files(&classical).map_err(|e| bad(e.to_string()))?;
        let mut composers: Vec<String> = files.iter().map(|f| group_of(&f.0)).collect();
        composers.sort();
        composers.dedup();
        // With fewer composers than folds (the bundled corpus has Bach alone), pieces of one
        // composer are spread over the folds instead, each piece whole in one fold.
        for (n, (rel, path)) in files.into_iter().enumerate() {
            let group = group_of(&rel);
            let fold = if composers.len() < FOLDS {
                n % FOLDS
            } else {
                composers.iter().position(|c| *c == group).unwrap_or(0) % FOLDS
            };
            items.push(Item {
                path,
                label: "classical".into(),
                group,
                fold,
            });
        }
    }
    if items.is_empty() {
        return Err(bad("no labelled MIDI files".into()));
    }
    items.sort_by(|a, b| (&a.label, &a.group, &a.path).cmp(&(&b.label, &b.group, &b.path)));
    if let Some(cap) = per_label {
        items = round_robin_cap(items, cap);
    }
    Ok(items)
}

fn group_of(rel: &str) -> String {
    rel.split_once('/').map_or("", |(g, _)| g).to_string()
}

/// Keeps at most `cap` items per label, taking one from each group in turn.
fn round_robin_cap(items: Vec<Item>, cap: usize) -> Vec<Item> {
    let mut by_label: Vec<(String, Vec<Vec<Item>>)> = Vec::new();
    for it in items {
        if by_label.last().is_none_or(|(l, _)| *l != it.label) {
            by_label.push((it.label.clone(), Vec::new()));
        }
        let groups = &mut by_label.last_mut().unwrap_or_else(|| unreachable!()).1;
        match groups.last_mut() {
            Some(g) if g[0].group == it.group => g.push(it),
            _ => groups.push(vec![it]),
        }
    }
    let mut out = Vec::new();
    for (_, mut groups) in by_label {
        groups.iter_mut().for_each(|g| g.reverse());
        let mut taken = 0;
        while taken < cap && groups.iter().any(|g| !g.is_empty()) {
            for g in groups.iter_mut() {
                if taken < cap {
                    if let Some(it) = g.pop() {
                        out.push(it);
                        taken += 1;
                    }
                }
            }
        }
    }
    out
}

/// How a piece becomes a feature row: which features, and for audio the SoundFont renderer
/// and how many seconds from the start to render.
#[derive(Clone)]
pub struct Extractor {
    pub features: Features,
    pub renderer: Option<Renderer>,
    pub seconds: f64,
    /// Audio rows also carry the mel spectrogram of every 3-second window (for the CNN).
    pub mel: bool,
}

impl Extractor {
    /// For audio features this finds the SoundFont (a clear error when there is none).
    pub fn new(features: Features) -> Result<Extractor, GenreError> {
        Ok(Extractor {
            features,
            renderer: match features {
                Features::Audio => Some(Renderer::find()?),
                Features::Symbolic => None,
            },
            seconds: CLIP_SECONDS,
            mel: false,
        })
    }

    /// The extractor a classifier of `kind` needs: mel windows after the features for the CNN.
    pub fn for_kind(features: Features, kind: Kind) -> Result<Extractor, GenreError> {
        if kind.needs_mel() && features != Features::Audio {
            return Err(GenreError::Data {
                path: PathBuf::from("--model"),
                problem: format!("{kind:?} reads mel spectrograms: use --features audio"),
            });
        }
        let mut ex = Extractor::new(features)?;
        ex.mel = kind.needs_mel();
        Ok(ex)
    }
}

/// The audio row: GTZAN features, then (when `mel`) every 3-second mel window, the audio padded
/// with silence to at least one window.
fn audio_row(y: &[f32], with_mel: bool) -> Vec<f64> {
    let mut row = features::summarize(&features::frames(y));
    if with_mel {
        let w = mel::WINDOW_SECONDS * super::SAMPLE_RATE as usize;
        let mut padded;
        let y = if y.len() < w {
            padded = y.to_vec();
            padded.resize(w, 0.0);
            &padded[..]
        } else {
            y
        };
        for m in mel::windows(y) {
            row.extend(m.data.iter().map(|v| *v as f64));
        }
    }
    row
}

/// The first `seconds` of a piece as mono audio, rendered with `renderer`; it must not be silent.
pub fn audio_of_seq(
    seq: &NoteSeq,
    renderer: Option<&Renderer>,
    seconds: f64,
    name: &Path,
) -> Result<Vec<f32>, GenreError> {
    let y = renderer
        .ok_or(RenderError::NoSoundFont)?
        .render(seq, seconds)?;
    wav::require_sound(name, &y)?;
    Ok(y)
}

fn is_wav(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
}

/// The first `seconds` of a file as mono audio: a WAV as it is, a MIDI file rendered (which
/// needs the renderer). Neither may be silent.
pub fn audio_of_file(
    path: &Path,
    renderer: Option<&Renderer>,
    seconds: f64,
) -> Result<Vec<f32>, GenreError> {
    if is_wav(path) {
        let mut y = wav::read_clip(path)?;
        y.truncate((seconds * super::SAMPLE_RATE as f64) as usize);
        return Ok(y);
    }
    let seq = midi::read_file(path)?.seq;
    audio_of_seq(&seq, renderer, seconds, path)
}

/// The feature row of a piece of music.
pub fn row_of_seq(seq: &NoteSeq, ex: &Extractor, name: &Path) -> Result<Vec<f64>, GenreError> {
    match ex.features {
        Features::Symbolic => Ok(symbolic::features(seq)),
        Features::Audio => {
            let y = audio_of_seq(seq, ex.renderer.as_ref(), ex.seconds, name)?;
            Ok(audio_row(&y, ex.mel))
        }
    }
}

/// The feature row of a file: a MIDI file (either kind) or a WAV (audio only).
pub fn row_of_file(path: &Path, ex: &Extractor) -> Result<Vec<f64>, GenreError> {
    match ex.features {
        Features::Symbolic if is_wav(path) => Err(GenreError::Model {
            path: path.to_path_buf(),
            problem: "a symbolic model needs a MIDI file, not audio".into(),
        }),
        Features::Symbolic => row_of_seq(&midi::read_file(path)?.seq, ex, path),
        Features::Audio => {
            let y = audio_of_file(path, ex.renderer.as_ref(), ex.seconds)?;
            Ok(audio_row(&y, ex.mel))
        }
    }
}

/// Feature rows of the items, in parallel. Items that cannot be read or rendered (a corrupt or
/// silent file) are dropped, with one line each in the returned warnings.
pub fn rows(items: Vec<Item>, ex: &Extractor) -> (Vec<Item>, Vec<Vec<f64>>, Vec<String>) {
    let results: Vec<Result<Vec<f64>, GenreError>> = items
        .par_iter()
        .map(|it| row_of_file(&it.path, ex))
        .collect();
    let (mut kept, mut rows, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
    for (it, r) in items.into_iter().zip(results) {
        match r {
            Ok(row) => {
                kept.push(it);
                rows.push(row);
            }
            Err(e) => warnings.push(format!("skipped {e}")),
        }
    }
    (kept, rows, warnings)
}

/// A trained genre classifier with everything needed to use it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GenreModel {
    pub labels: Vec<String>,
    pub features: Features,
    pub kind: Kind,
    pub scaler: Standardizer,
    pub model: Model,
    /// Where the mel windows sit in a row, for models with a CNN.
    #[serde(default)]
    pub mel: Option<MelLayout>,
}

impl GenreModel {
    pub fn fit(
        rows: &[Vec<f64>],
        labels: &[String],
        features: Features,
        kind: Kind,
        seed: u64,
    ) -> GenreModel {
        let mut names: Vec<String> = labels.to_vec();
        names.sort();
        names.dedup();
        let y: Vec<usize> = labels
            .iter()
            .map(|l| names.iter().position(|n| n == l).unwrap_or(0))
            .collect();
        let mel = kind.needs_mel().then(|| MelLayout {
            offset: features::names().len(),
            ..MelLayout::windows_only()
        });
        let head = |r: &[f64]| r[..mel.map_or(r.len(), |m| m.offset.min(r.len()))].to_vec();
        let scaler = Standardizer::fit(&rows.iter().map(|r| head(r)).collect::<Vec<_>>());
        let model = GenreModel {
            labels: names,
            features,
            kind,
            scaler,
            model: Model::Ensemble {
                members: Vec::new(),
            },
            mel,
        };
        let x: Vec<Vec<f64>> = rows.iter().map(|r| model.input(r)).collect();
        let classes = model.labels.len();
        GenreModel {
            model: match mel {
                Some(m) => Model::fit_with(kind, &x, &y, classes, seed, m),
                None => Model::fit(kind, &x, &y, classes, seed),
            },
            ..model
        }
    }

    /// A row as the classifier reads it: standardised features, then any mel windows as they are.
    fn input(&self, row: &[f64]) -> Vec<f64> {
        let mut x = self.scaler.apply(row);
        if let Some(m) = self.mel {
            x.extend_from_slice(row.get(m.offset..).unwrap_or(&[]));
        }
        x
    }

    /// Probability of every label for one row.
    pub fn proba(&self, row: &[f64]) -> Vec<f64> {
        self.model.proba(&self.input(row))
    }

    pub fn save(&self, path: &Path) -> Result<(), GenreError> {
        let bad = |problem: String| GenreError::Model {
            path: path.to_path_buf(),
            problem,
        };
        let json = serde_json::to_vec(self).map_err(|e| bad(e.to_string()))?;
        crate::fsx::write_atomic(path, &json).map_err(|e| bad(format!("cannot write: {e}")))
    }

    pub fn load(path: &Path) -> Result<GenreModel, GenreError> {
        let bad = |problem: String| GenreError::Model {
            path: path.to_path_buf(),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a genre model ({e})")))
    }
}

/// Results of the grouped cross-validation.
#[derive(Clone, Debug, Serialize)]
pub struct CvReport {
    pub labels: Vec<String>,
    pub fold_accuracy: Vec<f64>,
    pub fold_macro_f1: Vec<f64>,
    /// confusion[true][predicted], summed over folds.
    pub confusion: Vec<Vec<usize>>,
}

impl CvReport {
    pub fn accuracy(&self) -> (f64, f64) {
        mean_std(&self.fold_accuracy)
    }

    pub fn macro_f1(&self) -> (f64, f64) {
        mean_std(&self.fold_macro_f1)
    }
}

/// Macro-averaged F1 of predictions over the labels present in `truth`.
pub fn macro_f1(truth: &[usize], pred: &[usize], classes: usize) -> f64 {
    let mut f1s = Vec::new();
    for c in 0..classes {
        let tp = truth
            .iter()
            .zip(pred)
            .filter(|(t, p)| **t == c && **p == c)
            .count() as f64;
        let fp = truth
            .iter()
            .zip(pred)
            .filter(|(t, p)| **t != c && **p == c)
            .count() as f64;
        let fn_ = truth
            .iter()
            .zip(pred)
            .filter(|(t, p)| **t == c && **p != c)
            .count() as f64;
        if tp + fn_ == 0.0 {
            continue;
        }
        f1s.push(if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (2.0 * tp + fp + fn_)
        });
    }
    f1s.iter().sum::<f64>() / f1s.len().max(1) as f64
}

/// Grouped k-fold cross-validation: each fold is trained on the other folds only (scaler
/// included) and tested on its own held-out grooves and composers.
pub fn cross_validate(
    items: &[Item],
    rows: &[Vec<f64>],
    features: Features,
    kind: Kind,
    seed: u64,
) -> CvReport {
    let mut labels: Vec<String> = items.iter().map(|i| i.label.clone()).collect();
    labels.sort();
    labels.dedup();
    let idx = |l: &str| labels.iter().position(|n| n == l).unwrap_or(0);
    let mut confusion = vec![vec![0usize; labels.len()]; labels.len()];
    let (mut fold_accuracy, mut fold_macro_f1) = (Vec::new(), Vec::new());
    for fold in 0..FOLDS {
        let (train, test): (Vec<usize>, Vec<usize>) =
            (0..items.len()).partition(|&i| items[i].fold != fold);
        if test.is_empty() || train.is_empty() {
            continue;
        }
        let tr_rows: Vec<Vec<f64>> = train.iter().map(|&i| rows[i].clone()).collect();
        let tr_labels: Vec<String> = train.iter().map(|&i| items[i].label.clone()).collect();
        let model = GenreModel::fit(&tr_rows, &tr_labels, features, kind, seed + fold as u64);
        let truth: Vec<usize> = test.iter().map(|&i| idx(&items[i].label)).collect();
        let pred: Vec<usize> = test
            .iter()
            .map(|&i| idx(&model.labels[argmax(&model.proba(&rows[i]))]))
            .collect();
        for (t, p) in truth.iter().zip(&pred) {
            confusion[*t][*p] += 1;
        }
        let correct = truth.iter().zip(&pred).filter(|(t, p)| t == p).count();
        fold_accuracy.push(correct as f64 / test.len() as f64);
        fold_macro_f1.push(macro_f1(&truth, &pred, labels.len()));
    }
    CvReport {
        labels,
        fold_accuracy,
        fold_macro_f1,
        confusion,
    }
}
