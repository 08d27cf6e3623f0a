//! Latent steering: the operations on a latent z a performer uses. Sample z ~ N(0, I), encode a
//! seed (the mean of its windows' posterior means), set or nudge one dimension, add an attribute
//! vector, interpolate along the sphere over N bars, take a seeded random walk, and keep named
//! presets. Everything here is pure and cheap; the engine calls it and hands the new z to the
//! stream, which takes effect from the next note.
//!
//! The engine's commands map to: `sample` -> [`sample`]; `encode FILE` -> [`encode_file`];
//! `set D V` -> [`set`]; `nudge D DELTA` -> [`nudge`]; `add ATTR AMOUNT` -> [`add_attribute`]
//! with vectors from [`super::attributes::load_or_compute`]; `interp A B BARS` ->
//! [`Interpolation::at_bar`] once per bar; `walk STEP` -> [`RandomWalk::step`]; `preset save/load`
//! -> [`Presets`]; `attributes` -> [`super::attributes::AttributeVectors::names`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use super::attributes::AttributeVectors;
use crate::model::checkpoint::CheckpointMeta;
use crate::model::Vae;
use crate::music::midi;
use crate::rng::Rng;

/// A steering command that cannot be carried out.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LatentError {
    #[error("latent dimension {dim} is out of range: this model's latent has {size} dimensions (0 to {})", size.saturating_sub(1))]
    Dimension { dim: usize, size: usize },
    #[error("latent has {got} values but the model's latent has {want}")]
    Size { got: usize, want: usize },
    #[error("unknown attribute '{name}' (known: {known})")]
    UnknownAttribute { name: String, known: String },
    #[error("unknown preset '{name}' (saved: {known})")]
    UnknownPreset { name: String, known: String },
    #[error("{what} must be a finite number (got {value})")]
    NotFinite { what: &'static str, value: f32 },
    #[error("random-walk step must be in [0, 1] (got {0})")]
    WalkStep(f32),
    #[error("interpolation needs at least one bar")]
    NoBars,
    #[error("{path}: {problem}")]
    File { path: PathBuf, problem: String },
}

fn finite(what: &'static str, value: f32) -> Result<(), LatentError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(LatentError::NotFinite { what, value })
    }
}

/// Checks that `z` has the model's latent size.
pub fn check_size(z: &[f32], size: usize) -> Result<(), LatentError> {
    if z.len() == size {
        Ok(())
    } else {
        Err(LatentError::Size {
            got: z.len(),
            want: size,
        })
    }
}

/// The posterior mean of the encoder for the last `window` ids (at least two).
pub fn encode_mean(model: &impl Vae, ids: &[u32], window: usize) -> Option<Vec<f32>> {
    let ids = &ids[ids.len().saturating_sub(window)..];
    if ids.len() < 2 {
        return None;
    }
    let stats = model.encode(ids, 1, NoneTape, None).as_vec();
    let z = model.config().latent;
    Some(stats[..z].to_vec())
}

/// Posterior means (`B x Z`, row-major) of `batch` windows of `window` ids each.
pub fn encode_batch(model: &impl Vae, ids: &[u32], batch: usize) -> Vec<f32> {
    let z = model.config().latent;
    let stats = model.encode(ids, batch, NoneTape, None).as_vec();
    stats
        .chunks_exact(2 * z)
        .flat_map(|row| row[..z].iter().copied())
        .collect()
}

/// The mean of the posterior means of every whole `window` of `ids` (windows every `window`
/// tokens; a seed shorter than a window is encoded whole). `None` for fewer than two ids.
pub fn encode_seed(model: &impl Vae, ids: &[u32], window: usize) -> Option<Vec<f32>> {
    if ids.len() < 2 {
        return None;
    }
    if ids.len() <= window {
        return encode_mean(model, ids, window);
    }
    let n = ids.len() / window;
    let zs = encode_batch(model, &ids[..n * window], n);
    let size = model.config().latent;
    let mut mean = vec![0.0f32; size];
    for row in zs.chunks_exact(size) {
        mean.iter_mut()
            .zip(row)
            .for_each(|(m, v)| *m += v / n as f32);
    }
    Some(mean)
}

