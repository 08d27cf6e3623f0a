//! `improv render`, `improv play` and `improv ports` as a user runs them, on bundled MIDI files.
//! Without a sound card or sequencer (as on CI) opening a port or the audio device is one line.

use std::process::Command;

fn improv(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_improv"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const FILE: &str = "data/genres/jazz";

fn a_jazz_file() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FILE);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "mid"))
        .collect();
    files.sort();
    files[0].display().to_string()
}

#[test]
fn render_writes_a_wav_of_the_pieces_length() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.wav");
    let file = a_jazz_file();
    let (ok, _, err) = improv(&[
        "render",
        &file,
        "--out",
        out.to_str().unwrap(),
        "--transpose",
        "-2",
    ]);
    assert!(ok, "{err}");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    let seq = improv::music::midi::read_file(std::path::Path::new(&file))
        .unwrap()
        .seq;
    let secs = (bytes.len() - 44) as f64 / (48_000.0 * 2.0 * 2.0);
    assert!((secs - seq.duration_secs() - 1.5).abs() < 0.2, "{secs} s");
    assert!(err.contains("rendered"), "{err}");
}

#[test]
fn bad_input_is_one_line_naming_the_file_or_command() {
    let (ok, _, err) = improv(&["play", "no/such.mid", "--synth"]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("improv: no/such.mid: cannot read"), "{err}");
    let (ok, _, err) = improv(&["play", &a_jazz_file()]);
    assert!(!ok);
    assert!(err.contains("improv play: say where to play"), "{err}");
    let (ok, _, err) = improv(&["render", "Cargo.toml", "--out", "/tmp/x.wav"]);
    assert!(!ok);
    assert!(
        err.starts_with("improv: Cargo.toml: not a MIDI file"),
        "{err}"
    );
}

#[cfg(not(feature = "jack"))]
#[test]
fn without_devices_ports_and_play_fail_in_one_line() {
    if std::path::Path::new("/dev/snd").exists() {
        return; // a machine with sound hardware: nothing to check here
    }
    for args in [
        vec!["ports"],
        vec!["play", FILE, "--virtual"],
        vec!["play", FILE, "--port", "0"],
        vec!["play", FILE, "--synth"],
    ] {
        let file = a_jazz_file();
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == FILE { file.as_str() } else { a })
            .collect();
        let (ok, _, err) = improv(&args);
        assert!(!ok, "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("cannot open"), "{args:?}: {err}");
    }
}

#[test]
fn play_records_a_file_without_any_device() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("take.mid");
    let file = a_jazz_file();
    let (ok, _, err) = improv(&[
        "play",
        &file,
        "--record",
        rec.to_str().unwrap(),
        "--tempo",
        "1000",
    ]);
    assert!(ok, "{err}");
    let played = improv::music::midi::read_file(std::path::Path::new(&file))
        .unwrap()
        .seq;
    let got = improv::music::midi::read_file(&rec).unwrap().seq;
    assert_eq!(got.notes.len(), played.notes.len(), "{err}");
    assert!(err.contains("recorded"), "{err}");
}
