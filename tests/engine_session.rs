//! The engine through its API: a session saved and restored, a watched script re-run block by
//! block, errors that keep the previous state.

mod common;

use common::{bundled_model, engine, run, until};

use std::time::{Duration, Instant};

use improv::engine::{Command, Event};

#[test]
fn a_saved_session_comes_back() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    for line in [
        &format!("model load {}", bundled_model().display()),
        "tempo 96",
        "swing 0.25",
        "transpose -3",
        "scale D dorian",
        "temperature 0.7",
        "top-k 12",
        "seed 42",
        "latent reset",
        "preset save zero",
        "latent set 5 1.5",
        "latent nudge 5 0.25",
        "preset save up",
        "session save gig",
    ] {
        run(&e, line).unwrap();
    }
    let before = e.snapshot();
    assert_eq!(before.latent[5], 1.75);
    e.shutdown();
    assert!(home.path().join("sessions/gig.toml").is_file());

    let e = engine(home.path());
    run(&e, "session load gig").unwrap();
    let after = e.snapshot();
    assert_eq!(after.params, before.params);
    assert_eq!(after.sampling, before.sampling);
    assert_eq!(after.latent, before.latent);
    assert_eq!(after.selected_dims, [5]);
    assert_eq!(after.model.as_ref().map(|m| m.latent), Some(64));
    assert!(
        after.history.iter().any(|h| h == "latent set 5 1.5"),
        "{:?}",
        after.history
    );
    // A session that does not parse is one clear error.
    std::fs::write(home.path().join("sessions/bad.toml"), "tempo = [").unwrap();
    let err = run(&e, "session load bad").unwrap_err();
    assert!(
        err.starts_with("session load: ") && err.contains("bad.toml"),
        "{err}"
    );
}

#[test]
fn watch_reruns_changed_blocks_and_keeps_state_on_errors() {
    let home = tempfile::tempdir().unwrap();
    let script = home.path().join("live.improv");
    std::fs::write(&script, "tempo 100\nswing 0.1\n\ntranspose 2\n").unwrap();
    let e = engine(home.path());
    run(&e, &format!("watch {}", script.display())).unwrap();
    until(&e, "the first run", |s| {
        s.params.tempo == Some(100.0) && s.params.transpose == 2
    });

    // Only the changed block runs: transpose set by hand stays.
    run(&e, "transpose 5").unwrap();
    std::thread::sleep(Duration::from_millis(1100)); // a new mtime on coarse file systems
    std::fs::write(&script, "tempo 140\nswing 0.1\n\ntranspose 2\n").unwrap();
    let s = until(&e, "the changed block", |s| s.params.tempo == Some(140.0));
    assert_eq!(s.params.transpose, 5);

    // A block with an error changes nothing and says where.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(&script, "tempo 150\nswing lots\n\ntranspose 2\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut error = None;
    while error.is_none() && Instant::now() < deadline {
        if let Ok(Event::Error { text }) = e.events().recv_timeout(Duration::from_millis(100)) {
            error = Some(text);
        }
    }
    let error = error.expect("an error event");
    assert!(error.contains("live.improv line 2, column 7"), "{error}");
    assert_eq!(e.snapshot().params.tempo, Some(140.0));
    run(&e, "watch off").unwrap();
    assert_eq!(e.snapshot().watching, None);
}

