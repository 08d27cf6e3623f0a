//! `improv eval` and `improv bench latent` as a user runs them, on the bundled LSTM and corpus.

use std::path::Path;
use std::process::{Command, Output};

fn improv(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_improv"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("IMPROV_HOME", home)
        .output()
        .unwrap()
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn eval_prints_four_sets_and_a_summary() {
    let home = tempfile::tempdir().unwrap();
    let o = improv(
        home.path(),
        &[
            "eval",
            "--model",
            "models/vae-lstm-small",
            "--samples",
            "4",
            "--bars",
            "2",
            "--windows",
            "64",
            "--pieces",
            "40",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = lines(&o);
    assert_eq!(v.len(), 6);
    let judged = &v[5]["judge"];
    assert_eq!(judged["excerpts"], 40);
    for test in ["generated", "ngram", "real_vs_real"] {
        let acc = judged[test]["accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{test}: {acc}");
    }
    let sets: Vec<&str> = v[..4].iter().map(|r| r["set"].as_str().unwrap()).collect();
    assert_eq!(sets, ["generated", "argmax", "training", "ngram"]);
    for r in &v[..4] {
        assert_eq!(r["pieces"], 4);
        assert_eq!(r["metrics"].as_object().unwrap().len(), 10);
    }
    let acc = v[4]["reconstruction"]["accuracy"].as_f64().unwrap();
    assert!(acc > 0.2 && acc < 1.0, "{acc}");
    assert_eq!(v[4]["reconstruction"]["windows"], 64);

    let o = improv(
        home.path(),
        &[
            "eval",
            "--model",
            "models/vae-lstm-small",
            "--genre",
            "g.json",
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--genre g.json") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn eval_genre_adds_one_fidelity_row_per_style() {
    let home = tempfile::tempdir().unwrap();
    let clf = home.path().join("clf.json");
    let o = improv(
        home.path(),
        &[
            "genre",
            "train",
            "--data",
            "data/genres",
            "--model",
            "knn",
            "--per-label",
            "4",
            "--out",
            clf.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args = [
        "eval",
        "--model",
        "models/vae-lstm-genre-small",
        "--corpus",
        "data/genres",
        "--samples",
        "2",
        "--bars",
        "1",
        "--windows",
        "16",
        "--no-judge",
        "--genre",
        clf.to_str().unwrap(),
    ];
    let o = improv(home.path(), &[&args[..], &["--json"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = lines(&o);
    assert_eq!(v.len(), 5 + 10, "four sets, the summary, ten styles");
    assert!(v[4]["reconstruction"].is_object());
    let styles: Vec<&str> = v[5..]
        .iter()
        .map(|r| r["style"].as_str().unwrap())
        .collect();
    assert_eq!(styles[0], "blues");
    assert_eq!(styles[9], "rock");
    for r in &v[5..] {
        assert_eq!(r["generated"]["pieces"], 2);
        let p = r["generated"]["mean_probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{r}");
    }
    assert!(v[5..]
        .iter()
        .any(|r| r["ceiling"]["pieces"].as_u64() > Some(0)));

    let o = improv(home.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let table = out
        .split("genre fidelity")
        .nth(1)
        .expect("a fidelity table");
    assert!(
        table.contains("ceiling p") && table.contains("jazz"),
        "{out}"
    );
}

#[test]
fn bench_latent_names_the_known_attributes_for_an_unknown_one() {
    let home = tempfile::tempdir().unwrap();
    let o = improv(
        home.path(),
        &[
            "bench",
            "latent",
            "--model",
            "models/vae-lstm-small",
            "--windows",
            "128",
            "--attributes",
            "loudness",
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown attribute 'loudness'") && err.contains("syncopation"),
        "{err}"
    );
    let o = improv(
        home.path(),
        &[
            "bench",
            "latent",
            "--model",
            "models/vae-lstm-small",
            "--windows",
            "128",
            "--attributes",
            "pitch_height",
            "--seeds",
            "2",
            "--steps",
            "3",
            "--bars",
            "2",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = lines(&o);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["attribute"], "pitch_height");
    assert_eq!(v[0]["means"].as_array().unwrap().len(), 3);
    assert_eq!(v[1]["windows"], 128);
}
