//! `improv train`, `improv model info` and `improv model eval` end to end on the bundled Bach
//! chorales: JSON events in order, a checkpoint that loads, a resume that continues the run.

use std::process::Command;

use serde_json::Value;

fn improv(home: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_improv"))
        .args(args)
        .env("IMPROV_HOME", home)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn train_info_eval_and_resume_from_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("run");
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/data/classical");
    let out_s = out.to_str().unwrap();
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--corpus",
            corpus,
            "--model",
            "vae-lstm",
            "--preset",
            "tiny",
            "--kn-order",
            "3",
            "--json",
            "--log-every",
            "1",
            "--out",
            out_s,
        ];
        args.extend_from_slice(extra);
        improv(home.path(), &args)
    };
    let (ok, stdout, stderr) = train(&["--epochs", "1", "--max-steps", "3"]);
    assert!(ok, "{stderr}");
    let ev = events(&stdout);
    let kinds: Vec<&str> = ev.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(&kinds[..5], ["baseline", "start", "step", "step", "step"]);
    assert!(kinds.contains(&"epoch") && kinds.contains(&"saved"));
    assert!(ev[0]["cross_entropy"].as_f64().unwrap() > 0.0);
    assert_eq!(ev[4]["step"], 3);

    let (ok, stdout, stderr) = improv(home.path(), &["model", "info", out_s, "--json"]);
    assert!(ok, "{stderr}");
    let info: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(info["kind"], "vae-lstm");
    assert_eq!(info["step"], 3);
    assert_eq!(info["baseline_kn"][0], 3);

    let args = [
        "model",
        "eval",
        out_s,
        "--corpus",
        corpus,
        "--windows",
        "32",
        "--json",
    ];
    let (ok, stdout, stderr) = improv(home.path(), &args);
    assert!(ok, "{stderr}");
    let eval: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(eval["same_corpus"], true);
    assert_eq!(eval["val"]["windows"], 32);
    assert_eq!(eval["kneser_ney"].as_array().unwrap().len(), 3);

    // Resume: the run continues from step 3 of the same epoch.
    let (ok, stdout, stderr) = train(&["--resume", "--epochs", "1", "--max-steps", "5"]);
    assert!(ok, "{stderr}");
    let ev = events(&stdout);
    let start = ev.iter().find(|e| e["event"] == "start").unwrap();
    assert_eq!(start["step"], 3);
    let steps: Vec<u64> = ev
        .iter()
        .filter(|e| e["event"] == "step")
        .map(|e| e["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [4, 5]);

    // A damaged checkpoint is one clear error line, not a panic.
    std::fs::write(out.join("best").join("meta.json"), "{").unwrap();
    let (ok, _, stderr) = improv(home.path(), &["model", "info", out_s]);
    assert!(!ok);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad metadata"), "{stderr}");
}
