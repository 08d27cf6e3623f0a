//! The two VAEs behind one trait: encode a window to the latent's (mean, logvar), sample z,
//! decode teacher-forced logits per position, and step one token at a time with carried state.
//!
//! Data layout: a batch of `B` windows of `T` tokens is `B * T` ids, batch-major. The encoder
//! reads the target tokens `w[1..=T]`; the decoder reads `w[0..T]` and predicts `w[1..=T]`, so
//! `recon + KL` bounds `-log p(w[1..=T] | w[0])` and the per-token ELBO is a fair likelihood.

use dfdx::prelude::*;

use super::config::{style_index, ModelConfig, ModelKind};
use super::linalg::to_vec;
use super::vae_lstm::VaeLstm;
use super::vae_transformer::VaeTransformer;
use super::{linear, Mat, ParamsMut, ParamsRef};

/// A VAE over token windows. `stats` tensors are `B x 2Z`: the mean, then the log-variance.
pub trait Vae {
    fn config(&self) -> &ModelConfig;
    /// Posterior statistics of `batch` windows (`ids` holds `batch * T` ids). The gradient
    /// tape `tape` starts at the first parameter used. `train` is the dropout seed of a
    /// training pass (`None`: evaluation, no dropout).
    fn encode<T: Tape<f32, Cpu>>(
        &self,
        ids: &[u32],
        batch: usize,
        tape: T,
        train: Option<u64>,
    ) -> Tensor<(usize, usize), f32, Cpu, T>;
    /// Next-token logits (`batch * T` rows of `vocab`) for decoder inputs `ids` given `z`.
    fn decode<T: Tape<f32, Cpu>>(
        &self,
        z: Tensor<(usize, usize), f32, Cpu, T>,
        ids: &[u32],
        batch: usize,
        train: Option<u64>,
    ) -> Tensor<(usize, usize), f32, Cpu, T>;
    /// The bag-of-words head: `Z x vocab` weight and `1 x vocab` bias.
    fn bow_head(&self) -> (&Mat<f32>, &Mat<f32>);
    fn params(&self) -> ParamsRef<'_, f32>;
    fn params_mut(&mut self) -> ParamsMut<'_, f32>;
    /// A copy of the decoder for live generation, one token at a time.
    fn stream(&self) -> Box<dyn TokenStream>;
    /// The learned prior mean of every style (`styles x Z`), when the config has styles.
    fn style_prior(&self) -> Option<&Mat<f32>> {
        None
    }
}

/// A live decoder: set a latent, feed tokens, read the logits of the next one. Runs on plain
/// copies of the weights, so it can live on another thread while the model trains.
pub trait TokenStream: Send {
    /// Sets the latent (`Z` values) and clears the carried state.
    fn reset(&mut self, z: &[f32]);
    /// Feeds one token and returns the logits of the next (`vocab` values).
    fn step(&mut self, token: u32) -> &[f32];
    /// How many of the tokens fed the last prediction saw directly (the LSTM: all of them since
    /// the reset; the Transformer: those in its cache).
    fn context_len(&self) -> usize;
    /// The carried state (the LSTM's `(h, c)` per layer and lifted latent; the Transformer's
    /// key/value caches and prefix) and the last logits, without the weights: cheap enough to
    /// keep one per generated note.
    fn save(&self) -> StreamState;
    /// Puts back a state `save` gave; the next `step` then gives exactly the logits the saved
    /// stream would have. False (and nothing changed) when the state came from a stream of
    /// another kind or shape.
    fn restore(&mut self, state: &StreamState) -> bool;
    /// The token every context starts with after the latent (the style token of a
    /// style-conditioned model, as in every training window), or `None`. A stream that drops old
    /// context by itself (the Transformer's lanes) feeds it again at the front; one that carries
    /// its state (the LSTM) keeps it from the primer and ignores this.
    fn set_head(&mut self, _head: Option<u32>) {}
}

