//! A style through the engine with the bundled genre model: `style NAME` says the style's tempo,
//! and `gen ... style NAME` needs no corpus (the model's style token primes it) and keeps to the
//! style's instruments.

mod common;

use std::path::PathBuf;

use common::{engine, run};
use improv::engine::Event;

fn genre_model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/vae-lstm-genre-small")
}

#[test]
fn a_style_names_its_tempo_and_its_pieces_keep_to_its_instruments() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    run(&e, &format!("model load {}", genre_model().display())).unwrap();
    let id = e.run_line("style reggae").unwrap().unwrap();
    let mut logs = Vec::new();
    e.wait_for(id, |ev| {
        if let Event::Log { text, .. } = ev {
            logs.push(text.clone());
        }
    })
    .unwrap();
    let meta = improv::model::checkpoint::load_meta(&genre_model()).unwrap();
    let reggae = &meta.styles["reggae"];
    let said = format!("{:.0} bpm", reggae.bpm);
    assert!(
        logs.iter().any(|l| l.contains(&said)),
        "{logs:?} should say {said}"
    );

    let out = home.path().join("reggae.mid");
    run(
        &e,
        &format!("gen bars 8 style reggae out {}", out.display()),
    )
    .unwrap();
    let read = improv::music::midi::read_file(&out).unwrap();
    let allowed = common::style_programs(&meta, "reggae");
    let pitched: Vec<_> = read
        .seq
        .notes
        .iter()
        .filter(|n| n.channel != improv::music::DRUM_CHANNEL)
        .collect();
    assert!(!pitched.is_empty(), "no pitched notes in 8 bars");
    for n in &pitched {
        assert!(allowed.contains(&n.program), "program {}", n.program);
    }
}
