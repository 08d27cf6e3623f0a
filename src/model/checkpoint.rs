//! Checkpoints: one directory holding `weights.safetensors`, `meta.json` (model config,
//! tokenizer, vocabulary, training state, corpus fingerprint) and, for resuming, the optimiser's
//! moments in `optimizer.safetensors`. Written to a temporary sibling and renamed into place.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use ::safetensors::tensor::{Dtype as SafeDtype, SafeTensors, TensorView};
use dfdx::prelude::{Cpu, HasShape};
use serde::{Deserialize, Serialize};

use super::config::ModelConfig;
use super::vae::{Model, Vae};
use crate::music::tokens::{TokenizerConfig, Vocab};

/// Bumped when the layout changes; older checkpoints are refused with a clear message.
pub const FORMAT: u32 = 1;
const META: &str = "meta.json";
/// The largest weights or optimiser file read (the limit of [`crate::model::MAX_PARAMS`]
/// weights, three copies for the optimiser's moments).
const MAX_TENSOR_BYTES: u64 = 3 * 4 * crate::model::config::MAX_PARAMS as u64 + (1 << 20);
pub const WEIGHTS: &str = "weights.safetensors";
const OPTIMIZER: &str = "optimizer.safetensors";

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint {}: {problem}", path.display())]
    Invalid { path: PathBuf, problem: String },
}

/// A style as its training pieces play it (computed by `generate::palette::style_infos`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StyleInfo {
    /// The program and drum token ids its pieces use, sorted.
    pub instruments: Vec<u32>,
    /// The median tempo of its pieces, in beats per minute.
    pub bpm: f64,
}

/// Everything about a model except its weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointMeta {
    pub format: u32,
    pub model: ModelConfig,
    pub tokenizer: TokenizerConfig,
    pub vocab: Vocab,
    /// blake3 over the tokenizer and the content of every piece the model was trained on.
    pub corpus: String,
    /// The trainer's state and settings (`train::TrainState`), kept opaque at this level.
    pub training: serde_json::Value,
    /// Per style, the instruments and tempo of its training pieces (`generate::palette`);
    /// empty for models without styles or saved before this was kept.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub styles: std::collections::BTreeMap<String, StyleInfo>,
}

impl CheckpointMeta {
    /// The share of pieces its training held out for validation (0.1 when it does not say).
    pub fn val_fraction(&self) -> f64 {
        self.training["config"]["val_fraction"]
            .as_f64()
            .unwrap_or(0.1)
    }
}

/// Tensors read back by name: shape and values.
pub type TensorMap = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// Named flat tensors: `(name, shape, values)`.
pub type NamedTensors = Vec<(String, Vec<usize>, Vec<f32>)>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A damaged checkpoint; `problem` may quote the file's text (a token's name), so it is shown
/// escaped and cut, never raw.
fn invalid(path: &Path, problem: impl Into<String>) -> CheckpointError {
    CheckpointError::Invalid {
        path: path.to_path_buf(),
        problem: crate::text::printable(&problem.into(), 500, false),
    }
}

/// The checkpoint directory `path` names: itself when it holds `meta.json`, else its `best/`.
/// A save cut short mid-swap (see [`crate::fsx::replace_dir`]) is undone first.
pub fn resolve(path: &Path) -> PathBuf {
    let _ = crate::fsx::recover_dir(path);
    let _ = crate::fsx::recover_dir(&path.join("best"));
    if !path.join(META).is_file() && path.join("best").join(META).is_file() {
        return path.join("best");
    }
    path.to_path_buf()
}

