//! Latent steering beyond set/nudge: attribute vectors (`latent add`), presets, interpolation
//! and random walks that move one step at each bar line while playing.

use std::sync::Arc;

use crossbeam_channel::bounded;

use crate::generate::attributes::{self, AttributeVectors, VectorOptions};
use crate::generate::latent::{add_attribute, Interpolation, Presets, RandomWalk};

use super::super::command::{LatentCmd, PresetCmd, Quantum};
use super::{Block, Core, JobResult};

/// Beats before a bar line a latent motion steps while streaming.
const MOTION_LEAD: f64 = 1.0;

/// What moves the latent at each bar.
pub enum Motion {
    Walk(RandomWalk),
    Interp {
        path: Interpolation,
        bar: usize,
        bars: usize,
    },
}

#[derive(Default)]
pub struct Steering {
    pub presets: Presets,
    /// Attribute vectors of the current model and corpus, with the model step they belong to.
    pub vectors: Option<(usize, Arc<AttributeVectors>)>,
    pub motion: Option<Motion>,
    /// The bar line the motion last stepped at.
    pub next_bar: f64,
}

impl Core {
    /// `latent add|interp|walk`: `Ok(Some(block))` when attribute vectors must be computed first.
    pub(super) fn steer(&mut self, l: LatentCmd) -> Result<Option<Block>, String> {
        let size = self
            .models
            .model
            .as_ref()
            .map(|m| m.meta.model.latent)
            .ok_or("latent: no model (model new KIND, or model load PATH)")?;
        match l {
            LatentCmd::Add { attr, amount } => {
                let step = self.models.model.as_ref().map_or(0, |m| m.step);
                if let Some((s, v)) = &self.steering.vectors {
                    if *s == step {
                        let v = v.clone();
                        add_attribute(&mut self.models.latent, &v, &attr, amount)
                            .map_err(|e| format!("latent add: {e}"))?;
                        return Ok(None);
                    }
                }
                self.attribute_job(attr, amount).map(Some)
            }
            LatentCmd::Walk { step } => {
                if step == 0.0 {
                    self.steering.motion = None;
                    return Ok(None);
                }
                let mut walk = RandomWalk::new(step, self.sampling.seed)
                    .map_err(|e| format!("latent walk: {e}"))?;
                walk.step(&mut self.models.latent);
                self.steering.motion = Some(Motion::Walk(walk));
                self.steering.next_bar = self.play.next_boundary(Quantum::Bar);
                Ok(None)
            }
            LatentCmd::Interp { a, b, bars } => {
                let from = self
                    .steering
                    .presets
                    .get(&a, size)
                    .map_err(|e| format!("latent interp: {e}"))?
                    .to_vec();
                let to = self
                    .steering
                    .presets
                    .get(&b, size)
                    .map_err(|e| format!("latent interp: {e}"))?
                    .to_vec();
                let path = Interpolation::new(from, to, bars as usize)
                    .map_err(|e| format!("latent interp: {e}"))?;
                self.models.latent = path.at_bar(0);
                self.steering.motion = Some(Motion::Interp {
                    path,
                    bar: 0,
                    bars: bars as usize,
                });
                self.steering.next_bar = self.play.next_boundary(Quantum::Bar);
                Ok(None)
            }
            _ => Err("internal: not a steering command".into()),
        }
    }

    fn attribute_job(&mut self, attr: String, amount: f32) -> Result<Block, String> {
        let m = self.models.model.as_ref().ok_or("latent add: no model")?;
        let corpus = self
            .models
            .corpus
            .clone()
            .ok_or("latent add: needs a loaded corpus (its windows define the attributes)")?;
        let (model, meta, step) = (m.model.clone(), m.meta.clone(), m.step);
        let cache = self.opts.home.join("cache");
        let seed = self.sampling.seed;
        let (tx, rx) = bounded(1);
        self.log("latent add: computing attribute vectors on the corpus (cached for next time)");
        std::thread::Builder::new()
            .name("improv-attributes".into())
            .spawn(move || {
                let opts = VectorOptions {
                    seed,
                    ..VectorOptions::default()
                };
                let r = attributes::load_or_compute(&model, &meta, &corpus, &opts, &cache)
                    .map(|l| (step, l.vectors, l.warning, attr, amount))
                    .map_err(|e| format!("latent add: {e}"));
                let _ = tx.send(JobResult::Attributes(r));
            })
            .map_err(|e| format!("latent add: {e}"))?;
        Ok(Block::Job(rx))
    }

    pub(super) fn attributes_ready(
        &mut self,
        r: Result<(usize, AttributeVectors, Option<String>, String, f32), String>,
    ) -> Result<(), String> {
        let (step, vectors, warning, attr, amount) = r?;
        if let Some(w) = warning {
            self.warn(format!("latent add: {w}"));
        }
        let vectors = Arc::new(vectors);
        self.steering.vectors = Some((step, vectors.clone()));
        add_attribute(&mut self.models.latent, &vectors, &attr, amount)
            .map_err(|e| format!("latent add: {e}"))
    }

    pub(super) fn preset(&mut self, p: PresetCmd) -> Result<(), String> {
        let size = self
            .models
            .model
            .as_ref()
            .map(|m| m.meta.model.latent)
            .ok_or("preset: no model (model new KIND, or model load PATH)")?;
        match p {
            PresetCmd::Save(name) => {
                self.steering.presets.save(&name, &self.models.latent);
                self.log(format!("preset {name} saved"));
            }
            PresetCmd::Load(name) => {
                self.models.latent = self
                    .steering
                    .presets
                    .get(&name, size)
                    .map_err(|e| format!("preset load: {e}"))?
                    .to_vec();
                self.steering.motion = None;
            }
        }
        Ok(())
    }

    /// Moves the latent one step at each bar line while playing. While streaming, the step is
    /// taken a beat early and handed to the stream for its next bar line, so it lands on it.
    pub(super) fn step_motion(&mut self) {
        let lead = if self.streaming() { MOTION_LEAD } else { 0.0 };
        if self.steering.motion.is_none()
            || !self.play.is_playing()
            || self.play.position() < self.steering.next_bar - lead
        {
            return;
        }
        self.steering.next_bar = (self.steering.next_bar + self.play.bar_beats())
            .max(self.play.next_boundary(Quantum::Bar));
        match self.steering.motion.as_mut() {
            Some(Motion::Walk(w)) => w.step(&mut self.models.latent),
            Some(Motion::Interp { path, bar, bars }) => {
                *bar += 1;
                self.models.latent = path.at_bar(*bar);
                if *bar >= *bars {
                    self.steering.motion = None;
                }
            }
            None => {}
        }
        if let Err(e) = self.sync_live(crate::play::Quantize::Bar) {
            self.warn(e);
        }
    }
}
