//! Corpus, model, generation and the latent: the commands that work with the model, their
//! worker threads, and what they leave in the engine's state (training runs: `training.rs`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::bounded;
use dfdx::prelude::Cpu;

use crate::corpus::{Corpus, LoadOptions};
use crate::generate::latent::encode_mean;
use crate::generate::palette::style_infos;
use crate::generate::piece::{self, GenerateOptions};
use crate::generate::sample::Sampling;
use crate::model::checkpoint::{self, CheckpointMeta};
use crate::model::{Model, ModelConfig, ModelKind, Preset};
use crate::music::{midi, NoteSeq};
use crate::rng::Rng;
use crate::train::{corpus_fingerprint, TrainConfig};

use super::super::command::{GenCmd, LatentCmd};
use super::super::event::Event;
use super::super::snapshot::TrainStatus;
use super::training::TrainRun;
use super::{Block, Core, JobResult};

/// A model with what is needed to use it.
pub struct ModelState {
    pub model: Model,
    pub meta: CheckpointMeta,
    pub label: String,
    /// Where it was loaded from or saved to; `None` while only in memory.
    pub path: Option<PathBuf>,
    /// Training steps behind these weights (this session's runs counted on top of the file's).
    pub step: usize,
    /// Changed since it was last written (new, or trained).
    pub unsaved: bool,
}

impl ModelState {
    /// The checkpoint in `dir`, labelled with its path, at the step its training reached.
    pub fn load(dir: &Path) -> Result<ModelState, checkpoint::CheckpointError> {
        let (model, meta) = checkpoint::load(dir, &Cpu::default())?;
        let step = serde_json::from_value::<crate::train::TrainState>(meta.training.clone())
            .map_or(0, |s| s.step);
        Ok(ModelState {
            model,
            label: dir.display().to_string(),
            meta,
            path: Some(dir.to_path_buf()),
            step,
            unsaved: false,
        })
    }
}

/// A generated piece.
pub struct Generated {
    pub seq: NoteSeq,
    pub tokens: usize,
    pub bars: usize,
    pub out: Option<PathBuf>,
}

#[derive(Default)]
pub struct Models {
    pub corpus: Option<Arc<Corpus>>,
    /// What `latent add` can steer on the loaded corpus (its note attributes and styles), found
    /// once when the corpus loads, not at every snapshot.
    pub attribute_names: Vec<String>,
    pub corpus_loading: bool,
    pub model: Option<ModelState>,
    pub run: Option<TrainRun>,
    pub status: TrainStatus,
    pub piece: Option<NoteSeq>,
    /// The last phrase `listen` heard (token ids): the primer `gen` answers.
    pub phrase: Option<Vec<u32>>,
    pub latent: Vec<f32>,
    pub selected: Vec<usize>,
    /// Latent draws so far, so each `latent sample` differs under one seed.
    pub draws: u64,
}

fn model_label(kind: ModelKind, preset: Preset) -> String {
    let p = match preset {
        Preset::Paper => "paper",
        Preset::Small => "small",
        Preset::Tiny => "tiny",
    };
    format!("{} {p} (new)", kind.name())
}

impl Core {
    pub(super) fn load_corpus(&mut self, path: PathBuf) -> Result<Block, String> {
        if !path.is_dir() {
            return Err(format!("load corpus: {} is not a folder", path.display()));
        }
        // A loaded model decides the tokenizer; else the CLI's default (event tokens).
        let tokenizer = match &self.models.model {
            Some(m) => m.meta.tokenizer.clone(),
            None => crate::music::tokens::TokenizerConfig::by_name("event").unwrap_or_default(),
        };
        let (tx, rx) = bounded(1);
        self.models.corpus_loading = true;
        std::thread::Builder::new()
            .name("improv-corpus".into())
            .spawn(move || {
                let plain =
                    crate::music::tokens::TokenizerConfig::by_name("event").unwrap_or_default();
                let fallback = tokenizer != plain;
                let mut r = Corpus::load(&path, &LoadOptions::new(tokenizer));
                // A model with style tokens needs a style for every piece (its folder under a
                // root of styles, or a manifest): a folder without them (one composer's pieces)
                // is read with plain event tokens, to train a model of its own on.
                if fallback && matches!(&r, Ok(c) if c.pieces.is_empty()) {
                    r = Corpus::load(&path, &LoadOptions::new(plain));
                }
                let r = r.map_err(|e| format!("load corpus: {e}"));
                let _ = tx.send(JobResult::Corpus(r));
            })
            .map_err(|e| format!("load corpus: {e}"))?;
        Ok(Block::Job(rx))
    }

