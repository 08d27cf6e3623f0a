//! `improv generate` with a typed primer and the sliding-window mode, and the one-line error a
//! typo in the primer gives.

use std::path::Path;
use std::process::{Command, Output};

fn improv(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_improv"))
        .args(args)
        .env("IMPROV_HOME", home)
        .output()
        .unwrap()
}

#[test]
fn typed_primer_and_sliding_mode_write_a_piece() {
    let home = tempfile::tempdir().unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/vae-lstm-small");
    let out = home.path().join("typed.mid");
    let o = improv(
        home.path(),
        &[
            "generate",
            "--model",
            model.to_str().unwrap(),
            "--prime-notes",
            "c4 e4 g4/2 r c5:8 g4+b4:2",
            "--mode",
            "sliding",
            "--notes",
            "12",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["notes"], 12);
    // One bar line, five onsets (Pos), six notes of three tokens (Pitch, Dur, Vel).
    assert_eq!(v["primer_tokens"], 1 + 5 + 6 * 3, "{v}");
    let seq = improv::music::midi::read_file(&out).unwrap().seq;
    assert_eq!(seq.notes.len(), 12);

    let o = improv(
        home.path(),
        &[
            "generate",
            "--model",
            model.to_str().unwrap(),
            "--prime-notes",
            "c4 h4",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--prime-notes: column 4"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