#[test]
fn commands_fail_with_one_line_naming_the_command() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    for (line, start) in [
        ("train steps 5", "train: no corpus loaded"),
        ("play", "play: "),
        ("latent set 1 0", "latent: no model"),
        (
            "load corpus /nonexistent/folder",
            "load corpus: /nonexistent/folder is not a folder",
        ),
        ("preset save a", "preset: no model"),
        ("listen 4", "listen: no model"),
        ("loop 4", "loop 4: not playing"),
        ("mute bass", "mute bass: no layer called bass"),
        ("record stop", "record stop: not recording"),
    ] {
        let err = run(&e, line).unwrap_err();
        assert!(err.starts_with(start), "{line}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
    let _ = e.send(Command::Quit);
}

/// The session `a_saved_session_comes_back` writes, with one value replaced.
fn saved_session(home: &std::path::Path) -> String {
    let e = engine(home);
    run(&e, &format!("model load {}", bundled_model().display())).unwrap();
    run(&e, "tempo 96").unwrap();
    run(&e, "session save good").unwrap();
    e.shutdown();
    std::fs::read_to_string(home.join("sessions/good.toml")).unwrap()
}

#[test]
fn a_bad_session_changes_nothing_and_names_its_line_and_key() {
    let home = tempfile::tempdir().unwrap();
    let good = saved_session(home.path());
    let e = engine(home.path());
    for (from, to, want) in [
        (
            "tempo = 96.0",
            "tempo = 0.0",
            "player.tempo = 0: must be a tempo",
        ),
        ("tempo = 96.0", "tempo = nan", "player.tempo = NaN"),
        (
            "temperature = 1.0",
            "temperature = nan",
            "sampling.temperature = NaN",
        ),
        (
            "transpose = 0",
            "transpose = 0\nchannel = 200",
            "player.channel = 200",
        ),
    ] {
        assert!(good.contains(from), "{from} not in the saved session");
        let text = good.replacen(from, to, 1);
        std::fs::write(home.path().join("sessions/bad.toml"), &text).unwrap();
        let err = run(&e, "session load bad").unwrap_err();
        assert!(err.contains(want) && err.contains(": line "), "{to}: {err}");
        assert!(!err.contains('\n'), "{err}");
        // All or nothing: the model in the file was not loaded, the tempo not applied.
        let s = e.snapshot();
        assert!(
            s.model.is_none(),
            "{to}: the model was loaded before the error"
        );
        assert_ne!(s.params.tempo, Some(96.0));
    }
    std::fs::write(home.path().join("sessions/good.toml"), &good).unwrap();
    run(&e, "session load good").unwrap();
    assert_eq!(e.snapshot().params.tempo, Some(96.0));
}

#[test]
fn a_script_that_runs_itself_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let a = home.path().join("a.improv");
    let b = home.path().join("b.improv");
    std::fs::write(&a, format!("tempo 90\nrun {}\n", b.display())).unwrap();
    std::fs::write(&b, format!("swing 0.1\nrun {}\n", a.display())).unwrap();
    let e = engine(home.path());
    let err = run(&e, &format!("run {}", a.display())).unwrap_err();
    assert!(
        err.contains("runs itself") && err.contains("a.improv -> "),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
    // The engine is still there and answers.
    run(&e, "tempo 100").unwrap();
    // A watched file may not watch: it would re-run itself on every look.
    let w = home.path().join("w.improv");
    std::fs::write(&w, format!("watch {}\n", w.display())).unwrap();
    let id = e
        .run_line(&format!("watch {}", w.display()))
        .unwrap()
        .unwrap();
    let mut said = Vec::new();
    e.wait_for(id, |_| {}).unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) && said.is_empty() {
        while let Ok(ev) = e.events().try_recv() {
            if let Event::Error { text } = ev {
                said.push(text);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        said.iter()
            .any(|t| t.contains("`watch` is not allowed in a watched file")),
        "{said:?}"
    );
}

#[test]
fn a_failed_autosave_load_keeps_the_autosave() {
    let home = tempfile::tempdir().unwrap();
    let model = home.path().join("m");
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        std::fs::create_dir_all(to).unwrap();
        for f in std::fs::read_dir(from).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
        }
    };
    copy(
        &improv::model::checkpoint::resolve(&bundled_model()),
        &model,
    );
    let opts = || improv::engine::EngineOptions {
        home: home.path().to_path_buf(),
        autosave_every: Some(Duration::from_secs(3600)),
        realtime: false,
        ..Default::default()
    };
    let e = improv::engine::Engine::start(opts()).unwrap();
    run(&e, &format!("model load {}", model.display())).unwrap();
    run(&e, "tempo 111").unwrap();
    e.shutdown();
    let autosave = home.path().join("sessions/autosave.toml");
    let saved = std::fs::read_to_string(&autosave).unwrap();
    assert!(saved.contains("tempo = 111.0"));
    std::fs::rename(&model, home.path().join("m.moved")).unwrap();
    let e = improv::engine::Engine::start(opts()).unwrap();
    let err = run(&e, "session load autosave").unwrap_err();
    assert!(err.contains("model = "), "{err}");
    e.shutdown();
    assert_eq!(std::fs::read_to_string(&autosave).unwrap(), saved);
}

#[test]
fn a_take_cut_by_a_crash_is_recovered_at_the_next_start() {
    let home = tempfile::tempdir().unwrap();
    let take = home.path().join("take.mid");
    // What a kill -9 during `record start take.mid` leaves: the marker and the journal.
    let e = engine(home.path());
    run(&e, &format!("record start {}", take.display())).unwrap();
    let journal = improv::play::recorder::journal_path(&take);
    assert!(journal.is_file());
    std::fs::write(
        &journal,
        "improv-journal 1 bpm 120\n1.0 0 90 3c 64\n1.5 0 80 3c 00\n",
    )
    .unwrap();
    std::mem::forget(e); // no `record stop`, no shutdown
    let e = engine(home.path());
    let s = until(&e, "the recovery", |_| take.is_file());
    drop(s);
    let back = improv::music::midi::read_file(&take).unwrap();
    assert_eq!(back.seq.notes.len(), 1);
    assert!(!journal.exists());
    e.shutdown();
}

#[test]
fn a_loaded_model_shows_how_it_was_trained() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    run(&e, &format!("model load {}", bundled_model().display())).unwrap();
    let s = e.snapshot();
    let meta = improv::model::checkpoint::load_meta(&bundled_model()).unwrap();
    let epochs = meta.training["history"].as_array().unwrap().len();
    assert!(epochs > 0);
    assert_eq!(s.train.val_total.len(), epochs);
    let last = s.train.val_total.last().unwrap();
    assert_eq!(
        last.0 as usize,
        meta.training["step"].as_u64().unwrap() as usize
    );
    assert!(!s.train.running);
    e.shutdown();
}
