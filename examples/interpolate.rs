//! Encode two MIDI files with a bundled model (each the mean latent of its windows) and write the
//! interpolation between them: two bars from each of the `STEPS` latents of a spherical
//! interpolation schedule from the first piece's latent to the second's.
//!
//!     cargo run --release --example interpolate -- A.mid B.mid OUT.mid
//!
//! Without arguments it interpolates from a Bach chorale to an Irish jig of the bundled corpus.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use dfdx::prelude::Cpu;
use improv::generate::latent::{encode_seed, Interpolation};
use improv::generate::piece::{self, GenerateOptions};
use improv::model::checkpoint;
use improv::music::{midi, Note, NoteSeq};

const STEPS: usize = 6;

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let (a, b, out) = match args.as_slice() {
        [a, b, out] => (a.clone(), b.clone(), out.clone()),
        _ => (
            root.join("data/classical/bach/bach__bwv1.6.mid"),
            root.join("data/folk/oneills1850/0001-005020.mid"),
            PathBuf::from("interpolation.mid"),
        ),
    };
    let (model, meta) = checkpoint::load(&root.join("models/vae-lstm-small"), &Cpu::default())?;
    let tokenizer = meta.tokenizer.build();
    let latent_of = |path: &Path| -> Result<(Vec<f32>, Vec<u32>)> {
        let seq = midi::read_file(path)?.seq;
        let tokens = tokenizer.encode(&seq, None).context("tokenize")?;
        let ids = meta.vocab.encode(&tokens).0;
        let z = encode_seed(&model, &ids, meta.model.window)
            .with_context(|| format!("{}: too short to encode", path.display()))?;
        Ok((z, ids))
    };
    let (za, ids_a) = latent_of(&a)?;
    let (zb, _) = latent_of(&b)?;
    let mut notes: Vec<Note> = Vec::new();
    let mut offset = 0.0;
    let schedule = Interpolation::new(za, zb, STEPS - 1)?.schedule();
    for (step, z) in schedule.iter().enumerate() {
        let opts = GenerateOptions {
            notes: None,
            bars: Some(2),
            seed: step as u64,
            ..GenerateOptions::default()
        };
        let ids = piece::generate_ids(
            &model,
            &meta,
            &ids_a[ids_a.len().saturating_sub(8)..],
            z,
            &opts,
        )?;
        let part = piece::decode(&meta, &ids, 110.0);
        notes.extend(part.notes.iter().map(|n| Note {
            start: n.start + offset,
            ..*n
        }));
        offset += part.end.max(1.0);
    }
    let seq = NoteSeq::from_notes(notes, 110.0);
    midi::write_file(&seq, &out)?;
    println!(
        "{} -> {}: {STEPS} steps, {} notes, {:.1} s in {}",
        a.display(),
        b.display(),
        seq.notes.len(),
        seq.duration_secs(),
        out.display()
    );
    Ok(())
}
