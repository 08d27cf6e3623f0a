//! The VAE-LSTM of PAPER.md (PyTorch equivalent: peers/torch_vae_lstm.py): embedding,
//! encoder LSTM stack, one Dense to (mean, logvar), a Dense lifting z that is added to the
//! decoder's input at every step, decoder LSTM stack, Dense to the vocabulary.

use dfdx::prelude::*;
use rand::SeedableRng;

use super::config::ModelConfig;
use super::embed::embedded_linear;
use super::linalg::{matmul_serial, to_vec};
use super::lstm::{Lstm, LstmConfig, LstmState, LstmWeights};
use super::vae::{
    last_rows, with_style_prior, word_mask, StreamState, StylePrior, TokenStream, Vae,
};
use super::{init_uniform, linear, Mat, ParamsMut, ParamsRef};

#[derive(Clone, Debug)]
pub struct VaeLstm {
    pub cfg: ModelConfig,
    pub embed: Mat<f32>,
    pub encoder: Lstm<f32>,
    pub stats_w: Mat<f32>,
    pub stats_b: Mat<f32>,
    pub up_w: Mat<f32>,
    pub up_b: Mat<f32>,
    pub decoder: Lstm<f32>,
    pub out_w: Mat<f32>,
    pub out_b: Mat<f32>,
    pub bow: (Mat<f32>, Mat<f32>),
    /// The learned prior mean of every style (`styles x Z`, `ModelConfig::styles`).
    pub style_prior: Option<Mat<f32>>,
}

impl VaeLstm {
    pub fn new(cfg: &ModelConfig, dev: &Cpu, seed: u64) -> Self {
        let rng = &mut rand::rngs::StdRng::seed_from_u64(seed);
        let (v, e, h, z) = (cfg.vocab, cfg.embed, cfg.hidden, cfg.latent);
        let lstm = LstmConfig {
            input: e,
            hidden: h,
            layers: cfg.layers,
        };
        let dense = |rng: &mut rand::rngs::StdRng, i: usize, o: usize| {
            let k = 1.0 / (i as f64).sqrt();
            (
                init_uniform(dev, rng, (i, o), k),
                init_uniform(dev, rng, (1, o), k),
            )
        };
        let embed = init_uniform(dev, rng, (v, e), 1.0);
        let encoder = lstm.build(dev, rng);
        let (stats_w, stats_b) = dense(rng, h, 2 * z);
        let (up_w, up_b) = dense(rng, z, e);
        let decoder = lstm.build(dev, rng);
        let (out_w, out_b) = dense(rng, h, v);
        let bow = dense(rng, z, v);
        let style_prior = (cfg.styles > 0).then(|| dev.zeros_like(&(cfg.styles, z)));
        VaeLstm {
            style_prior,
            bow,
            cfg: cfg.clone(),
            embed,
            encoder,
            stats_w,
            stats_b,
            up_w,
            up_b,
            decoder,
            out_w,
            out_b,
        }
    }
}

impl Vae for VaeLstm {
    fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    fn encode<T: Tape<f32, Cpu>>(
        &self,
        ids: &[u32],
        batch: usize,
        tape: T,
        _train: Option<u64>,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        let dev = self.embed.device().clone();
        let steps = ids.len() / batch;
        let first = &self.encoder.layers[0];
        let xw = embedded_linear(
            &self.embed,
            ids,
            None,
            None,
            (&first.w_ih, &first.bias),
            tape,
        );
        let h = self.encoder.forward_xw(xw, batch, steps);
        let last = h.gather(last_rows(&dev, batch, steps));
        linear(last, &self.stats_w, &self.stats_b)
    }

    fn decode<T: Tape<f32, Cpu>>(
        &self,
        z: Tensor<(usize, usize), f32, Cpu, T>,
        ids: &[u32],
        batch: usize,
        train: Option<u64>,
    ) -> Tensor<(usize, usize), f32, Cpu, T> {
        let dev = self.embed.device().clone();
        let steps = ids.len() / batch;
        let z = with_style_prior(z, self.style_prior.as_ref(), &self.cfg, ids, batch);
        let lifted = linear(z, &self.up_w, &self.up_b).relu();
        // One draw per position, as `word_mask` makes for the full-width mask.
        let keep = word_mask(&dev, (ids.len(), 1), self.cfg.word_dropout, train);
        let first = &self.decoder.layers[0];
        let xw = embedded_linear(
            &self.embed,
            ids,
            keep.map(|k| to_vec(&k)),
            Some((lifted, steps)),
            (&first.w_ih, &first.bias),
            T::default(),
        );
        let h = self.decoder.forward_xw(xw, batch, steps);
        linear(h, &self.out_w, &self.out_b)
    }

