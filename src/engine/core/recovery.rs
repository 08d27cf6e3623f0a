//! What a crash leaves behind, put right at the next start.
//!
//! Notes left sounding: while ports are connected, `$IMPROV_HOME/outputs/PID.playing` names
//! them; a clean exit removes it, so at a start that finds one of a process that is gone every
//! port named gets all-notes-off ([`crate::play::midi_port::silence_port`]).
//!
//! Takes interrupted by a crash: while a recording runs, a marker under
//! `$IMPROV_HOME/journals/` names its file and the process recording it; at the next start every
//! marked take of a process that is gone, whose journal is still there, is rebuilt from the
//! journal and written out (next to the take's own name when a file of that name exists by then),
//! then the journal and marker go. Markers of a process still running (another improv on the same
//! home) are left alone.

use std::path::{Path, PathBuf};

use super::super::command::RecordCmd;
use super::Core;
use crate::music::midi;
use crate::play::recorder::{journal_path, recover};

/// Whether the process that wrote a marker still runs (this process counts as gone: a second
/// engine in one process is a test standing in for the next start).
fn alive(pid: u32) -> bool {
    if pid == std::process::id() || pid == 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A marker's text: the writing process's id on the first line, then what it marks.
fn owner_and_body(text: &str) -> (u32, &str) {
    match text.split_once('\n') {
        Some((pid, body)) => (pid.trim().parse().unwrap_or(0), body),
        None => (0, text),
    }
}

fn outputs_marker(home: &Path) -> PathBuf {
    home.join("outputs")
        .join(format!("{}.playing", std::process::id()))
}

/// Notes the ports now connected (none: the marker goes).
pub fn mark_outputs(home: &Path, ports: &[String]) -> Result<(), String> {
    let m = outputs_marker(home);
    if ports.is_empty() {
        return match std::fs::remove_file(&m) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(format!("{}: {e}", m.display()))
            }
            _ => Ok(()),
        };
    }
    let text = format!("{}\n{}", std::process::id(), ports.join("\n"));
    crate::fsx::write_atomic(&m, text.as_bytes()).map_err(|e| format!("{}: {e}", m.display()))
}

/// After a run that did not end cleanly: all-notes-off to every port it had connected (those
/// still there). One message a port.
pub fn silence_outputs(home: &Path) -> Vec<Result<String, String>> {
    let mut out = Vec::new();
    for m in marked(&home.join("outputs"), "playing") {
        let Ok(text) = std::fs::read_to_string(&m) else {
            continue;
        };
        let (pid, body) = owner_and_body(&text);
        if alive(pid) {
            continue;
        }
        out.extend(body.lines().filter(|l| !l.trim().is_empty()).map(|port| {
            crate::play::midi_port::silence_port(port)
                .map(|_| format!("all notes off sent to {port} (the last run did not end cleanly)"))
                .map_err(|e| {
                    format!("notes the last run left sounding on {port} could not be stopped: {e}")
                })
        }));
        let _ = std::fs::remove_file(&m);
    }
    out
}

/// The files of `dir` ending in `.ext`, sorted.
fn marked(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    names.sort();
    names
}

fn markers(home: &Path) -> PathBuf {
    home.join("journals")
}

fn marker(home: &Path, take: &Path) -> PathBuf {
    let hash = crate::corpus::split::hash64(take.as_os_str().as_encoded_bytes());
    markers(home).join(format!("{hash:016x}.take"))
}

/// Notes that `take` is being recorded (its journal is to be recovered after a crash).
pub fn mark(home: &Path, take: &Path) -> Result<(), String> {
    let take = std::path::absolute(take).unwrap_or_else(|_| take.to_path_buf());
    let m = marker(home, &take);
    let text = format!("{}\n{}", std::process::id(), take.display());
    crate::fsx::write_atomic(&m, text.as_bytes()).map_err(|e| format!("{}: {e}", m.display()))
}

/// The take ended well (or its journal is gone): no recovery needed.
pub fn unmark(home: &Path, take: &Path) {
    let take = std::path::absolute(take).unwrap_or_else(|_| take.to_path_buf());
    let _ = std::fs::remove_file(marker(home, &take));
}

/// Recovers every marked take; one message each (`Ok`: recovered, `Err`: kept, and why).
pub fn recover_all(home: &Path) -> Vec<Result<String, String>> {
    let mut out = Vec::new();
    for m in marked(&markers(home), "take") {
        let take = match std::fs::read_to_string(&m) {
            Ok(text) => {
                let (pid, body) = owner_and_body(&text);
                if alive(pid) {
                    continue;
                }
                PathBuf::from(body.trim_end_matches('\n'))
            }
            Err(e) => {
                out.push(Err(format!("{}: {e}", m.display())));
                continue;
            }
        };
        let journal = journal_path(&take);
        if !journal.exists() {
            let _ = std::fs::remove_file(&m);
            continue;
        }
        match recover_one(&take, &journal) {
            Ok(msg) => {
                let _ = std::fs::remove_file(&m);
                out.push(Ok(msg));
            }
            Err(e) => out.push(Err(format!(
                "an interrupted recording was not recovered: {e}; its journal {} is kept",
                journal.display()
            ))),
        }
    }
    out
}