    pub(super) fn corpus_loaded(&mut self, r: Result<Corpus, String>) -> Result<(), String> {
        self.models.corpus_loading = false;
        let corpus = r?;
        if corpus.pieces.is_empty() {
            return Err(format!(
                "load corpus: no MIDI pieces in {}",
                corpus.root.display()
            ));
        }
        let e = Event::CorpusLoaded {
            path: corpus.root.clone(),
            pieces: corpus.pieces.len(),
            notes: corpus.notes(),
            tokens: corpus.tokens(),
        };
        self.log(format!(
            "corpus {}: {} pieces, {} notes, {} tokens ({} unreadable)",
            corpus.root.display(),
            corpus.pieces.len(),
            corpus.notes(),
            corpus.tokens(),
            corpus.report.failed.len()
        ));
        if let Some(m) = &self.models.model {
            if m.meta.tokenizer != corpus.tokenizer {
                self.warn(format!(
                    "load corpus: {} has no style for its pieces, which this model's tokens need; \
                     it is read with plain event tokens (`model new ...` to train a model on it)",
                    corpus.root.display()
                ));
            }
        }
        self.models.attribute_names = crate::generate::attributes::attribute_names(&corpus);
        self.models.corpus = Some(Arc::new(corpus));
        // Vectors are keyed by training step only: another corpus must compute its own.
        self.steering.vectors = None;
        self.emit(e);
        Ok(())
    }

    pub(super) fn corpus_stats(&mut self) -> Result<(), String> {
        let c = self
            .models
            .corpus
            .as_ref()
            .ok_or("corpus stats: no corpus loaded (load corpus PATH)")?;
        let styles = c.styles();
        let text =
            format!(
            "corpus {}: {} pieces, {} notes, {} tokens, {:.0} minutes; tokenizer {}; styles: {}",
            c.root.display(),
            c.pieces.len(),
            c.notes(),
            c.tokens(),
            c.seconds() / 60.0,
            c.tokenizer.fingerprint(),
            if styles.is_empty() { "-".to_string() } else { styles.join(", ") }
        );
        self.log(text);
        Ok(())
    }

    pub(super) fn new_model(&mut self, kind: ModelKind, preset: Preset) -> Result<(), String> {
        if self.models.training() {
            return Err("model new: training is running (train stop first)".into());
        }
        let corpus = self
            .models
            .corpus
            .clone()
            .ok_or("model new: load a corpus first (its tokens make the vocabulary)")?;
        let vocab = corpus.vocab();
        let cfg = ModelConfig::preset(kind, preset, vocab.len()).with_style_prior(&vocab);
        let model = Model::build(&cfg, &Cpu::default(), self.sampling.seed)
            .map_err(|e| format!("model new: {e}"))?;
        let meta = CheckpointMeta {
            format: checkpoint::FORMAT,
            model: cfg,
            tokenizer: corpus.tokenizer.clone(),
            styles: style_infos(&corpus, &vocab, TrainConfig::default().val_fraction),
            vocab,
            corpus: corpus_fingerprint(&corpus),
            training: serde_json::Value::Null,
        };
        let label = model_label(kind, preset);
        self.log(format!("model {label}: {} parameters", model.num_params()));
        self.install_model(ModelState {
            model,
            meta,
            label,
            path: None,
            step: 0,
            unsaved: true,
        });
        Ok(())
    }

