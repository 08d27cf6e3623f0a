//! Mutants of the things a user types or keeps: command lines (from the bundled scripts and
//! the grammar), session files and checkpoint folders, and the checks each reader must pass on
//! any of them (no panic, an error is one printable line, a session that loads is in range).
//! `tests/input_fuzz.rs` runs a few hundred of each in CI; `examples/input_fuzz.rs` runs
//! millions for `scripts/fuzz.sh`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use improv::engine::{self, ParseError, SessionFile};
use improv::model::checkpoint;
use rand::Rng;

/// Words that break parsers: odd numbers, quoting, paths, nesting, control characters.
const NASTY: &[&str] = &[
    "0",
    "-1",
    "-0",
    "1e309",
    "-1e309",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e-320",
    "4294967296",
    "18446744073709551616",
    "0x10",
    "1_000",
    "+5",
    ".5",
    "5.",
    "",
    "\"",
    "'",
    "\\",
    "\"a b\"",
    "/dev/zero",
    "..",
    "~",
    "*",
    "#",
    "--",
    "at",
    "bar",
    "beat",
    "wait",
    "off",
    "on",
    "\u{1b}[2J",
    "\u{0}",
    "\u{7f}",
    "\u{202e}",
    "é",
    "𝄞",
    "\t",
    "\r",
];

/// Seed command lines: every line of the bundled scripts, and every command's usage.
pub fn seed_lines() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions");
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(&f) {
            out.extend(
                text.lines()
                    .filter(|l| !engine::is_blank(l))
                    .map(String::from),
            );
        }
    }
    for c in engine::COMMANDS {
        out.push(c.usage.to_string());
        out.push(c.name.to_string());
        for w in c.words {
            out.push(format!("{} {w}", c.name));
        }
    }
    out
}

/// Every word the grammar knows, and the nasty ones.
fn dictionary() -> Vec<String> {
    let mut out: Vec<String> = NASTY.iter().map(|s| s.to_string()).collect();
    for c in engine::COMMANDS {
        out.push(c.name.to_string());
        out.extend(c.words.iter().map(|w| w.to_string()));
    }
    out
}

fn random_char(rng: &mut impl Rng) -> char {
    match rng.gen_range(0..6) {
        0 => rng.gen_range(0u8..32) as char,
        1 => char::from_u32(rng.gen_range(0x80..0x3000)).unwrap_or('?'),
        2 => [
            '\u{1b}', '\u{7f}', '\u{85}', '\u{202e}', '\u{feff}', '\u{300}',
        ][rng.gen_range(0..6)],
        _ => rng.gen_range(b' '..=b'~') as char,
    }
}

/// One mutant of a command line.
pub fn mutate_line(rng: &mut impl Rng, seeds: &[String], dict: &[String]) -> String {
    let base = &seeds[rng.gen_range(0..seeds.len())];
    let mut words: Vec<String> = base.split(' ').map(String::from).collect();
    for _ in 0..rng.gen_range(1..=4) {
        let n = words.len();
        match rng.gen_range(0..10) {
            0 | 1 => words[rng.gen_range(0..n)] = dict[rng.gen_range(0..dict.len())].clone(),
            2 | 3 => words.insert(
                rng.gen_range(0..=n),
                dict[rng.gen_range(0..dict.len())].clone(),
            ),
            4 if n > 1 => {
                words.remove(rng.gen_range(0..n));
            }
            5 => {
                let w = &mut words[rng.gen_range(0..n)];
                let mut chars: Vec<char> = w.chars().collect();
                let at = rng.gen_range(0..=chars.len());
                chars.insert(at, random_char(rng));
                *w = chars.into_iter().collect();
            }
            6 => {
                let other = &seeds[rng.gen_range(0..seeds.len())];
                words.extend(other.split(' ').map(String::from));
            }
            7 => {
                let depth = if rng.gen_bool(0.05) {
                    20_000
                } else {
                    rng.gen_range(1..4)
                };
                let mut nested: Vec<String> = ["at", "bar"]
                    .repeat(depth)
                    .into_iter()
                    .map(String::from)
                    .collect();
                nested.append(&mut words);
                words = nested;
            }
            8 if rng.gen_bool(0.02) => {
                words.push("x".repeat(rng.gen_range(10_000..1_000_000)));
            }
            _ => {
                let cut = rng.gen_range(0..=n);
                words.truncate(cut.max(1));
            }
        }
    }
    words.join(" ")
}

/// Whether `text` would reach the terminal with a raw control character.
pub fn has_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control())
}

