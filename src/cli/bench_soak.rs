//! `improv bench soak`: the whole instrument at once for a bounded time, through real JACK ports
//! (run under `scripts/with-jack.sh`; `scripts/soak.sh` does): the bundled model streams live to
//! a port with two layers beside the main voice, while it trains on the bundled corpus (new
//! weights every 200 steps) and a controller on a MIDI input moves a latent dimension with 100
//! messages a second. One JSON line a minute (memory, notes, lateness, xruns, training), then a
//! summary with the notes left hanging after `stop`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use serde_json::json;

use super::bench::{load_average, run_line};
use improv::engine::{Engine, EngineOptions};
use improv::play::sink::Sounding;
use improv::play::{InputEvent, MidiIn, MidiMsg, MidiPortSink, MonotonicClock, Sink};

/// This process's resident memory in KB (`VmRSS`).
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(String::from))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A JACK client that counts the server's xruns.
#[cfg(feature = "jack")]
fn xrun_watch() -> Option<improv::audio::jack_tap::JackTap> {
    improv::audio::jack_tap::JackTap::open(&format!("soak-tap-{}", std::process::id())).ok()
}

#[cfg(feature = "jack")]
fn xruns(w: &Option<improv::audio::jack_tap::JackTap>) -> Option<u64> {
    w.as_ref().map(|t| t.stats.xruns.load(Ordering::Relaxed))
}

#[cfg(not(feature = "jack"))]
fn xrun_watch() -> Option<()> {
    None
}

#[cfg(not(feature = "jack"))]
fn xruns(_: &Option<()>) -> Option<u64> {
    None
}

pub fn run(minutes: f64) -> Result<()> {
    let home = tempfile::tempdir()?;
    let e = Engine::start(EngineOptions {
        home: home.path().to_path_buf(),
        autosave_every: Some(Duration::from_secs(60)),
        ..EngineOptions::default()
    })?;
    let tag = std::process::id();
    let knob_port = format!("soak-knob-{tag}");
    let synth_port = format!("soak-synth-{tag}");
    let mut knob = MidiPortSink::virtual_port(&knob_port, false)
        .map_err(|err| anyhow!("bench soak: {err} (run under scripts/with-jack.sh)"))?;
    let mut synth = MidiIn::virtual_port(&synth_port, MonotonicClock::shared())
        .map_err(|err| anyhow!("bench soak: {err}"))?;
    let watch = xrun_watch();
    std::thread::sleep(Duration::from_millis(300));
    let root = improv::paths::bundle_root();
    for line in [
        format!("load corpus {}", root.join("data").display()),
        format!(
            "model load {}",
            root.join("models/vae-lstm-small").display()
        ),
        format!("input {knob_port}"),
        "map 74 latent 1".into(),
        format!("connect {synth_port}"),
        "tempo 120".into(),
        "channel 1".into(),
        "layer bass channel 3 program 33 octave -1 temperature 0.8 seed 5".into(),
        "layer pad channel 4 program 89 transpose 12 temperature 0.7 seed 9".into(),
        "play".into(),
        "train epochs 1000 swap 200".into(),
    ] {
        run_line(&e, &line)?;
    }

    // The controller: CC 74 at 100 messages a second, a slow sweep.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let knob_thread = {
        let (stop, sent) = (stop.clone(), sent.clone());
        std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut k: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                let v = ((k / 2) % 254) as i64;
                let v = if v > 127 { 254 - v } else { v } as u8;
                if knob.send(MidiMsg::control(0, 74, v.min(127)), 0.0).is_ok() {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
                k += 1;
                let next = t0 + Duration::from_millis(10 * k);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        })
    };

    let mut sounding = Sounding::default();
    let mut got: Vec<InputEvent> = Vec::with_capacity(4096);
    let start = Instant::now();
    let total = Duration::from_secs_f64(minutes * 60.0);
    let mut next_report = Duration::from_secs(60).min(total);
    let mut rss = Vec::new();
    let mut errors = 0u64;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        got.clear();
        synth.drain(&mut got);
        for ev in &got {
            sounding.take(ev.msg);
        }
        while let Ok(ev) = e.events().try_recv() {
            if let improv::engine::Event::Error { text } = ev {
                errors += 1;
                eprintln!("bench soak: engine error: {text}");
            }
        }
        let elapsed = start.elapsed();
        if elapsed < next_report {
            continue;
        }
        next_report += Duration::from_secs(60);
        let s = e.snapshot();
        let main = s.sinks.iter().find(|k| k.name.contains(&synth_port));
        let kb = rss_kb();
        rss.push(kb);
        println!(
            "{}",
            json!({
                "bench": "soak", "minute": (elapsed.as_secs_f64() / 60.0 * 10.0).round() / 10.0,
                "rss_kb": kb, "notes_at_synth": sounding.note_ons,
                "live_notes": s.live.as_ref().map_or(0, |l| l.notes),
                "layers_notes": s.layers.iter().map(|l| l.notes).sum::<u64>(),
                "playing_weights": s.live.as_ref().map_or(0, |l| l.playing_weights),
                "train_step": s.train.step, "training": s.train.running,
                "cc_sent": sent.load(Ordering::Relaxed),
                "late_p99_us": main.map(|m| m.late_p99_us), "late_max_us": main.map(|m| m.late_max_us),
                "sink_errors": main.map(|m| m.errors), "engine_errors": errors,
                "xruns": xruns(&watch), "input_dropped": synth.dropped(),
                "load": load_average().unwrap_or(f64::NAN),
            })
        );
        if elapsed >= total {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = knob_thread.join();
    run_line(&e, "train stop")?;
    run_line(&e, "stop")?;
    let t = Instant::now();
    while e.snapshot().transport.playing && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    got.clear();
    synth.drain(&mut got);
    for ev in &got {
        sounding.take(ev.msg);
    }
    let first = rss.first().copied().unwrap_or(0);
    let last = rss.last().copied().unwrap_or(0);
    println!(
        "{}",
        json!({
            "bench": "soak", "summary": true, "minutes": minutes,
            "rss_first_kb": first, "rss_last_kb": last,
            "rss_max_kb": rss.iter().max().copied().unwrap_or(0),
            "notes_at_synth": sounding.note_ons, "hanging_notes": sounding.hanging(),
            "cc_sent": sent.load(Ordering::Relaxed), "engine_errors": errors,
            "xruns": xruns(&watch), "input_dropped": synth.dropped(),
        })
    );
    e.shutdown();
    Ok(())
}
