//! `improv genre ...`: render MIDI through a General MIDI SoundFont and compute audio features.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Subcommand;
use serde_json::json;

use improv::analysis::{features, render::Renderer, wav};
use improv::music::midi;

#[derive(Subcommand)]
pub enum GenreCmd {
    /// Render the first seconds of a MIDI file to a mono 22,050 Hz WAV.
    Render {
        file: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
    },
    /// The GTZAN-style feature table of a clip (a WAV, or a MIDI file rendered first).
    Features {
        file: PathBuf,
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: GenreCmd) -> Result<()> {
    match cmd {
        GenreCmd::Render { file, out, seconds } => {
            let y = clip(&file, seconds)?;
            wav::write_mono(&out, &y)?;
            println!(
                "{} -> {}: {:.1} s",
                file.display(),
                out.display(),
                y.len() as f64 / improv::analysis::SAMPLE_RATE as f64
            );
            Ok(())
        }
        GenreCmd::Features {
            file,
            seconds,
            json,
        } => {
            let y = clip(&file, seconds)?;
            let row = features::summarize(&features::frames(&y));
            let names = features::names();
            if json {
                let map: serde_json::Map<String, serde_json::Value> = names
                    .iter()
                    .zip(&row)
                    .map(|(n, v)| (n.clone(), json!(v)))
                    .collect();
                println!(
                    "{}",
                    json!({"file": file.display().to_string(), "features": map})
                );
            } else {
                for (n, v) in names.iter().zip(&row) {
                    println!("{n:16} {v:.6}");
                }
            }
            Ok(())
        }
    }
}

/// Mono audio of a file: a WAV as it is, a MIDI file rendered with the SoundFont.
fn clip(file: &Path, seconds: f64) -> Result<Vec<f32>> {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "wav" => Ok(wav::read_clip(file)?),
        "mid" | "midi" => {
            let seq = midi::read_file(file)?.seq;
            let y = Renderer::find()?.render(&seq, seconds)?;
            wav::require_sound(file, &y)?;
            Ok(y)
        }
        _ => bail!("{}: not a .wav or .mid file", file.display()),
    }
}
