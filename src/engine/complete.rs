//! Completion and highlighting from the one grammar and parser, shared by the REPL (reedline's
//! `Completer`, `Highlighter`, `Validator`) and the TUI's command line.

use std::ops::Range;
use std::path::Path;

use super::grammar::{find, ArgKind, COMMANDS};
use super::parse::{parse, words, ParseError};
use super::snapshot::Snapshot;

/// One way to finish the word under the cursor: replace `span` (bytes of the line) by `value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub span: Range<usize>,
    pub value: String,
    pub description: Option<String>,
}

/// Completions for the word that ends at `cursor` (a byte offset into `line`), in the light of
/// what the engine knows (`snap`: ports, presets, attributes, styles).
pub fn complete(line: &str, cursor: usize, snap: &Snapshot) -> Vec<Completion> {
    let cursor = cursor.min(line.len());
    let head = &line[..cursor];
    let ws = words(head);
    // The word being typed: the last one, unless the cursor sits after a space.
    let typing = ws.last().filter(|w| w.span.end == cursor).cloned();
    let before: Vec<String> = ws
        .iter()
        .take(ws.len() - usize::from(typing.is_some()))
        .map(|w| w.text.to_ascii_lowercase())
        .collect();
    let (prefix, span) = match &typing {
        Some(w) => (w.text.clone(), w.span.clone()),
        None => (String::new(), cursor..cursor),
    };
    // `at bar COMMAND` and `help COMMAND` complete the inner command like a whole line.
    let (ctx, rest): (Option<&str>, &[String]) = match before.first().map(String::as_str) {
        Some("at") if before.len() >= 2 => (
            before.get(2).map(String::as_str),
            before.get(3..).unwrap_or(&[]),
        ),
        Some(first) => (Some(first), &before[1..]),
        None => (None, &[]),
    };
    // `synth patch NAME`: the name may be several words; complete all of them at once.
    if before.len() >= 2 && before[0] == "synth" && before[1] == "patch" {
        let start = ws.get(2).map_or(cursor, |w| w.span.start);
        let typed = head[start..].to_lowercase();
        return crate::music::gm::GM_PROGRAMS
            .iter()
            .map(|n| n.to_lowercase())
            .filter(|n| n.starts_with(&typed) && *n != typed)
            .map(|value| Completion {
                span: start..cursor,
                value,
                description: None,
            })
            .collect();
    }
    let at_command = before.is_empty()
        || (before.first().is_some_and(|f| f == "at") && before.len() == 2)
        || (before.first().is_some_and(|f| f == "help") && before.len() == 1);
    let mut out: Vec<Completion> = Vec::new();
    let mut push = |value: &str, description: Option<&str>| {
        if value.starts_with(&prefix) && value != prefix {
            out.push(Completion {
                span: span.clone(),
                value: value.to_string(),
                description: description.map(String::from),
            });
        }
    };
    if at_command {
        for c in COMMANDS {
            push(c.name, Some(c.help));
        }
        return out;
    }
    let Some(spec) = ctx.and_then(find) else {
        return out;
    };
    let last = rest.last().map(String::as_str);
    let kind = argument_kind(spec.name, rest);
    match kind {
        Some(ArgKind::Path) => return path_completions(&prefix, span),
        Some(ArgKind::OutputPort) => snap.ports.outputs.iter().for_each(|p| push(p, None)),
        Some(ArgKind::InputPort) => snap.ports.inputs.iter().for_each(|p| push(p, None)),
        Some(ArgKind::Preset) => snap.presets.iter().for_each(|p| push(p, None)),
        Some(ArgKind::Attribute) => snap.attributes.iter().for_each(|p| push(p, None)),
        Some(ArgKind::Sink) => snap.sinks.iter().for_each(|s| push(&s.name, None)),
        Some(ArgKind::Session) => {
            for s in saved_sessions() {
                push(&s, None);
            }
        }
        _ => {}
    }
    if kind.is_none() || kind == Some(ArgKind::None) {
        if spec.name == "style" || last == Some("style") {
            if let Some(c) = &snap.corpus {
                c.styles.iter().for_each(|s| push(s, None));
            }
        }
        for w in spec.words {
            push(w, None);
        }
    }
    out
}

