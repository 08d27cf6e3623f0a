//! Does the latent carry the genre? Per style, 10 pieces (16 bars, seeds 1-10) primed with the
//! style token and decoded from z = the mean posterior mean of that style's windows of
//! data/genres (+ SCALE x N(0, I)), classified by /tmp/g2/clf-sym-rf.json (BENCHMARKS.md).
//! `cargo run --example genre_by_latent -- MODEL [SCALE]`

use dfdx::prelude::Cpu;
use improv::analysis::classify::argmax;
use improv::analysis::genre::{self, Extractor, GenreModel};
use improv::corpus::{Corpus, LoadOptions};
use improv::generate::attributes::{encode_windows, VectorOptions};
use improv::generate::piece::style_primer;
use improv::generate::piece::{self, GenerateOptions};
use improv::model::checkpoint;
use improv::rng::Rng;

fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let (model, meta) = checkpoint::load(std::path::Path::new(&dir), &Cpu::default()).unwrap();
    let corpus = Corpus::load(
        std::path::Path::new("data/genres"),
        &LoadOptions::new(meta.tokenizer.clone()),
    )
    .unwrap();
    let clf = GenreModel::load(std::path::Path::new("/tmp/g2/clf-sym-rf.json")).unwrap();
    let ex = Extractor::for_kind(clf.features, clf.kind).unwrap();
    let enc = encode_windows(
        &model,
        &meta,
        &corpus,
        &VectorOptions {
            max_windows: 100_000,
            ..Default::default()
        },
    )
    .unwrap();
    let zd = enc.latent;
    let (mut tp, mut tt, mut n) = (0.0, 0, 0);
    for (t, style) in clf.labels.iter().enumerate() {
        let rows: Vec<usize> = (0..enc.len())
            .filter(|&i| enc.styles[i].as_deref() == Some(style.as_str()))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let mut mean = vec![0f32; zd];
        for &i in &rows {
            for (m, v) in mean.iter_mut().zip(enc.row(i)) {
                *m += v / rows.len() as f32;
            }
        }
        let primer = style_primer(&meta, style).unwrap();
        let (mut p, mut top) = (0.0, 0);
        for seed in 1..=10u64 {
            let noise = piece::sample_latent(zd, &mut Rng::new(seed));
            let scale: f32 = std::env::args()
                .nth(2)
                .map(|s| s.parse().unwrap())
                .unwrap_or(0.0);
            let z: Vec<f32> = mean
                .iter()
                .zip(&noise)
                .map(|(m, e)| m + scale * e)
                .collect();
            let opts = GenerateOptions {
                notes: None,
                bars: Some(16),
                seed,
                ..GenerateOptions::default()
            };
            let ids = piece::generate_ids(&model, &meta, &primer, &z, &opts).unwrap();
            let mut all = primer.clone();
            all.extend(ids);
            let seq = piece::decode(&meta, &all, 120.0);
            let pr = clf.proba(&genre::row_of_seq(&seq, &ex, std::path::Path::new("g")).unwrap());
            p += pr[t];
            top += (argmax(&pr) == t) as usize;
        }
        println!(
            "| {style} | {:.1} % | {top} of 10 | ({} windows)",
            10.0 * p,
            rows.len()
        );
        tp += p;
        tt += top;
        n += 10;
    }
    println!("| all | {:.1} % | {tt} of {n} |", 100.0 * tp / n as f64);
}