/// A saved [`TokenStream`] state. Opaque: only a stream of the same kind and shape takes it back.
pub struct StreamState(Box<dyn std::any::Any + Send + Sync>);

impl StreamState {
    pub fn new<S: std::any::Any + Send + Sync>(state: S) -> Self {
        StreamState(Box::new(state))
    }

    pub fn get<S: std::any::Any>(&self) -> Option<&S> {
        self.0.downcast_ref()
    }
}

impl std::fmt::Debug for StreamState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamState")
    }
}

/// Either model, chosen at run time from a config.
#[derive(Clone, Debug)]
pub enum Model {
    Lstm(Box<VaeLstm>),
    Transformer(Box<VaeTransformer>),
}

/// The decoded logits and the posterior statistics of one forward pass.
pub struct VaeOutput<T> {
    pub stats: Tensor<(usize, usize), f32, Cpu, T>,
    pub logits: Tensor<(usize, usize), f32, Cpu, T>,
    /// Bag-of-words logits from z alone (`B x vocab`), for the auxiliary loss that makes z
    /// carry what a window contains (Zhao et al. 2017).
    pub bow: Tensor<(usize, usize), f32, Cpu, T>,
}

impl Model {
    /// A fresh model with weights drawn from `seed`.
    pub fn build(cfg: &ModelConfig, dev: &Cpu, seed: u64) -> Result<Model, String> {
        cfg.validate()?;
        match cfg.kind {
            ModelKind::VaeLstm => Ok(Model::Lstm(Box::new(VaeLstm::new(cfg, dev, seed)))),
            ModelKind::VaeTransformer => Ok(Model::Transformer(Box::new(VaeTransformer::new(
                cfg, dev, seed,
            )))),
        }
    }

    pub fn num_params(&self) -> usize {
        self.params()
            .iter()
            .map(|(_, p)| p.shape().0 * p.shape().1)
            .sum()
    }

    /// Encode, sample z with `eps` (`B x Z` standard normal draws; `None` takes the mean) and
    /// decode. `enc` and `dec` are `batch * T` ids each.
    pub fn forward<T: Tape<f32, Cpu>>(
        &self,
        enc: &[u32],
        dec: &[u32],
        batch: usize,
        eps: Option<&[f32]>,
        tape: T,
        train: Option<u64>,
    ) -> VaeOutput<T> {
        let stats = self.encode(enc, batch, tape, train);
        let (stats, tape) = stats.split_tape();
        let z = reparameterize(stats.clone().put_tape(tape), eps);
        let (z, tape) = z.split_tape();
        let (w, b) = self.bow_head();
        let zc = with_style_prior(
            z.clone().retaped::<T>(),
            self.style_prior(),
            self.config(),
            dec,
            batch,
        );
        let bow = linear(zc, w, b);
        let logits = self.decode(z.put_tape(tape), dec, batch, train);
        VaeOutput {
            stats: stats.retaped::<T>(),
            logits,
            bow,
        }
    }
}

macro_rules! each_model {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            Model::Lstm($m) => $e,
            Model::Transformer($m) => $e,
        }
    };
}

impl Vae for Model {
    fn config(&self) -> &ModelConfig {
        each_model!(self, m => m.config())
    }
    fn encode<T: Tape<f32, Cpu>>(
        &self,
        ids: &[u32],
        batch: usize,
        tape: T,
        train: Option<u64>,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        each_model!(self, m => m.encode(ids, batch, tape, train))
    }
    fn decode<T: Tape<f32, Cpu>>(
        &self,
        z: Tensor<(usize, usize), f32, Cpu, T>,
        ids: &[u32],
        batch: usize,
        train: Option<u64>,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        each_model!(self, m => m.decode(z, ids, batch, train))
    }
    fn bow_head(&self) -> (&Mat<f32>, &Mat<f32>) {
        each_model!(self, m => m.bow_head())
    }
    fn params(&self) -> ParamsRef<'_, f32> {
        each_model!(self, m => m.params())
    }
    fn params_mut(&mut self) -> ParamsMut<'_, f32> {
        each_model!(self, m => m.params_mut())
    }
    fn stream(&self) -> Box<dyn TokenStream> {
        each_model!(self, m => m.stream())
    }
    fn style_prior(&self) -> Option<&Mat<f32>> {
        each_model!(self, m => m.style_prior())
    }
}

