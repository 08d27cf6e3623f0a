//! The TUI end to end: the real binary in tmux (fixed size, temporary IMPROV_HOME) against the
//! JACK dummy server (`scripts/with-jack.sh cargo test --features jack --test tui_e2e`). Keys go
//! in with `send-keys`; `capture-pane` is polled until the expected text appears or a deadline
//! passes. Path: load a corpus, new tiny model, train 30 steps and watch the chart, generate,
//! play to the virtual port, steer the latent, save the session, quit, reopen, load, play on.
#![cfg(feature = "jack")]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const W: u16 = 160;
const H: u16 = 50;

struct Tmux {
    name: String,
}

impl Tmux {
    /// Starts `improv` with no arguments in a new detached session; when it exits the pane
    /// prints `EXITED <status>` and stays for inspection.
    fn start(name: &str, home: &Path) -> Tmux {
        let bin = env!("CARGO_BIN_EXE_improv");
        let cmd = format!(
            "env IMPROV_HOME={} {bin}; echo EXITED $?; sleep 600",
            home.display()
        );
        // A tmux server that is just exiting (the last session was killed) refuses a new
        // session once; try again.
        let (w, h) = (W.to_string(), H.to_string());
        let ok = (0..3).any(|i| {
            std::thread::sleep(Duration::from_millis(300 * i));
            Command::new("tmux")
                .args(["new-session", "-d", "-s", name, "-x", &w, "-y", &h])
                .arg(&cmd)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("tmux runs")
                .success()
        });
        assert!(ok, "tmux new-session failed");
        Tmux {
            name: name.to_string(),
        }
    }

    fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let ok = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("tmux send-keys")
            .success();
        assert!(ok, "tmux send-keys {keys:?}");
    }

    /// Esc on its own: a terminal can't tell Esc followed at once by a key from Alt+key, so
    /// give it a moment before the next key.
    fn escape(&self) {
        self.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(400));
    }

    /// Types a command line and presses Enter.
    fn command(&self, line: &str) {
        self.keys(&["-l", line]);
        self.keys(&["Enter"]);
    }

    /// Polls the screen until `pred` holds; panics with the last screen after `secs`.
    fn wait(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("waited {secs} s for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn wait_for(&self, text: &str, secs: u64) -> String {
        self.wait(&format!("`{text}`"), secs, |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

/// The latent panel's title: `dim D = +V.VV`.
fn latent_value(screen: &str, dim: usize) -> Option<f32> {
    let key = format!("· dim {dim} = ");
    let at = screen.find(&key)? + key.len();
    screen[at..].split_whitespace().next()?.parse().ok()
}

fn skip_reason() -> Option<String> {
    if Command::new("tmux")
        .arg("-V")
        .output()
        .map_or(true, |o| !o.status.success())
    {
        return Some("tmux is not installed".into());
    }
    if std::env::var_os("JACK_DEFAULT_SERVER").is_none() {
        return Some("no JACK server (run under scripts/with-jack.sh)".into());
    }
    None
}

#[test]
fn train_generate_play_steer_save_quit_reopen() {
    if let Some(why) = skip_reason() {
        eprintln!("tui_e2e skipped: {why}");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let name = format!("improv-e2e-{}", std::process::id());
    let t = Tmux::start(&name, home.path());
    // The TUI is up, with its command line focused.
    t.wait_for("Tab complete", 60);
    t.wait("the default session to finish loading", 300, |s| {
        s.contains("model ") && !s.contains("loading...")
    });

    t.command("load corpus data/classical/bach");
    t.wait_for("classical/bach (100 pieces", 240);
    t.command("model new vae-lstm tiny");
    t.wait_for("model vae-lstm tiny", 60);
    t.command("train steps 30");
    // The chart moves: a step count appears while training, then the run ends at step 30.
    // On a fast machine the 30 steps can end between two polls of the screen, so the title may
    // go straight to "done".
    t.wait("training to start", 120, |s| {
        s.contains("loss training step") || s.contains("done step 30")
    });
    let done = t.wait("30 steps of training", 300, |s| s.contains("done step 30"));
    assert!(
        done.contains("total "),
        "the chart title shows the last loss:\n{done}"
    );

    // Thirty steps move the chart but rarely make a model that writes notes; generate and play
    // with the bundled model (what the default session loads).
    t.command("model load models/vae-lstm-small");
    t.wait_for("model models/vae-lstm-small", 120);
    t.command("gen bars 4");
    t.wait_for("generated ", 180);
    t.command("virtual");
    t.wait_for("virtual improv", 30);
    t.command("play");
    t.wait_for("▶ playing", 30);

    // Perform keys: two dimensions down, nudged up twice by 0.25.
    t.escape();
    t.keys(&["j", "j"]);
    let before = t.wait("the cursor on dimension 2", 10, |s| {
        latent_value(s, 2).is_some()
    });
    let v0 = latent_value(&before, 2).unwrap();
    t.keys(&["l", "l"]);
    let want = v0 + 0.5;
    let after = t.wait("the nudged value", 20, |s| {
        latent_value(s, 2).is_some_and(|v| (v - want).abs() < 0.011)
    });
    assert!(
        after.contains("latent nudge 2 0.25"),
        "the nudges are logged as commands:\n{after}"
    );

    t.keys(&[":"]);
    t.command("session save e2e");
    t.wait_for("session saved to", 30);
    assert!(home.path().join("sessions/e2e.toml").is_file());
    t.escape();
    t.keys(&["q"]);
    let exited = t.wait_for("EXITED 0", 30);
    // The terminal is back to the shell's screen: no pane borders left over.
    assert!(
        !exited.contains("┌ loss"),
        "the TUI's screen was left behind:\n{exited}"
    );
    drop(t);

    let t = Tmux::start(&format!("{name}-again"), home.path());
    t.wait_for("Tab complete", 60);
    t.wait("the default session to finish loading", 300, |s| {
        s.contains("model ") && !s.contains("loading...")
    });
    t.command("session load e2e");
    t.wait_for("session restored from", 240);
    let restored = t.wait("the saved model and corpus", 240, |s| {
        s.contains("models/vae-lstm-small") && s.contains("classical/bach (100 pieces")
    });
    t.escape();
    for _ in 0..2 {
        t.keys(&["j"]);
    }
    let screen = t.wait("the restored latent", 20, |s| {
        latent_value(s, 2).is_some_and(|v| (v - want).abs() < 0.011)
    });
    drop((restored, screen));
    t.keys(&[":"]);
    t.command("gen bars 2");
    t.wait_for("generated ", 180);
    t.command("play");
    t.wait_for("▶ playing", 30);
    t.command("quit");
    t.wait_for("EXITED 0", 30);
}
