//! Train a small VAE-LSTM on a few bundled folk tunes for a short run with the library's
//! `Trainer`, then generate a piece from it and write a MIDI file.
//!
//!     cargo run --release --example train_and_generate -- [OUT.mid] [STEPS]
//!
//! The model is saved under `target/example-model/` (`best/` and `last/`); point
//! `improv generate --model target/example-model` at it to generate more.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use dfdx::prelude::Cpu;
use improv::corpus::{Corpus, LoadOptions, Split};
use improv::generate::palette::style_infos;
use improv::generate::piece::{self, GenerateOptions};
use improv::model::{checkpoint, Model, ModelConfig, ModelKind, Preset};
use improv::music::midi;
use improv::music::tokens::TokenizerConfig;
use improv::rng::Rng;
use improv::train::{
    corpus_fingerprint, OutSpec, TrainConfig, TrainData, TrainEvent, TrainJob, Trainer,
};

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "generated.mid".into()));
    let steps: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(150);

    // Forty O'Neill tunes, event tokens.
    let tokenizer = TokenizerConfig::by_name("event").unwrap_or_default();
    let mut load = LoadOptions::new(tokenizer.clone());
    load.limit = Some(40);
    let corpus = Corpus::load(&root.join("data/folk/oneills1850"), &load)?;
    let vocab = corpus.vocab();
    let cfg = ModelConfig::preset(ModelKind::VaeLstm, Preset::Small, vocab.len());
    let window = cfg.window;
    let val_fraction = 0.1;
    let data = TrainData {
        train: corpus.windows(&vocab, Split::Train, val_fraction, window, window / 2, 2),
        val: corpus.windows(&vocab, Split::Validation, val_fraction, window, window, 0),
    };
    if data.train.count() == 0 || data.val.count() == 0 {
        bail!(
            "too few windows of {window} tokens in {} pieces",
            corpus.pieces.len()
        );
    }
    println!(
        "{} tunes: {} training and {} validation windows of {window} tokens",
        corpus.pieces.len(),
        data.train.count(),
        data.val.count()
    );
    let dir = root.join("target/example-model");
    let config = TrainConfig {
        epochs: 100,
        max_steps: Some(steps),
        batch: 32,
        warmup: 20,
        val_windows: 256,
        log_every: 25,
        ..TrainConfig::default()
    };
    let trainer = Trainer::spawn(TrainJob {
        model: Model::build(&cfg, &Cpu::default(), 0).map_err(anyhow::Error::msg)?,
        config,
        data,
        out: Some(OutSpec {
            dir: dir.clone(),
            tokenizer,
            styles: style_infos(&corpus, &vocab, 0.1),
            vocab,
            corpus: corpus_fingerprint(&corpus),
        }),
        resume: None,
        baseline_kn: None,
    })?;
    for event in trainer.events.iter() {
        match event {
            TrainEvent::Step {
                step,
                recon_per_token,
                kl,
                ..
            } => {
                println!("step {step}: reconstruction {recon_per_token:.3} nats/token, KL {kl:.2}")
            }
            TrainEvent::Epoch { epoch, val, .. } => println!(
                "epoch {epoch}: validation -ELBO {:.3} nats/token, accuracy {:.3}",
                val.nelbo, val.accuracy
            ),
            _ => {}
        }
    }
    let outcome = trainer.join()?;
    println!(
        "trained {} steps; best validation -ELBO {:.4} nats/token",
        outcome.state.step,
        outcome.state.best_nelbo.unwrap_or(f64::NAN)
    );

    // Generate eight bars from a latent drawn from the prior.
    let (model, meta) = checkpoint::load(&checkpoint::resolve(&dir), &Cpu::default())?;
    let z = piece::sample_latent(meta.model.latent, &mut Rng::new(7));
    let opts = GenerateOptions {
        notes: None,
        bars: Some(8),
        seed: 7,
        ..GenerateOptions::default()
    };
    let ids = piece::generate_ids(&model, &meta, &piece::empty_primer(&meta), &z, &opts)?;
    let seq = piece::decode(&meta, &ids, 110.0);
    midi::write_file(&seq, &out)?;
    println!(
        "{}: {} notes, {:.1} s ({} tokens)",
        out.display(),
        seq.notes.len(),
        seq.duration_secs(),
        ids.len()
    );
    Ok(())
}
