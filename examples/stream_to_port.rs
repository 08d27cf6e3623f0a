//! Stream generated notes to a MIDI port with the live generator: load a bundled model, open a
//! port (an existing one by name, or a virtual port other programs can connect to), play N bars
//! from the live stream, then send all-notes-off and exit.
//!
//!     cargo run --release --example stream_to_port -- --bars 4
//!     cargo run --release --example stream_to_port -- --port "FLUID Synth" --tempo 100
//!
//! Halfway through it draws a new latent, which is heard within ~100 ms.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use dfdx::prelude::Cpu;
use improv::generate::piece;
use improv::generate::sample::Sampling;
use improv::generate::stream::{Controls, NoteStream};
use improv::model::{checkpoint, Vae};
use improv::play::{
    Clock, LiveConfig, LiveSource, MidiPortSink, MonotonicClock, Player, PlayerConfig, Quantize,
};
use improv::rng::Rng;

/// Stream generated notes to a MIDI port.
#[derive(Parser)]
struct Args {
    /// A checkpoint folder (default: the bundled VAE-LSTM).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Connect to this output port (a name or part of one); default: a virtual port.
    #[arg(long)]
    port: Option<String>,
    /// Name of the virtual port to create when --port is not given.
    #[arg(long, default_value = "improv-stream")]
    virtual_port: String,
    #[arg(long, default_value_t = 4)]
    bars: usize,
    #[arg(long, default_value_t = 120.0)]
    tempo: f64,
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> Result<()> {
    let a = Args::parse();
    if a.bars == 0 || a.tempo.is_nan() || a.tempo <= 0.0 {
        bail!("stream_to_port: --bars and --tempo must be above 0");
    }
    let dir = a
        .model
        .clone()
        .unwrap_or_else(|| improv::paths::bundle_root().join("models/vae-lstm-small"));
    let (model, meta) = checkpoint::load(&checkpoint::resolve(&dir), &Cpu::default())
        .with_context(|| format!("stream_to_port: {}", dir.display()))?;
    let mut rng = Rng::new(a.seed);
    let controls = Controls {
        z: piece::sample_latent(meta.model.latent, &mut rng),
        sampling: Sampling {
            temperature: a.temperature,
            ..Sampling::default()
        },
        seed: Some(a.seed),
    };
    let gen = NoteStream::new(
        model.stream(),
        0,
        &meta,
        controls,
        &piece::empty_primer(&meta),
    )?;
    let beats = a.bars as f64 * 4.0;
    let (source, handle) = LiveSource::new(
        gen,
        LiveConfig {
            length_beats: Some(beats),
            ..LiveConfig::default()
        },
    );
    let sink = match &a.port {
        Some(p) => MidiPortSink::connect(p, false),
        None => MidiPortSink::virtual_port(&a.virtual_port, false),
    }
    .context("stream_to_port")?;
    println!(
        "streaming {} bars at {} BPM to {}",
        a.bars,
        a.tempo,
        sink_name(&a)
    );
    let clock: Arc<dyn Clock> = MonotonicClock::shared();
    let mut player = Player::new(
        PlayerConfig {
            bpm: a.tempo,
            realtime: None,
            ..PlayerConfig::default()
        },
        clock,
    )?;
    player.add_sink(Box::new(sink), 0.0)?;
    player.feed(Box::new(source))?;
    player.start();
    let limit = Duration::from_secs_f64(beats * 60.0 / a.tempo + 10.0);
    let started = Instant::now();
    let mut steered = false;
    while !player.is_done() && started.elapsed() < limit {
        if !steered && player.position() >= beats / 2.0 {
            let z = piece::sample_latent(meta.model.latent, &mut rng);
            handle.update(Quantize::Now, |c| c.z = z)?;
            steered = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    player.panic();
    std::thread::sleep(Duration::from_millis(50));
    let (notes, dropped) = player.note_counts();
    drop(player.finish());
    println!(
        "{notes} notes played ({dropped} dropped), {} tokens sampled, new latent from beat {:.2}",
        handle.counts().1,
        handle.applied_beat().unwrap_or(f64::NAN)
    );
    Ok(())
}

fn sink_name(a: &Args) -> String {
    match &a.port {
        Some(p) => p.clone(),
        None => format!("virtual port {}", a.virtual_port),
    }
}
