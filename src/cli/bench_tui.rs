//! `improv bench tui`: the time to draw a frame of a full screen, and the key-press-to-screen
//! latency through the real event loop while a training run is going.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use serde_json::json;

use super::bench::{load_average, percentile};
use improv::engine::{Engine, EngineOptions};
use improv::tui::app::App;
use improv::tui::run::run_loop;
use improv::tui::sample::realistic_app;
use improv::tui::screen::areas;

#[derive(Args)]
pub struct TuiBenchArgs {
    /// Frames drawn per screen size.
    #[arg(long, default_value_t = 2000)]
    frames: usize,
    /// Key presses timed while training runs.
    #[arg(long, default_value_t = 200)]
    keys: usize,
    /// Skip the latency measurement (it trains a tiny model on the bundled corpus).
    #[arg(long)]
    no_latency: bool,
    /// Accepted for symmetry: bench output is always JSON lines.
    #[arg(long)]
    json: bool,
}

fn summary(mut ms: Vec<f64>) -> serde_json::Value {
    ms.sort_by(f64::total_cmp);
    json!({
        "n": ms.len(),
        "p50_ms": percentile(&ms, 0.5),
        "p99_ms": percentile(&ms, 0.99),
        "max_ms": ms.last().copied().unwrap_or(f64::NAN),
    })
}

/// Frame draw time of the full sample screen; the playhead moves every frame so the piano roll
/// and transport change as they do while playing.
fn frames(w: u16, h: u16, n: usize) -> Result<()> {
    let mut app = realistic_app(&improv::paths::bundle_root())?;
    let mut terminal = Terminal::new(TestBackend::new(w, h))?;
    let mut ms = Vec::with_capacity(n);
    let start_beat = app.view.roll.playhead;
    for i in 0..n + 20 {
        let beat = start_beat + (i % 64) as f64 / 8.0;
        app.view.roll.playhead = beat;
        app.view.transport.beat = beat;
        let t = Instant::now();
        terminal.draw(|f| app.draw(f))?;
        if i >= 20 {
            ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mut out = json!({"bench": "tui_frame", "width": w, "height": h, "load": load_average()});
    out.as_object_mut()
        .unwrap()
        .extend(summary(ms).as_object().unwrap().clone());
    println!("{out}");
    Ok(())
}

fn row_text(buf: &Buffer, y: u16) -> String {
    (buf.area.x..buf.area.right())
        .map(|x| buf[(x, y)].symbol())
        .collect()
}

/// Types keys into the real loop (200x60 test terminal) while the engine trains, timing each
/// from sending the key to the first drawn frame whose command line shows it.
fn latency(keys: usize) -> Result<()> {
    let home = tempfile::tempdir()?;
    let engine = Engine::start(EngineOptions {
        home: home.path().to_path_buf(),
        autosave_every: None,
        realtime: false,
        ..Default::default()
    })?;
    let corpus = improv::paths::bundled_corpus().join("classical/bach");
    for line in [
        format!("load corpus {}", corpus.display()),
        "model new vae-lstm tiny".to_string(),
        "train steps 100000".to_string(),
    ] {
        let id = engine
            .run_line(&line)
            .map_err(|e| anyhow!("{line}: {e}"))?
            .context("blank line")?;
        // Corpus and model commands finish before the next; training runs in the background.
        if !line.starts_with("train") {
            engine
                .wait_for(id, |_| {})
                .map_err(|e| anyhow!("{line}: {e}"))?;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while engine.snapshot().train.step < 2 {
        if Instant::now() > deadline {
            bail!("training did not start within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (key_tx, key_rx) = crossbeam_channel::unbounded();
    let (frame_tx, frame_rx) = crossbeam_channel::unbounded::<String>();
    let cmd_row = areas(ratatui::layout::Rect::new(0, 0, 200, 60)).cmdline.y + 1;
    let mut ms = Vec::with_capacity(keys);
    let mut typed = String::new();
    std::thread::scope(|s| -> Result<()> {
        let engine = &engine;
        let looped = s.spawn(move || {
            let mut terminal = Terminal::new(TestBackend::new(200, 60))?;
            let mut app = App::default();
            run_loop(&mut terminal, &mut app, engine, &key_rx, &mut |buf| {
                let _ = frame_tx.send(row_text(buf, cmd_row));
            })?;
            anyhow::Ok(())
        });
        for i in 0..keys {
            // Clear the line now and then so the typed text stays within the screen.
            if typed.len() >= 60 {
                key_tx.send(TermEvent::Key(KeyEvent::new(
                    KeyCode::Char('u'),
                    KeyModifiers::CONTROL,
                )))?;
                typed.clear();
                std::thread::sleep(Duration::from_millis(20));
            }
            while frame_rx.try_recv().is_ok() {}
            let c = (b'a' + (i % 26) as u8) as char;
            typed.push(c);
            let want = format!("> {typed}");
            let t = Instant::now();
            key_tx.send(TermEvent::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )))?;
            loop {
                let row = frame_rx
                    .recv_timeout(Duration::from_secs(5))
                    .context("no frame within 5 s of a key press")?;
                if row.contains(&format!("{want} ")) {
                    break;
                }
            }
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            // Key presses a person makes are tens of ms apart, not back to back.
            std::thread::sleep(Duration::from_millis(15));
        }
        drop(key_tx);
        looped
            .join()
            .map_err(|_| anyhow!("the TUI loop panicked"))??;
        Ok(())
    })?;
    let step = engine.snapshot().train.step;
    let _ = engine.run_line("train stop");
    let mut out = json!({
        "bench": "tui_key_to_screen",
        "width": 200,
        "height": 60,
        "training": "vae-lstm tiny on data/classical/bach",
        "train_step_at_end": step,
        "load": load_average(),
    });
    out.as_object_mut()
        .unwrap()
        .extend(summary(ms).as_object().unwrap().clone());
    println!("{out}");
    Ok(())
}

pub fn run(a: TuiBenchArgs) -> Result<()> {
    frames(200, 60, a.frames.max(1))?;
    frames(120, 40, a.frames.max(1))?;
    if !a.no_latency {
        latency(a.keys.max(1))?;
    }
    Ok(())
}
