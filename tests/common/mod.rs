//! Helpers shared by the integration tests: an engine driven through its API, the bundled
//! model, and labelled genre clips. Each test binary uses only some of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use improv::analysis::genre::{self, Item};
use improv::engine::{Engine, EngineHandle, EngineOptions, Snapshot};

/// An engine with its state under `home`, no autosave timer and no real-time threads.
pub fn engine(home: &Path) -> EngineHandle {
    Engine::start(EngineOptions {
        home: home.to_path_buf(),
        autosave_every: None,
        realtime: false,
        ..EngineOptions::default()
    })
    .unwrap()
}

/// Runs one command line and waits until it is done; the error is the engine's one line.
pub fn run(e: &EngineHandle, line: &str) -> Result<(), String> {
    let id = e.run_line(line).map_err(|p| p.to_string())?.unwrap();
    e.wait_for(id, |_| {})
}

pub fn bundled_model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/vae-lstm-small")
}

/// Polls the snapshot until `ok` holds or 20 s pass.
pub fn until(e: &EngineHandle, what: &str, ok: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let start = Instant::now();
    loop {
        let s = e.snapshot();
        if ok(&s) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}: {:?} {:?}",
            s.transport,
            s.live
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The first bundled file of grooves `0..grooves` of each genre: fold i holds out groove i.
pub fn first_of_grooves(genres: &[&str], grooves: usize) -> Vec<Item> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let all = genre::discover(&data, None).unwrap();
    let mut out = Vec::new();
    for &g in genres {
        for fold in 0..grooves {
            let it = all
                .iter()
                .find(|i| i.label == g && i.fold == fold)
                .unwrap_or_else(|| panic!("no {g} groove {fold}"));
            out.push(it.clone());
        }
    }
    out
}

/// The General MIDI programs of `style`'s palette in a checkpoint (its program tokens).
pub fn style_programs(meta: &improv::model::checkpoint::CheckpointMeta, style: &str) -> Vec<u8> {
    meta.styles[style]
        .instruments
        .iter()
        .filter_map(|&id| match meta.vocab.token(id) {
            Some(improv::music::tokens::Token::Program(p)) => Some(*p),
            _ => None,
        })
        .collect()
}
