//! `improv ports`, `improv play` and `improv render`: MIDI ports, real-time playback of a MIDI
//! file to ports and the synth, and offline render to WAV.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::json;

use improv::audio::{open_synth, render_seq, write_wav};
use improv::music::{midi, NoteSeq};
use improv::play::clock_in::ClockFollower;
use improv::play::midi_port::{backend, input_ports, output_ports};
use improv::play::schedule::bar_beat;
use improv::play::{
    MidiIn, MidiPortSink, MonotonicClock, Params, Player, PlayerConfig, Recorder, Scale, SeqSource,
};

/// Live changes shared by `play` and `render`.
#[derive(Args, Clone)]
pub struct ShapeArgs {
    /// Play at this tempo instead of the file's.
    #[arg(long)]
    pub tempo: Option<f64>,
    /// Semitones to transpose pitched notes by.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub transpose: i32,
    /// Swing of the eighths, 0 (straight) to 0.9; 0.33 is triplet swing.
    #[arg(long, default_value_t = 0.0)]
    pub swing: f64,
    /// Quantize pitches to a scale, e.g. "D dorian".
    #[arg(long)]
    pub scale: Option<Scale>,
    /// Factor on every velocity.
    #[arg(long, default_value_t = 1.0)]
    pub velocity: f64,
}

impl ShapeArgs {
    fn params(&self) -> Params {
        Params {
            tempo: self.tempo,
            swing: self.swing,
            transpose: self.transpose,
            velocity_scale: self.velocity,
            scale: self.scale,
            ..Params::default()
        }
    }
}

#[derive(Args)]
pub struct PlayArgs {
    pub file: PathBuf,
    /// Send to this MIDI output port (name, part of a name, or index from `improv ports`).
    #[arg(long)]
    pub port: Option<String>,
    /// Create the virtual port `improv` for synths and DAWs to subscribe to.
    #[arg(long = "virtual")]
    pub virtual_port: bool,
    /// Play on the built-in synth (default audio device).
    #[arg(long)]
    pub synth: bool,
    /// Also send MIDI clock (24 ppqn, start/stop, song position) to the ports.
    #[arg(long)]
    pub clock_out: bool,
    /// Also record what is played to this MIDI file.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Follow the MIDI clock arriving on this input port: its tempo, start, stop and continue
    /// (playback waits for its Start).
    #[arg(long)]
    pub clock_in: Option<String>,
    /// Listen to this MIDI input port (a keyboard or DAW) and record what is played on it as a
    /// second part (with --record).
    #[arg(long)]
    pub input: Option<String>,
    /// Seconds to wait before the first note (time for a synth or DAW to subscribe to the
    /// virtual port).
    #[arg(long, default_value_t = 0.0)]
    pub delay: f64,
    /// How late the synth is heard after a message reaches it, in ms (others wait to match).
    #[arg(long, default_value_t = 0.0)]
    pub synth_latency_ms: f64,
    /// How late the port's instrument is heard, in ms.
    #[arg(long, default_value_t = 0.0)]
    pub port_latency_ms: f64,
    #[command(flatten)]
    pub shape: ShapeArgs,
}

#[derive(Args)]
pub struct RenderArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 48_000)]
    pub sample_rate: u32,
    #[command(flatten)]
    pub shape: ShapeArgs,
}

fn read(file: &Path) -> Result<NoteSeq> {
    let r = midi::read_file(file)?;
    if r.seq.notes.is_empty() {
        bail!("{}: no notes to play", file.display());
    }
    Ok(r.seq)
}

pub fn ports(json: bool) -> Result<()> {
    let outs = output_ports().context("improv ports")?;
    let ins = input_ports().context("improv ports")?;
    if json {
        println!(
            "{}",
            json!({ "backend": backend(), "outputs": outs, "inputs": ins })
        );
        return Ok(());
    }
    println!("MIDI backend: {}", backend());
    println!("outputs (improv play --port N|NAME):");
    for (i, n) in outs.iter().enumerate() {
        println!("  {i}: {n}");
    }
    println!("inputs:");
    for (i, n) in ins.iter().enumerate() {
        println!("  {i}: {n}");
    }
    Ok(())
}

pub fn render(a: RenderArgs) -> Result<()> {
    let seq = read(&a.file)?;
    if !(8_000..=192_000).contains(&a.sample_rate) {
        bail!(
            "improv render: --sample-rate {} is outside 8000..=192000",
            a.sample_rate
        );
    }
    let samples = render_seq(&seq, a.shape.params(), a.sample_rate, 2, 512);
    write_wav(&a.out, &samples, 2, a.sample_rate)?;
    eprintln!(
        "rendered {} notes, {:.1} s, to {}",
        seq.notes.len(),
        samples.len() as f64 / 2.0 / a.sample_rate as f64,
        a.out.display()
    );
    Ok(())
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

fn catch_ctrl_c() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe { libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t) };
}

