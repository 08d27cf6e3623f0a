//! Style-conditioned generation and genre fidelity with the bundled genre model
//! (models/vae-lstm-genre-small, trained on data/genres with style tokens).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use dfdx::prelude::Cpu;
use improv::analysis::classify::Kind;
use improv::analysis::fidelity::{self, FidelityOptions};
use improv::analysis::genre::{self, Extractor, Features, GenreModel};
use improv::model::checkpoint;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate(model: &Path, style: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_improv"))
        .args(["generate", "--model"])
        .arg(model)
        .args(["--style", style, "--bars", "2", "--out"])
        .arg(dir.path().join("x.mid"))
        .env("IMPROV_HOME", dir.path())
        .output()
        .unwrap()
}

#[test]
fn style_flag_errors_name_the_problem() {
    let out = generate(&root().join("models/vae-lstm-small"), "jazz");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no style tokens"), "{err}");
    let out = generate(&root().join("models/vae-lstm-genre-small"), "polka");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"polka\"") && err.contains("jazz") && err.contains("metal"),
        "{err}"
    );
    let out = generate(&root().join("models/vae-lstm-genre-small"), "jazz");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fidelity_gives_one_row_per_style_with_probabilities() {
    let (vae, meta) =
        checkpoint::load(&root().join("models/vae-lstm-genre-small"), &Cpu::default()).unwrap();
    let styles = improv::generate::piece::styles(&meta);
    assert_eq!(styles.len(), 10);
    // A symbolic kNN on the bundled genre files (no rendering keeps the test fast).
    let items = genre::discover(&root().join("data/genres"), Some(4)).unwrap();
    let (items, rows, _) = genre::rows(items, &Extractor::new(Features::Symbolic).unwrap());
    let labels: Vec<String> = items.iter().map(|i| i.label.clone()).collect();
    let clf = GenreModel::fit(&rows, &labels, Features::Symbolic, Kind::Knn, 1);
    let opts = FidelityOptions {
        samples: 1,
        bars: 2,
        ceiling: Some(root().join("data/genres")),
        ceiling_pieces: 1,
        ..FidelityOptions::default()
    };
    let out = fidelity::fidelity(&vae, &meta, &clf, &opts).unwrap();
    assert_eq!(
        out.iter().map(|r| r.style.clone()).collect::<Vec<_>>(),
        styles
    );
    for r in &out {
        assert_eq!(r.generated.pieces, 1);
        for s in std::iter::once(&r.generated).chain(r.ceiling.as_ref()) {
            assert!((0.0..=1.0).contains(&s.mean_probability), "{r:?}");
            assert!(s.top_share == 0.0 || s.top_share == 1.0, "{r:?}");
        }
    }
    assert!(out.iter().any(|r| r.ceiling.is_some()));
}

/// Generates `bars` bars of `style` with the bundled genre model into a MIDI file and reads it
/// back.
fn generate_style(style: &str, extra: &[&str]) -> improv::music::midi::MidiRead {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.mid");
    let status = Command::new(env!("CARGO_BIN_EXE_improv"))
        .args(["generate", "--model"])
        .arg(root().join("models/vae-lstm-genre-small"))
        .args(["--style", style, "--bars", "8", "--seed", "3", "--out"])
        .arg(&out)
        .args(extra)
        .env("IMPROV_HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    improv::music::midi::read_file(&out).unwrap()
}

#[test]
fn a_style_plays_at_its_training_tempo_on_its_own_instruments() {
    let meta = checkpoint::load_meta(&root().join("models/vae-lstm-genre-small")).unwrap();
    // The model keeps every style's palette and tempo, measured on its training pieces of
    // data/genres (whose manifest gives hip-hop 80-99 bpm and jazz 112-213).
    assert_eq!(meta.styles.len(), 10);
    let hiphop = &meta.styles["hiphop"];
    assert!((80.0..100.0).contains(&hiphop.bpm), "{}", hiphop.bpm);
    assert!(meta.styles["jazz"].bpm > 150.0);
    let allowed = common::style_programs(&meta, "hiphop");
    let read = generate_style("hiphop", &[]);
    let bpm = read.seq.tempo.bpm_at(0.0);
    assert!((bpm - hiphop.bpm).abs() < 0.5, "{bpm} vs {}", hiphop.bpm);
    let pitched: Vec<_> = read
        .seq
        .notes
        .iter()
        .filter(|n| n.channel != improv::music::DRUM_CHANNEL)
        .collect();
    assert!(!pitched.is_empty());
    // Also the first notes: hip-hop has no piano, so a pitch waits for a program token of the
    // palette instead of taking General MIDI's default program 0.
    for n in &pitched {
        assert!(
            allowed.contains(&n.program),
            "program {} is not among hip-hop's {allowed:?}",
            n.program
        );
    }
    // `--tempo` overrides the style's; `--any-instrument` lifts the palette (the same seed
    // then strays from it somewhere in 8 bars, or the palette would be doing nothing).
    let free = generate_style("hiphop", &["--tempo", "100", "--any-instrument"]);
    assert!((free.seq.tempo.bpm_at(0.0) - 100.0).abs() < 0.5);
    assert!(
        free.seq
            .notes
            .iter()
            .filter(|n| n.channel != improv::music::DRUM_CHANNEL)
            .any(|n| !allowed.contains(&n.program)),
        "no note outside the palette without it"
    );
}

#[test]
fn the_checkpoints_styles_are_what_its_training_pieces_say() {
    let meta = checkpoint::load_meta(&root().join("models/vae-lstm-genre-small")).unwrap();
    let corpus = improv::corpus::Corpus::load(
        &root().join("data/genres"),
        &improv::corpus::LoadOptions::new(meta.tokenizer.clone()),
    )
    .unwrap();
    // The bundled checkpoint predates the grouped split: its training pieces are those of the
    // old per-path split, which is the grouped split with every piece its own group.
    let mut by_path = corpus.clone();
    for p in &mut by_path.pieces {
        p.group = p.path.clone();
    }
    let infos = improv::generate::palette::style_infos(&by_path, &meta.vocab, 0.1);
    assert_eq!(infos, meta.styles);
    // Under the grouped split some styles' training pieces differ, and so would their palettes.
    assert_ne!(
        improv::generate::palette::style_infos(&corpus, &meta.vocab, 0.1),
        meta.styles
    );
}
