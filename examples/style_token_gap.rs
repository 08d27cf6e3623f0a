//! Does the decoder use the style token? Validation loss of a style-conditioned model with each
//! window's true style token in front, and with a wrong one (styles rotated by 1, 3, 5).
//! `cargo run --example style_token_gap -- MODEL`

use dfdx::prelude::Cpu;
use improv::corpus::{Corpus, LoadOptions, Split};
use improv::model::checkpoint;
use improv::music::tokens::Token;
use improv::train::eval::validate;

fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let (model, meta) = checkpoint::load(std::path::Path::new(&dir), &Cpu::default()).unwrap();
    let corpus = Corpus::load(
        std::path::Path::new("data/genres"),
        &LoadOptions::new(meta.tokenizer.clone()),
    )
    .unwrap();
    let w = meta.model.window;
    let val = corpus.windows(&meta.vocab, Split::Validation, 0.1, w, w, 0);
    let styles: Vec<u32> = (0..meta.vocab.len() as u32)
        .filter(|&i| matches!(meta.vocab.token(i), Some(Token::Style(_))))
        .collect();
    let base = validate(&model, &val, 64, 2000, 1);
    println!(
        "true style: recon {:.4} acc {:.4} ({} windows)",
        base.recon, base.accuracy, base.windows
    );
    for shift in [1, 3, 5] {
        let mut v = val.clone();
        for i in 0..v.count() {
            let k = styles.iter().position(|&s| s == v.ids[i * v.len]).unwrap();
            v.ids[i * v.len] = styles[(k + shift) % styles.len()];
        }
        let m = validate(&model, &v, 64, 2000, 1);
        println!(
            "wrong style (+{shift}): recon {:.4} acc {:.4}",
            m.recon, m.accuracy
        );
    }
}
