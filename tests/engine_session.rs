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