/// Encodes a MIDI file as a seed: its tokens in the model's vocabulary, then [`encode_seed`].
pub fn encode_file(
    model: &impl Vae,
    meta: &CheckpointMeta,
    path: &Path,
) -> Result<Vec<f32>, LatentError> {
    let err = |problem: String| LatentError::File {
        path: path.to_path_buf(),
        problem,
    };
    let seq = midi::read_file(path).map_err(|e| err(e.to_string()))?.seq;
    let tokens = meta
        .tokenizer
        .build()
        .encode(&seq, None)
        .map_err(|e| err(format!("cannot tokenize: {e}")))?;
    let ids = meta.vocab.encode(&tokens).0;
    encode_seed(model, &ids, meta.model.window)
        .ok_or_else(|| err("too short to encode (fewer than two tokens)".into()))
}

/// Sets dimension `dim` of `z` to `value`.
pub fn set(z: &mut [f32], dim: usize, value: f32) -> Result<(), LatentError> {
    finite("value", value)?;
    let size = z.len();
    *z.get_mut(dim).ok_or(LatentError::Dimension { dim, size })? = value;
    Ok(())
}

/// Adds `delta` to dimension `dim` of `z`.
pub fn nudge(z: &mut [f32], dim: usize, delta: f32) -> Result<(), LatentError> {
    finite("delta", delta)?;
    let size = z.len();
    *z.get_mut(dim).ok_or(LatentError::Dimension { dim, size })? += delta;
    Ok(())
}

/// Moves `z` along attribute `name` by `amount` standard deviations of the corpus's latents
/// along that direction (`add density 1` is +1 SD; negative amounts subtract).
pub fn add_attribute(
    z: &mut [f32],
    vectors: &AttributeVectors,
    name: &str,
    amount: f32,
) -> Result<(), LatentError> {
    finite("amount", amount)?;
    let v = vectors.get(name)?;
    check_size(z, v.direction.len())?;
    let scale = amount * v.sd;
    z.iter_mut()
        .zip(&v.direction)
        .for_each(|(x, d)| *x += scale * d);
    Ok(())
}

/// Spherical interpolation from `a` (t = 0) to `b` (t = 1); linear when they are parallel.
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    let cos = (dot / (na * nb).max(1e-12)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    if omega.abs() < 1e-4 {
        return a.iter().zip(b).map(|(x, y)| x + (y - x) * t).collect();
    }
    let (wa, wb) = (
        ((1.0 - t) * omega).sin() / omega.sin(),
        (t * omega).sin() / omega.sin(),
    );
    a.iter().zip(b).map(|(x, y)| wa * x + wb * y).collect()
}

/// A spherical interpolation from one latent to another over `bars` bars: bar 0 plays `from`,
/// bar `bars` (and every later bar) plays `to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interpolation {
    pub from: Vec<f32>,
    pub to: Vec<f32>,
    pub bars: usize,
}

impl Interpolation {
    pub fn new(from: Vec<f32>, to: Vec<f32>, bars: usize) -> Result<Interpolation, LatentError> {
        check_size(&to, from.len())?;
        if bars == 0 {
            return Err(LatentError::NoBars);
        }
        Ok(Interpolation { from, to, bars })
    }

    /// The latent for bar `bar` (counted from the start of the interpolation).
    pub fn at_bar(&self, bar: usize) -> Vec<f32> {
        slerp(
            &self.from,
            &self.to,
            bar.min(self.bars) as f32 / self.bars as f32,
        )
    }

    /// The latent of every bar from 0 to `bars`, both ends included (`bars + 1` latents).
    pub fn schedule(&self) -> Vec<Vec<f32>> {
        (0..=self.bars).map(|b| self.at_bar(b)).collect()
    }
}

/// A seeded random walk that keeps N(0, I) as its stationary distribution: each step is
/// `z <- sqrt(1 - s^2) z + s e` with `e ~ N(0, I)`, so `s` = 0 stands still, `s` = 1 jumps to a
/// fresh sample, and small `s` drifts without wandering off to latents the decoder never saw.
#[derive(Clone, Debug)]
pub struct RandomWalk {
    step: f32,
    rng: Rng,
}

impl RandomWalk {
    pub fn new(step: f32, seed: u64) -> Result<RandomWalk, LatentError> {
        if !(0.0..=1.0).contains(&step) {
            return Err(LatentError::WalkStep(step));
        }
        Ok(RandomWalk {
            step,
            rng: Rng::new(seed),
        })
    }

