//! Checks a session file whole before any of it is applied, so `session load` is all or
//! nothing: every value in range (the same ranges the commands take), the corpus and model
//! there and readable, the layers and maps parsed. An error names the file, the TOML line and key.

use std::path::Path;

use super::super::command::{Command, MapCmd};
use super::super::parse::parse;
use super::session::{SessionFile, VERSION};
use crate::model::checkpoint;

/// The largest latent value a session may hold; `latent set` takes -10..10, nudges and walks
/// may drift further, anything past this is damage.
const LATENT_LIMIT: f32 = 100.0;
/// The most latent dimensions a session may hold.
const LATENT_DIMS: usize = 4096;

/// A session file's text, parsed and checked whole: the value, or the first problem as one
/// line (`line N: ...`). Reads nothing but the model's metadata and the corpus path's kind.
pub fn read_session(text: &str) -> Result<SessionFile, String> {
    let file: SessionFile = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| format!("line {}: ", line_at(text, s.start)))
            .unwrap_or_default();
        crate::text::printable(&format!("{line}{}", e.message().trim()), 1_000, false)
    })?;
    if file.version > VERSION {
        return Err(format!(
            "version {} is newer than this build reads ({VERSION})",
            file.version
        ));
    }
    // Errors quote the file's keys and lines: shown escaped and cut, never raw.
    check(&file, text).map_err(|e| crate::text::printable(&e, 1_000, false))?;
    Ok(file)
}

/// The 1-based line of byte `at` in `text`.
fn line_at(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The first problem with `file` (read from `text`), as `line N: key = value: what it must be`.
pub fn check(file: &SessionFile, text: &str) -> Result<(), String> {
    let at = |section: &str, key: &str, problem: String| -> String {
        let place = match line_of(text, section, key) {
            Some(n) => format!("line {n}: "),
            None => String::new(),
        };
        let dotted = if section.is_empty() {
            key.to_string()
        } else {
            format!("{section}.{key}")
        };
        format!("{place}{dotted} {problem}")
    };
    let p = &file.player;
    range(p.tempo, 1.0, 1000.0, "a tempo in BPM 1..1000").map_err(|e| at("player", "tempo", e))?;
    range(p.swing, 0.0, 0.9, "a swing 0..0.9").map_err(|e| at("player", "swing", e))?;
    if !(-48..=48).contains(&p.transpose) {
        return Err(at(
            "player",
            "transpose",
            format!("= {}: must be semitones -48..48", p.transpose),
        ));
    }
    if let Some(c) = p.channel.filter(|c| !(1..=16).contains(c)) {
        return Err(at(
            "player",
            "channel",
            format!("= {c}: must be a MIDI channel 1..16"),
        ));
    }
    if let Some(v) = p.program.filter(|v| *v > 127) {
        return Err(at(
            "player",
            "program",
            format!("= {v}: must be a program 0..127"),
        ));
    }
    if let Some(s) = &p.scale {
        s.parse::<crate::play::Scale>()
            .map_err(|e| at("player", "scale", format!("= {s:?}: {e}")))?;
    }
    for (sink, ms) in &p.latency {
        range(*ms, 0.0, 2000.0, "milliseconds 0..2000")
            .map_err(|e| at("player.latency", sink, e))?;
    }
    let s = &file.sampling;
    if !(s.temperature > 0.0 && s.temperature <= 10.0) {
        return Err(at(
            "sampling",
            "temperature",
            format!(
                "= {}: must be a temperature above 0, at most 10",
                num(s.temperature)
            ),
        ));
    }
    if s.top_k == Some(0) {
        return Err(at("sampling", "top_k", "= 0: must be 1 or more".into()));
    }
    if let Some(v) = s.top_p.filter(|v| !(*v > 0.0 && *v <= 1.0)) {
        return Err(at(
            "sampling",
            "top_p",
            format!("= {}: must be a probability above 0, at most 1", num(v)),
        ));
    }
    latent(&file.latent.z).map_err(|e| at("latent", "z", e))?;
    if let Some(d) = file.latent.selected.iter().find(|d| **d >= LATENT_DIMS) {
        return Err(at(
            "latent",
            "selected",
            format!("holds dimension {d}: at most {LATENT_DIMS} dimensions"),
        ));
    }
    for (name, z) in &file.presets {
        latent(z).map_err(|e| at("presets", name, e))?;
    }
    for (cc, spec) in &file.maps {
        let line = format!("map {cc} {spec}");
        match parse(&line) {
            Ok(Command::Map(MapCmd::Set { .. })) => {}
            Ok(_) => return Err(at("maps", cc, format!("= {spec:?}: not a controller map"))),
            Err(e) => return Err(at("maps", cc, format!("= {spec:?}: {e}"))),
        }
    }
    for line in &file.layers {
        match parse(line) {
            Ok(Command::Layer(_) | Command::Mute(_)) => {}
            Ok(_) => {
                return Err(at(
                    "",
                    "layers",
                    format!("holds `{line}`: not a layer or mute command"),
                ))
            }
            Err(e) => return Err(at("", "layers", format!("holds `{line}`: {e}"))),
        }
    }
    if let Some(c) = &file.corpus {
        if !c.is_dir() && !c.is_file() {
            return Err(at(
                "",
                "corpus",
                format!("= {}: no such folder or file", c.display()),
            ));
        }
    }
    if let Some(m) = &file.model {
        model(m).map_err(|e| at("", "model", format!("= {}: {e}", m.display())))?;
    }
    Ok(())
}

fn range(v: f64, lo: f64, hi: f64, what: &str) -> Result<(), String> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(format!("= {}: must be {what}", num(v)))
    }
}

