//! Scripts: `run FILE` queues a file's commands in order; `watch FILE` polls a file and re-runs
//! the blocks (paragraphs between blank lines) that changed, at the next bar while playing. A
//! block that does not parse is reported and changes nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::super::command::{Command, Quantum};
use super::super::event::CommandId;
use super::super::parse::{is_blank, parse};
use super::{Core, Item};

const POLL: Duration = Duration::from_millis(200);

/// How deep `run` may nest scripts.
const MAX_DEPTH: usize = 32;

/// A running script: its file (as given, and canonical) and the script that ran it.
pub struct Frame {
    path: PathBuf,
    key: PathBuf,
    pub parent: Option<CommandId>,
}

pub struct Watcher {
    pub path: PathBuf,
    modified: Option<SystemTime>,
    last_poll: Instant,
    /// The blocks (normalized text) already run.
    ran: HashSet<String>,
}

/// A paragraph of a script: its first line number (1-based) and its lines.
struct Block {
    first_line: usize,
    lines: Vec<(usize, String)>,
}

impl Block {
    /// The block's commands, without comments and spacing, to compare versions.
    fn key(&self) -> String {
        self.lines
            .iter()
            .filter(|(_, l)| !is_blank(l))
            .map(|(_, l)| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            out.extend(current.take());
            continue;
        }
        current
            .get_or_insert_with(|| Block {
                first_line: i + 1,
                lines: Vec::new(),
            })
            .lines
            .push((i + 1, line.to_string()));
    }
    out.extend(current);
    out
}

/// Parses every line; the first error names the file and line.
fn parse_lines(path: &Path, lines: &[(usize, String)]) -> Result<Vec<(usize, Command)>, String> {
    let mut out = Vec::new();
    for (n, line) in lines {
        if is_blank(line) {
            continue;
        }
        match parse(line) {
            Ok(Command::Quit) => {
                return Err(format!(
                    "{} line {n}: `quit` is not allowed in a script",
                    path.display()
                ))
            }
            Ok(c) => out.push((*n, c)),
            Err(e) => {
                return Err(format!(
                    "{} line {n}, column {}: {e}",
                    path.display(),
                    e.column(line)
                ))
            }
        }
    }
    Ok(out)
}

/// A watched file may not start or stop watching: re-running itself on every look would loop.
fn no_watch(path: &Path, cmds: Vec<(usize, Command)>) -> Result<Vec<(usize, Command)>, String> {
    match cmds.iter().find(|(_, c)| matches!(c, Command::Watch(_))) {
        Some((n, _)) => Err(format!(
            "{} line {n}: `watch` is not allowed in a watched file",
            path.display()
        )),
        None => Ok(cmds),
    }
}

/// The largest script read (a real one is a few KB).
const MAX_SCRIPT_BYTES: u64 = 16 << 20;

fn read(path: &Path, what: &str) -> Result<String, String> {
    crate::fsx::read_text(path, MAX_SCRIPT_BYTES, what)
}

impl Core {
    /// The commands of a script as queue items of script `id` (each line with an id of its
    /// own), then its end marker.
    fn script_items(
        &mut self,
        id: CommandId,
        path: &Path,
        cmds: Vec<(usize, Command)>,
    ) -> Vec<Item> {
        let mut items = Vec::with_capacity(cmds.len() + 1);
        for (n, command) in cmds {
            items.push(Item::Command {
                id: self.internal_id(),
                command,
                script: Some((id, format!("{} line {n}", path.display()))),
            });
        }
        items.push(Item::EndScript { id });
        items
    }

