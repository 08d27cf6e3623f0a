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

#[test]
fn the_two_sample_test_catches_an_ngram_and_passes_real_against_real() {
    let dir = root().join("models/vae-lstm-small");
    let (model, meta) = checkpoint::load(&dir, &Cpu::default()).unwrap();
    let corpus = Corpus::load(
        &root().join("data"),
        &LoadOptions {
            cache_dir: None,
            ..LoadOptions::new(meta.tokenizer.clone())
        },
    )
    .unwrap();
    // The bundled corpus holds out ~36 pieces; three-bar continuations (two two-bar spans each)
    // give enough excerpts.
    let opts = JudgeOptions {
        pieces: 140,
        bars: 3,
        ..JudgeOptions::default()
    };
    let j = judge::judge(&model, &meta, &corpus, &opts).unwrap();
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
    let dir = root().join("models/vae-lstm-small");
    let (model, meta) = checkpoint::load(&dir, &Cpu::default()).unwrap();
    let corpus = Corpus::load(
        &root().join("data/classical"),
        &LoadOptions {
            cache_dir: None,
            ..LoadOptions::new(meta.tokenizer.clone())
        },
    )
    .unwrap();
    let opts = JudgeOptions {
        pieces: 100_000,
        ..JudgeOptions::default()
    };
    let e = judge::judge(&model, &meta, &corpus, &opts).unwrap_err();
    assert!(
        e.to_string().contains("fewer than the 100000 asked for"),
        "{e}"
    );
}