    pub fn step_size(&self) -> f32 {
        self.step
    }

    /// Takes one step from `z` in place.
    pub fn step(&mut self, z: &mut [f32]) {
        let keep = (1.0 - self.step * self.step).sqrt();
        for x in z.iter_mut() {
            *x = keep * *x + self.step * self.rng.normal() as f32;
        }
    }
}

/// Named latents a performer saved, kept with the session (serde) or in a JSON file of its own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Presets(pub BTreeMap<String, Vec<f32>>);

impl Presets {
    /// Stores `z` as `name`, replacing any preset of that name.
    pub fn save(&mut self, name: &str, z: &[f32]) {
        self.0.insert(name.to_string(), z.to_vec());
    }

    /// The preset `name`, checked against the model's latent size.
    pub fn get(&self, name: &str, size: usize) -> Result<&[f32], LatentError> {
        let z = self.0.get(name).ok_or_else(|| LatentError::UnknownPreset {
            name: name.to_string(),
            known: self.names_line(),
        })?;
        check_size(z, size)?;
        Ok(z)
    }

    pub fn remove(&mut self, name: &str) -> Option<Vec<f32>> {
        self.0.remove(name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    fn names_line(&self) -> String {
        if self.0.is_empty() {
            "none".into()
        } else {
            self.names().join(", ")
        }
    }

    /// Writes the presets as JSON, atomically.
    pub fn save_file(&self, path: &Path) -> Result<(), LatentError> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| LatentError::File {
            path: path.to_path_buf(),
            problem: e.to_string(),
        })?;
        crate::fsx::write_atomic(path, &bytes).map_err(|e| LatentError::File {
            path: path.to_path_buf(),
            problem: format!("cannot write: {e}"),
        })
    }

