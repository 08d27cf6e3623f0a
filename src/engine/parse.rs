//! Text to `Command`: one parser for the REPL, the TUI's command line, scripts, the validator,
//! the highlighter and the completer. Errors carry the byte span of the word at fault.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use crate::model::{ModelKind, Preset};
use crate::play::Scale;

use super::command::*;
use super::grammar::{nearest, COMMANDS};

#[path = "parse_layer.rs"]
mod layer;

/// A line that is not a command: where (a byte range of the line), what, and maybe a fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// Byte range of the offending word (empty at the end of the line for a missing word).
    pub span: Range<usize>,
    pub message: String,
    /// The nearest command or keyword, for an unknown word.
    pub suggestion: Option<String>,
}

impl ParseError {
    /// 1-based column (in characters) where the error starts in `line`.
    pub fn column(&self, line: &str) -> usize {
        line.get(..self.span.start.min(line.len()))
            .map_or(1, |s| s.chars().count() + 1)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The message quotes the line's words: shown escaped and cut, never raw.
        f.write_str(&crate::text::printable(&self.message, 300, false))?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        Ok(())
    }
}

/// A word of a line and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Range<usize>,
}

/// Splits a line into words: whitespace separates, double quotes group, `#` starts a comment.
pub fn words(line: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '#' {
            break;
        }
        let mut text = String::new();
        let mut end = start;
        if c == '"' {
            chars.next();
            end += 1;
            for (i, c) in chars.by_ref() {
                end = i + c.len_utf8();
                if c == '"' {
                    break;
                }
                text.push(c);
            }
        } else {
            while let Some(&(i, c)) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                text.push(c);
                end = i + c.len_utf8();
                chars.next();
            }
        }
        out.push(Word {
            text,
            span: start..end,
        });
    }
    out
}

/// Whether a line holds no command (blank or only a comment).
pub fn is_blank(line: &str) -> bool {
    words(line).is_empty()
}

/// Parses one line into a command.
pub fn parse(line: &str) -> Result<Command, ParseError> {
    let ws = words(line);
    let mut a = Args {
        ws: &ws,
        i: 0,
        end: line.len(),
    };
    let cmd = a.command()?;
    a.finish()?;
    Ok(cmd)
}

struct Args<'a> {
    ws: &'a [Word],
    i: usize,
    end: usize,
}

fn err(span: Range<usize>, message: impl Into<String>) -> ParseError {
    ParseError {
        span,
        message: message.into(),
        suggestion: None,
    }
}