    /// Makes `m` the model: a fresh latent of its size, the old piece kept.
    fn install_model(&mut self, m: ModelState) {
        let latent = m.meta.model.latent;
        // A loaded model's loss pane shows how it was trained; a new one's starts empty.
        self.models.status = history_of(&m.meta);
        self.emit(Event::ModelReady {
            label: m.label.clone(),
        });
        self.models.model = Some(m);
        // Vectors are keyed by training step only: another model must compute its own.
        self.steering.vectors = None;
        if self.models.latent.len() != latent {
            self.models.latent = vec![0.0; latent];
            self.models.selected.clear();
        }
        self.restart_live();
    }

    pub(super) fn load_model(&mut self, path: PathBuf) -> Result<Block, String> {
        if self.models.training() {
            return Err("model load: training is running (train stop first)".into());
        }
        let (tx, rx) = bounded(1);
        std::thread::Builder::new()
            .name("improv-model".into())
            .spawn(move || {
                let r = ModelState::load(&checkpoint::resolve(&path))
                    .map(Box::new)
                    .map_err(|e| format!("model load: {e}"));
                let _ = tx.send(JobResult::Model(r));
            })
            .map_err(|e| format!("model load: {e}"))?;
        Ok(Block::Job(rx))
    }

    pub(super) fn model_loaded(
        &mut self,
        r: Result<Box<ModelState>, String>,
    ) -> Result<(), String> {
        let m = r?;
        self.log(format!(
            "model {}: {} {} parameters, latent {}, trained {} steps",
            m.label,
            m.meta.model.kind.name(),
            m.model.num_params(),
            m.meta.model.latent,
            m.step
        ));
        if let Some(c) = &self.models.corpus {
            if c.tokenizer != m.meta.tokenizer {
                self.warn("the loaded corpus uses another tokenizer than this model; load the corpus again to train on it");
            }
        }
        self.install_model(*m);
        Ok(())
    }

    pub(super) fn save_model(&mut self, path: &Path) -> Result<(), String> {
        let m = self
            .models
            .model
            .as_mut()
            .ok_or("model save: no model (model new or model load first)")?;
        checkpoint::save(path, &m.model, &m.meta, None).map_err(|e| format!("model save: {e}"))?;
        m.path = Some(path.to_path_buf());
        m.unsaved = false;
        let text = format!("saved the model to {}", path.display());
        self.log(text);
        Ok(())
    }

    pub(super) fn set_style(&mut self, style: Option<String>) -> Result<(), String> {
        if let (Some(s), Some(c)) = (&style, &self.models.corpus) {
            let styles = c.styles();
            if !styles.contains(s) {
                return Err(format!(
                    "style: no pieces of style `{s}` in the corpus (styles: {})",
                    if styles.is_empty() {
                        "none".to_string()
                    } else {
                        styles.join(", ")
                    }
                ));
            }
        }
        let info = style.as_ref().and_then(|s| {
            let m = self.models.model.as_ref()?;
            Some((s, m.meta.styles.get(s)?))
        });
        if let Some((s, info)) = info {
            self.log(format!(
                "style {s}: its pieces play at {:.0} bpm (`tempo {:.0}` to match) on {} instruments and drums of its own",
                info.bpm,
                info.bpm,
                info.instruments.len()
            ));
        }
        self.sampling.style = style;
        Ok(())
    }