fn recover_one(take: &Path, journal: &Path) -> Result<String, String> {
    let seq = recover(journal).map_err(|e| e.to_string())?;
    let to = free_name(take);
    midi::write_file(&seq, &to).map_err(|e| e.to_string())?;
    std::fs::remove_file(journal).map_err(|e| format!("{}: {e}", journal.display()))?;
    Ok(format!(
        "recovered an interrupted recording: {} notes to {}",
        seq.notes.len(),
        to.display()
    ))
}

/// `take` itself, or `NAME-recovered[-N].mid` beside it when a file of that name exists.
fn free_name(take: &Path) -> PathBuf {
    if !take.exists() {
        return take.to_path_buf();
    }
    let stem = take
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "take".into());
    (1..)
        .map(|n| match n {
            1 => take.with_file_name(format!("{stem}-recovered.mid")),
            n => take.with_file_name(format!("{stem}-recovered-{n}.mid")),
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| take.to_path_buf())
}

impl Core {
    /// `record start|stop`, with the take marked for recovery while it runs.
    pub(super) fn record(&mut self, r: RecordCmd) -> Result<(), String> {
        let home = self.opts.home.clone();
        match &r {
            RecordCmd::Start(path) => {
                self.play.record(r.clone(), &self.events)?;
                if let Err(e) = mark(&home, path) {
                    self.warn(format!(
                        "record: {e}: this take cannot be recovered after a crash"
                    ));
                }
                Ok(())
            }
            RecordCmd::Stop => {
                let take = self.play.recording();
                let result = self.play.record(r, &self.events);
                if let Some(take) =
                    take.filter(|t| !crate::play::recorder::journal_path(t).exists())
                {
                    unmark(&home, &take);
                }
                result
            }
        }
    }

    /// Keeps the marker of connected ports current (see [`silence_outputs`]).
    pub(super) fn note_outputs(&self) {
        let ports: Vec<String> = self
            .play
            .sinks()
            .into_iter()
            .map(|s| s.name)
            .filter(|n| n != "synth" && n != "recorder" && !n.ends_with("(virtual)"))
            .collect();
        if let Err(e) = mark_outputs(&self.opts.home, &ports) {
            self.warn(format!(
                "connect: {e}: hanging notes cannot be cleared after a crash"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOURNAL: &str = "improv-journal 1 bpm 120\n\
        10.0 0 90 3c 64\n10.5 0 80 3c 00\n10.5 0 90 3e 64\n11.0 0 80 3e 00\n";

    #[test]
    fn a_crashed_take_is_written_at_the_next_start_beside_a_file_of_its_name() {
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let take = work.path().join("take.mid");
        mark(home.path(), &take).unwrap();
        std::fs::write(journal_path(&take), JOURNAL).unwrap();
        std::fs::write(&take, b"made since").unwrap();
        let said = recover_all(home.path());
        assert_eq!(said.len(), 1);
        let msg = said[0].as_ref().unwrap();
        assert!(
            msg.contains("2 notes") && msg.ends_with("take-recovered.mid"),
            "{msg}"
        );
        let back = midi::read_file(&work.path().join("take-recovered.mid")).unwrap();
        assert_eq!(back.seq.notes.len(), 2);
        assert_eq!(std::fs::read(&take).unwrap(), b"made since");
        assert!(!journal_path(&take).exists());
        assert!(recover_all(home.path()).is_empty(), "recovered once only");
    }

    #[test]
    fn a_take_another_running_improv_records_is_left_alone() {
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let take = work.path().join("live.mid");
        mark(home.path(), &take).unwrap();
        // The marker as another process (pid 1, always running) would have written it.
        let m = marker(home.path(), &std::path::absolute(&take).unwrap());
        std::fs::write(&m, format!("1\n{}", take.display())).unwrap();
        std::fs::write(journal_path(&take), JOURNAL).unwrap();
        assert!(recover_all(home.path()).is_empty());
        assert!(journal_path(&take).exists() && m.exists() && !take.exists());
    }

    #[test]
    fn a_take_that_ended_well_leaves_nothing_to_recover() {
        let home = tempfile::tempdir().unwrap();
        let take = home.path().join("t.mid");
        mark(home.path(), &take).unwrap();
        unmark(home.path(), &take);
        assert!(recover_all(home.path()).is_empty());
    }
}