/// The parser, completion and highlighting on one line; the problem found, if any.
pub fn check_line(line: &str, cursor_pick: usize) -> Result<(), String> {
    let parsed = engine::parse(line);
    if let Err(e) = &parsed {
        one_printable_line(&e.to_string())?;
        let col = e.column(line);
        if col == 0 || col > line.chars().count() + 1 {
            return Err(format!("column {col} outside the line"));
        }
    }
    for (r, _) in engine::highlight(line) {
        if r.end > line.len() || !line.is_char_boundary(r.start) || !line.is_char_boundary(r.end) {
            return Err(format!("highlight span {r:?} is not in the line"));
        }
    }
    let v: Result<(), ParseError> = engine::validate(line);
    if let Err(e) = v {
        one_printable_line(&e.to_string())?;
    }
    let bounds: Vec<usize> = (0..=line.len())
        .filter(|i| line.is_char_boundary(*i))
        .collect();
    let cursor = bounds[cursor_pick % bounds.len()];
    let _ = engine::complete(line, cursor, &engine::Snapshot::default());
    Ok(())
}

/// An error must be one line a terminal shows as text.
pub fn one_printable_line(e: &str) -> Result<(), String> {
    if e.contains('\n') || has_control(e) {
        return Err(format!("error is not one printable line: {e:?}"));
    }
    if e.chars().count() > 4_000 {
        return Err(format!("error of {} characters", e.chars().count()));
    }
    Ok(())
}

/// A session as `session save` writes it, every section used.
pub const SESSION: &str = r#"version = 1
layers = [
    "layer bass channel 2 program 33 octave -1 temperature 0.8 seed 5",
    "mute bass",
]
history = [
    "tempo 96",
    "latent set 5 1.5",
]

[player]
tempo = 96.0
swing = 0.25
transpose = -3
channel = 1
program = 0
scale = "D dorian"
clock_out = false
synth = false
virtual_port = false
ports = []

[player.latency]
synth = 12.0

[sampling]
temperature = 0.7
top_k = 12
top_p = 0.9
seed = 42
style = "jazz"

[latent]
z = [0.0, 1.75, -0.5, 0.0]
selected = [1]

[presets]
up = [0.0, 1.5, 0.0, 0.0]
zero = [0.0, 0.0, 0.0, 0.0]

[maps]
74 = "latent 1 -2 2"
"#;

/// TOML values that break loaders.
const VALUES: &[&str] = &[
    "0",
    "-50",
    "0.0",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "1e300",
    "-1e300",
    "1e30",
    "200",
    "256",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "\"\"",
    "\"x\"",
    "\"\\u001b[2J\"",
    "true",
    "[]",
    "[1, 2]",
    "{}",
    "{ a = 1 }",
    "1979-05-27",
    "[nan, inf]",
    "\"D\"",
    "\"Z major\"",
    "'''a\nb'''",
];

/// One mutant of a session file.
pub fn mutate_session(rng: &mut impl Rng) -> String {
    let mut lines: Vec<String> = SESSION.lines().map(String::from).collect();
    for _ in 0..rng.gen_range(1..=3) {
        let n = lines.len();
        let i = rng.gen_range(0..n);
        match rng.gen_range(0..8) {
            0..=3 => {
                if let Some((k, _)) = lines[i].split_once('=') {
                    lines[i] = format!("{k}= {}", VALUES[rng.gen_range(0..VALUES.len())]);
                }
            }
            4 => {
                lines.remove(i);
            }
            5 => {
                let l = lines[i].clone();
                lines.insert(rng.gen_range(0..=n), l);
            }
            6 => {
                let mut chars: Vec<char> = lines[i].chars().collect();
                let at = rng.gen_range(0..=chars.len());
                if rng.gen_bool(0.5) && at < chars.len() {
                    chars[at] = random_char(rng);
                } else {
                    chars.insert(at, random_char(rng));
                }
                lines[i] = chars.into_iter().collect();
            }
            _ => {
                let z: Vec<String> = (0..rng.gen_range(0..20_000))
                    .map(|_| format!("{:.3}", rng.gen_range(-5.0f32..5.0)))
                    .collect();
                lines.push(format!("[presets.big{i}]"));
                lines.push(format!("big = [{}]", z.join(", ")));
            }
        }
    }
    lines.join("\n")
}

/// The session reader on one text; the problem found, if any.
pub fn check_session(text: &str) -> Result<(), String> {
    match engine::read_session(text) {
        Err(e) => one_printable_line(&e),
        Ok(f) => in_range(&f),
    }
}