/// What the next argument of `name` is after the words `rest` (lower-cased), when it is not
/// one of the command's fixed words.
fn argument_kind(name: &str, rest: &[String]) -> Option<ArgKind> {
    let last = rest.last().map(String::as_str);
    let first = rest.first().map(String::as_str);
    match (name, first, last) {
        ("load", Some("corpus"), Some("corpus")) => Some(ArgKind::Path),
        ("model", Some("load" | "save"), Some("load" | "save")) => Some(ArgKind::Path),
        ("gen", _, Some("out")) => Some(ArgKind::Path),
        ("latent", Some("encode"), Some("encode")) => Some(ArgKind::Path),
        ("latent", Some("add"), Some("add")) => Some(ArgKind::Attribute),
        ("latent", Some("interp"), _) if rest.len() <= 2 => Some(ArgKind::Preset),
        ("record", Some("start"), Some("start")) => Some(ArgKind::Path),
        ("clock", Some("in"), Some("in")) => Some(ArgKind::InputPort),
        ("layer", Some(_), Some("model")) if rest.len() > 1 => Some(ArgKind::Path),
        ("layer", Some(_), Some("port")) if rest.len() > 1 => Some(ArgKind::OutputPort),
        ("preset", Some(_), _) if rest.len() == 1 => Some(ArgKind::Preset),
        ("session", Some(_), _) if rest.len() == 1 => Some(ArgKind::Session),
        ("run" | "watch", None, None) => Some(ArgKind::Path),
        ("connect" | "disconnect", None, None) => Some(ArgKind::OutputPort),
        ("input", None, None) => Some(ArgKind::InputPort),
        ("latency", None, None) => Some(ArgKind::Sink),
        _ if rest.is_empty() => Some(ArgKind::None),
        _ => None,
    }
}

fn saved_sessions() -> Vec<String> {
    let dir = crate::paths::improv_home().join("sessions");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    names
}

/// Files and folders that start with `prefix` (folders end with `/`).
fn path_completions(prefix: &str, span: Range<usize>) -> Vec<Completion> {
    let (dir, stem) = match prefix.rfind('/') {
        Some(i) => (&prefix[..=i], &prefix[i + 1..]),
        None => ("", prefix),
    };
    let read_dir = if dir.is_empty() {
        Path::new(".")
    } else {
        Path::new(dir)
    };
    let mut out: Vec<Completion> = std::fs::read_dir(read_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            if !name.starts_with(stem) || (name.starts_with('.') && !stem.starts_with('.')) {
                return None;
            }
            let slash = if e.path().is_dir() { "/" } else { "" };
            Some(Completion {
                span: span.clone(),
                value: format!("{dir}{name}{slash}"),
                description: None,
            })
        })
        .collect();
    out.sort_by(|a, b| a.value.cmp(&b.value));
    out
}

/// What a highlighter colours a stretch of the line as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Highlight {
    Command,
    Keyword,
    Number,
    Value,
    Comment,
    Error,
}

/// Spans of `line` (bytes) with their kind; the word a parse error points at is `Error`.
pub fn highlight(line: &str) -> Vec<(Range<usize>, Highlight)> {
    let ws = words(line);
    let error = validate(line).err().filter(|_| !ws.is_empty());
    let mut out = Vec::new();
    let mut keywords: &[&str] = &[];
    for (i, w) in ws.iter().enumerate() {
        let lower = w.text.to_ascii_lowercase();
        let mut kind = if i == 0 || (ws[0].text == "at" && i == 2) {
            if let Some(spec) = find(&lower) {
                keywords = spec.words;
            }
            Highlight::Command
        } else if keywords.contains(&lower.as_str()) {
            Highlight::Keyword
        } else if w.text.parse::<f64>().is_ok() {
            Highlight::Number
        } else {
            Highlight::Value
        };
        if let Some(e) = &error {
            if e.span.start < w.span.end && w.span.start < e.span.end.max(e.span.start + 1) {
                kind = Highlight::Error;
            }
        }
        out.push((w.span.clone(), kind));
    }
    if let Some(i) = comment_start(line) {
        out.push((i..line.len(), Highlight::Comment));
    }
    out
}

fn comment_start(line: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Whether `line` is a complete, valid command (blank lines are valid: they do nothing).
pub fn validate(line: &str) -> Result<(), ParseError> {
    if super::parse::is_blank(line) {
        return Ok(());
    }
    parse(line).map(|_| ())
}
