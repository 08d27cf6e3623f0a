//! `improv bench control`: MIDI learn's latency through a real MIDI port: from a controller
//! message sent on a virtual output to the engine's snapshot showing the mapped value, and to a
//! live stream taking the new latent (run under JACK: `scripts/with-jack.sh`).

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use serde_json::json;

use super::bench::{load_average, percentile, run_line};
use improv::engine::{Engine, EngineHandle, EngineOptions, Snapshot};
use improv::play::{MidiMsg, MidiPortSink, Sink};

/// Sends `messages` values of CC 74 (alternating, so each one changes the target) and times
/// each until `seen` says the engine has it.
fn measure(
    e: &EngineHandle,
    knob: &mut MidiPortSink,
    messages: usize,
    seen: impl Fn(&Snapshot, u8, &Snapshot) -> bool,
) -> Result<Vec<f64>> {
    let mut lat = Vec::with_capacity(messages);
    for k in 0..messages {
        let v = if k % 2 == 0 { 100 } else { 20 };
        let before = e.snapshot();
        let t = Instant::now();
        knob.send(MidiMsg::control(0, 74, v), 0.0)?;
        loop {
            if seen(&e.snapshot(), v, &before) {
                break;
            }
            if t.elapsed() > Duration::from_secs(5) {
                bail!("bench control: the engine did not take cc 74 = {v} within 5 s");
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        // Let the stream settle so changes do not pile up.
        std::thread::sleep(Duration::from_millis(30));
    }
    lat.sort_by(f64::total_cmp);
    Ok(lat)
}

fn print(what: &str, lat: &[f64]) {
    println!(
        "{}",
        json!({
            "bench": "control", "what": what, "messages": lat.len(),
            "ms_p50": percentile(lat, 0.5), "ms_p99": percentile(lat, 0.99),
            "ms_max": lat[lat.len() - 1], "load": load_average().unwrap_or(f64::NAN),
        })
    );
}

pub fn run(messages: usize) -> Result<()> {
    let home = tempfile::tempdir()?;
    let e = Engine::start(EngineOptions {
        home: home.path().to_path_buf(),
        autosave_every: None,
        ..EngineOptions::default()
    })?;
    let port = format!("bench-knob-{}", std::process::id());
    let mut knob = MidiPortSink::virtual_port(&port, false)
        .map_err(|err| anyhow!("bench control: {err} (run under scripts/with-jack.sh)"))?;
    let model = improv::paths::bundle_root().join("models/vae-lstm-small");
    run_line(&e, &format!("model load {}", model.display()))?;
    run_line(&e, &format!("input {port}"))?;

    run_line(&e, "map 74 temperature")?;
    let temperature = |v: u8| (0.1 + 1.9 * f64::from(v) / 127.0) as f32;
    let lat = measure(&e, &mut knob, messages, |s, v, _| {
        s.sampling.temperature == temperature(v)
    })?;
    print("cc to engine (temperature in the snapshot)", &lat);

    // A live stream to a recorder: the latent change reaches the stream.
    let take = home.path().join("take.mid");
    run_line(&e, "map 74 latent 3")?;
    run_line(&e, &format!("record start {}", take.display()))?;
    run_line(&e, "play")?;
    std::thread::sleep(Duration::from_millis(500));
    let lat = measure(&e, &mut knob, messages, |s, _, before| {
        let applied = |x: &Snapshot| x.live.as_ref().map_or(0, |l| l.changes_applied);
        applied(s) > applied(before)
    })?;
    print("cc to live stream (latent change taken)", &lat);
    run_line(&e, "stop")?;
    run_line(&e, "record stop")?;
    e.shutdown();
    Ok(())
}
