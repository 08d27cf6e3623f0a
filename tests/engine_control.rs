//! Performing controls through the engine without MIDI hardware: `synth patch NAME` picks the
//! General MIDI program, controller maps are listed, checked, and come back with the session.
//! (The maps and `clock in` driven by real MIDI messages: tests/engine_midi_control.rs.)

mod common;

use common::{bundled_model, engine, run};

use improv::engine::{EngineHandle, Event};

/// Runs a line and returns its log lines (or its error).
fn run_logged(e: &EngineHandle, line: &str) -> Result<Vec<String>, String> {
    let id = e.run_line(line).map_err(|p| p.to_string())?.unwrap();
    let mut logs = Vec::new();
    e.wait_for(id, |ev| {
        if let Event::Log { text, .. } = ev {
            logs.push(text.clone());
        }
    })?;
    Ok(logs)
}

#[test]
fn synth_patch_sets_the_program_by_name() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    assert_eq!(e.snapshot().params.program, None);
    let logs = run_logged(&e, "synth patch electric piano").unwrap();
    assert_eq!(logs, ["synth: patch 4 Electric Piano 1"]);
    assert_eq!(e.snapshot().params.program, Some(4));
    run(&e, "synth patch \"String Ensemble 2\"").unwrap();
    assert_eq!(e.snapshot().params.program, Some(49));
    run(&e, "synth patch strings").unwrap();
    assert_eq!(e.snapshot().params.program, Some(48));
    // A name the system's General MIDI SoundFont gives program 33.
    let logs = run_logged(&e, "synth patch fingered bass").unwrap();
    assert_eq!(logs, ["synth: patch 33 Electric Bass (finger)"]);

    let err = run(&e, "synth patch vibrafone").unwrap_err();
    assert!(
        err.starts_with(
            "synth patch: no General MIDI instrument called `vibrafone`; nearest: Vibraphone"
        ),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
    assert_eq!(
        e.snapshot().params.program,
        Some(33),
        "an error changes nothing"
    );
}

#[test]
fn maps_are_listed_checked_and_saved_with_the_session() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    run(&e, &format!("model load {}", bundled_model().display())).unwrap();
    let logs = run_logged(&e, "map").unwrap();
    assert!(logs[0].starts_with("map: no controller maps"), "{logs:?}");

    run(&e, "map 74 latent 3").unwrap();
    run(&e, "map 1 tempo 60 180").unwrap();
    run(&e, "map 7 temperature").unwrap();
    run(&e, "map 7 off").unwrap();
    run(&e, "map 71 temperature 0.5 1.5").unwrap();
    let maps = e.snapshot().maps;
    assert_eq!(
        maps,
        [
            (1, "tempo".to_string()),
            (71, "temperature".to_string()),
            (74, "latent 3".to_string())
        ]
    );
    let logs = run_logged(&e, "map").unwrap();
    assert!(logs[0].contains("cc 1 -> tempo (60..180)"), "{logs:?}");

    for (line, start) in [
        ("map 7 off", "map 7 off: cc 7 is not mapped"),
        (
            "map 20 latent 64",
            "map 20: latent 64: the model has 64 dimensions",
        ),
        ("map 20 temperature 0 1", "map 20: range 0..1 is outside"),
        ("clock in no-such-port-here", "clock in: "),
    ] {
        let err = run(&e, line).unwrap_err();
        assert!(err.starts_with(start), "{line}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
    assert_eq!(e.snapshot().maps, maps, "errors change no map");

    run(&e, "session save knobs").unwrap();
    let text = std::fs::read_to_string(home.path().join("sessions/knobs.toml")).unwrap();
    assert!(text.contains("74 = \"latent 3 -3 3\""), "{text}");
    e.shutdown();

    let e = engine(home.path());
    run(&e, "session load knobs").unwrap();
    assert_eq!(e.snapshot().maps, maps);
    let logs = run_logged(&e, "map").unwrap();
    assert!(
        logs[0].contains("cc 71 -> temperature (0.5..1.5)"),
        "{logs:?}"
    );
}

#[test]
fn the_soundfonts_preset_names_are_read_and_found() {
    let path = improv::analysis::render::SOUNDFONTS
        .iter()
        .map(std::path::Path::new)
        .find(|p| p.is_file())
        .expect("a General MIDI SoundFont (apt-get install timgm6mb-soundfont)");
    let ours = improv::music::sf2::read_presets(path).unwrap();
    // rustysynth reads the whole file, samples and all: the same presets.
    let font = rustysynth::SoundFont::new(&mut std::fs::File::open(path).unwrap()).unwrap();
    let mut theirs: Vec<(u16, u16, String)> = font
        .get_presets()
        .iter()
        .map(|p| {
            let n = p.get_name().trim().to_string();
            (p.get_bank_number() as u16, p.get_patch_number() as u16, n)
        })
        .collect();
    let mut mine: Vec<(u16, u16, String)> = ours
        .iter()
        .map(|p| (p.bank, p.program, p.name.clone()))
        .collect();
    theirs.sort();
    mine.sort();
    assert_eq!(mine, theirs);

    let presets: Vec<(u8, String)> = ours
        .iter()
        .filter(|p| p.bank == 0 && p.program < 128)
        .map(|p| (p.program as u8, p.name.clone()))
        .collect();
    assert!(presets.len() >= 128, "{} bank-0 presets", presets.len());
    for (program, name) in &presets {
        let got = improv::music::gm::find_patch_in(name, &presets).map(|(p, _)| p);
        assert_eq!(got, Ok(*program), "{name:?}");
    }
}

#[test]
fn attribute_vectors_are_computed_again_for_another_model_or_corpus() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    let computes = |line: &str| {
        run_logged(&e, line)
            .unwrap()
            .iter()
            .filter(|l| l.contains("computing attribute vectors"))
            .count()
    };
    run(
        &e,
        &format!("load corpus {}", data.join("classical").display()),
    )
    .unwrap();
    run(&e, "wait jobs").unwrap();
    run(&e, "model new vae-lstm tiny").unwrap();
    assert_eq!(computes("latent add density 1"), 1);
    // The same model at the same step on the same corpus: the vectors are reused.
    assert_eq!(computes("latent add density 1"), 0);
    // Both were reused at step 0 before: vectors of one corpus or model stood for another.
    run(&e, &format!("load corpus {}", data.join("folk").display())).unwrap();
    run(&e, "wait jobs").unwrap();
    assert_eq!(computes("latent add density 1"), 1);
    run(&e, "model new vae-lstm tiny").unwrap();
    assert_eq!(computes("latent add density 1"), 1);
}
