//! The input fuzz soak: mutated command lines (parser, completion, highlighting), session files
//! (the session reader) or checkpoint folders (the checkpoint loader), each checked once with a
//! clock on it. Counts panics, inputs over 1 s of CPU time and failed checks (an error that is
//! not one printable line, a session loaded out of range, non-finite weights loaded); saves every
//! failing input under `--findings`. `scripts/fuzz.sh` runs it.
//!
//!     cargo run --example input_fuzz -- --target parser --inputs 1000000 --seed 1

use std::path::PathBuf;
use std::time::{Duration, Instant};

#[path = "common/soak_args.rs"]
mod soak_args;
use soak_args::{arg, cpu_time};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "../tests/common/input_mutants.rs"]
mod input_mutants;
use input_mutants::*;

/// One input's check: `Err` says what failed.
type Check = Box<dyn Fn() -> Result<(), String>>;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let target: String = arg(&args, "--target", "parser".to_string());
    let inputs: u64 = arg(&args, "--inputs", 100_000);
    let seed: u64 = arg(&args, "--seed", 1);
    let findings: PathBuf = arg(&args, "--findings", PathBuf::from("target/fuzz-findings"));
    anyhow::ensure!(
        ["parser", "session", "checkpoint"].contains(&target.as_str()),
        "--target: parser, session or checkpoint, not {target}"
    );
    let seeds = seed_lines();
    let dict = line_dictionary();
    let ckpt = (target == "checkpoint").then(checkpoint_seed);
    let scratch = tempfile::tempdir()?;
    std::panic::set_hook(Box::new(|_| {}));

    let mut rng = StdRng::seed_from_u64(seed);
    let (mut panics, mut over_1s, mut failed, mut slowest) = (0u64, 0u64, 0u64, Duration::ZERO);
    let t0 = Instant::now();
    for i in 0..inputs {
        // The input, as bytes to save if it fails, and its check.
        let (bytes, check): (Vec<u8>, Check) = match target.as_str() {
            "parser" => {
                let line = mutate_line(&mut rng, &seeds, &dict);
                let cursor: usize = rng.gen();
                (
                    line.clone().into_bytes(),
                    Box::new(move || check_line(&line, cursor)),
                )
            }
            "session" => {
                let text = mutate_session(&mut rng);
                (
                    text.clone().into_bytes(),
                    Box::new(move || check_session(&text)),
                )
            }
            _ => {
                let (meta, weights) =
                    mutate_checkpoint(&mut rng, ckpt.as_ref().expect("checkpoint seed"));
                let dir = scratch.path().join("c");
                let mut saved = meta.clone();
                saved.extend_from_slice(b"\n--- weights follow ---\n");
                saved.extend_from_slice(&weights);
                (
                    saved,
                    Box::new(move || check_checkpoint(&dir, &meta, &weights)),
                )
            }
        };
        let start = cpu_time();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check));
        let took = cpu_time().saturating_sub(start);
        slowest = slowest.max(took);
        let mut bad = Vec::new();
        if took > Duration::from_secs(1) {
            over_1s += 1;
            bad.push("slow".to_string());
        }
        match r {
            Err(_) => {
                panics += 1;
                bad.push("panic".into());
            }
            Ok(Err(e)) => {
                failed += 1;
                bad.push(e);
            }
            Ok(Ok(())) => {}
        }
        if !bad.is_empty() {
            std::fs::create_dir_all(&findings)?;
            let name = format!("{target}-{i}.txt");
            std::fs::write(findings.join(&name), &bytes)?;
            let why: String = bad.join("; ").chars().take(300).collect();
            eprintln!("finding {name}: {why}");
        }
        if (i + 1) % 100_000 == 0 {
            eprintln!(
                "{} inputs, {:.0} s, {panics} panics, {over_1s} over 1 s, {failed} failed checks",
                i + 1,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    let summary = serde_json::json!({
        "target": target,
        "inputs": inputs,
        "seed": seed,
        "seconds": (t0.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        "panics": panics,
        "over_1s": over_1s,
        "slowest_ms": (slowest.as_secs_f64() * 1e4).round() / 10.0,
        "failed_checks": failed,
    });
    println!("{summary}");
    let bad = panics + over_1s + failed;
    anyhow::ensure!(
        bad == 0,
        "{bad} finding(s), saved under {}",
        findings.display()
    );
    Ok(())
}