    /// Reads presets written by [`Presets::save_file`].
    pub fn load_file(path: &Path) -> Result<Presets, LatentError> {
        let err = |problem: String| LatentError::File {
            path: path.to_path_buf(),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let presets: Presets =
            serde_json::from_slice(&bytes).map_err(|e| err(format!("not a presets file: {e}")))?;
        if let Some((name, _)) = presets
            .0
            .iter()
            .find(|(_, z)| z.iter().any(|v| !v.is_finite()))
        {
            return Err(err(format!(
                "preset '{name}' holds a value that is not finite"
            )));
        }
        Ok(presets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(x: &[f32], y: &[f32]) -> bool {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| (p - q).abs() < 1e-5)
    }

    #[test]
    fn slerp_endpoints_are_the_two_latents() {
        let a = [1.0, 0.5, -2.0, 0.0];
        let b = [-0.3, 2.0, 1.0, 1.5];
        assert!(close(&slerp(&a, &b, 0.0), &a));
        assert!(close(&slerp(&a, &b, 1.0), &b));
        // Halfway between two orthogonal unit vectors lies on the unit circle.
        let mid = slerp(&[1.0, 0.0], &[0.0, 1.0], 0.5);
        assert!((mid[0] - mid[1]).abs() < 1e-6 && (mid[0].hypot(mid[1]) - 1.0).abs() < 1e-6);
        assert!(close(&slerp(&a, &a, 0.3), &a));
    }

    #[test]
    fn interpolation_schedule_runs_from_one_latent_to_the_other() {
        let mut rng = Rng::new(4);
        let a = super::super::piece::sample_latent(16, &mut rng);
        // b with a's norm, so equal steps in t are equal angles.
        let b = super::super::piece::sample_latent(16, &mut rng);
        let n = |v: &[f32]| v.iter().map(|p| p * p).sum::<f32>().sqrt();
        let b: Vec<f32> = b.iter().map(|x| x * n(&a) / n(&b)).collect();
        let i = Interpolation::new(a.clone(), b.clone(), 4).unwrap();
        let s = i.schedule();
        assert_eq!(s.len(), 5);
        assert!(close(&s[0], &a) && close(&s[4], &b));
        assert!(close(&i.at_bar(9), &b));
        assert!(close(&s[2], &slerp(&a, &b, 0.5)));
        // Each bar moves the same angle along the great circle.
        let angle = |x: &[f32], y: &[f32]| {
            let d: f32 = x.iter().zip(y).map(|(p, q)| p * q).sum();
            (d / (n(x) * n(y))).clamp(-1.0, 1.0).acos()
        };
        let steps: Vec<f32> = s.windows(2).map(|w| angle(&w[0], &w[1])).collect();
        assert!(
            steps.iter().all(|a| (a - steps[0]).abs() < 1e-3),
            "{steps:?}"
        );
        assert_eq!(
            Interpolation::new(a.clone(), b, 0).unwrap_err(),
            LatentError::NoBars
        );
        assert!(matches!(
            Interpolation::new(a, vec![0.0; 3], 2),
            Err(LatentError::Size { got: 3, want: 16 })
        ));
    }

    #[test]
    fn set_and_nudge_change_one_dimension_and_check_the_range() {
        let mut z = vec![0.5f32; 8];
        set(&mut z, 3, -1.25).unwrap();
        nudge(&mut z, 3, 0.5).unwrap();
        nudge(&mut z, 0, -0.5).unwrap();
        assert_eq!(z, [0.0, 0.5, 0.5, -0.75, 0.5, 0.5, 0.5, 0.5]);
        let e = set(&mut z, 8, 1.0).unwrap_err();
        assert_eq!(e, LatentError::Dimension { dim: 8, size: 8 });
        assert!(e.to_string().contains("0 to 7"), "{e}");
        assert!(nudge(&mut z, 100, 1.0).is_err());
        assert!(matches!(
            set(&mut z, 1, f32::NAN),
            Err(LatentError::NotFinite { .. })
        ));
        assert_eq!(z[1], 0.5);
    }

    #[test]
    fn a_seeded_walk_repeats_and_stays_near_the_prior() {
        let start = super::super::piece::sample_latent(64, &mut Rng::new(1));
        let walk = |seed| {
            let mut w = RandomWalk::new(0.2, seed).unwrap();
            let mut z = start.clone();
            let mut path = Vec::new();
            for _ in 0..200 {
                w.step(&mut z);
                path.push(z.clone());
            }
            path
        };
        let (a, b, c) = (walk(5), walk(5), walk(6));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // One step of size 0.2 moves about 0.2 * sqrt(64) = 1.6 (plus the pull towards 0).
        let d: f32 = a[0]
            .iter()
            .zip(&start)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f32>()
            .sqrt();
        assert!(d > 0.5 && d < 4.0, "{d}");
        // The stationary distribution is N(0, I): the mean square stays near 1.
        let ms = a.iter().flatten().map(|v| v * v).sum::<f32>() / (200.0 * 64.0);
        assert!(ms > 0.6 && ms < 1.5, "{ms}");
        let mut still = RandomWalk::new(0.0, 9).unwrap();
        let mut z = start.clone();
        still.step(&mut z);
        assert_eq!(z, start);
        assert_eq!(
            RandomWalk::new(1.5, 1).unwrap_err(),
            LatentError::WalkStep(1.5)
        );
    }

    #[test]
    fn presets_round_trip_through_a_file_and_name_what_is_missing() {
        let mut p = Presets::default();
        let a = super::super::piece::sample_latent(64, &mut Rng::new(2));
        p.save("verse", &a);
        p.save("chorus", &[0.25; 64]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("presets.json");
        p.save_file(&path).unwrap();
        let back = Presets::load_file(&path).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.get("verse", 64).unwrap(), a.as_slice());
        assert_eq!(back.names(), ["chorus", "verse"]);
        let e = back.get("bridge", 64).unwrap_err();
        assert!(e.to_string().contains("chorus, verse"), "{e}");
        assert!(matches!(
            back.get("verse", 32),
            Err(LatentError::Size { got: 64, want: 32 })
        ));
        // Also through serde as part of a session.
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Presets>(&json).unwrap(), p);
        std::fs::write(&path, b"{\"x\": [1.0, \"a\"]}").unwrap();
        let e = Presets::load_file(&path).unwrap_err().to_string();
        assert!(
            e.contains("presets.json") && e.contains("not a presets file"),
            "{e}"
        );
        let e = Presets::load_file(&dir.path().join("none.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read"), "{e}");
    }
}