pub fn play(a: PlayArgs) -> Result<()> {
    if a.port.is_none() && !a.virtual_port && !a.synth && a.record.is_none() {
        bail!("improv play: say where to play: --port NAME, --virtual, --synth (or --record FILE)");
    }
    let seq = read(&a.file)?;
    let sigs = seq.time_sigs.clone();
    let bar = seq.time_sig_at(0.0).bar_beats();
    let clock = MonotonicClock::shared();
    let cfg = PlayerConfig {
        bpm: seq.tempo.bpm_at(0.0),
        clock_out: a.clock_out,
        ..PlayerConfig::default()
    };
    let mut player = Player::new(cfg, clock.clone())?;
    player.params().set(a.shape.params());
    let ms = |v: f64| v.max(0.0) / 1000.0;
    if let Some(name) = &a.port {
        let sink = MidiPortSink::connect(name, a.clock_out).context("improv play --port")?;
        player.add_sink(Box::new(sink), ms(a.port_latency_ms))?;
    }
    if a.virtual_port {
        let sink =
            MidiPortSink::virtual_port("improv", a.clock_out).context("improv play --virtual")?;
        player.add_sink(Box::new(sink), ms(a.port_latency_ms))?;
    }
    // Kept alive while playing: dropping it stops the audio.
    let mut _audio = None;
    if a.synth {
        let (out, sink) = open_synth(24).context("improv play --synth")?;
        eprintln!(
            "synth on {} ({}), {} Hz",
            out.device, out.host, out.sample_rate
        );
        player.add_sink(Box::new(sink), ms(a.synth_latency_ms))?;
        _audio = Some(out);
    }
    let mut recorder = None;
    if let Some(path) = &a.record {
        let bpm = a.shape.tempo.unwrap_or(seq.tempo.bpm_at(0.0));
        let (rec, sink) = Recorder::start(path, bpm, bar)?;
        player.add_sink(Box::new(sink), 0.0)?;
        recorder = Some(rec);
    }
    let mut clock_in = match &a.clock_in {
        Some(name) => Some(MidiIn::connect(name, clock.clone()).context("improv play --clock-in")?),
        None => None,
    };
    let mut input = match &a.input {
        Some(name) => Some(MidiIn::connect(name, clock.clone()).context("improv play --input")?),
        None => None,
    };
    player.feed(Box::new(SeqSource::new(seq)))?;
    catch_ctrl_c();
    if a.delay > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(a.delay.min(60.0)));
    }
    match &clock_in {
        Some(i) => eprintln!("waiting for MIDI clock on {}", i.name),
        None => player.start(),
    }
    std::thread::sleep(Duration::from_millis(20));
    eprintln!("scheduler: {}", player.rt_status().describe());
    let mut last_bar = 0;
    let mut follower = ClockFollower::new();
    let (mut events, mut performed) = (Vec::new(), 0usize);
    while !player.is_done() {
        if let Some(i) = clock_in.as_mut() {
            i.drain(&mut events);
            for e in events.drain(..) {
                if let Some(change) = follower.feed(&e) {
                    change.apply(&mut player);
                }
            }
        }
        if let Some(i) = input.as_mut() {
            i.drain(&mut events);
            for e in events.drain(..) {
                performed += e.msg.as_note_on().is_some() as usize;
                if let Some(rec) = recorder.as_mut() {
                    rec.record_input(&e);
                }
            }
        }
        if INTERRUPTED.swap(false, Ordering::Relaxed) {
            eprintln!("\nstopping");
            player.stop();
        }
        for name in player.take_lost_sinks() {
            eprintln!("\n{name}: the port went away; playing on the other sinks");
        }
        let (b, beat) = bar_beat(player.position(), &sigs);
        if b != last_bar {
            eprint!("\rbar {b}:{beat:.0}  {:.0} BPM ", player.bpm());
            last_bar = b;
        }
        std::thread::sleep(Duration::from_millis(if clock_in.is_some() {
            2
        } else {
            20
        }));
    }
    eprintln!();
    if input.is_some() {
        eprintln!("heard {performed} notes on the input");
    }
    let (notes, dropped) = player.note_counts();
    let sinks = player.sinks().to_vec();
    drop(player.finish());
    eprintln!("played {notes} notes ({dropped} dropped)");
    for s in sinks {
        let l = s.stats.lateness();
        eprintln!(
            "  {}: {} messages, late p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs, {} errors",
            s.name,
            s.stats.sent.load(Ordering::Relaxed),
            l.p50_us,
            l.p99_us,
            l.max_us,
            s.stats.errors.load(Ordering::Relaxed)
        );
    }
    if let Some(rec) = recorder {
        let path = a.record.unwrap_or_default();
        let (seq, failed) = rec.finish()?;
        eprintln!("recorded {} notes to {}", seq.notes.len(), path.display());
        if let Some(f) = failed {
            anyhow::bail!(
                "--record: the journal failed during the take ({f}); {} holds what was journaled before that",
                path.display()
            );
        }
    }
    // The process ends right after this. Closing a JACK client cancels its process thread, and
    // when that lands inside the callback the jack crate's catch_unwind swallows the forced
    // unwind and glibc aborts ("FATAL: exception not rethrown"), seen about once in three runs.
    // Leaving the stream to the exit avoids it: the server drops the client when the process
    // goes, and every note-off has already been sent.
    if let Some(out) = _audio.take() {
        std::mem::forget(out);
    }
    Ok(())
}
