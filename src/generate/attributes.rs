//! Attribute vectors: directions in the latent space that move an attribute of the music. Corpus
//! windows are encoded to their posterior means and decoded to notes, which give each window's
//! attribute values ([`crate::analysis::attributes`]); an attribute's vector is the mean z of the
//! top quartile of windows minus the mean z of the bottom quartile (for a style: the mean z of
//! the style's windows minus that of the rest). Vectors are cached per (model weights, corpus)
//! under `$IMPROV_HOME/cache/attributes/`, so the engine loads them at once.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::latent::{encode_batch, LatentError};
use super::piece;
use crate::analysis::attributes::NoteAttribute;
use crate::corpus::Corpus;
use crate::model::checkpoint::CheckpointMeta;
use crate::model::linalg::to_vec;
use crate::model::Vae;
use crate::rng::Rng;

/// Style attributes are named `style:LABEL`.
pub const STYLE_PREFIX: &str = "style:";

/// A bump of this changes every cache key (the file layout or the method changed).
const CACHE_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum AttributeError {
    #[error("corpus {root}: no piece has a whole window of {window} tokens to encode")]
    NoWindows { root: PathBuf, window: usize },
}

/// One attribute's direction in the latent space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributeVector {
    pub name: String,
    /// Unit vector from low to high.
    pub direction: Vec<f32>,
    /// Standard deviation of the encoded windows' latents along `direction`: the unit of
    /// [`super::latent::add_attribute`]'s amount.
    pub sd: f32,
    /// Length of mean z(high) - mean z(low) before normalising.
    pub gap: f32,
    /// Mean attribute value of the low and the high group (for a style: 0 and 1).
    pub low: f64,
    pub high: f64,
    pub low_windows: usize,
    pub high_windows: usize,
}

/// Every attribute vector of one model on one corpus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributeVectors {
    /// The cache key: model weights, corpus content and the options.
    pub key: String,
    pub latent: usize,
    /// Windows encoded (after subsampling).
    pub windows: usize,
    /// Tokens per window.
    pub window: usize,
    /// Seconds the computation took.
    pub seconds: f64,
    pub vectors: Vec<AttributeVector>,
}

impl AttributeVectors {
    pub fn names(&self) -> Vec<&str> {
        self.vectors.iter().map(|v| v.name.as_str()).collect()
    }

    /// The vector named `name` (`density`, `style:jazz`, ...).
    pub fn get(&self, name: &str) -> Result<&AttributeVector, LatentError> {
        self.vectors
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| LatentError::UnknownAttribute {
                name: name.to_string(),
                known: self.names().join(", "),
            })
    }
}

/// How many windows to encode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VectorOptions {
    /// At most this many windows (a seeded random subset when the corpus has more).
    pub max_windows: usize,
    pub seed: u64,
    /// A style gets a vector only with at least this many windows inside it and outside it.
    pub min_style_windows: usize,
}

impl Default for VectorOptions {
    fn default() -> Self {
        VectorOptions {
            max_windows: 4000,
            seed: 0,
            min_style_windows: 16,
        }
    }
}

/// The attribute names a model gets on `corpus`: the note attributes, then `style:LABEL` for
/// every style label of the corpus.
pub fn attribute_names(corpus: &Corpus) -> Vec<String> {
    NoteAttribute::ALL
        .iter()
        .map(|a| a.name().to_string())
        .chain(
            corpus
                .styles()
                .into_iter()
                .map(|s| format!("{STYLE_PREFIX}{s}")),
        )
        .collect()
}

