//! Commands back to text: `command.to_string()` is a line `parse` reads back as the same command
//! (checked by a round-trip property test in `parse_tests.rs`), so a command a front end builds
//! as a value (the TUI's perform keys) is shown in the history as the words a user would type.

use std::fmt::{self, Display, Formatter};
use std::path::Path;

use super::command::*;
use crate::model::{ModelKind, Preset};

/// A word as the parser reads it back: quoted when it holds a space, a quote or a `#`, or is
/// empty. (A word cannot hold a `"` and round-trip: the parser has no escapes.)
struct W<'a>(&'a str);

impl Display for W<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s.is_empty() || s.contains(|c: char| c.is_whitespace() || c == '#' || c == '"') {
            write!(f, "\"{s}\"")
        } else {
            f.write_str(s)
        }
    }
}

fn path(p: &Path) -> String {
    W(&p.to_string_lossy()).to_string()
}

fn off<T: Display>(v: &Option<T>) -> String {
    match v {
        Some(v) => v.to_string(),
        None => "off".into(),
    }
}

fn off_word(v: &Option<String>) -> String {
    match v {
        Some(v) => W(v).to_string(),
        None => "off".into(),
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Command::LoadCorpus { path: p } => write!(f, "load corpus {}", path(p)),
            Command::CorpusStats => f.write_str("corpus stats"),
            Command::ModelNew { kind, preset } => {
                let kind = match kind {
                    ModelKind::VaeLstm => "vae-lstm",
                    ModelKind::VaeTransformer => "vae-transformer",
                };
                let preset = match preset {
                    Preset::Paper => "paper",
                    Preset::Small => "small",
                    Preset::Tiny => "tiny",
                };
                write!(f, "model new {kind} {preset}")
            }
            Command::ModelLoad { path: p } => write!(f, "model load {}", path(p)),
            Command::ModelSave { path: p } => write!(f, "model save {}", path(p)),
            Command::Train(t) => t.fmt(f),
            Command::Gen(g) => g.fmt(f),
            Command::Play => f.write_str("play"),
            Command::PlayPiece => f.write_str("play piece"),
            Command::Stop => f.write_str("stop"),
            Command::Panic => f.write_str("panic"),
            Command::Tempo(b) => write!(f, "tempo {b}"),
            Command::Tap => f.write_str("tap"),
            Command::Swing(s) => write!(f, "swing {s}"),
            Command::Transpose(t) => write!(f, "transpose {t}"),
            Command::Channel(c) => write!(f, "channel {}", off(&c.map(|c| c + 1))),
            Command::Program(p) => write!(f, "program {}", off(p)),
            Command::Scale(s) => write!(f, "scale {}", off(s)),
            Command::Temperature(t) => write!(f, "temperature {t}"),
            Command::TopK(k) => write!(f, "top-k {}", off(k)),
            Command::TopP(p) => write!(f, "top-p {}", off(p)),
            Command::Seed(s) => write!(f, "seed {s}"),
            Command::Style(s) => write!(f, "style {}", off_word(s)),
            Command::Latent(l) => l.fmt(f),
            Command::Preset(PresetCmd::Save(n)) => write!(f, "preset save {}", W(n)),
            Command::Preset(PresetCmd::Load(n)) => write!(f, "preset load {}", W(n)),
            Command::Ports => f.write_str("ports"),
            Command::Connect(p) => write!(f, "connect {}", W(p)),
            Command::Disconnect(p) => write!(f, "disconnect {}", W(p)),
            Command::Virtual => f.write_str("virtual"),
            Command::Input(p) => write!(f, "input {}", W(p)),
            Command::Listen(b) => write!(f, "listen {b}"),
            Command::Map(MapCmd::List) => f.write_str("map"),
            Command::Map(MapCmd::Off(cc)) => write!(f, "map {cc} off"),
            Command::Map(MapCmd::Set { cc, target, range }) => {
                write!(f, "map {cc} ")?;
                match target {
                    MapTarget::Latent(d) => write!(f, "latent {d}")?,
                    MapTarget::Temperature => f.write_str("temperature")?,
                    MapTarget::Tempo => f.write_str("tempo")?,
                }
                match range {
                    Some((lo, hi)) => write!(f, " {lo} {hi}"),
                    None => Ok(()),
                }
            }
            Command::Synth(SynthCmd::On) => f.write_str("synth on"),
            Command::Synth(SynthCmd::Off) => f.write_str("synth off"),
            // The rest of the line is the patch name: no quotes.
            Command::Synth(SynthCmd::Patch(p)) => write!(f, "synth patch {p}"),
            Command::Latency { sink, ms } => write!(f, "latency {} {ms}", W(sink)),
            Command::Record(RecordCmd::Start(p)) => write!(f, "record start {}", path(p)),
            Command::Record(RecordCmd::Stop) => f.write_str("record stop"),
            Command::Clock(ClockCmd::Out(on)) => {
                write!(f, "clock out {}", if *on { "on" } else { "off" })
            }
            Command::Clock(ClockCmd::In(p)) => write!(f, "clock in {}", off_word(p)),
            Command::Loop(b) => write!(f, "loop {b}"),
            Command::Unloop => f.write_str("unloop"),
            Command::Layer(l) => l.fmt(f),
            Command::Mute(n) => write!(f, "mute {}", W(n)),
            Command::Unmute(n) => write!(f, "unmute {}", W(n)),
            Command::At { quantum, command } => {
                let q = match quantum {
                    Quantum::Bar => "bar",
                    Quantum::Beat => "beat",
                };
                write!(f, "at {q} {command}")
            }
            Command::Wait(Wait::Train) => f.write_str("wait train"),
            Command::Wait(Wait::Jobs) => f.write_str("wait jobs"),
            Command::Wait(Wait::Bars(n)) => write!(f, "wait bars {n}"),
            Command::Session(SessionCmd::Save(n)) => write!(f, "session save {}", W(n)),
            Command::Session(SessionCmd::Load(n)) => write!(f, "session load {}", W(n)),
            Command::Run(p) => write!(f, "run {}", path(p)),
            Command::Watch(p) => match p {
                Some(p) => write!(f, "watch {}", path(p)),
                None => f.write_str("watch off"),
            },
            Command::Help(Some(t)) => write!(f, "help {t}"),
            Command::Help(None) => f.write_str("help"),
            Command::Quit => f.write_str("quit"),
        }
    }
}