/// What a loaded session promises the engine (checked here independently of the loader).
fn in_range(f: &SessionFile) -> Result<(), String> {
    let p = &f.player;
    let s = &f.sampling;
    let ok = p.tempo.is_finite()
        && (1.0..=1000.0).contains(&p.tempo)
        && (0.0..=0.9).contains(&p.swing)
        && (-48..=48).contains(&p.transpose)
        && p.channel.is_none_or(|c| (1..=16).contains(&c))
        && p.program.is_none_or(|v| v <= 127)
        && s.temperature > 0.0
        && s.temperature <= 10.0
        && s.top_p.is_none_or(|v| v > 0.0 && v <= 1.0)
        && s.top_k != Some(0)
        && f.latent.z.iter().all(|v| v.is_finite() && v.abs() <= 100.0)
        && f.presets.values().flatten().all(|v| v.is_finite());
    if ok {
        Ok(())
    } else {
        Err(format!("loaded out of range: {f:?}"))
    }
}

/// A small real checkpoint (the bundled model's vocabulary, the tiny preset) to mutate.
pub struct CheckpointSeed {
    pub meta: Vec<u8>,
    pub weights: Vec<u8>,
}

pub fn checkpoint_seed() -> CheckpointSeed {
    use improv::model::{Model, ModelConfig, ModelKind, Preset};
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/vae-lstm-small");
    let mut meta = checkpoint::load_meta(&bundled).unwrap();
    meta.model = ModelConfig::preset(ModelKind::VaeLstm, Preset::Tiny, meta.vocab.len());
    let dev = dfdx::prelude::Cpu::default();
    let model = Model::build(&meta.model, &dev, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("seed");
    checkpoint::save(&at, &model, &meta, None).unwrap();
    CheckpointSeed {
        meta: std::fs::read(at.join("meta.json")).unwrap(),
        weights: std::fs::read(at.join(checkpoint::WEIGHTS)).unwrap(),
    }
}

/// JSON values that break the metadata reader.
const JSON_VALUES: &[&str] = &[
    "0",
    "-1",
    "1e300",
    "4294967296",
    "18446744073709551615",
    "99999999999999999999999",
    "null",
    "\"\"",
    "[]",
    "{}",
    "true",
    "1.5",
    "65536",
    "16385",
];

/// One mutant of a checkpoint: (meta.json, weights.safetensors).
pub fn mutate_checkpoint(rng: &mut impl Rng, seed: &CheckpointSeed) -> (Vec<u8>, Vec<u8>) {
    let mut meta = seed.meta.clone();
    let mut weights = seed.weights.clone();
    match rng.gen_range(0..6) {
        0 => {
            // A number of the config replaced.
            let text = String::from_utf8_lossy(&meta).into_owned();
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            let numeric: Vec<usize> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| {
                    l.contains(':')
                        && l.trim_end_matches(',')
                            .rsplit(':')
                            .next()
                            .is_some_and(|v| v.trim().parse::<f64>().is_ok())
                })
                .map(|(i, _)| i)
                .collect();
            if let Some(&i) = numeric.get(rng.gen_range(0..numeric.len().max(1))) {
                let (k, _) = lines[i].rsplit_once(':').unwrap();
                let comma = if lines[i].ends_with(',') { "," } else { "" };
                lines[i] = format!(
                    "{k}: {}{comma}",
                    JSON_VALUES[rng.gen_range(0..JSON_VALUES.len())]
                );
            }
            meta = lines.join("\n").into_bytes();
        }
        1 => {
            let at = rng.gen_range(0..meta.len());
            meta[at] = rng.gen();
        }
        2 => {
            // The safetensors header (its first bytes: length and JSON).
            let n = rng.gen_range(1..8);
            for _ in 0..n {
                let at = rng.gen_range(0..weights.len().min(512));
                weights[at] = rng.gen();
            }
        }
        3 => {
            let at = rng.gen_range(0..weights.len());
            weights[at] = rng.gen();
        }
        4 => {
            let cut = rng.gen_range(0..weights.len());
            weights.truncate(cut);
        }
        _ => {
            let cut = rng.gen_range(0..meta.len());
            meta.truncate(cut);
        }
    }
    (meta, weights)
}

/// Loads a mutant written to `dir`; the problem found, if any.
pub fn check_checkpoint(dir: &Path, meta: &[u8], weights: &[u8]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("meta.json"), meta).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(checkpoint::WEIGHTS), weights).map_err(|e| e.to_string())?;
    let dev = dfdx::prelude::Cpu::default();
    match checkpoint::load(dir, &dev) {
        Err(e) => one_printable_line(&e.to_string()),
        Ok((model, _)) => {
            let finite = checkpoint::model_tensors(&model)
                .iter()
                .all(|(_, _, v)| v.iter().all(|x| x.is_finite()));
            if finite {
                Ok(())
            } else {
                Err("loaded weights that are not finite".into())
            }
        }
    }
}

/// The dictionary for [`mutate_line`].
pub fn line_dictionary() -> Vec<String> {
    dictionary()
}
