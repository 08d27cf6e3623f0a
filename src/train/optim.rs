//! AdamW (Loshchilov & Hutter) over a model's named parameters, with clipping by the global
//! gradient norm. Written here rather than taken from dfdx so its moments can be saved with a
//! checkpoint and a resumed run continues exactly.

use dfdx::prelude::*;
use rayon::prelude::*;

use crate::model::checkpoint::{NamedTensors, TensorMap};
use crate::model::linalg::{to_vec, Real};
use crate::model::ParamsMut;

#[derive(Clone, Debug)]
pub struct AdamW {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Updates taken so far (for bias correction).
    pub t: u64,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

/// What an update saw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
}

impl AdamW {
    pub fn new(weight_decay: f64) -> Self {
        AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// One update. Returns `Err(name)` of the first parameter with a non-finite gradient, in
    /// which case no parameter has changed.
    pub fn step(
        &mut self,
        mut params: ParamsMut<'_, f32>,
        grads: &mut Gradients<f32, Cpu>,
        lr: f64,
        clip: f64,
    ) -> Result<StepReport, String> {
        let mut gs = Vec::with_capacity(params.len());
        let mut sq = 0f64;
        for (name, p) in &params {
            let g = f32::grad(grads, p)
                .map_err(|e| format!("{name}: {e:?}"))?
                .clone();
            let s: f64 = g.iter().map(|&x| (x as f64) * (x as f64)).sum();
            if !s.is_finite() {
                return Err(name.clone());
            }
            sq += s;
            gs.push(g);
        }
        let norm = sq.sqrt();
        let scale = if clip > 0.0 && norm > clip {
            clip / norm
        } else {
            1.0
        };
        if self.m.len() != params.len() {
            self.m = gs.iter().map(|g| vec![0.0; g.len()]).collect();
            self.v = self.m.clone();
        }
        self.t += 1;
        let bc1 = 1.0 - self.beta1.powi(self.t as i32);
        let bc2 = 1.0 - self.beta2.powi(self.t as i32);
        let (b1, b2) = (self.beta1 as f32, self.beta2 as f32);
        let step = (lr / bc1) as f32;
        let (eps, bc2_sqrt) = (self.eps as f32, bc2.sqrt() as f32);
        // Every parameter's update is independent: they run in parallel.
        params
            .par_iter_mut()
            .zip(gs.par_iter())
            .zip(self.m.par_iter_mut().zip(self.v.par_iter_mut()))
            .for_each(|(((_, p), g), (m, v))| {
                let mut w = to_vec(&**p);
                // Vectors (shape 1 x n: biases) take no weight decay.
                let decay = if p.shape().0 > 1 {
                    (lr * self.weight_decay) as f32
                } else {
                    0.0
                };
                for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m).zip(v) {
                    let g = g * scale as f32;
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    *w -= decay * *w + step * *m / (v.sqrt() / bc2_sqrt + eps);
                }
                p.copy_from(&w);
            });
        Ok(StepReport { grad_norm: norm })
    }

    /// The moments as named tensors (`m.NAME`, `v.NAME`), for a checkpoint.
    pub fn state(&self, names: &[String]) -> NamedTensors {
        let mut out = Vec::new();
        for (k, name) in names.iter().enumerate().take(self.m.len()) {
            out.push((
                format!("m.{name}"),
                vec![self.m[k].len()],
                self.m[k].clone(),
            ));
            out.push((
                format!("v.{name}"),
                vec![self.v[k].len()],
                self.v[k].clone(),
            ));
        }
        out
    }

    /// Restores moments saved by [`AdamW::state`] for parameters named `names` with `sizes`.
    pub fn restore(
        &mut self,
        t: u64,
        names: &[String],
        sizes: &[usize],
        mut saved: TensorMap,
    ) -> Result<(), String> {
        let mut take = |key: String, n: usize| -> Result<Vec<f32>, String> {
            match saved.remove(&key) {
                Some((_, v)) if v.len() == n => Ok(v),
                Some((_, v)) => Err(format!("optimizer {key}: {} values, want {n}", v.len())),
                None => Err(format!("optimizer {key} is missing")),
            }
        };
        let mut m = Vec::new();
        let mut v = Vec::new();
        for (name, &n) in names.iter().zip(sizes) {
            m.push(take(format!("m.{name}"), n)?);
            v.push(take(format!("v.{name}"), n)?);
        }
        (self.m, self.v, self.t) = (m, v, t);
        Ok(())
    }
}
