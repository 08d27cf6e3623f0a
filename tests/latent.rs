//! Latent steering with the bundled LSTM: attribute vectors from the bundled corpus, the density
//! vector moves generated density the intended way, add/encode errors name the problem, and the
//! vectors come back from the cache unchanged.

use std::path::Path;

use dfdx::prelude::Cpu;
use improv::analysis::attributes::NoteAttribute;
use improv::corpus::{Corpus, LoadOptions};
use improv::generate::attributes::{self, VectorOptions};
use improv::generate::latent::{self, LatentError};
use improv::generate::piece::{self, GenerateOptions};
use improv::model::checkpoint;
use improv::rng::Rng;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_density_vector_moves_density_and_vectors_are_cached() {
    let (model, meta) =
        checkpoint::load(&root().join("models/vae-lstm-small"), &Cpu::default()).unwrap();
    let corpus = Corpus::load(
        &root().join("data"),
        &LoadOptions::new(meta.tokenizer.clone()),
    )
    .unwrap();
    let opts = VectorOptions {
        max_windows: 384,
        ..VectorOptions::default()
    };
    let home = tempfile::tempdir().unwrap();
    let first = attributes::load_or_compute(&model, &meta, &corpus, &opts, home.path()).unwrap();
    assert!(!first.from_cache && first.warning.is_none());
    let v = &first.vectors;
    assert_eq!(v.windows, 384);
    let names = v.names();
    for a in NoteAttribute::ALL {
        assert!(names.contains(&a.name()), "{names:?}");
    }
    // The bundled corpus labels its MMA genres, O'Neill's tunes and the chorales.
    assert!(
        names.contains(&"style:jazz") && names.contains(&"style:folk"),
        "{names:?}"
    );
    let density = v.get("density").unwrap();
    assert!(density.high > density.low && density.sd > 0.0);
    let norm: f32 = density.direction.iter().map(|d| d * d).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4);

    let again = attributes::load_or_compute(&model, &meta, &corpus, &opts, home.path()).unwrap();
    assert!(again.from_cache);
    assert_eq!(&again.vectors, v);

    // Three starting latents, each generated at -2 and +2 SD with the same sampling seed.
    let primer = piece::empty_primer(&meta);
    for seed in 0..3 {
        let start = piece::sample_latent(meta.model.latent, &mut Rng::new(seed));
        let at = |amount: f32| {
            let mut z = start.clone();
            latent::add_attribute(&mut z, v, "density", amount).unwrap();
            let o = GenerateOptions {
                notes: None,
                bars: Some(4),
                seed,
                ..GenerateOptions::default()
            };
            let ids = piece::generate_ids(&model, &meta, &primer, &z, &o).unwrap();
            attributes_density(&piece::decode(&meta, &ids, 120.0))
        };
        let (lo, hi) = (at(-2.0), at(2.0));
        assert!(hi > lo, "seed {seed}: density {lo} at -2 SD, {hi} at +2 SD");
    }

    let mut z = vec![0.0; meta.model.latent];
    let e = latent::add_attribute(&mut z, v, "loudness", 1.0).unwrap_err();
    assert!(
        matches!(&e, LatentError::UnknownAttribute { name, known } if name == "loudness" && known.contains("density")),
        "{e}"
    );
    let e = latent::add_attribute(&mut z[..10].to_vec(), v, "density", 1.0).unwrap_err();
    assert_eq!(
        e,
        LatentError::Size {
            got: 10,
            want: meta.model.latent
        }
    );
}

fn attributes_density(seq: &improv::music::NoteSeq) -> f64 {
    NoteAttribute::Density.measure(seq)
}

#[test]
fn encoding_a_file_averages_its_windows() {
    let (model, meta) =
        checkpoint::load(&root().join("models/vae-lstm-small"), &Cpu::default()).unwrap();
    let path = root().join("data/classical/bach/bach__bwv1.6.mid");
    let z = latent::encode_file(&model, &meta, &path).unwrap();
    assert_eq!(z.len(), meta.model.latent);
    // By hand: the mean of the posterior means of the file's whole windows.
    let seq = improv::music::midi::read_file(&path).unwrap().seq;
    let ids = meta
        .vocab
        .encode(&meta.tokenizer.build().encode(&seq, None).unwrap())
        .0;
    let w = meta.model.window;
    let n = ids.len() / w;
    assert!(n >= 2, "{} tokens", ids.len());
    let mut mean = vec![0.0f32; z.len()];
    for k in 0..n {
        let m = latent::encode_mean(&model, &ids[k * w..(k + 1) * w], w).unwrap();
        mean.iter_mut()
            .zip(&m)
            .for_each(|(a, b)| *a += b / n as f32);
    }
    assert!(z.iter().zip(&mean).all(|(a, b)| (a - b).abs() < 1e-4));
    let missing = root().join("data/none.mid");
    let e = latent::encode_file(&model, &meta, &missing).unwrap_err();
    assert!(e.to_string().contains("none.mid"), "{e}");
}
