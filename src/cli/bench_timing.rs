//! `improv bench timing`: how late the scheduler hands notes to its sinks (memory and a real
//! port), idle and with every core busy; the end-to-end loopback through JACK; MIDI clock in;
//! and the synth callback's time and xruns through cpal's JACK host.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};

use super::bench::load_average;
use improv::music::{Note, NoteSeq};
use improv::play::clock_in::{ClockChange, ClockFollower, WINDOW};
use improv::play::histogram::Histogram;
use improv::play::{
    Clock, InputEvent, MemorySink, MidiIn, MidiPortSink, MonotonicClock, Player, PlayerConfig,
    SeqSource,
};

/// Goals from the issue: p99 under 1 ms, max under 2 ms.
const GOAL_P99_US: f64 = 1000.0;
const GOAL_MAX_US: f64 = 2000.0;

#[derive(Args)]
pub struct TimingArgs {
    /// Notes to schedule, as sixteenths.
    #[arg(long, default_value_t = 2000)]
    pub notes: usize,
    #[arg(long, default_value_t = 180.0)]
    pub bpm: f64,
    /// CPU-hog threads for the loaded run (default: one per core).
    #[arg(long)]
    pub hogs: Option<usize>,
    /// Run only the idle or only the loaded phase.
    #[arg(long, value_parser = ["idle", "load"])]
    pub only: Option<String>,
    /// Do not ask for SCHED_FIFO.
    #[arg(long)]
    pub no_rt: bool,
    /// Accepted for symmetry: output is always JSON lines.
    #[arg(long)]
    pub json: bool,
}

fn pattern(n: usize, bpm: f64) -> NoteSeq {
    const STEPS: [u8; 8] = [0, 2, 4, 5, 7, 9, 11, 12];
    let notes = (0..n)
        .map(|i| {
            Note::new(
                60 + STEPS[i % 8],
                80 + (i % 4) as u8 * 10,
                i as f64 * 0.25,
                0.2,
            )
        })
        .collect();
    NoteSeq::from_notes(notes, bpm)
}

fn spawn_hogs(n: usize, stop: &Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<()>> {
    (0..n)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 1u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..10_000 {
                        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
                    }
                }
            })
        })
        .collect()
}

fn lateness_json(h: &improv::play::histogram::Percentiles) -> Value {
    json!({
        "messages": h.count, "late_p50_us": h.p50_us, "late_p99_us": h.p99_us,
        "late_max_us": h.max_us, "over_1ms": h.over_1ms, "over_2ms": h.over_2ms,
        "meets_goal": h.p99_us < GOAL_P99_US && h.max_us < GOAL_MAX_US,
    })
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

pub fn run(a: TimingArgs) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let phases: Vec<&str> = match a.only.as_deref() {
        Some(p) => vec![p],
        None => vec!["idle", "load"],
    };
    for phase in phases {
        let hogs = if phase == "load" {
            a.hogs.unwrap_or(cores)
        } else {
            0
        };
        phase_run(&a, phase, hogs)?;
    }
    Ok(())
}