fn encode_tensors(tensors: &NamedTensors, path: &Path) -> Result<Vec<u8>, CheckpointError> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), b)| {
            TensorView::new(SafeDtype::F32, shape.clone(), b)
                .map(|v| (name.clone(), v))
                .map_err(|e| invalid(path, format!("tensor {name}: {e:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    ::safetensors::tensor::serialize(views, &None).map_err(|e| invalid(path, format!("{e:?}")))
}

/// Reads a safetensors file of f32 tensors.
pub fn read_tensors(path: &Path) -> Result<TensorMap, CheckpointError> {
    let bytes = crate::fsx::read_regular(path, MAX_TENSOR_BYTES)
        .map_err(|e| invalid(path, e.to_string()))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| invalid(path, format!("not a safetensors file ({e:?})")))?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != SafeDtype::F32 {
            return Err(invalid(
                path,
                format!("tensor {name} is {:?}, not F32", view.dtype()),
            ));
        }
        let v = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.insert(name, (view.shape().to_vec(), v));
    }
    Ok(out)
}

/// A model's parameters as named flat tensors.
pub fn model_tensors(model: &Model) -> NamedTensors {
    model
        .params()
        .into_iter()
        .map(|(name, p)| {
            let (r, c) = *p.shape();
            (name, vec![r, c], p.as_vec())
        })
        .collect()
}

/// Writes a checkpoint directory at `dir`, replacing any there. `optimizer` is saved beside
/// the weights when given.
pub fn save(
    dir: &Path,
    model: &Model,
    meta: &CheckpointMeta,
    optimizer: Option<&NamedTensors>,
) -> Result<(), CheckpointError> {
    crate::fsx::recover_dir(dir).map_err(io(dir))?;
    refuse_foreign(dir)?;
    let tmp = crate::fsx::temp_sibling(dir);
    let result = (|| {
        fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        let weights = encode_tensors(&model_tensors(model), dir)?;
        crate::fsx::write_synced(&tmp.join(WEIGHTS), &weights).map_err(io(&tmp))?;
        if let Some(opt) = optimizer {
            crate::fsx::write_synced(&tmp.join(OPTIMIZER), &encode_tensors(opt, dir)?)
                .map_err(io(&tmp))?;
        }
        let json = serde_json::to_vec_pretty(meta).map_err(|e| invalid(dir, e.to_string()))?;
        crate::fsx::write_synced(&tmp.join(META), &json).map_err(io(&tmp))?;
        // One complete copy at `dir` (or, after a crash mid-swap, beside it) at every instant.
        crate::fsx::replace_dir(&tmp, dir).map_err(io(dir))
    })();
    if result.is_err() && tmp.exists() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result
}

/// A save replaces the whole folder, so it may only replace a checkpoint: a folder holding
/// anything but a checkpoint's own files (a MIDI file the user kept there, a training folder's
/// `best/` and `last/`) is refused with its first such entry named, never emptied.
fn refuse_foreign(dir: &Path) -> Result<(), CheckpointError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(invalid(dir, "exists and is not a folder; not replaced"))
        }
        Err(e) => return Err(io(dir)(e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| ![META, WEIGHTS, OPTIMIZER].contains(&n.as_str()))
        .collect();
    names.sort();
    match names.first() {
        None => Ok(()),
        Some(first) => Err(invalid(
            dir,
            format!(
                "holds {} that is not part of a checkpoint ({first}{}); not replaced: save to a new folder",
                if names.len() == 1 { "a file" } else { "files" },
                if names.len() > 1 { ", ..." } else { "" }
            ),
        )),
    }
}

/// Reads only the metadata of the checkpoint at `path` (or `path/best`).
pub fn load_meta(path: &Path) -> Result<CheckpointMeta, CheckpointError> {
    let dir = resolve(path);
    let file = dir.join(META);
    let bytes =
        crate::fsx::read_regular(&file, 64 << 20).map_err(|e| invalid(&file, e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes);
    let meta: CheckpointMeta =
        serde_json::from_str(&text).map_err(|e| invalid(&file, format!("bad metadata: {e}")))?;
    if meta.format != FORMAT {
        return Err(invalid(
            &file,
            format!("format {} (this build reads {FORMAT})", meta.format),
        ));
    }
    meta.model.validate().map_err(|e| invalid(&file, e))?;
    if meta.vocab.len() != meta.model.vocab {
        return Err(invalid(
            &file,
            format!(
                "vocabulary has {} tokens but the model expects {}",
                meta.vocab.len(),
                meta.model.vocab
            ),
        ));
    }
    Ok(meta)
}

/// Loads a model and its metadata; every weight must be present with the configured shape.
pub fn load(path: &Path, dev: &Cpu) -> Result<(Model, CheckpointMeta), CheckpointError> {
    let dir = resolve(path);
    let meta = load_meta(&dir)?;
    let file = dir.join(WEIGHTS);
    let mut tensors = read_tensors(&file)?;
    // A damaged config must not allocate a model its weights could never fill.
    let held: usize = tensors.values().map(|(_, v)| v.len()).sum();
    if meta.model.min_params() > held {
        return Err(invalid(
            &file,
            format!(
                "holds {held} weights, the config needs at least {}",
                meta.model.min_params()
            ),
        ));
    }
    let mut model = Model::build(&meta.model, dev, 0).map_err(|e| invalid(&dir, e))?;
    for (name, p) in model.params_mut() {
        let (r, c) = *p.shape();
        let (shape, values) = tensors
            .remove(&name)
            .ok_or_else(|| invalid(&file, format!("weight {name} is missing")))?;
        if shape != [r, c] {
            return Err(invalid(
                &file,
                format!("weight {name} has shape {shape:?}, the config says [{r}, {c}]"),
            ));
        }
        if values.iter().any(|x| !x.is_finite()) {
            return Err(invalid(&file, format!("weight {name} is not finite")));
        }
        p.copy_from(&values);
    }
    if let Some(extra) = tensors.keys().next() {
        return Err(invalid(&file, format!("unexpected weight {extra}")));
    }
    Ok((model, meta))
}

/// The optimiser state saved beside the weights, if any.
pub fn load_optimizer(path: &Path) -> Result<Option<TensorMap>, CheckpointError> {
    let file = resolve(path).join(OPTIMIZER);
    if !file.is_file() {
        return Ok(None);
    }
    read_tensors(&file).map(Some)
}
