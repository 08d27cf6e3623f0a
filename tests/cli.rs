//! The `improv` binary as a user runs it: corpus commands on the bundled corpus, and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

fn improv(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_improv"))
        .args(args)
        .env("IMPROV_HOME", home)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn corpus_stats_of_the_bundled_corpus_as_json() {
    let home = tempfile::tempdir().unwrap();
    let o = improv(home.path(), &["corpus", "stats", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["files"], 560);
    assert_eq!(v["files_read"], 560);
    assert_eq!(v["files_failed"], 0);
    assert!(v["notes"].as_u64().unwrap() > 100_000);
    assert!(v["vocab"].as_u64().unwrap() > 300);
    assert_eq!(v["styles"].as_array().unwrap().len(), 12);
    // The token cache went to IMPROV_HOME and serves the second run.
    let again = improv(home.path(), &["corpus", "stats", "--json"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&again).trim()).unwrap();
    assert_eq!(v["cached"], 560);
}

#[test]
fn corpus_show_prints_tokens() {
    let home = tempfile::tempdir().unwrap();
    let f = data("folk/oneills1850/0001-005020.mid");
    let o = improv(
        home.path(),
        &[
            "corpus",
            "show",
            f.to_str().unwrap(),
            "--tokenizer",
            "paper",
            "--json",
        ],
    );
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let tokens = v["tokens"].as_array().unwrap();
    assert_eq!(tokens[0], "D5");
    assert!(tokens.len() > 50);
    let plain = improv(home.path(), &["corpus", "show", f.to_str().unwrap()]);
    assert!(stdout(&plain).starts_with("Bar_6/8 Pos_0 Pitch_74"));
}

#[test]
fn corpus_roundtrip_writes_a_file_that_reads_back() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("rt.mid");
    let f = data("genres/latin/latin__BossaNovaPlus__axis__k0.mid");
    let o = improv(
        home.path(),
        &[
            "corpus",
            "roundtrip",
            f.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = improv::music::midi::read_file(&f).unwrap().seq;
    let b = improv::music::midi::read_file(&out).unwrap().seq;
    assert!(b.notes.iter().any(|n| n.is_drum()));
    assert!(b.notes.len() as f64 >= 0.95 * a.notes.len() as f64);
    assert!((a.tempo.bpm_at(0.0) - b.tempo.bpm_at(0.0)).abs() < 0.01);
}

#[test]
fn bad_input_is_one_line_on_stderr_and_a_failure_status() {
    let home = tempfile::tempdir().unwrap();
    let bad = home.path().join("broken.mid");
    std::fs::write(&bad, b"MThd\x00\x00").unwrap();
    let o = improv(home.path(), &["corpus", "show", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("broken.mid") && err.contains("truncated"),
        "{err}"
    );

    let o = improv(home.path(), &["corpus", "stats", "/no/such/dir"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim(), "improv: corpus /no/such/dir: no such directory");
}

#[test]
fn generate_without_a_model_uses_the_default_session_s_model() {
    let session = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions/default.improv"),
    )
    .unwrap();
    assert!(
        session.contains(&format!("model load {}", improv::paths::DEFAULT_MODEL)),
        "sessions/default.improv and improv generate share one default model"
    );
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("g.mid");
    let o = improv(
        home.path(),
        &["generate", "--bars", "2", "--out", out.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let read = improv::music::midi::read_file(&out).unwrap();
    assert!(!read.seq.notes.is_empty());
}
