//! The VAE-Transformer: embedding plus sinusoidal positions, bidirectional encoder blocks
//! mean-pooled to (mean, logvar), and a causal decoder that sees z as a prefix position. Live
//! steps use a key/value cache; past the training window the stream re-primes from the last
//! half window (prefix again, fresh cache), so positions never leave the trained range.

use dfdx::prelude::*;
use rand::SeedableRng;

use super::attention::{AttnShape, KvCache};
use super::config::ModelConfig;
use super::transformer::{
    dense_row, layer_norm, layer_norm_row, Block, BlockWeights, Dropout, Scratch,
};
use super::vae::{
    id_tensor, with_style_prior, word_mask, StreamState, StylePrior, TokenStream, Vae,
};
use super::{init_uniform, linear, Mat, ParamsMut, ParamsRef};

#[derive(Clone, Debug)]
pub struct VaeTransformer {
    pub cfg: ModelConfig,
    pub embed: Mat<f32>,
    pub encoder: Vec<Block>,
    pub enc_norm: (Mat<f32>, Mat<f32>),
    pub stats: (Mat<f32>, Mat<f32>),
    pub up: (Mat<f32>, Mat<f32>),
    pub decoder: Vec<Block>,
    pub dec_norm: (Mat<f32>, Mat<f32>),
    pub out: (Mat<f32>, Mat<f32>),
    pub bow: (Mat<f32>, Mat<f32>),
    /// The learned prior mean of every style (`styles x Z`, `ModelConfig::styles`).
    pub style_prior: Option<Mat<f32>>,
}

/// Sinusoidal positions `0..len`, `len x dim`.
pub fn positions(len: usize, dim: usize) -> Vec<f32> {
    let mut pe = vec![0f32; len * dim];
    for p in 0..len {
        for i in 0..dim {
            let angle = p as f64 / 10000f64.powf((i / 2 * 2) as f64 / dim as f64);
            pe[p * dim + i] = if i % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
        }
    }
    pe
}

fn dropout_rng(seed: Option<u64>, side: u64) -> Option<rand::rngs::StdRng> {
    seed.map(|s| rand::rngs::StdRng::seed_from_u64(s.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ side))
}

impl VaeTransformer {
    pub fn new(cfg: &ModelConfig, dev: &Cpu, seed: u64) -> Self {
        let rng = &mut rand::rngs::StdRng::seed_from_u64(seed);
        let (v, d, z) = (cfg.vocab, cfg.hidden, cfg.latent);
        let dense = |rng: &mut rand::rngs::StdRng, i: usize, o: usize| {
            let k = 1.0 / (i as f64).sqrt();
            (init_uniform(dev, rng, (i, o), k), dev.zeros_like(&(1, o)))
        };
        let norm = || (dev.ones_like(&(1, d)), dev.zeros_like(&(1, d)));
        let embed = init_uniform(dev, rng, (v, d), 1.0);
        let encoder = (0..cfg.layers)
            .map(|_| Block::new(dev, rng, d, cfg.ff))
            .collect();
        let stats = dense(rng, d, 2 * z);
        let up = dense(rng, z, d);
        let decoder = (0..cfg.layers)
            .map(|_| Block::new(dev, rng, d, cfg.ff))
            .collect();
        let out = dense(rng, d, v);
        let bow = dense(rng, z, v);
        let style_prior = (cfg.styles > 0).then(|| dev.zeros_like(&(cfg.styles, z)));
        VaeTransformer {
            style_prior,
            bow,
            cfg: cfg.clone(),
            embed,
            encoder,
            enc_norm: norm(),
            stats,
            up,
            decoder,
            dec_norm: norm(),
            out,
        }
    }

    /// `rows` positions of every sequence of `len`, as a constant `batch * rows.len() x D`.
    fn pos_rows(&self, batch: usize, rows: std::ops::Range<usize>) -> Mat<f32> {
        let d = self.cfg.hidden;
        let pe = positions(rows.end, d);
        let n = rows.len();
        let mut v = Vec::with_capacity(batch * n * d);
        for _ in 0..batch {
            v.extend_from_slice(&pe[rows.start * d..]);
        }
        self.embed.device().tensor_from_vec(v, (batch * n, d))
    }
}