impl<'a> Args<'a> {
    fn peek(&self) -> Option<&'a Word> {
        self.ws.get(self.i)
    }

    fn missing(&self, what: &str, usage: &str) -> ParseError {
        err(
            self.end..self.end,
            format!("expected {what} (usage: {usage})"),
        )
    }

    fn next(&mut self, what: &str, usage: &str) -> Result<&'a Word, ParseError> {
        let w = self
            .ws
            .get(self.i)
            .ok_or_else(|| self.missing(what, usage))?;
        self.i += 1;
        Ok(w)
    }

    /// One of `choices`, with a suggestion when the word is close to one.
    fn keyword(
        &mut self,
        choices: &[&'static str],
        usage: &str,
    ) -> Result<&'static str, ParseError> {
        let what = format!("one of {}", choices.join(", "));
        let w = self.next(&what, usage)?;
        let lower = w.text.to_ascii_lowercase();
        if let Some(c) = choices.iter().find(|c| **c == lower) {
            return Ok(c);
        }
        Err(ParseError {
            span: w.span.clone(),
            message: format!("unknown word `{}`: expected {what}", w.text),
            suggestion: nearest(&w.text, choices.iter().copied()).map(String::from),
        })
    }

    fn number<T: std::str::FromStr>(&mut self, what: &str, usage: &str) -> Result<T, ParseError> {
        let w = self.next(what, usage)?;
        w.text
            .parse()
            .map_err(|_| err(w.span.clone(), format!("`{}` is not {what}", w.text)))
    }

    fn ranged<T>(
        &mut self,
        what: &str,
        usage: &str,
        ok: impl Fn(&T) -> bool,
    ) -> Result<T, ParseError>
    where
        T: std::str::FromStr,
    {
        let span = self.peek().map(|w| w.span.clone());
        let v: T = self.number(what, usage)?;
        if ok(&v) {
            Ok(v)
        } else {
            Err(err(
                span.unwrap_or(self.end..self.end),
                format!("expected {what}"),
            ))
        }
    }

    /// `off` gives `None`; anything else goes to `f`.
    fn off_or<T>(
        &mut self,
        usage: &str,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<Option<T>, ParseError> {
        if self
            .peek()
            .is_some_and(|w| w.text.eq_ignore_ascii_case("off"))
        {
            self.i += 1;
            return Ok(None);
        }
        let _ = usage;
        f(self).map(Some)
    }

    fn text(&mut self, what: &str, usage: &str) -> Result<String, ParseError> {
        Ok(self.next(what, usage)?.text.clone())
    }

    fn path(&mut self, usage: &str) -> Result<PathBuf, ParseError> {
        Ok(PathBuf::from(self.text("a path", usage)?))
    }

    fn finish(&self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(w) => Err(err(
                w.span.start..self.ws.last().map_or(w.span.end, |l| l.span.end),
                format!("unexpected `{}` after a complete command", w.text),
            )),
        }
    }

    fn command(&mut self) -> Result<Command, ParseError> {
        let Some(first) = self.peek() else {
            return Err(err(0..0, "empty line: type a command (`help` lists them)"));
        };
        self.i += 1;
        let name = first.text.to_ascii_lowercase();
        let Some(spec) = COMMANDS.iter().find(|c| c.name == name) else {
            return Err(ParseError {
                span: first.span.clone(),
                message: format!("unknown command `{}`", first.text),
                suggestion: nearest(&name, COMMANDS.iter().map(|c| c.name)).map(String::from),
            });
        };
        let u = spec.usage;
        Ok(match spec.name {
            "load" => {
                self.keyword(&["corpus"], u)?;
                Command::LoadCorpus {
                    path: self.path(u)?,
                }
            }
            "corpus" => {
                self.keyword(&["stats"], u)?;
                Command::CorpusStats
            }
            "model" => match self.keyword(&["new", "load", "save"], u)? {
                "new" => {
                    let kind = match self.keyword(&["vae-lstm", "vae-transformer"], u)? {
                        "vae-lstm" => ModelKind::VaeLstm,
                        _ => ModelKind::VaeTransformer,
                    };
                    let preset = if self.peek().is_some() {
                        match self.keyword(&["paper", "small", "tiny"], u)? {
                            "paper" => Preset::Paper,
                            "small" => Preset::Small,
                            _ => Preset::Tiny,
                        }
                    } else {
                        Preset::Small
                    };
                    Command::ModelNew { kind, preset }
                }
                "load" => Command::ModelLoad {
                    path: self.path(u)?,
                },
                _ => Command::ModelSave {
                    path: self.path(u)?,
                },
            },
            "train" => self.train(u)?,
            "gen" => self.gen(u)?,
            "play" => match self.peek() {
                Some(_) => {
                    self.keyword(&["piece"], u)?;
                    Command::PlayPiece
                }
                None => Command::Play,
            },
            "stop" => Command::Stop,
            "panic" => Command::Panic,
            "tempo" => Command::Tempo(self.ranged("a tempo in BPM (1..1000)", u, |b: &f64| {
                (1.0..=1000.0).contains(b)
            })?),
            "tap" => Command::Tap,
            "swing" => Command::Swing(self.ranged("a swing from 0 to 0.9", u, |s: &f64| {
                (0.0..=0.9).contains(s)
            })?),
            "transpose" => {
                Command::Transpose(
                    self.ranged("semitones (-48..48)", u, |t: &i32| (-48..=48).contains(t))?,
                )
            }
            "channel" => Command::Channel(self.off_or(u, |a| {
                a.ranged("a MIDI channel 1..16", u, |c: &u8| (1..=16).contains(c))
                    .map(|c| c - 1)
            })?),
            "program" => Command::Program(
                self.off_or(u, |a| a.ranged("a program 0..127", u, |p: &u8| *p <= 127))?,
            ),
            "scale" => Command::Scale(self.off_or(u, |a| {
                let root = a.next("a root note", u)?.clone();
                let mode = a.next("a mode", u)?;
                format!("{} {}", root.text, mode.text)
                    .parse::<Scale>()
                    .map_err(|e| err(root.span.start..mode.span.end, e.to_string()))
            })?),
            "temperature" => Command::Temperature(self.ranged(
                "a temperature above 0 (at most 10)",
                u,
                |t: &f32| *t > 0.0 && *t <= 10.0,
            )?),
            "top-k" => Command::TopK(self.off_or(u, |a| {
                a.ranged("a count of 1 or more", u, |k: &usize| *k >= 1)
            })?),
            "top-p" => Command::TopP(self.off_or(u, |a| {
                a.ranged("a probability above 0, at most 1", u, |p: &f32| {
                    *p > 0.0 && *p <= 1.0
                })
            })?),
            "seed" => Command::Seed(self.number("a whole number", u)?),
            "style" => Command::Style(self.off_or(u, |a| a.text("a style name", u))?),
            "latent" => self.latent(u)?,
            "preset" => {
                let save = self.keyword(&["save", "load"], u)? == "save";
                let name = self.text("a preset name", u)?;
                Command::Preset(if save {
                    PresetCmd::Save(name)
                } else {
                    PresetCmd::Load(name)
                })
            }
            "ports" => Command::Ports,
            "connect" => Command::Connect(self.text("a port", u)?),
            "disconnect" => Command::Disconnect(self.text("a port", u)?),
            "virtual" => Command::Virtual,
            "input" => Command::Input(self.text("a port", u)?),
            "listen" => Command::Listen(
                self.ranged("a number of bars 1..64", u, |b: &u32| (1..=64).contains(b))?,
            ),
            "map" if self.peek().is_none() => Command::Map(MapCmd::List),
            "map" => {
                let cc = self.ranged("a controller number 0..127", u, |c: &u8| *c <= 127)?;
                let target = match self.keyword(&["latent", "temperature", "tempo", "off"], u)? {
                    "off" => return Ok(Command::Map(MapCmd::Off(cc))),
                    "latent" => MapTarget::Latent(self.number("a dimension", u)?),
                    "temperature" => MapTarget::Temperature,
                    _ => MapTarget::Tempo,
                };
                let range = match self.peek() {
                    None => None,
                    Some(_) => {
                        let min: f64 = self.number("the value at 0 (MIN)", u)?;
                        let span = self.peek().map(|w| w.span.clone());
                        let max: f64 = self.number("the value at 127 (MAX)", u)?;
                        if !(min.is_finite() && max.is_finite()) || min == max {
                            return Err(err(
                                span.unwrap_or(self.end..self.end),
                                "MIN and MAX must be two different numbers",
                            ));
                        }
                        Some((min, max))
                    }
                };
                Command::Map(MapCmd::Set { cc, target, range })
            }
            "synth" => Command::Synth(match self.keyword(&["on", "off", "patch"], u)? {
                "on" => SynthCmd::On,
                "off" => SynthCmd::Off,
                _ => {
                    // The rest of the line is the name: `synth patch electric piano`.
                    let mut name = self.text("a patch name", u)?;
                    while let Some(w) = self.peek() {
                        name.push(' ');
                        name.push_str(&w.text);
                        self.i += 1;
                    }
                    SynthCmd::Patch(name)
                }
            }),
            "latency" => {
                let sink = self.text("a sink name", u)?;
                let ms = self.ranged("milliseconds 0..2000", u, |m: &f64| {
                    (0.0..=2000.0).contains(m)
                })?;
                Command::Latency { sink, ms }
            }
            "record" => Command::Record(match self.keyword(&["start", "stop"], u)? {
                "start" => RecordCmd::Start(self.path(u)?),
                _ => RecordCmd::Stop,
            }),
            "clock" => Command::Clock(match self.keyword(&["out", "in"], u)? {
                "out" => ClockCmd::Out(self.keyword(&["on", "off"], u)? == "on"),
                _ => ClockCmd::In(self.off_or(u, |a| a.text("an input port", u))?),
            }),
            "loop" => Command::Loop(
                self.ranged("a number of bars 1..64", u, |b: &u32| (1..=64).contains(b))?,
            ),
            "unloop" => Command::Unloop,
            "layer" => Command::Layer(self.layer(u)?),
            "mute" => Command::Mute(self.text("a layer name", u)?),
            "unmute" => Command::Unmute(self.text("a layer name", u)?),
            "at" => {
                let quantum = match self.keyword(&["bar", "beat"], u)? {
                    "bar" => Quantum::Bar,
                    _ => Quantum::Beat,
                };
                let Some(next) = self.peek() else {
                    return Err(self.missing("a command", u));
                };
                // Refused before parsing the rest: `at at at ...` must not recurse.
                let word = next.text.to_ascii_lowercase();
                if word == "at" || word == "wait" {
                    return Err(err(
                        next.span.clone(),
                        "`at` takes a command other than `at` or `wait`",
                    ));
                }
                let inner = self.command()?;
                Command::At {
                    quantum,
                    command: Box::new(inner),
                }
            }
            "wait" => Command::Wait(match self.keyword(&["train", "bars", "jobs"], u)? {
                "train" => Wait::Train,
                "jobs" => Wait::Jobs,
                _ => Wait::Bars(self.ranged("a number of bars 1..10000", u, |b: &u32| {
                    (1..=10_000).contains(b)
                })?),
            }),
            "session" => {
                let save = self.keyword(&["save", "load"], u)? == "save";
                let name = self.text("a session name or path", u)?;
                Command::Session(if save {
                    SessionCmd::Save(name)
                } else {
                    SessionCmd::Load(name)
                })
            }
            "run" => Command::Run(self.path(u)?),
            "watch" => Command::Watch(self.off_or(u, |a| a.path(u))?),
            "help" => {
                let topic = match self.peek() {
                    Some(w) => {
                        self.i += 1;
                        let t = w.text.to_ascii_lowercase();
                        if !COMMANDS.iter().any(|c| c.name == t) {
                            return Err(ParseError {
                                span: w.span.clone(),
                                message: format!("help: no command `{}`", w.text),
                                suggestion: nearest(&t, COMMANDS.iter().map(|c| c.name))
                                    .map(String::from),
                            });
                        }
                        Some(t)
                    }
                    None => None,
                };
                Command::Help(topic)
            }
            _ => Command::Quit,
        })
    }

    fn train(&mut self, u: &str) -> Result<Command, ParseError> {
        let mut s = TrainSettings::default();
        let mut first = true;
        while self.peek().is_some() {
            let keys: &[&'static str] = if first {
                &[
                    "epochs", "steps", "beta", "lr", "batch", "swap", "pause", "resume", "stop",
                ]
            } else {
                &["epochs", "steps", "beta", "lr", "batch", "swap"]
            };
            match self.keyword(keys, u)? {
                "pause" => return Ok(Command::Train(TrainCmd::Pause)),
                "resume" => return Ok(Command::Train(TrainCmd::Resume)),
                "stop" => return Ok(Command::Train(TrainCmd::Stop)),
                "epochs" => {
                    s.epochs = Some(self.ranged("a count of 1 or more", u, |n: &usize| *n >= 1)?)
                }
                "steps" => {
                    s.steps = Some(self.ranged("a count of 1 or more", u, |n: &usize| *n >= 1)?)
                }
                "beta" => {
                    s.beta = Some(
                        self.ranged("a KL weight 0..10", u, |b: &f64| (0.0..=10.0).contains(b))?,
                    )
                }
                "lr" => {
                    s.lr = Some(
                        self.ranged("a learning rate above 0, below 1", u, |l: &f64| {
                            *l > 0.0 && *l < 1.0
                        })?,
                    )
                }
                "swap" => {
                    s.swap_every =
                        Some(self.ranged("a step count of 1 or more", u, |n: &usize| *n >= 1)?)
                }
                _ => {
                    s.batch =
                        Some(self.ranged("a batch size of 1 or more", u, |n: &usize| *n >= 1)?)
                }
            }
            first = false;
        }
        Ok(Command::Train(TrainCmd::Start(s)))
    }

    fn gen(&mut self, u: &str) -> Result<Command, ParseError> {
        let mut g = GenCmd::default();
        while let Some(w) = self.peek() {
            match self.keyword(&["bars", "notes", "style", "out"], u)? {
                "bars" | "notes" if g.bars.is_some() || g.notes.is_some() => {
                    return Err(err(w.span.clone(), "say `bars N` or `notes N`, not both"));
                }
                "bars" => {
                    g.bars = Some(self.ranged("a number of bars 1..256", u, |b: &usize| {
                        (1..=256).contains(b)
                    })?)
                }
                "notes" => {
                    g.notes = Some(self.ranged("a number of notes 1..10000", u, |n: &usize| {
                        (1..=10_000).contains(n)
                    })?)
                }
                "style" => g.style = Some(self.text("a style name", u)?),
                _ => g.out = Some(self.path(u)?),
            }
        }
        Ok(Command::Gen(g))
    }

    fn latent(&mut self, u: &str) -> Result<Command, ParseError> {
        let sub = self.keyword(
            &[
                "sample", "encode", "set", "nudge", "reset", "add", "interp", "walk",
            ],
            u,
        )?;
        Ok(Command::Latent(match sub {
            "sample" => LatentCmd::Sample,
            "encode" => LatentCmd::Encode(self.path(u)?),
            "reset" => LatentCmd::Reset,
            "set" => LatentCmd::Set {
                dim: self.number("a dimension", u)?,
                value: self.ranged("a value -10..10", u, |v: &f32| (-10.0..=10.0).contains(v))?,
            },
            "nudge" => LatentCmd::Nudge {
                dim: self.number("a dimension", u)?,
                delta: self.ranged("a delta -10..10", u, |v: &f32| (-10.0..=10.0).contains(v))?,
            },
            "add" => LatentCmd::Add {
                attr: self.text("an attribute", u)?,
                amount: self.number("an amount", u)?,
            },
            "interp" => LatentCmd::Interp {
                a: self.text("a preset", u)?,
                b: self.text("a preset", u)?,
                bars: self.ranged("a number of bars 1..256", u, |b: &u32| {
                    (1..=256).contains(b)
                })?,
            },
            _ => LatentCmd::Walk {
                step: self.ranged("a step 0..2", u, |s: &f32| (0.0..=2.0).contains(s))?,
            },
        }))
    }
}
