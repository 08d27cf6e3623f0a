//! `improv bench stream`: the live stream's speed on the bundled models (tokens/s, notes/s) and
//! the time from a control change to the first regenerated note being ready (p50, p99).

use std::time::Instant;

use anyhow::{Context, Result};
use dfdx::prelude::Cpu;
use serde_json::json;

use improv::generate::piece;
use improv::generate::stream::{Controls, NoteStream};
use improv::model::checkpoint;
use improv::model::Vae;
use improv::play::live::{LiveConfig, LiveSource, Quantize};
use improv::play::NoteSource;
use improv::rng::Rng;

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn load_avg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Measures each bundled model: `notes` notes straight, then `changes` latent changes while
/// playing at 120 BPM (a simulated playhead one beat further each time).
pub fn run(notes: usize, changes: usize) -> Result<()> {
    for name in ["vae-lstm-small", "vae-transformer-small"] {
        let dir = improv::paths::bundle_root().join("models").join(name);
        let (model, meta) = checkpoint::load(&dir, &Cpu::default())
            .with_context(|| format!("bench stream: {}", dir.display()))?;
        let controls = |z_seed: u64| Controls {
            z: piece::sample_latent(meta.model.latent, &mut Rng::new(z_seed)),
            sampling: Default::default(),
            seed: Some(1),
        };
        let primer = piece::empty_primer(&meta);
        let mut gen = NoteStream::new(model.stream(), 0, &meta, controls(1), &primer)?;
        let t = Instant::now();
        let mut got = 0;
        while got < notes && gen.tokens() < 100 * notes as u64 {
            got += gen.next_note(64).is_some() as usize;
        }
        let secs = t.elapsed().as_secs_f64();
        let tokens = gen.tokens();

        let gen = NoteStream::new(model.stream(), 0, &meta, controls(1), &primer)?;
        let (mut src, handle) = LiveSource::new(gen, LiveConfig::default());
        let horizon = 0.1 * 2.0;
        let mut out = Vec::new();
        let mut lat = Vec::with_capacity(changes);
        for k in 0..changes {
            let pos = k as f64;
            src.fill(pos + horizon, &mut out);
            while src.prepare(pos) {}
            let t = Instant::now();
            handle.set(controls(2 + k as u64 % 2), Quantize::Now)?;
            // The feeder's next turn: pick the change up, then work until a new note is queued.
            src.fill(pos + horizon, &mut out);
            while src.queued() == 0 && src.prepare(pos) {}
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        lat.sort_by(f64::total_cmp);
        println!(
            "{}",
            json!({
                "bench": "stream", "model": name, "notes": got, "tokens": tokens,
                "tokens_per_s": tokens as f64 / secs, "notes_per_s": got as f64 / secs,
                "changes": changes,
                "change_to_note_ms_p50": percentile(&lat, 0.5),
                "change_to_note_ms_p99": percentile(&lat, 0.99),
                "load": load_avg(),
            })
        );
    }
    Ok(())
}
