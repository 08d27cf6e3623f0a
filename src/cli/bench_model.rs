//! `improv bench train` and `improv bench infer`: training throughput with peak memory, and the
//! latency of one next-token step with carried state, idle and beside a training run.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use dfdx::prelude::Cpu;
use rand::{Rng, SeedableRng};
use serde_json::json;

use improv::corpus::Windows;
use improv::model::{Model, ModelConfig, Vae};
use improv::train::optim::AdamW;
use improv::train::{train_step, Batch, TrainConfig, TrainData, TrainJob, Trainer};

use super::bench::{load_average, percentile};
use super::train::{KindArg, PresetArg};

/// Peak resident memory of this process so far (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn random_windows(count: usize, len: usize, vocab: usize, seed: u64) -> Windows {
    let rng = &mut rand::rngs::StdRng::seed_from_u64(seed);
    Windows {
        len,
        ids: (0..count * len)
            .map(|_| rng.gen_range(0..vocab as u32))
            .collect(),
    }
}

fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    let n = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .context("bench: thread pool")
}

#[allow(clippy::too_many_arguments)]
pub fn train(
    model: KindArg,
    preset: PresetArg,
    batch: usize,
    steps: usize,
    threads: usize,
    vocab: usize,
    peer: Option<PathBuf>,
    peer_script: Option<PathBuf>,
) -> Result<()> {
    let cfg = ModelConfig::preset(model.kind(), preset.preset(), vocab);
    let mut m = Model::build(&cfg, &Cpu::default(), 0).map_err(anyhow::Error::msg)?;
    let w = random_windows(batch, cfg.window + 1, vocab, 1);
    let picks: Vec<usize> = (0..batch).collect();
    let b = Batch::from_windows(&w, &picks);
    let tc = TrainConfig::default();
    let mut opt = AdamW::new(tc.weight_decay);
    let pool = pool(threads)?;
    let mut times = Vec::new();
    for step in 0..steps + 2 {
        let t0 = Instant::now();
        pool.install(|| train_step(&mut m, &mut opt, &b, &tc, step, 1e-3, 1.0))
            .map_err(|what| anyhow::anyhow!("bench train: {what} not finite"))?;
        if step >= 2 {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let med = percentile(&times, 0.5);
    let ours = (batch * cfg.window) as f64 / med;
    println!(
        "{}",
        json!({
            "bench": "train", "model": cfg.kind.name(), "preset": format!("{preset:?}").to_lowercase(),
            "batch": batch, "window": cfg.window, "vocab": vocab, "params": m.num_params(),
            "threads": pool.current_num_threads(), "steps": steps,
            "median_step_s": med, "tokens_per_s": ours.round(),
            "peak_rss_mib": peak_rss_mib(), "loadavg_1m": load_average(),
        })
    );
    if let Some(python) = peer {
        let script = peer_script
            .unwrap_or_else(|| improv::paths::bundle_root().join("peers/torch_vae_lstm.py"));
        let out = Command::new(&python)
            .arg(&script)
            .args(["train", &batch.to_string(), &steps.to_string()])
            .env("OMP_WAIT_POLICY", "PASSIVE")
            .env("TT", pool.current_num_threads().to_string())
            .output()
            .with_context(|| format!("bench train: running {}", python.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(line) = text.lines().find(|l| l.starts_with("RESULT")) else {
            bail!(
                "bench train: the peer printed no RESULT: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
        };
        let theirs: f64 = line
            .split_whitespace()
            .rev()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("bench train: peer tokens/s")?;
        println!(
            "{}",
            json!({"bench": "train", "peer": "pytorch", "tokens_per_s": theirs,
                   "ratio_ours_over_peer": ours / theirs, "line": line})
        );
    }
    Ok(())
}

/// This thread's CPU time so far and its involuntary context switches (times the scheduler
/// took the core away), to tell a slow step from a step that waited for a core.
fn thread_clock() -> (f64, i64) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: both calls only write the plain structs passed by pointer.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
        libc::getrusage(libc::RUSAGE_THREAD, &mut ru);
    }
    (ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9, ru.ru_nivcsw)
}

/// Per-step figures of a latency run, each sorted: wall time, and (when `clocked`) thread CPU
/// time and the wall time of the steps the scheduler did not preempt; plus how many steps it
/// preempted.
struct Latencies {
    wall: Vec<f64>,
    cpu: Vec<f64>,
    unpreempted: Vec<f64>,
    preempted: usize,
}

/// Latency of `steps` one-token steps, each feeding the arg-max of the last logits. With
/// `clocked`, each step is bracketed by `thread_clock` (two system calls, which are also points
/// where a pending preemption happens, outside the timed span), so the plain wall figures come
/// from an unclocked run.
fn step_latencies(model: &Model, steps: usize, clocked: bool) -> Latencies {
    let mut stream = model.stream();
    let z = vec![0.1f32; model.config().latent];
    stream.reset(&z);
    let mut token = 0u32;
    let mut wall = Vec::with_capacity(steps);
    let mut cpu = Vec::with_capacity(steps);
    let mut unpreempted = Vec::with_capacity(steps);
    let mut preempted = 0;
    for i in 0..steps + 50 {
        let (c0, s0) = if clocked { thread_clock() } else { (0.0, 0) };
        let t0 = Instant::now();
        let logits = stream.step(token);
        let (arg, _) = logits
            .iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |a, (j, &v)| if v > a.1 { (j, v) } else { a },
            );
        let dt = t0.elapsed().as_secs_f64();
        // A varied input keeps the caches honest; arg-max of an untrained model repeats.
        token = ((arg + i) % logits.len()) as u32;
        if i < 50 {
            continue;
        }
        wall.push(dt);
        if clocked {
            let (c1, s1) = thread_clock();
            cpu.push(c1 - c0);
            if s1 > s0 {
                preempted += 1;
            } else {
                unpreempted.push(dt);
            }
        }
    }
    for v in [&mut wall, &mut cpu, &mut unpreempted] {
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            v.push(f64::NAN);
        }
    }
    Latencies {
        wall,
        cpu,
        unpreempted,
        preempted,
    }
}

/// [`step_latencies`] (unclocked) on a thread running SCHED_FIFO, when the system grants it:
/// what the step costs when no other process can take its core.
fn fifo_latencies(model: &Model, steps: usize) -> Option<Latencies> {
    std::thread::scope(|s| {
        s.spawn(
            || match improv::play::rt::make_current_thread_realtime(10) {
                improv::play::rt::RtStatus::Fifo(_) => Some(step_latencies(model, steps, false)),
                _ => None,
            },
        )
        .join()
        .ok()
        .flatten()
    })
}

pub fn infer(models: Vec<KindArg>, preset: PresetArg, steps: usize, vocab: usize) -> Result<()> {
    let dev = Cpu::default();
    for kind in models {
        let cfg = ModelConfig::preset(kind.kind(), preset.preset(), vocab);
        let model = Model::build(&cfg, &dev, 0).map_err(anyhow::Error::msg)?;
        for load in ["idle", "training"] {
            // A one-thread training run of the small model beside the measurement.
            let trainer = if load == "training" {
                let small = ModelConfig::preset(kind.kind(), improv::model::Preset::Small, vocab);
                let w = random_windows(256, small.window + 1, vocab, 2);
                Some(Trainer::spawn(TrainJob {
                    model: Model::build(&small, &dev, 1).map_err(anyhow::Error::msg)?,
                    config: TrainConfig {
                        epochs: 1000,
                        threads: 1,
                        log_every: usize::MAX,
                        ..TrainConfig::default()
                    },
                    data: TrainData {
                        train: w.clone(),
                        val: w,
                    },
                    out: None,
                    resume: None,
                    baseline_kn: None,
                })?)
            } else {
                None
            };
            let t = step_latencies(&model, steps, false);
            let c = step_latencies(&model, steps, true);
            let f = fifo_latencies(&model, steps);
            if let Some(tr) = trainer {
                tr.control.stop();
                tr.join()?;
            }
            let us = |v: &[f64], p| percentile(v, p) * 1e6;
            println!(
                "{}",
                json!({
                    "bench": "infer", "model": cfg.kind.name(),
                    "preset": format!("{preset:?}").to_lowercase(), "vocab": vocab,
                    "load": load, "steps": steps,
                    "p50_us": us(&t.wall, 0.5), "p99_us": us(&t.wall, 0.99),
                    "max_us": us(&t.wall, 1.0),
                    "cpu_p50_us": us(&c.cpu, 0.5), "cpu_p99_us": us(&c.cpu, 0.99),
                    "cpu_max_us": us(&c.cpu, 1.0),
                    "preempted_steps": c.preempted,
                    "unpreempted_p99_us": us(&c.unpreempted, 0.99),
                    "unpreempted_max_us": us(&c.unpreempted, 1.0),
                    "fifo_p50_us": f.as_ref().map(|f| us(&f.wall, 0.5)),
                    "fifo_p99_us": f.as_ref().map(|f| us(&f.wall, 0.99)),
                    "fifo_max_us": f.as_ref().map(|f| us(&f.wall, 1.0)),
                    "loadavg_1m": load_average(),
                })
            );
        }
    }
    Ok(())
}