    /// The primer: a window of a corpus piece of `style` (after the style's token, as in
    /// training, when the model has one), or the model's empty primer. A model with the style's
    /// token needs no corpus: its primer is then the token and a bar line.
    pub(super) fn primer(
        &self,
        m: &ModelState,
        style: Option<&str>,
        rng: &mut Rng,
    ) -> Result<Vec<u32>, String> {
        let Some(style) = style else {
            return Ok(match &self.models.phrase {
                Some(ids) if ids.len() > 1 => ids.clone(),
                _ => piece::empty_primer(&m.meta),
            });
        };
        let head = piece::style_primer(&m.meta, style)
            .ok()
            .and_then(|p| p.first().copied());
        let Some(c) = self.models.corpus.as_ref() else {
            return piece::style_primer(&m.meta, style)
                .map_err(|_| "gen style: needs a loaded corpus to take a primer from".into());
        };
        let window = m.meta.model.window - head.is_some() as usize;
        let pieces: Vec<_> = c
            .pieces
            .iter()
            .filter(|p| p.style.as_deref() == Some(style) && p.tokens.len() > 2)
            .collect();
        if pieces.is_empty() {
            return Err(format!("gen: no pieces of style `{style}` in the corpus"));
        }
        let p = pieces[rng.below(pieces.len())];
        let len = p.tokens.len().min(window);
        let start = rng.below(p.tokens.len() - len + 1);
        let mut ids = m.meta.vocab.encode(&p.tokens[start..start + len]).0;
        if let Some(h) = head.filter(|&h| ids.first() != Some(&h)) {
            ids.insert(0, h);
        }
        if ids.is_empty() {
            return Err(format!(
                "gen: the `{style}` primer has no tokens the model knows"
            ));
        }
        Ok(ids)
    }

    pub(super) fn generate(&mut self, g: GenCmd) -> Result<Block, String> {
        let m = self
            .models
            .model
            .as_ref()
            .ok_or("gen: no model (model new KIND, or model load PATH)")?;
        let style = g.style.clone().or_else(|| self.sampling.style.clone());
        let mut rng = Rng::new(self.sampling.seed);
        let primer = self.primer(m, style.as_deref(), &mut rng)?;
        let opts = GenerateOptions {
            sampling: Sampling {
                temperature: self.sampling.temperature,
                top_k: self.sampling.top_k,
                top_p: self.sampling.top_p,
                ..Sampling::default()
            },
            notes: if g.bars.is_some() {
                None
            } else {
                Some(g.notes.unwrap_or(64))
            },
            bars: if g.notes.is_some() {
                None
            } else {
                g.bars.or(Some(8))
            },
            seed: self.sampling.seed,
            ..GenerateOptions::default()
        };
        opts.sampling.validate().map_err(|e| format!("gen: {e}"))?;
        let z = self.models.latent.clone();
        let (model, meta) = (m.model.clone(), m.meta.clone());
        let bpm = self.play.bpm();
        let out = g.out.clone();
        let (tx, rx) = bounded(1);
        std::thread::Builder::new()
            .name("improv-gen".into())
            .spawn(move || {
                let r = (|| {
                    let ids = piece::generate_ids(&model, &meta, &primer, &z, &opts)
                        .map_err(|e| format!("gen: {e}"))?;
                    let seq = piece::decode(&meta, &ids, bpm);
                    let bars = seq.bars().len();
                    if let Some(path) = &out {
                        midi::write_file(&seq, path).map_err(|e| format!("gen: {e}"))?;
                    }
                    Ok(Generated {
                        seq,
                        tokens: ids.len(),
                        bars,
                        out,
                    })
                })();
                let _ = tx.send(JobResult::Piece(r));
            })
            .map_err(|e| format!("gen: {e}"))?;
        Ok(Block::Job(rx))
    }

