//! `improv bench stream`: the live stream's speed on the bundled models (tokens/s, notes/s) and
//! the time from a control change to the first regenerated note being ready (p50, p99); with
//! `--layers N`, the main voice and N layers through the mixer as the feeder thread runs them.

use std::time::Instant;

use anyhow::{Context, Result};
use dfdx::prelude::Cpu;
use serde_json::json;

use super::bench::{load_average, percentile};
use improv::generate::piece;
use improv::generate::stream::{Controls, NoteStream};
use improv::model::checkpoint;
use improv::model::Vae;
use improv::play::live::{LiveConfig, LiveSource, Quantize};
use improv::play::{Mixer, NoteSource, VoiceCtl};
use improv::rng::Rng;

/// Measures each bundled model (the default, the flagship, among them): `notes` notes straight,
/// then `changes` latent changes while playing at 120 BPM (a simulated playhead one beat further
/// each time).
pub fn run(notes: usize, changes: usize, layers: usize) -> Result<()> {
    for name in [
        "vae-lstm-small",
        "vae-transformer-small",
        "vae-transformer-flagship",
    ] {
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
                "load": load_average().unwrap_or(f64::NAN),
            })
        );
        if layers > 0 {
            let stream = |seed: u64| -> Result<Box<dyn NoteSource>> {
                let c = Controls {
                    seed: Some(seed),
                    ..controls(seed)
                };
                let gen = NoteStream::new(model.stream(), 0, &meta, c, &primer)?;
                Ok(Box::new(LiveSource::new(gen, LiveConfig::default()).0))
            };
            let (mut mix, _handle) = Mixer::new(VoiceCtl::main(false), stream(1)?);
            for i in 0..layers {
                let ctl = VoiceCtl::layer(&format!("l{i}"), 1 + i as u8, None, 0, false);
                mix = mix.with(ctl, stream(10 + i as u64)?);
            }
            mix_run(name, layers, mix);
        }
    }
    Ok(())
}

/// 64 bars at 120 BPM as the feeder runs them (hand over 100 ms ahead, then work ahead), on a
/// simulated playhead: compute time per second of music and the longest hand-over turns.
fn mix_run(name: &str, layers: usize, mut mix: Mixer) {
    let (bpm, beats, step) = (120.0, 256.0, 0.01);
    let horizon = mix.horizon_secs().unwrap_or(0.1) * bpm / 60.0;
    let mut out = Vec::new();
    let mut turns = Vec::new();
    let mut notes = 0;
    let t0 = Instant::now();
    let mut pos = 0.0;
    while pos < beats {
        let t = Instant::now();
        mix.fill(pos + horizon, &mut out);
        turns.push(t.elapsed().as_secs_f64() * 1e3);
        notes += out.len();
        out.clear();
        while mix.prepare(pos) {}
        pos += step;
    }
    let secs = t0.elapsed().as_secs_f64();
    let music = beats * 60.0 / bpm;
    turns.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({
            "bench": "stream-layers", "model": name, "voices": 1 + layers, "beats": beats,
            "notes": notes, "compute_s": secs, "music_s": music,
            "compute_per_music_s": secs / music,
            "fill_ms_p99": percentile(&turns, 0.99),
            "fill_ms_max": turns.last().copied().unwrap_or(0.0),
            "load": load_average().unwrap_or(f64::NAN),
        })
    );
}