/// A number as a user would write it back: `1e300`, not three hundred digits.
fn num<T>(v: T) -> String
where
    T: Copy + Into<f64> + std::fmt::Display + std::fmt::LowerExp,
{
    let x: f64 = v.into();
    if x.is_finite() && x != 0.0 && !(1e-4..1e6).contains(&x.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

fn latent(z: &[f32]) -> Result<(), String> {
    if z.len() > LATENT_DIMS {
        return Err(format!(
            "has {} values: at most {LATENT_DIMS} dimensions",
            z.len()
        ));
    }
    match z
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && v.abs() <= LATENT_LIMIT))
    {
        Some((i, v)) => Err(format!(
            "[{i}] = {}: latent values must be finite, -{LATENT_LIMIT}..{LATENT_LIMIT}",
            num(*v)
        )),
        None => Ok(()),
    }
}

/// The model folder must hold a checkpoint this build reads, weights included.
fn model(path: &Path) -> Result<(), String> {
    let path = crate::paths::resolve_input(path.to_path_buf());
    checkpoint::load_meta(&path).map_err(|e| e.to_string())?;
    let weights = checkpoint::resolve(&path).join(checkpoint::WEIGHTS);
    if !weights.is_file() {
        return Err(format!("{} is missing", weights.display()));
    }
    Ok(())
}

/// The 1-based line where `key` is set in `[section]` (`""`: the top, before any table).
fn line_of(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            current = name.trim().to_string();
            continue;
        }
        if current != section {
            continue;
        }
        let Some((k, _)) = t.split_once('=') else {
            continue;
        };
        let k = k.trim().trim_matches('"');
        if k == key {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SessionFile {
        toml::from_str(text).unwrap()
    }

    const GOOD: &str = "version = 1\nlayers = []\n\n[player]\ntempo = 120.0\nswing = 0.0\n\
        transpose = 0\nclock_out = false\nsynth = false\nvirtual_port = false\n\n\
        [sampling]\ntemperature = 1.0\nseed = 0\n\n[latent]\nz = [0.5, -1.0]\n";

    #[test]
    fn a_good_session_passes() {
        check(&file(GOOD), GOOD).unwrap();
    }

    #[test]
    fn each_bad_value_names_its_line_and_key() {
        for (from, to, want) in [
            (
                "tempo = 120.0",
                "tempo = 0.0",
                "line 5: player.tempo = 0: must be",
            ),
            ("tempo = 120.0", "tempo = nan", "player.tempo = NaN"),
            ("tempo = 120.0", "tempo = -50.0", "player.tempo = -50"),
            ("tempo = 120.0", "tempo = 1e300", "player.tempo = 1e300"),
            (
                "temperature = 1.0",
                "temperature = nan",
                "line 13: sampling.temperature = NaN",
            ),
            ("seed = 0", "seed = 0\ntop_p = 2.0", "sampling.top_p = 2"),
            (
                "transpose = 0",
                "transpose = 0\nchannel = 200",
                "player.channel = 200",
            ),
            (
                "z = [0.5, -1.0]",
                "z = [0.5, 1e30]",
                "line 17: latent.z [1] = 1e30",
            ),
            (
                "layers = []",
                "layers = [\"tempo 90\"]",
                "line 2: layers holds `tempo 90`",
            ),
        ] {
            let text = GOOD.replace(from, to);
            let e = check(&file(&text), &text).unwrap_err();
            assert!(e.starts_with(want) || e.contains(want), "{to}: {e}");
        }
    }

    #[test]
    fn a_missing_model_or_corpus_is_refused_before_anything_is_applied() {
        let text = format!("model = \"/nonexistent/model\"\n{GOOD}");
        let e = check(&file(&text), &text).unwrap_err();
        assert!(e.starts_with("line 1: model = /nonexistent/model"), "{e}");
        let text = format!("corpus = \"/nonexistent/corpus\"\n{GOOD}");
        let e = check(&file(&text), &text).unwrap_err();
        assert!(
            e.contains("corpus = /nonexistent/corpus: no such folder"),
            "{e}"
        );
    }
}