    pub(super) fn piece_generated(&mut self, r: Result<Generated, String>) -> Result<(), String> {
        let g = r?;
        let notes = g.seq.notes.len();
        if notes == 0 {
            // Written all the same when asked for (a valid, empty MIDI file); not kept to play.
            self.warn(format!(
                "gen: the model produced no notes in {} tokens (train it more, or raise the temperature){}",
                g.tokens,
                g.out.as_ref().map_or(String::new(), |p| format!("; {} has none", p.display()))
            ));
            return Ok(());
        }
        let seconds = g.seq.duration_secs();
        self.log(format!(
            "generated {notes} notes, {} bars, {seconds:.1} s{}",
            g.bars,
            g.out
                .as_ref()
                .map_or(String::new(), |p| format!(", written to {}", p.display()))
        ));
        self.emit(Event::Generated {
            notes,
            bars: g.bars,
            seconds,
            out: g.out,
        });
        self.models.piece = Some(g.seq);
        Ok(())
    }

    pub(super) fn latent(&mut self, l: LatentCmd) -> Result<(), String> {
        let m = self
            .models
            .model
            .as_ref()
            .ok_or("latent: no model (model new KIND, or model load PATH)")?;
        let size = m.meta.model.latent;
        let dim_ok = |d: usize| {
            if d < size {
                Ok(d)
            } else {
                Err(format!(
                    "latent: dimension {d} is out of range (the latent has {size}: 0..{})",
                    size - 1
                ))
            }
        };
        match l {
            LatentCmd::Sample => {
                self.models.draws += 1;
                let mut rng = Rng::new(
                    self.sampling
                        .seed
                        .wrapping_add(self.models.draws.wrapping_mul(0x9e37_79b9)),
                );
                self.models.latent = piece::sample_latent(size, &mut rng);
            }
            LatentCmd::Reset => self.models.latent = vec![0.0; size],
            LatentCmd::Encode(path) => {
                let seq = midi::read_file(&path)
                    .map_err(|e| format!("latent encode: {e}"))?
                    .seq;
                let tokens = m
                    .meta
                    .tokenizer
                    .build()
                    .encode(&seq, None)
                    .map_err(|e| format!("latent encode: {}: {e}", path.display()))?;
                let ids = m.meta.vocab.encode(&tokens).0;
                self.models.latent =
                    encode_mean(&m.model, &ids, m.meta.model.window).ok_or_else(|| {
                        format!(
                            "latent encode: {}: too few notes the model knows",
                            path.display()
                        )
                    })?;
            }
            LatentCmd::Set { dim, value } => {
                let d = dim_ok(dim)?;
                self.models.latent[d] = value;
                self.select(d);
            }
            LatentCmd::Nudge { dim, delta } => {
                let d = dim_ok(dim)?;
                self.models.latent[d] = (self.models.latent[d] + delta).clamp(-10.0, 10.0);
                self.select(d);
            }
            LatentCmd::Add { .. } | LatentCmd::Interp { .. } | LatentCmd::Walk { .. } => {
                return Err("internal: steering goes through `steer`".into());
            }
        }
        Ok(())
    }

    fn select(&mut self, d: usize) {
        let s = &mut self.models.selected;
        s.retain(|x| *x != d);
        s.push(d);
        if s.len() > 4 {
            s.remove(0);
        }
    }
}

/// The validation curve a checkpoint's training left (one point an epoch), so the loss pane of
/// a loaded model shows how it was trained. The state keeps no step per epoch: the points are
/// spread evenly over the steps taken, the last at the final step.
fn history_of(meta: &checkpoint::CheckpointMeta) -> TrainStatus {
    let Ok(state) = serde_json::from_value::<crate::train::TrainState>(meta.training.clone())
    else {
        return TrainStatus::default();
    };
    let n = state.history.len().max(1) as f64;
    let mut s = TrainStatus {
        step: state.step,
        epoch: state.epoch,
        ..TrainStatus::default()
    };
    for (i, v) in state.history.iter().enumerate() {
        let x = (state.step as f64 * (i + 1) as f64 / n).round();
        s.val_total.push((x, v.nelbo));
        s.val_recon.push((x, v.recon));
        s.val_kl.push((x, v.kl));
    }
    s
}