    fn params(&self) -> ParamsRef<'_, f32> {
        let mut out: ParamsRef<'_, f32> = vec![("embed".into(), &self.embed)];
        self.encoder.params("encoder", &mut out);
        out.push(("stats.w".into(), &self.stats_w));
        out.push(("stats.b".into(), &self.stats_b));
        out.push(("up.w".into(), &self.up_w));
        out.push(("up.b".into(), &self.up_b));
        self.decoder.params("decoder", &mut out);
        out.push(("out.w".into(), &self.out_w));
        out.push(("out.b".into(), &self.out_b));
        out.push(("bow.w".into(), &self.bow.0));
        out.push(("bow.b".into(), &self.bow.1));
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
        self.encoder.params_mut("encoder", &mut out);
        out.push(("stats.w".into(), &mut self.stats_w));
        out.push(("stats.b".into(), &mut self.stats_b));
        out.push(("up.w".into(), &mut self.up_w));
        out.push(("up.b".into(), &mut self.up_b));
        self.decoder.params_mut("decoder", &mut out);
        out.push(("out.w".into(), &mut self.out_w));
        out.push(("out.b".into(), &mut self.out_b));
        out.push(("bow.w".into(), &mut self.bow.0));
        out.push(("bow.b".into(), &mut self.bow.1));
        if let Some(p) = &mut self.style_prior {
            out.push(("style_prior".into(), p));
        }
        out
    }

    fn style_prior(&self) -> Option<&Mat<f32>> {
        self.style_prior.as_ref()
    }

    fn stream(&self) -> Box<dyn TokenStream> {
        let decoder = self.decoder.weights();
        let state = decoder.zero_state(1);
        Box::new(LstmStream {
            embed: self.embed.as_vec(),
            up_w: self.up_w.as_vec(),
            up_b: self.up_b.as_vec(),
            out_w: self.out_w.as_vec(),
            out_b: self.out_b.as_vec(),
            lifted: vec![0.0; self.cfg.embed],
            x: vec![0.0; self.cfg.embed],
            logits: vec![0.0; self.cfg.vocab],
            decoder,
            state,
            fed: 0,
            prior: StylePrior::of(&self.cfg, self.style_prior.as_ref()),
        })
    }
}

/// The VAE-LSTM's decoder on plain weights, carrying `(h, c)` from token to token forever.
pub struct LstmStream {
    embed: Vec<f32>,
    up_w: Vec<f32>,
    up_b: Vec<f32>,
    out_w: Vec<f32>,
    out_b: Vec<f32>,
    decoder: LstmWeights<f32>,
    state: LstmState<f32>,
    lifted: Vec<f32>,
    x: Vec<f32>,
    logits: Vec<f32>,
    fed: usize,
    prior: StylePrior,
}

/// What an [`LstmStream`] carries from token to token.
#[derive(Clone)]
struct LstmSaved {
    state: LstmState<f32>,
    lifted: Vec<f32>,
    logits: Vec<f32>,
    fed: usize,
}

impl TokenStream for LstmStream {
    fn save(&self) -> StreamState {
        StreamState::new(LstmSaved {
            state: self.state.clone(),
            lifted: self.lifted.clone(),
            logits: self.logits.clone(),
            fed: self.fed,
        })
    }

    fn restore(&mut self, saved: &StreamState) -> bool {
        let Some(s) = saved.get::<LstmSaved>() else {
            return false;
        };
        if s.lifted.len() != self.lifted.len()
            || s.logits.len() != self.logits.len()
            || s.state.h.len() != self.state.h.len()
            || s.state
                .h
                .iter()
                .zip(&self.state.h)
                .any(|(a, b)| a.len() != b.len())
        {
            return false;
        }
        self.state.clone_from(&s.state);
        self.lifted.copy_from_slice(&s.lifted);
        self.logits.copy_from_slice(&s.logits);
        self.fed = s.fed;
        true
    }

    fn set_head(&mut self, head: Option<u32>) {
        self.prior.set_head(head);
    }

    fn reset(&mut self, z: &[f32]) {
        let z = self.prior.apply(z);
        let e = self.lifted.len();
        self.lifted.copy_from_slice(&self.up_b);
        matmul_serial(
            (1, z.len(), e),
            z,
            false,
            &self.up_w,
            false,
            &mut self.lifted,
            true,
        );
        self.lifted.iter_mut().for_each(|x| *x = x.max(0.0));
        self.state = self.decoder.zero_state(1);
        self.fed = 0;
    }

    fn context_len(&self) -> usize {
        self.fed
    }

    fn step(&mut self, token: u32) -> &[f32] {
        let e = self.x.len();
        let v = self.logits.len();
        let row = (token as usize).min(v - 1) * e;
        for ((x, emb), lift) in self
            .x
            .iter_mut()
            .zip(&self.embed[row..row + e])
            .zip(&self.lifted)
        {
            *x = emb + lift;
        }
        self.fed += 1;
        let h = self.decoder.step(&self.x, &mut self.state);
        self.logits.copy_from_slice(&self.out_b);
        matmul_serial(
            (1, h.len(), v),
            h,
            false,
            &self.out_w,
            false,
            &mut self.logits,
            true,
        );
        &self.logits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelKind, Preset};

    /// A live step of `paper` sizes runs on the calling thread with buffers made at `reset`:
    /// in debug test builds `assert_no_alloc` aborts on any allocation inside it.
    #[test]
    fn a_paper_size_step_allocates_nothing() {
        let cfg = ModelConfig::preset(ModelKind::VaeLstm, Preset::Paper, 384);
        let model = VaeLstm::new(&cfg, &Cpu::default(), 0);
        let mut stream = model.stream();
        stream.reset(&vec![0.1; cfg.latent]);
        let mut sum = 0.0;
        assert_no_alloc::assert_no_alloc(|| {
            for t in 0..20u32 {
                sum += stream.step(t * 17 % 384)[0];
            }
        });
        assert!(sum.is_finite());
        assert_eq!(stream.context_len(), 20);
    }
}