impl Vae for VaeTransformer {
    fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    fn encode<T: Tape<f32, Cpu>>(
        &self,
        ids: &[u32],
        batch: usize,
        tape: T,
        train: Option<u64>,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        let dev = self.embed.device().clone();
        let (len, d) = (ids.len() / batch, self.cfg.hidden);
        let mut rng = dropout_rng(train, 1);
        let mut drop = rng.as_mut().map(|rng| Dropout {
            p: self.cfg.dropout,
            rng,
        });
        let mut x = self
            .embed
            .clone()
            .put_tape(tape)
            .gather(id_tensor(&dev, ids))
            + self.pos_rows(batch, 1..len + 1);
        let s = AttnShape {
            batch,
            len,
            heads: self.cfg.heads,
            causal: false,
        };
        for block in &self.encoder {
            x = block.forward(x, s, &mut drop);
        }
        let x = layer_norm(x, &self.enc_norm);
        let pooled = x
            .reshape_like(&(batch, len, d))
            .mean::<(usize, usize), Axis<1>>();
        linear(pooled, &self.stats.0, &self.stats.1)
    }

    fn decode<T: Tape<f32, Cpu>>(
        &self,
        z: Tensor<(usize, usize), f32, Cpu, T>,
        ids: &[u32],
        batch: usize,
        train: Option<u64>,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        let dev = self.embed.device().clone();
        let len = ids.len() / batch;
        let mut rng = dropout_rng(train, 2);
        let mut drop = rng.as_mut().map(|rng| Dropout {
            p: self.cfg.dropout,
            rng,
        });
        let z = with_style_prior(z, self.style_prior.as_ref(), &self.cfg, ids, batch);
        let prefix = linear(z, &self.up.0, &self.up.1);
        let mut tokens = self
            .embed
            .clone()
            .retaped::<T>()
            .gather(id_tensor(&dev, ids));
        let shape = *tokens.shape();
        if let Some(mask) = word_mask(&dev, shape, self.cfg.word_dropout, train) {
            tokens = tokens * mask;
        }
        // Rows of `[tokens; prefixes]` in sequence order: each window's prefix, then its tokens.
        let all = (tokens, prefix).concat_along(Axis::<0>);
        let order: Vec<usize> = (0..batch)
            .flat_map(|b| {
                std::iter::once(batch * len + b).chain((0..len).map(move |t| b * len + t))
            })
            .collect();
        let order = dev.tensor_from_vec(order, (batch * (len + 1),));
        let mut x = all.gather(order) + self.pos_rows(batch, 0..len + 1);
        let s = AttnShape {
            batch,
            len: len + 1,
            heads: self.cfg.heads,
            causal: true,
        };
        for block in &self.decoder {
            x = block.forward(x, s, &mut drop);
        }
        // Position t + 1 has seen the prefix and tokens 0..=t: it predicts target t.
        let keep: Vec<usize> = (0..batch)
            .flat_map(|b| (1..=len).map(move |t| b * (len + 1) + t))
            .collect();
        let x = x.gather(dev.tensor_from_vec(keep, (batch * len,)));
        let x = layer_norm(x, &self.dec_norm);
        linear(x, &self.out.0, &self.out.1)
    }