/// The cache key of vectors for this model's weights on this corpus with these options.
pub fn cache_key(
    model: &impl Vae,
    meta: &CheckpointMeta,
    corpus: &Corpus,
    opts: &VectorOptions,
) -> String {
    let mut h = blake3::Hasher::new();
    h.update(&CACHE_VERSION.to_le_bytes());
    h.update(
        serde_json::to_string(&meta.model)
            .unwrap_or_default()
            .as_bytes(),
    );
    h.update(
        serde_json::to_string(&meta.vocab)
            .unwrap_or_default()
            .as_bytes(),
    );
    for (name, p) in model.params() {
        h.update(name.as_bytes());
        // The same bytes as one update per value: blake3 hashes a stream.
        let bytes: Vec<u8> = to_vec(p).iter().flat_map(|v| v.to_le_bytes()).collect();
        h.update(&bytes);
    }
    h.update(corpus.tokenizer.fingerprint().as_bytes());
    let mut pieces: Vec<_> = corpus
        .pieces
        .iter()
        .map(|p| (&p.path, &p.hash, &p.style))
        .collect();
    pieces.sort();
    for (path, hash, style) in pieces {
        h.update(path.as_bytes());
        h.update(hash.as_bytes());
        h.update(style.as_deref().unwrap_or("").as_bytes());
    }
    h.update(serde_json::to_string(opts).unwrap_or_default().as_bytes());
    h.finalize().to_hex()[..32].to_string()
}

/// Encoded windows with their measured attributes.
pub struct EncodedWindows {
    pub latent: usize,
    /// `n x latent` posterior means, row-major.
    pub z: Vec<f32>,
    /// Per window, the value of each of [`NoteAttribute::ALL`].
    pub values: Vec<[f64; 5]>,
    pub styles: Vec<Option<String>>,
}

impl EncodedWindows {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.z[i * self.latent..(i + 1) * self.latent]
    }
}

/// Encodes up to `opts.max_windows` non-overlapping windows of the model's length from every
/// piece of `corpus`, and measures each window's decoded notes.
pub fn encode_windows(
    model: &(impl Vae + Sync),
    meta: &CheckpointMeta,
    corpus: &Corpus,
    opts: &VectorOptions,
) -> Result<EncodedWindows, AttributeError> {
    let window = meta.model.window;
    let mut picks: Vec<(Vec<u32>, Option<String>)> = Vec::new();
    for p in &corpus.pieces {
        let ids = meta.vocab.encode(&p.tokens).0;
        for w in ids.chunks_exact(window) {
            picks.push((w.to_vec(), p.style.clone()));
        }
    }
    if picks.is_empty() {
        return Err(AttributeError::NoWindows {
            root: corpus.root.clone(),
            window,
        });
    }
    if picks.len() > opts.max_windows {
        let mut rng = Rng::new(opts.seed);
        rng.shuffle(&mut picks);
        picks.truncate(opts.max_windows.max(1));
    }
    let latent = meta.model.latent;
    const BATCH: usize = 64;
    let z: Vec<f32> = picks
        .par_chunks(BATCH)
        .map(|chunk| {
            let flat: Vec<u32> = chunk.iter().flat_map(|(w, _)| w.iter().copied()).collect();
            encode_batch(model, &flat, chunk.len())
        })
        .collect::<Vec<_>>()
        .concat();
    let values: Vec<[f64; 5]> = picks
        .par_iter()
        .map(|(w, _)| {
            let seq = piece::decode(meta, w, 120.0);
            NoteAttribute::ALL.map(|a| a.measure(&seq))
        })
        .collect();
    Ok(EncodedWindows {
        latent,
        z,
        values,
        styles: picks.into_iter().map(|p| p.1).collect(),
    })
}

/// The vector from the mean z of windows `low` to the mean z of windows `high`.
fn vector(
    enc: &EncodedWindows,
    name: String,
    low: &[usize],
    high: &[usize],
    value: impl Fn(usize) -> f64,
) -> AttributeVector {
    let mean = |set: &[usize]| {
        let mut m = vec![0.0f64; enc.latent];
        for &i in set {
            m.iter_mut()
                .zip(enc.row(i))
                .for_each(|(a, &v)| *a += v as f64 / set.len() as f64);
        }
        m
    };
    let (ml, mh) = (mean(low), mean(high));
    let diff: Vec<f64> = mh.iter().zip(&ml).map(|(h, l)| h - l).collect();
    let gap = diff.iter().map(|d| d * d).sum::<f64>().sqrt();
    let direction: Vec<f32> = diff.iter().map(|d| (d / gap.max(1e-12)) as f32).collect();
    let proj: Vec<f64> = (0..enc.len())
        .map(|i| {
            enc.row(i)
                .iter()
                .zip(&direction)
                .map(|(&a, &b)| a as f64 * b as f64)
                .sum()
        })
        .collect();
    let (_, sd) = crate::analysis::stats::mean_std(&proj);
    let avg = |set: &[usize]| set.iter().map(|&i| value(i)).sum::<f64>() / set.len().max(1) as f64;
    AttributeVector {
        name,
        direction,
        sd: sd as f32,
        gap: gap as f32,
        low: avg(low),
        high: avg(high),
        low_windows: low.len(),
        high_windows: high.len(),
    }
}