/// A stream's copy of the style prior: the head token (a style token) picks the row added to
/// every latent the stream is reset to.
#[derive(Clone, Debug, Default)]
pub struct StylePrior {
    table: Vec<f32>,
    /// The first style token's id and the style count (`ModelConfig::style_range`).
    range: Option<(u32, usize)>,
    row: Option<usize>,
    z: Vec<f32>,
}

impl StylePrior {
    pub fn of(cfg: &ModelConfig, prior: Option<&Mat<f32>>) -> Self {
        match (prior, cfg.style_range()) {
            (Some(p), Some(range)) => StylePrior {
                table: to_vec(p),
                range: Some(range),
                row: None,
                z: vec![0.0; cfg.latent],
            },
            _ => StylePrior::default(),
        }
    }

    pub fn set_head(&mut self, head: Option<u32>) {
        self.row = head.zip(self.range).and_then(|(h, r)| style_index(r, h));
    }

    /// `z + prior[head's style]`, or `z` itself.
    pub fn apply<'a>(&'a mut self, z: &'a [f32]) -> &'a [f32] {
        let Some(r) = self.row.filter(|_| self.z.len() == z.len()) else {
            return z;
        };
        let n = z.len();
        for ((o, a), p) in self
            .z
            .iter_mut()
            .zip(z)
            .zip(&self.table[r * n..(r + 1) * n])
        {
            *o = a + p;
        }
        &self.z
    }
}