    /// Queues the script at `path` ahead of what was queued; `Done` for `id` comes at its end.
    /// `parent` is the script whose line this is: a script that runs itself, directly or
    /// through others, is refused (it would queue itself forever).
    pub(super) fn run_script(
        &mut self,
        id: CommandId,
        parent: Option<CommandId>,
        path: &Path,
    ) -> Result<(), String> {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut chain = vec![path.display().to_string()];
        let mut up = parent;
        while let Some(frame) = up.and_then(|p| self.scripts.get(&p)) {
            chain.push(frame.path.display().to_string());
            if frame.key == key {
                chain.reverse();
                return Err(format!(
                    "run: {} runs itself ({})",
                    path.display(),
                    chain.join(" -> ")
                ));
            }
            if chain.len() > MAX_DEPTH {
                return Err(format!(
                    "run: {}: scripts nested more than {MAX_DEPTH} deep",
                    path.display()
                ));
            }
            up = frame.parent;
        }
        let text = read(path, "run")?;
        let lines: Vec<(usize, String)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.to_string()))
            .collect();
        let cmds = parse_lines(path, &lines).map_err(|e| format!("run: {e}"))?;
        let items = self.script_items(id, path, cmds);
        self.scripts.insert(
            id,
            Frame {
                path: path.to_path_buf(),
                key,
                parent,
            },
        );
        for item in items.into_iter().rev() {
            self.queue.push_front(item);
        }
        Ok(())
    }

    pub(super) fn watch(&mut self, path: Option<PathBuf>) -> Result<(), String> {
        match path {
            None => {
                let w = self.watch.take().ok_or("watch off: not watching a file")?;
                self.log(format!("stopped watching {}", w.path.display()));
            }
            Some(path) => {
                if !path.is_file() {
                    return Err(format!("watch: {} is not a file", path.display()));
                }
                self.log(format!(
                    "watching {} (saved changes run at the next bar)",
                    path.display()
                ));
                self.watch = Some(Watcher {
                    path,
                    modified: None,
                    last_poll: Instant::now() - POLL,
                    ran: HashSet::new(),
                });
            }
        }
        Ok(())
    }

    /// Runs the blocks of the watched file that changed since the last look.
    pub(super) fn poll_watch(&mut self) {
        let Some(w) = self.watch.as_mut() else {
            return;
        };
        if w.last_poll.elapsed() < POLL {
            return;
        }
        w.last_poll = Instant::now();
        let modified = std::fs::metadata(&w.path).and_then(|m| m.modified()).ok();
        if modified.is_none() || modified == w.modified {
            return;
        }
        w.modified = modified;
        let path = w.path.clone();
        let text = match read(&path, "watch") {
            Ok(t) => t,
            Err(e) => {
                self.emit(super::Event::Error { text: e });
                return;
            }
        };
        let mut ran = HashSet::new();
        let mut runs = Vec::new();
        let previous = self
            .watch
            .as_ref()
            .map(|w| w.ran.clone())
            .unwrap_or_default();
        for block in blocks(&text) {
            let key = block.key();
            if key.is_empty() {
                continue;
            }
            if previous.contains(&key) {
                ran.insert(key);
                continue;
            }
            match parse_lines(&path, &block.lines).and_then(|cmds| no_watch(&path, cmds)) {
                Ok(cmds) => {
                    ran.insert(key);
                    runs.push((block.first_line, cmds));
                }
                Err(e) => self.emit(super::Event::Error {
                    text: format!("watch: {e} (the block is not applied; the music goes on)"),
                }),
            }
        }
        if let Some(w) = self.watch.as_mut() {
            w.ran = ran;
        }
        let playing = self.play.is_playing();
        let at = self.play.next_boundary(Quantum::Bar);
        for (first, cmds) in runs {
            let id = self.internal_id();
            self.log(format!(
                "{} line {first}: block changed, {}",
                path.display(),
                if playing {
                    "applying at the next bar"
                } else {
                    "applying"
                }
            ));
            for item in self.script_items(id, &path, cmds) {
                if playing {
                    self.quantized.push((at, item));
                } else {
                    self.queue.push_back(item);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_paragraphs_with_their_line_numbers() {
        let b = blocks("tempo 90\nswing 0.2\n\n\n# a comment\nplay\n");
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].first_line, 1);
        assert_eq!(b[0].key(), "tempo 90\nswing 0.2");
        assert_eq!(b[1].first_line, 5);
        assert_eq!(b[1].key(), "play");
    }

    #[test]
    fn a_bad_line_names_file_line_and_column() {
        let lines = vec![(3, "tempo 90".to_string()), (4, "tempo fast".to_string())];
        let e = parse_lines(Path::new("s.improv"), &lines).unwrap_err();
        assert_eq!(
            e,
            "s.improv line 4, column 7: `fast` is not a tempo in BPM (1..1000)"
        );
    }
}