impl Display for TrainCmd {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TrainCmd::Pause => f.write_str("train pause"),
            TrainCmd::Resume => f.write_str("train resume"),
            TrainCmd::Stop => f.write_str("train stop"),
            TrainCmd::Start(s) => {
                f.write_str("train")?;
                if let Some(n) = s.epochs {
                    write!(f, " epochs {n}")?;
                }
                if let Some(n) = s.steps {
                    write!(f, " steps {n}")?;
                }
                if let Some(b) = s.beta {
                    write!(f, " beta {b}")?;
                }
                if let Some(l) = s.lr {
                    write!(f, " lr {l}")?;
                }
                if let Some(n) = s.batch {
                    write!(f, " batch {n}")?;
                }
                if let Some(n) = s.swap_every {
                    write!(f, " swap {n}")?;
                }
                Ok(())
            }
        }
    }
}

impl Display for GenCmd {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("gen")?;
        if let Some(n) = self.bars {
            write!(f, " bars {n}")?;
        }
        if let Some(n) = self.notes {
            write!(f, " notes {n}")?;
        }
        if let Some(s) = &self.style {
            write!(f, " style {}", W(s))?;
        }
        if let Some(p) = &self.out {
            write!(f, " out {}", path(p))?;
        }
        Ok(())
    }
}

impl Display for LatentCmd {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            LatentCmd::Sample => f.write_str("latent sample"),
            LatentCmd::Encode(p) => write!(f, "latent encode {}", path(p)),
            LatentCmd::Set { dim, value } => write!(f, "latent set {dim} {value}"),
            LatentCmd::Nudge { dim, delta } => write!(f, "latent nudge {dim} {delta}"),
            LatentCmd::Add { attr, amount } => write!(f, "latent add {} {amount}", W(attr)),
            LatentCmd::Interp { a, b, bars } => {
                write!(f, "latent interp {} {} {bars}", W(a), W(b))
            }
            LatentCmd::Walk { step } => write!(f, "latent walk {step}"),
            LatentCmd::Reset => f.write_str("latent reset"),
        }
    }
}

impl Display for LayerCmd {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            LayerCmd::List => f.write_str("layer"),
            LayerCmd::Off(n) => write!(f, "layer {} off", W(n)),
            LayerCmd::Set { name, settings } => {
                write!(f, "layer {}", W(name))?;
                for s in settings {
                    match s {
                        LayerSetting::Model(p) => write!(f, " model {}", path(p))?,
                        LayerSetting::Channel(c) => write!(f, " channel {}", c + 1)?,
                        LayerSetting::Program(p) => write!(f, " program {}", off(p))?,
                        LayerSetting::Port(p) => write!(f, " port {}", W(p))?,
                        LayerSetting::Temperature(t) => write!(f, " temperature {t}")?,
                        LayerSetting::Seed(s) => write!(f, " seed {s}")?,
                        LayerSetting::Style(s) => write!(f, " style {}", off_word(s))?,
                        LayerSetting::Transpose(t) => write!(f, " transpose {t}")?,
                        LayerSetting::Octave(o) => write!(f, " octave {o}")?,
                    }
                }
                Ok(())
            }
        }
    }
}