    fn params(&self) -> ParamsRef<'_, f32> {
        fn pair<'a>(name: &str, (w, b): &'a (Mat<f32>, Mat<f32>), out: &mut ParamsRef<'a, f32>) {
            out.push((format!("{name}.w"), w));
            out.push((format!("{name}.b"), b));
        }
        let mut out: ParamsRef<'_, f32> = vec![("embed".into(), &self.embed)];
        for (i, b) in self.encoder.iter().enumerate() {
            b.params(&format!("encoder.{i}"), &mut out);
        }
        pair("encoder.norm", &self.enc_norm, &mut out);
        pair("stats", &self.stats, &mut out);
        pair("up", &self.up, &mut out);
        for (i, b) in self.decoder.iter().enumerate() {
            b.params(&format!("decoder.{i}"), &mut out);
        }
        pair("decoder.norm", &self.dec_norm, &mut out);
        pair("out", &self.out, &mut out);
        pair("bow", &self.bow, &mut out);
        if let Some(p) = &self.style_prior {
            out.push(("style_prior".into(), p));
        }
        out
    }

    fn bow_head(&self) -> (&Mat<f32>, &Mat<f32>) {
        (&self.bow.0, &self.bow.1)
    }

    fn params_mut(&mut self) -> ParamsMut<'_, f32> {
        let mut out: ParamsMut<'_, f32> = vec![("embed".into(), &mut self.embed)];
        for (i, b) in self.encoder.iter_mut().enumerate() {
            b.params_mut(&format!("encoder.{i}"), &mut out);
        }
        let pairs = [
            ("encoder.norm", &mut self.enc_norm),
            ("stats", &mut self.stats),
            ("up", &mut self.up),
        ];
        for (name, (w, b)) in pairs {
            out.push((format!("{name}.w"), w));
            out.push((format!("{name}.b"), b));
        }
        for (i, b) in self.decoder.iter_mut().enumerate() {
            b.params_mut(&format!("decoder.{i}"), &mut out);
        }
        let tail = [
            ("decoder.norm", &mut self.dec_norm),
            ("out", &mut self.out),
            ("bow", &mut self.bow),
        ];
        for (name, (w, b)) in tail {
            out.push((format!("{name}.w"), w));
            out.push((format!("{name}.b"), b));
        }
        if let Some(p) = &mut self.style_prior {
            out.push(("style_prior".into(), p));
        }
        out
    }

    fn style_prior(&self) -> Option<&Mat<f32>> {
        self.style_prior.as_ref()
    }

    fn stream(&self) -> Box<dyn TokenStream> {
        let v = |(w, b): &(Mat<f32>, Mat<f32>)| (w.as_vec(), b.as_vec());
        let d = self.cfg.hidden;
        Box::new(TransformerStream {
            window: self.cfg.window,
            heads: self.cfg.heads,
            embed: self.embed.as_vec(),
            pos: positions(self.cfg.window + 1, d),
            up: v(&self.up),
            blocks: self.decoder.iter().map(Block::weights).collect(),
            norm: v(&self.dec_norm),
            out: v(&self.out),
            main: Lane {
                caches: vec![KvCache::default(); self.cfg.layers],
                x: vec![0.0; d],
            },
            shadow: Lane {
                caches: vec![KvCache::default(); self.cfg.layers],
                x: vec![0.0; d],
            },
            scratch: Scratch::default(),
            prefix: vec![0.0; d],
            head: None,
            prior: StylePrior::of(&self.cfg, self.style_prior.as_ref()),
            h: vec![0.0; d],
            logits: vec![0.0; self.cfg.vocab],
        })
    }
}

/// One key/value cache per block and the running activation of the position being fed.
#[derive(Clone, Debug)]
struct Lane {
    caches: Vec<KvCache>,
    x: Vec<f32>,
}

impl Lane {
    fn len(&self) -> usize {
        self.caches[0].len
    }

    /// Copies `other` in, reusing this lane's buffers.
    fn copy_from(&mut self, other: &Lane) {
        for (c, o) in self.caches.iter_mut().zip(&other.caches) {
            c.keys.clone_from(&o.keys);
            c.values.clone_from(&o.values);
            c.len = o.len;
        }
        self.x.copy_from_slice(&other.x);
    }
}

/// What a [`TransformerStream`] carries: both lanes, the lifted latent and the last logits.
#[derive(Clone)]
struct TransformerSaved {
    main: Lane,
    shadow: Lane,
    prefix: Vec<f32>,
    logits: Vec<f32>,
}

/// The VAE-Transformer's decoder on plain weights. Two lanes of caches: the main one predicts;
/// once it is half full a shadow lane starts again from the prefix and follows along, and when
/// the main lane is full the shadow takes over. So past the window the context is always the
/// prefix plus the last half window or more, and no step pays for re-priming at once.
pub struct TransformerStream {
    window: usize,
    heads: usize,
    embed: Vec<f32>,
    pos: Vec<f32>,
    up: (Vec<f32>, Vec<f32>),
    blocks: Vec<BlockWeights>,
    norm: (Vec<f32>, Vec<f32>),
    out: (Vec<f32>, Vec<f32>),
    main: Lane,
    shadow: Lane,
    scratch: Scratch,
    /// The lifted z, fed at position 0 of every lane.
    prefix: Vec<f32>,
    /// The token fed right after the prefix when the shadow lane starts (the style token).
    head: Option<u32>,
    prior: StylePrior,
    h: Vec<f32>,
    logits: Vec<f32>,
}