/// Attribute vectors from encoded windows: quartiles for note attributes, in/out for styles.
pub fn vectors_of(enc: &EncodedWindows, opts: &VectorOptions) -> Vec<AttributeVector> {
    let n = enc.len();
    let q = (n / 4).max(1);
    let mut out = Vec::new();
    for (k, attr) in NoteAttribute::ALL.iter().enumerate() {
        let mut order: Vec<usize> = (0..n).collect();
        // Ties (many windows share a polyphony of 1) are broken by window order, which is random.
        order.sort_by(|&a, &b| enc.values[a][k].total_cmp(&enc.values[b][k]));
        let (low, high) = (&order[..q.min(n)], &order[n - q.min(n)..]);
        out.push(vector(enc, attr.name().to_string(), low, high, |i| {
            enc.values[i][k]
        }));
    }
    let mut styles: Vec<&String> = enc.styles.iter().flatten().collect();
    styles.sort();
    styles.dedup();
    for style in styles {
        let (inside, outside): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| enc.styles[i].as_ref() == Some(style));
        if inside.len() < opts.min_style_windows || outside.len() < opts.min_style_windows {
            continue;
        }
        out.push(vector(
            enc,
            format!("{STYLE_PREFIX}{style}"),
            &outside,
            &inside,
            |i| (enc.styles[i].as_ref() == Some(style)) as u8 as f64,
        ));
    }
    out
}

/// Computes every attribute vector of `model` on `corpus`, under the cache key `key`
/// ([`cache_key`] of the same arguments).
fn compute(
    model: &(impl Vae + Sync),
    meta: &CheckpointMeta,
    corpus: &Corpus,
    opts: &VectorOptions,
    key: String,
) -> Result<AttributeVectors, AttributeError> {
    let t0 = Instant::now();
    let enc = encode_windows(model, meta, corpus, opts)?;
    let vectors = vectors_of(&enc, opts);
    Ok(AttributeVectors {
        key,
        latent: enc.latent,
        windows: enc.len(),
        window: meta.model.window,
        seconds: t0.elapsed().as_secs_f64(),
        vectors,
    })
}

/// Attribute vectors and where they came from.
pub struct Loaded {
    pub vectors: AttributeVectors,
    pub from_cache: bool,
    /// Why the cache could not be written, when it could not (this only costs speed next time).
    pub warning: Option<String>,
}

/// The cached vectors of this model on this corpus from `cache_dir/attributes/`, else computes
/// and caches them (written atomically).
pub fn load_or_compute(
    model: &(impl Vae + Sync),
    meta: &CheckpointMeta,
    corpus: &Corpus,
    opts: &VectorOptions,
    cache_dir: &Path,
) -> Result<Loaded, AttributeError> {
    let key = cache_key(model, meta, corpus, opts);
    let path = cache_dir.join("attributes").join(format!("{key}.json"));
    if let Some(v) = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<AttributeVectors>(&b).ok())
        .filter(|v| v.key == key)
    {
        return Ok(Loaded {
            vectors: v,
            from_cache: true,
            warning: None,
        });
    }
    let vectors = compute(model, meta, corpus, opts, key)?;
    let warning = serde_json::to_vec(&vectors)
        .map_err(|e| e.to_string())
        .and_then(|b| crate::fsx::write_atomic(&path, &b).map_err(|e| e.to_string()))
        .err()
        .map(|e| format!("attribute vectors not cached in {}: {e}", path.display()));
    Ok(Loaded {
        vectors,
        from_cache: false,
        warning,
    })
}