/// The latent the decoder reads: `z + prior[style]` for every window (row `b` of `z`) whose
/// decoder input (`dec`, `batch` windows) starts with a style token of the config's range, `z`
/// elsewhere or without a prior; the gradient goes into `z` and the prior's rows.
pub fn with_style_prior<T: Tape<f32, Cpu>>(
    z: Tensor<(usize, usize), f32, Cpu, T>,
    prior: Option<&Mat<f32>>,
    cfg: &ModelConfig,
    dec: &[u32],
    batch: usize,
) -> Tensor<(usize, usize), f32, Cpu, T> {
    let Some(prior) = prior else {
        return z;
    };
    let steps = dec.len() / batch.max(1);
    let rows: Vec<Option<usize>> = (0..batch)
        .map(|b| dec.get(b * steps).and_then(|&t| cfg.style_row(t)))
        .collect();
    if rows.iter().all(Option::is_none) {
        return z;
    }
    let (z, mut tape) = z.split_tape();
    let zn = z.shape().1;
    assert_eq!(prior.shape().1, zn, "with_style_prior: widths");
    let table = to_vec(prior);
    let mut out = to_vec(&z);
    for (r, row) in rows.iter().enumerate() {
        if let Some(s) = row {
            let src = &table[s * zn..(s + 1) * zn];
            out[r * zn..(r + 1) * zn]
                .iter_mut()
                .zip(src)
                .for_each(|(o, p)| *o += p);
        }
    }
    let out: Mat<f32> = z.device().tensor_from_vec(out, (batch, zn));
    if T::OWNS_TAPE {
        let (z, out, prior) = (z.clone(), out.clone(), prior.clone());
        tape.add_backward_op(move |grads| {
            let dy = grads.get_or_alloc_mut(&out)?.to_vec();
            grads
                .get_or_alloc_mut(&z)?
                .iter_mut()
                .zip(&dy)
                .for_each(|(g, d)| *g += d);
            let dp = grads.get_or_alloc_mut(&prior)?;
            for (r, row) in rows.iter().enumerate() {
                if let Some(s) = row {
                    dp[s * zn..(s + 1) * zn]
                        .iter_mut()
                        .zip(&dy[r * zn..(r + 1) * zn])
                        .for_each(|(g, d)| *g += d);
                }
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// `z = mean + exp(logvar / 2) * eps` from `stats` (`B x 2Z`), as one op on the tape; with no
/// `eps`, `z = mean`.
pub fn reparameterize<T: Tape<f32, Cpu>>(
    stats: Tensor<(usize, usize), f32, Cpu, T>,
    eps: Option<&[f32]>,
) -> Tensor<(usize, usize), f32, Cpu, T> {
    let (stats, mut tape) = stats.split_tape();
    let (b, z2) = *stats.shape();
    let zn = z2 / 2;
    let s = stats.as_vec();
    let eps: Vec<f32> = eps.map(|e| e.to_vec()).unwrap_or_else(|| vec![0.0; b * zn]);
    assert_eq!(
        eps.len(),
        b * zn,
        "reparameterize: one draw per latent value"
    );
    let mut z = vec![0f32; b * zn];
    for r in 0..b {
        for j in 0..zn {
            let (m, lv) = (s[r * z2 + j], s[r * z2 + zn + j]);
            z[r * zn + j] = m + (0.5 * lv).exp() * eps[r * zn + j];
        }
    }
    let out: Mat<f32> = stats.device().tensor_from_vec(z, (b, zn));
    if T::OWNS_TAPE {
        let (in_ghost, out_ghost) = (stats.ghost(), out.ghost());
        tape.add_backward_op(move |grads| {
            let dz = grads.get_or_alloc_mut(&out_ghost)?.to_vec();
            let d = grads.get_or_alloc_mut(&in_ghost)?;
            for r in 0..b {
                for j in 0..zn {
                    let (g, lv, e) = (dz[r * zn + j], s[r * z2 + zn + j], eps[r * zn + j]);
                    d[r * z2 + j] += g;
                    d[r * z2 + zn + j] += g * e * 0.5 * (0.5 * lv).exp();
                }
            }
            Ok(())
        });
    }
    out.put_tape(tape)
}

/// Row indices `[b * steps + steps - 1]` (each window's last position), for `gather`.
pub fn last_rows(dev: &Cpu, batch: usize, steps: usize) -> Tensor<(usize,), usize, Cpu> {
    let idx = (0..batch).map(|b| b * steps + steps - 1).collect();
    dev.tensor_from_vec(idx, (batch,))
}

/// Row indices `[b]` repeated `steps` times each, to spread one row per window over its steps.
pub fn repeat_rows(dev: &Cpu, batch: usize, steps: usize) -> Tensor<(usize,), usize, Cpu> {
    let idx = (0..batch * steps).map(|i| i / steps).collect();
    dev.tensor_from_vec(idx, (batch * steps,))
}

/// With a training seed and `p > 0`: a `rows x cols` mask whose rows are all 0 (probability
/// `p`) or all 1, to hide decoder input tokens (word dropout).
pub fn word_mask(
    dev: &Cpu,
    (rows, cols): (usize, usize),
    p: f64,
    train: Option<u64>,
) -> Option<Mat<f32>> {
    use rand::{Rng, SeedableRng};
    let seed = train.filter(|_| p > 0.0)?;
    let rng = &mut rand::rngs::StdRng::seed_from_u64(seed ^ 0x0005_EED0_FD0F);
    let mut v = Vec::with_capacity(rows * cols);
    for _ in 0..rows {
        let keep = if rng.gen_bool(p) { 0.0 } else { 1.0 };
        v.extend(std::iter::repeat_n(keep, cols));
    }
    Some(dev.tensor_from_vec(v, (rows, cols)))
}

/// Token ids as a gather index.
pub fn id_tensor(dev: &Cpu, ids: &[u32]) -> Tensor<(usize,), usize, Cpu> {
    dev.tensor_from_vec(ids.iter().map(|&i| i as usize).collect(), (ids.len(),))
}