fn phase_run(a: &TimingArgs, phase: &str, hogs: usize) -> Result<()> {
    let clock: Arc<dyn Clock> = MonotonicClock::shared();
    let cfg = PlayerConfig {
        bpm: a.bpm,
        clock_out: true,
        realtime: (!a.no_rt).then_some(80),
        ..PlayerConfig::default()
    };
    let base = json!({
        "bench": "timing", "phase": phase, "notes": a.notes, "bpm": a.bpm,
        "hogs": hogs, "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "goal_p99_us": GOAL_P99_US, "goal_max_us": GOAL_MAX_US,
    });
    let mut player = Player::new(cfg, clock.clone())?;
    let (mem, mut log) = MemorySink::new("memory", 1 << 15, false);
    let mem = player.add_sink(Box::new(mem), 0.0)?;
    let port_name = format!("bench-{}", std::process::id());
    let port = MidiPortSink::virtual_port(&port_name, true)
        .map_err(|e| e.to_string())
        .and_then(|sink| {
            let input = MidiIn::connect(&port_name, clock.clone()).map_err(|e| e.to_string())?;
            Ok((sink, input))
        });
    let (port_info, mut input) = match port {
        Ok((sink, input)) => (Some(player.add_sink(Box::new(sink), 0.0)?), Some(input)),
        Err(e) => {
            println!(
                "{}",
                merge(base.clone(), json!({"sink": "port", "error": e}))
            );
            (None, None)
        }
    };
    let audio = audio_setup(&mut player);
    let synth_sink = audio.as_ref().ok().map(|a| a.info.clone());
    // New JACK connections take effect from a later cycle.
    std::thread::sleep(Duration::from_millis(300));
    let stop = Arc::new(AtomicBool::new(false));
    let hog_threads = spawn_hogs(hogs, &stop);
    player.feed(Box::new(SeqSource::new(pattern(a.notes, a.bpm))))?;
    let t0 = Instant::now();
    player.start();
    let mut received: Vec<InputEvent> = Vec::new();
    while !player.is_done() {
        std::thread::sleep(Duration::from_millis(100));
        if let Some(i) = input.as_mut() {
            i.drain(&mut received);
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let rt = player.rt_status();
    stop.store(true, Ordering::Relaxed);
    for h in hog_threads {
        let _ = h.join();
    }
    let audio_report = match &audio {
        Ok(au) => audio_json(au, secs),
        Err(e) => json!({"sink": "synth", "error": e}),
    };
    drop(player.finish());
    std::thread::sleep(Duration::from_millis(100));
    if let Some(i) = input.as_mut() {
        i.drain(&mut received);
    }
    let base = merge(
        base,
        json!({"sched_fifo": rt.granted(), "scheduler": rt.describe(), "seconds": secs,
               "loadavg_1m": load_average()}),
    );
    println!(
        "{}",
        merge(
            merge(base.clone(), json!({"sink": "memory"})),
            lateness_json(&mem.stats.lateness())
        )
    );
    if let Some(p) = port_info {
        let sink = json!({"sink": "port", "port": p.name, "errors": p.stats.errors.load(Ordering::Relaxed)});
        println!(
            "{}",
            merge(
                merge(base.clone(), sink),
                lateness_json(&p.stats.lateness())
            )
        );
        let mut lb = loopback_json(log.records(), &received);
        if let Ok(au) = audio.as_ref() {
            lb = merge(lb, jack_period(au));
        }
        if let (Some(j), Some(p)) = (lb["jitter_us"].as_f64(), lb["jack_period_us"].as_f64()) {
            lb = merge(lb, json!({"jitter_within_period": j <= p}));
        }
        println!("{}", merge(base.clone(), lb));
        println!("{}", merge(base.clone(), clock_in_json(&received, a.bpm)));
    }
    if let Some(s) = synth_sink {
        let sink = json!({"sink": "synth-queue"});
        println!(
            "{}",
            merge(
                merge(base.clone(), sink),
                lateness_json(&s.stats.lateness())
            )
        );
    }
    println!("{}", merge(base, audio_report));
    drop(audio);
    Ok(())
}

/// The synth on the audio device, and on JACK a tap that counts xruns.
struct Audio {
    out: improv::audio::SynthOutput,
    info: improv::play::SinkInfo,
    #[cfg(feature = "jack")]
    tap: improv::audio::jack_tap::JackTap,
}

fn audio_setup(player: &mut Player) -> Result<Audio, String> {
    let (out, sink) = improv::audio::open_synth(24).map_err(|e| e.to_string())?;
    let info = player
        .add_sink(Box::new(sink), 0.0)
        .map_err(|e| e.to_string())?;
    #[cfg(feature = "jack")]
    {
        use improv::audio::jack_tap::{cpal_ports_pattern, JackTap};
        let tap = JackTap::open(&format!("bench-tap-{}", std::process::id()))
            .map_err(|e| format!("JACK tap: {e}"))?;
        if tap.connect_from(&cpal_ports_pattern()) == 0 {
            return Err("JACK tap: cannot connect to the synth's ports".into());
        }
        Ok(Audio { out, info, tap })
    }
    #[cfg(not(feature = "jack"))]
    Ok(Audio { out, info })
}

/// The JACK period, and whether the loopback's jitter stayed within it.
#[cfg(feature = "jack")]
fn jack_period(a: &Audio) -> Value {
    json!({"jack_period_us": a.tap.period_us()})
}

#[cfg(not(feature = "jack"))]
fn jack_period(_: &Audio) -> Value {
    json!({})
}

fn audio_json(a: &Audio, secs: f64) -> Value {
    let st = &a.out.stats;
    let cb = st.callback_time.percentiles();
    let frames = st.frames.load(Ordering::Relaxed);
    #[allow(unused_mut)]
    let mut v = json!({
        "sink": "synth", "host": a.out.host, "device": a.out.device,
        "sample_rate": a.out.sample_rate, "seconds": secs,
        "callbacks": cb.count, "frames": frames,
        "frames_per_callback": frames as f64 / cb.count.max(1) as f64,
        "callback_p50_us": cb.p50_us, "callback_p99_us": cb.p99_us, "callback_max_us": cb.max_us,
        "stream_errors": st.errors.load(Ordering::Relaxed),
    });
    #[cfg(feature = "jack")]
    {
        v = merge(
            v,
            json!({
                "xruns": a.tap.stats.xruns.load(Ordering::Relaxed),
                "jack_period_us": a.tap.period_us(),
                "tap_peak": a.tap.stats.peak(),
            }),
        );
    }
    v
}

/// Arrival at the MIDI input minus the deadline, message by message: each message the memory
/// sink saw is matched with the next equal channel message that came back (a lost one is
/// counted, not paired with its neighbour).
fn loopback_json(sent: &[improv::play::sink::Record], received: &[InputEvent]) -> Value {
    let got: Vec<&InputEvent> = received
        .iter()
        .filter(|e| e.msg.channel().is_some())
        .collect();
    let h = Histogram::default();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut j, mut lost) = (0, 0);
    for r in sent {
        match (j..got.len().min(j + 16)).find(|&k| got[k].msg == r.msg) {
            Some(k) => {
                let us = (got[k].at - r.deadline) * 1e6;
                lo = lo.min(us);
                hi = hi.max(us);
                h.record((us * 1e3) as i64);
                j = k + 1;
            }
            None => lost += 1,
        }
    }
    let p = h.percentiles();
    json!({
        "sink": "jack-loopback", "sent": sent.len(), "received": got.len(), "lost": lost,
        "delay_p50_us": p.p50_us, "delay_p99_us": p.p99_us, "delay_max_us": p.max_us,
        "delay_min_us": lo, "jitter_us": hi - lo, "over_1ms": p.over_1ms, "over_2ms": p.over_2ms,
    })
}

/// Tempo estimates from the clock ticks that came back, against the tempo sent.
fn clock_in_json(received: &[InputEvent], bpm: f64) -> Value {
    let mut f = ClockFollower::new();
    let mut ticks = 0;
    let mut errs = Vec::new();
    for e in received {
        if e.msg.status() == 0xf8 {
            ticks += 1;
        }
        if let Some(ClockChange::Tempo(b)) = f.feed(e) {
            if ticks > WINDOW {
                errs.push((b - bpm).abs());
            }
        }
    }
    let mean = errs.iter().sum::<f64>() / errs.len().max(1) as f64;
    let max = errs.iter().copied().fold(0.0, f64::max);
    json!({
        "sink": "midi-clock-in", "ticks": ticks, "estimates": errs.len(),
        "tempo_error_mean_bpm": mean, "tempo_error_max_bpm": max,
    })
}
