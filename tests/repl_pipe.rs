//! The REPL with a pipe for stdin: the real binary runs a script line by line, waits for its
//! jobs, writes MIDI; an error stops it with the line number and a non-zero status.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small corpus: a few bundled folk tunes.
fn small_corpus(dir: &Path) -> PathBuf {
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    let src = root().join("data/folk/oneills1850");
    let mut files: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "mid"))
        .take(24)
    {
        std::fs::copy(f, corpus.join(f.file_name().unwrap())).unwrap();
    }
    corpus
}

fn improv(args: &[&str], home: &Path, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_improv"))
        .args(args)
        .current_dir(root())
        .env("IMPROV_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_piped_script_trains_generates_and_writes_midi() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = small_corpus(dir.path());
    let (x, y) = (dir.path().join("x.mid"), dir.path().join("y.mid"));
    let script = format!(
        "load corpus {}\ncorpus stats\nmodel new vae-lstm tiny\ntrain steps 5\nwait train\n\
         gen bars 2 out {}\n\n# the bundled model makes real notes\nmodel load models/vae-lstm-small\n\
         latent sample\ngen notes 16 out {}\n",
        corpus.display(),
        x.display(),
        y.display()
    );
    let out = improv(&["repl"], dir.path(), &script);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("24 pieces"), "{stdout}");
    assert!(stdout.contains("step     5"), "{stdout}");
    assert!(stdout.contains("training done: 5 steps"), "{stdout}");
    // Both files are MIDI that reads back; the trained model's has notes.
    improv::music::midi::read_file(&x).unwrap();
    let notes = improv::music::midi::read_file(&y).unwrap().seq.notes.len();
    assert!(notes >= 16, "{notes} notes");
    // The session was saved on exit.
    let auto = std::fs::read_to_string(dir.path().join("sessions/autosave.toml")).unwrap();
    assert!(auto.contains("vae-lstm-small"), "{auto}");
}

#[test]
fn an_error_stops_the_script_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let out = improv(
        &["repl"],
        dir.path(),
        "tempo 100\n\nswing 0.2\ntempo fast\nhelp\n",
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("improv: line 4: column 7: `fast` is not a tempo"),
        "{stderr}"
    );
    // `help` after the error never ran.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("commands (help COMMAND"));

    // A command that parses but fails is reported the same way.
    let out = improv(&["repl"], dir.path(), "gen bars 2\n");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("improv: line 1: gen: no model"), "{stderr}");
}

#[test]
fn improv_run_runs_a_file_and_names_it_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("set.improv");
    std::fs::write(&script, "tempo 90\nhelp tempo\nlatent nudge 0 1\n").unwrap();
    let out = improv(&["run", script.to_str().unwrap()], dir.path(), "");
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("tempo BPM"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "improv: {} line 3: latent: no model",
            script.display()
        )),
        "{stderr}"
    );
}