impl TransformerStream {
    fn advance(&mut self, shadow: bool) {
        let lane = if shadow {
            &mut self.shadow
        } else {
            &mut self.main
        };
        for (block, cache) in self.blocks.iter().zip(&mut lane.caches) {
            block.step(&mut lane.x, cache, self.heads, &mut self.scratch);
        }
    }

    fn feed_prefix(&mut self, shadow: bool) {
        let lane = if shadow {
            &mut self.shadow
        } else {
            &mut self.main
        };
        lane.caches.iter_mut().for_each(KvCache::clear);
        let d = lane.x.len();
        for ((x, p), e) in lane.x.iter_mut().zip(&self.prefix).zip(&self.pos[..d]) {
            *x = p + e;
        }
        self.advance(shadow);
    }

    fn feed_token(&mut self, token: u32, shadow: bool) {
        let lane = if shadow {
            &mut self.shadow
        } else {
            &mut self.main
        };
        let d = lane.x.len();
        let p = lane.len();
        let row = (token as usize).min(self.embed.len() / d - 1) * d;
        for ((x, e), q) in lane
            .x
            .iter_mut()
            .zip(&self.embed[row..row + d])
            .zip(&self.pos[p * d..(p + 1) * d])
        {
            *x = e + q;
        }
        self.advance(shadow);
    }
}

impl TokenStream for TransformerStream {
    fn reset(&mut self, z: &[f32]) {
        let z = self.prior.apply(z);
        let mut prefix = std::mem::take(&mut self.prefix);
        dense_row(z, &self.up, &mut prefix);
        self.prefix = prefix;
        self.shadow.caches.iter_mut().for_each(KvCache::clear);
        self.feed_prefix(false);
    }

    fn step(&mut self, token: u32) -> &[f32] {
        if self.main.len() > self.window {
            std::mem::swap(&mut self.main, &mut self.shadow);
            self.shadow.caches.iter_mut().for_each(KvCache::clear);
        }
        if self.main.len() > self.window / 2 {
            if self.shadow.len() == 0 {
                self.feed_prefix(true);
                // The head takes one more position of the lane; below a window of 4 the lane
                // taking over would run past the last position, so tiny windows go without.
                if let Some(head) = self.head.filter(|_| self.window >= 4) {
                    self.feed_token(head, true);
                }
            }
            self.feed_token(token, true);
        }
        self.feed_token(token, false);
        layer_norm_row(&self.main.x, &self.norm, &mut self.h);
        dense_row(&self.h, &self.out, &mut self.logits);
        &self.logits
    }

    fn context_len(&self) -> usize {
        self.main.len() - 1
    }

    fn save(&self) -> StreamState {
        StreamState::new(TransformerSaved {
            main: self.main.clone(),
            shadow: self.shadow.clone(),
            prefix: self.prefix.clone(),
            logits: self.logits.clone(),
        })
    }

    fn restore(&mut self, saved: &StreamState) -> bool {
        let Some(s) = saved.get::<TransformerSaved>() else {
            return false;
        };
        let fits = |a: &Lane, b: &Lane| a.caches.len() == b.caches.len() && a.x.len() == b.x.len();
        if !fits(&s.main, &self.main)
            || !fits(&s.shadow, &self.shadow)
            || s.prefix.len() != self.prefix.len()
            || s.logits.len() != self.logits.len()
        {
            return false;
        }
        self.main.copy_from(&s.main);
        self.shadow.copy_from(&s.shadow);
        self.prefix.copy_from_slice(&s.prefix);
        self.logits.copy_from_slice(&s.logits);
        true
    }

    fn set_head(&mut self, head: Option<u32>) {
        self.head = head;
        self.prior.set_head(head);
    }
}
