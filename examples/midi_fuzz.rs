//! The MIDI reader's fuzz soak: mutants of the bundled files (one byte, several bytes, cut short,
//! random tails) and crafted files of many held notes, each read once with a clock on it.
//! Counts panics, inputs over 1 s (of CPU time), errors longer than one line, and one-byte mutants that lose
//! more than 5 % of the notes a tolerant reader finds without a warning ("silent losses"); saves
//! every failing input under `--findings`. `scripts/fuzz.sh` runs it.
//!
//!     cargo run --example midi_fuzz -- --inputs 1000000 --seed 1 --findings target/fuzz

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use improv::music::midi::{self, MidiRead};
use improv::music::tokens::{EventConfig, PaperConfig, TokenizerConfig};
#[path = "common/soak_args.rs"]
mod soak_args;
use soak_args::{arg, cpu_time};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "../tests/common/midi_reference.rs"]
mod midi_reference;
use midi_reference::{held_notes, keeps_95, reference_notes};

struct Original {
    path: PathBuf,
    bytes: Vec<u8>,
    notes: usize,
    reference: usize,
}

fn midi_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            midi_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "mid" || e == "midi") {
            out.push(p);
        }
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    inputs: u64,
    panics: u64,
    over_1s: u64,
    multi_line_errors: u64,
    silent_losses: u64,
    errors: u64,
    warned: u64,
    tokenized: u64,
    slowest: Duration,
}

