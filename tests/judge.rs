//! Judging music on real data: the two-sample test must catch an n-gram sampler and must not
//! tell real from real, and a model's continuations of held-out primers are judged beside both.

use std::path::PathBuf;

use dfdx::prelude::Cpu;

use improv::corpus::{Corpus, LoadOptions, Split};
use improv::judge::{self, JudgeOptions};
use improv::model::checkpoint;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled VAE-LSTM and the corpus folder `data/DIR` in its tokens (no cache).
fn model_and_corpus(dir: &str) -> (improv::model::Model, checkpoint::CheckpointMeta, Corpus) {
    let (model, meta) =
        checkpoint::load(&root().join("models/vae-lstm-small"), &Cpu::default()).unwrap();
    let corpus = Corpus::load(
        &root().join("data").join(dir),
        &LoadOptions {
            cache_dir: None,
            ..LoadOptions::new(meta.tokenizer.clone())
        },
    )
    .unwrap();
    (model, meta, corpus)
}

#[test]
fn the_two_sample_test_catches_an_ngram_and_passes_real_against_real() {
    let (model, meta, corpus) = model_and_corpus("");
    let kn = judge::training_ngram(&corpus, &meta, 5, 0.1);
    // The bundled corpus holds out ~36 pieces; three-bar continuations (two two-bar spans each)
    // give enough excerpts.
    let opts = JudgeOptions {
        pieces: 140,
        bars: 3,
        ..JudgeOptions::default()
    };
    let j = judge::judge(&model, &meta, &corpus, &kn, &opts).unwrap();
    assert_eq!(j.excerpts, 140);
    assert!(
        j.ngram.accuracy >= 0.75,
        "n-gram caught {}",
        j.ngram.accuracy
    );
    assert!(
        (j.real_vs_real.accuracy - 0.5).abs() <= 0.1,
        "real against real {}",
        j.real_vs_real.accuracy
    );
    for c in [&j.copies.generated, &j.copies.held_out, &j.copies.ngram] {
        assert!(c.spans > 0 && (0.0..=1.0).contains(&c.share), "{c:?}");
    }
    assert!(j.copies.variety_held_out > 0.0);
    assert!(!j.sub_corpora.is_empty());
    assert_eq!(
        j.split.validation_pieces,
        corpus
            .pieces_in(Split::Validation, opts.val_fraction)
            .count()
    );
}

#[test]
fn too_few_held_out_excerpts_is_a_clear_error() {
    let (model, meta, corpus) = model_and_corpus("classical");
    let kn = judge::training_ngram(&corpus, &meta, 5, 0.1);
    let opts = JudgeOptions {
        pieces: 100_000,
        ..JudgeOptions::default()
    };
    let e = judge::judge(&model, &meta, &corpus, &kn, &opts).unwrap_err();
    assert!(
        e.to_string().contains("fewer than the 100000 asked for"),
        "{e}"
    );
}