/// Whether a one-byte mutant kept 95 % of the notes the reference reader finds in it (scaled by
/// how the two readers compare on the undamaged file), or else said something.
fn kept_or_said(orig: &Original, mutant: &[u8], read: &MidiRead) -> bool {
    if !read.warnings().is_empty() {
        return true;
    }
    keeps_95(mutant, read.seq.notes.len(), orig.notes, orig.reference)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let inputs: u64 = arg(&args, "--inputs", 100_000);
    let seed: u64 = arg(&args, "--seed", 1);
    let tokenize_every: u64 = arg(&args, "--tokenize-every", 100);
    let findings: PathBuf = arg(&args, "--findings", PathBuf::from("target/fuzz-findings"));
    let data: PathBuf = arg(
        &args,
        "--data",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data"),
    );

    let mut paths = Vec::new();
    midi_files(&data, &mut paths)?;
    let originals: Vec<Original> = paths
        .into_iter()
        .filter_map(|path| {
            let bytes = std::fs::read(&path).ok()?;
            let notes = midi::read_bytes(&bytes).ok()?.seq.notes.len();
            let reference = reference_notes(&bytes)?;
            Some(Original {
                path,
                bytes,
                notes,
                reference,
            })
        })
        .collect();
    anyhow::ensure!(
        !originals.is_empty(),
        "no MIDI files under {}",
        data.display()
    );
    let tokenizers: Vec<_> = [
        TokenizerConfig::Event(EventConfig::default()),
        TokenizerConfig::Event(EventConfig::full()),
        TokenizerConfig::Paper(PaperConfig::default()),
    ]
    .iter()
    .map(|c| c.build())
    .collect();
    // Panics are counted, not printed: the findings folder keeps the inputs.
    std::panic::set_hook(Box::new(|_| {}));

    let mut rng = StdRng::seed_from_u64(seed);
    let mut t = Tally::default();
    let t0 = Instant::now();
    for i in 0..inputs {
        let orig = &originals[rng.gen_range(0..originals.len())];
        let class = rng.gen_range(0..100);
        let (kind, bytes) = match class {
            0..=49 => {
                let mut m = orig.bytes.clone();
                let at = rng.gen_range(0..m.len());
                m[at] = rng.gen();
                ("one-byte", m)
            }
            50..=84 => {
                let mut m = orig.bytes.clone();
                let n = rng.gen_range(2..=16);
                let near = rng.gen_bool(0.5);
                let base = rng.gen_range(0..m.len());
                for _ in 0..n {
                    let at = if near {
                        (base + rng.gen_range(0..32)) % m.len()
                    } else {
                        rng.gen_range(0..m.len())
                    };
                    m[at] = rng.gen();
                }
                ("many-bytes", m)
            }
            85..=92 => {
                let cut = rng.gen_range(0..orig.bytes.len());
                ("cut", orig.bytes[..cut].to_vec())
            }
            93..=98 => {
                let keep = rng.gen_range(14..orig.bytes.len().max(15));
                let mut m = orig.bytes[..keep.min(orig.bytes.len())].to_vec();
                let extra = rng.gen_range(0..2048);
                m.extend((0..extra).map(|_| rng.gen::<u8>()));
                ("random-tail", m)
            }
            _ => {
                let held = rng.gen_range(0..100_000);
                let pairs = rng.gen_range(0..100_000);
                ("held-notes", held_notes(held, pairs))
            }
        };
        let start = cpu_time();
        let result = std::panic::catch_unwind(|| midi::read_bytes(&bytes));
        let took = cpu_time().saturating_sub(start);
        t.inputs += 1;
        t.slowest = t.slowest.max(took);
        let mut failed = Vec::new();
        if took > Duration::from_secs(1) {
            t.over_1s += 1;
            failed.push("slow");
        }
        match &result {
            Err(_) => {
                t.panics += 1;
                failed.push("panic");
            }
            Ok(Err(e)) => {
                t.errors += 1;
                if e.to_string().contains('\n') {
                    t.multi_line_errors += 1;
                    failed.push("multi-line-error");
                }
            }
            Ok(Ok(read)) => {
                t.warned += !read.warnings().is_empty() as u64;
                if kind == "one-byte" && !kept_or_said(orig, &bytes, read) {
                    t.silent_losses += 1;
                    failed.push("silent-loss");
                }
                if tokenize_every > 0 && i % tokenize_every == 0 {
                    t.tokenized += 1;
                    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        for tk in &tokenizers {
                            if let Ok(tokens) = tk.encode(&read.seq, Some("jazz")) {
                                let _ = tk.decode(&tokens);
                            }
                        }
                    }));
                    if ok.is_err() {
                        t.panics += 1;
                        failed.push("tokenizer-panic");
                    }
                }
            }
        }
        if !failed.is_empty() {
            std::fs::create_dir_all(&findings)?;
            let name = format!("{}-{kind}-{i}.mid", failed.join("+"));
            std::fs::write(findings.join(&name), &bytes)?;
            let got = match &result {
                Ok(Ok(r)) => format!("{} notes, warnings {:?}", r.seq.notes.len(), r.warnings()),
                Ok(Err(e)) => e.to_string(),
                Err(_) => "panic".into(),
            };
            eprintln!(
                "finding {name}: from {} ({} notes): {got}",
                orig.path.display(),
                orig.notes
            );
        }
        if (i + 1) % 100_000 == 0 {
            eprintln!(
                "{} inputs, {:.0} s, {} panics, {} over 1 s, {} silent losses",
                i + 1,
                t0.elapsed().as_secs_f64(),
                t.panics,
                t.over_1s,
                t.silent_losses
            );
        }
    }
    let summary = serde_json::json!({
        "inputs": t.inputs,
        "seed": seed,
        "files": originals.len(),
        "seconds": (t0.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        "panics": t.panics,
        "over_1s": t.over_1s,
        "slowest_ms": (t.slowest.as_secs_f64() * 1e4).round() / 10.0,
        "multi_line_errors": t.multi_line_errors,
        "silent_losses": t.silent_losses,
        "errors": t.errors,
        "warned": t.warned,
        "tokenized": t.tokenized,
    });
    println!("{summary}");
    let bad = t.panics + t.over_1s + t.multi_line_errors + t.silent_losses;
    anyhow::ensure!(
        bad == 0,
        "{bad} finding(s), saved under {}",
        findings.display()
    );
    Ok(())
}
