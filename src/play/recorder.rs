//! The recorder: everything played (and played in on a MIDI input) also goes to a MIDI file. A
//! journal next to it is synced every bar, so a crash loses at most one bar; on stop the MIDI
//! file is written atomically and the journal removed.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::music::{midi, Note, NoteSeq};

use super::midi_port::InputEvent;
use super::msg::MidiMsg;
use super::sink::{Sink, SinkError};

/// A recording that failed; one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Midi(#[from] midi::MidiError),
    #[error("{}: line {line}: not a journal entry", path.display())]
    Journal { path: PathBuf, line: usize },
    #[error("{} exists; not replaced: record to a new file", path.display())]
    Exists { path: PathBuf },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RecordError + '_ {
    move |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One recorded message: when, which part (0: played, 1: performer input), what.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Entry {
    at: f64,
    part: u8,
    msg: MidiMsg,
}

/// The journal kept next to `path` while recording.
pub fn journal_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".journal");
    PathBuf::from(p)
}

/// The sink the scheduler sends to.
pub struct RecorderSink {
    tx: rtrb::Producer<Entry>,
}

impl Sink for RecorderSink {
    fn name(&self) -> &str {
        "recorder"
    }

    fn send(&mut self, msg: MidiMsg, deadline: f64) -> Result<(), SinkError> {
        if msg.is_realtime() {
            return Ok(());
        }
        self.tx
            .push(Entry {
                at: deadline,
                part: 0,
                msg,
            })
            .map_err(|_| SinkError::Full)
    }
}

/// Records a file at `path`; tempo `bpm` converts seconds to beats, `bar_beats` sets how often
/// the journal is synced.
pub struct Recorder {
    path: PathBuf,
    input: rtrb::Producer<Entry>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<(), RecordError>>>,
    /// The journal's error, once its thread stopped on one.
    failed: Option<String>,
}

impl Recorder {
    pub fn start(
        path: &Path,
        bpm: f64,
        bar_beats: f64,
    ) -> Result<(Recorder, RecorderSink), RecordError> {
        // A take never replaces a file the user has, nor a journal not yet recovered.
        if path.exists() {
            return Err(RecordError::Exists {
                path: path.to_path_buf(),
            });
        }
        let journal = journal_path(path);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&journal)
            .map_err(io(&journal))?;
        let mut w = BufWriter::new(file);
        writeln!(w, "improv-journal 1 bpm {bpm}").map_err(io(&journal))?;
        let (tx, played) = rtrb::RingBuffer::new(1 << 14);
        let (input, performed) = rtrb::RingBuffer::new(1 << 12);
        let stop = Arc::new(AtomicBool::new(false));
        let bar_secs = bar_beats.max(0.25) * 60.0 / bpm.max(1.0);
        let st = stop.clone();
        let thread = std::thread::Builder::new()
            .name("improv-recorder".into())
            .spawn(move || journal_loop(w, journal, played, performed, st, bar_secs))
            .map_err(io(path))?;
        let rec = Recorder {
            path: path.to_path_buf(),
            input,
            stop,
            thread: Some(thread),
            failed: None,
        };
        Ok((rec, RecorderSink { tx }))
    }

    /// Records a performer's message (from a MIDI input) as the second part.
    pub fn record_input(&mut self, ev: &InputEvent) {
        let _ = self.input.push(Entry {
            at: ev.at,
            part: 1,
            msg: ev.msg,
        });
    }

    /// Joins the journal thread (if still there); what it failed with, if it did.
    fn join(&mut self) -> Option<String> {
        match self.thread.take()?.join() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("the journal thread panicked".to_string()),
        }
    }

    /// The journal's failure (a full disk, a removed folder) as soon as its thread has
    /// stopped on one: recording goes on into memory no more, so the caller says so at once.
    pub fn failure(&mut self) -> Option<String> {
        if self.failed.is_some() || !self.thread.as_ref().is_some_and(|t| t.is_finished()) {
            return None;
        }
        let text = self.join()?;
        self.failed = Some(text.clone());
        Some(text)
    }

    /// Stops, writes the MIDI file atomically and removes the journal; the recorded piece and,
    /// when the journal failed during the take, what it said (the piece ends where it stopped).
    /// When the MIDI file cannot be written the journal stays, to be recovered at the next start.
    pub fn finish(mut self) -> Result<(NoteSeq, Option<String>), RecordError> {
        self.stop.store(true, Ordering::Relaxed);
        // Wait for the journal thread's last flush and sync before reading the journal back.
        let failed = self.join().or(self.failed.take());
        let journal = journal_path(&self.path);
        let seq = recover(&journal)?;
        midi::write_file(&seq, &self.path)?;
        std::fs::remove_file(&journal).map_err(io(&journal))?;
        Ok((seq, failed))
    }
}

fn journal_loop(
    mut w: BufWriter<File>,
    journal: PathBuf,
    mut played: rtrb::Consumer<Entry>,
    mut performed: rtrb::Consumer<Entry>,
    stop: Arc<AtomicBool>,
    bar_secs: f64,
) -> Result<(), RecordError> {
    let mut next_sync: Option<f64> = None;
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        let mut last = None;
        for rx in [&mut played, &mut performed] {
            while let Ok(e) = rx.pop() {
                let b = e.msg.as_bytes();
                write!(w, "{:.6} {}", e.at, e.part).map_err(io(&journal))?;
                for x in b {
                    write!(w, " {x:02x}").map_err(io(&journal))?;
                }
                writeln!(w).map_err(io(&journal))?;
                last = Some(last.map_or(e.at, |l: f64| l.max(e.at)));
                next_sync.get_or_insert(e.at + bar_secs);
            }
        }
        if let Some(t) = last {
            let due = next_sync.unwrap_or(t);
            if t >= due || stopping {
                w.flush().map_err(io(&journal))?;
                w.get_ref().sync_data().map_err(io(&journal))?;
                next_sync =
                    Some(due + bar_secs * ((t - due) / bar_secs).floor().max(0.0) + bar_secs);
            }
        }
        if stopping {
            w.flush().map_err(io(&journal))?;
            return w.get_ref().sync_data().map_err(io(&journal));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Rebuilds the recorded piece from a journal (after a crash, or to finish a recording).
pub fn recover(journal: &Path) -> Result<NoteSeq, RecordError> {
    let file = File::open(journal).map_err(io(journal))?;
    let mut bpm = 120.0;
    let mut entries = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io(journal))?;
        let bad = || RecordError::Journal {
            path: journal.to_path_buf(),
            line: i + 1,
        };
        let f: Vec<&str> = line.split_whitespace().collect();
        if i == 0 {
            bpm = f.get(3).and_then(|b| b.parse().ok()).ok_or_else(bad)?;
            continue;
        }
        if f.is_empty() {
            continue;
        }
        let at: f64 = f[0].parse().map_err(|_| bad())?;
        let part: u8 = f.get(1).and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let bytes: Vec<u8> = f[2..]
            .iter()
            .map(|x| u8::from_str_radix(x, 16))
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        // A line cut short by a crash has too few bytes: it ends the journal.
        let Some(msg) = MidiMsg::from_bytes(&bytes) else {
            break;
        };
        entries.push(Entry { at, part, msg });
    }
    Ok(to_seq(&mut entries, bpm))
}

fn to_seq(entries: &mut [Entry], bpm: f64) -> NoteSeq {
    entries.sort_by(|a, b| a.at.total_cmp(&b.at));
    let t0 = entries.first().map_or(0.0, |e| e.at);
    let beat = |t: f64| (t - t0) * bpm / 60.0;
    let mut open: Vec<(u8, u8, u8, Note)> = Vec::new();
    let mut programs = [[0u8; 16]; 2];
    let mut notes = Vec::new();
    let end = entries.last().map_or(0.0, |e| beat(e.at));
    for e in entries.iter() {
        let part = e.part.min(1);
        if let Some((ch, p)) = e.msg.as_program() {
            programs[part as usize][ch as usize] = p;
        } else if let Some((ch, pitch, vel)) = e.msg.as_note_on() {
            let mut n = Note::new(pitch, vel, beat(e.at), 0.0);
            n.channel = ch;
            n.program = programs[part as usize][ch as usize];
            open.push((part, ch, pitch, n));
        } else if let Some((ch, pitch)) = e.msg.as_note_off() {
            if let Some(i) = open
                .iter()
                .position(|o| (o.0, o.1, o.2) == (part, ch, pitch))
            {
                let (_, _, _, mut n) = open.remove(i);
                n.duration = (beat(e.at) - n.start).max(1e-3);
                notes.push(n);
            }
        }
    }
    for (_, _, _, mut n) in open {
        n.duration = (end - n.start).max(1e-3);
        notes.push(n);
    }
    NoteSeq::from_notes(notes, bpm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journals_each_bar_and_finishes_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("take.mid");
        let (rec, mut sink) = Recorder::start(&path, 120.0, 4.0).unwrap();
        // Three bars of quarter notes at 120 BPM (2 s a bar), one note a beat.
        for i in 0..12 {
            let t = 100.0 + i as f64 * 0.5;
            sink.send(MidiMsg::note_on(0, 60 + i, 90), t).unwrap();
            sink.send(MidiMsg::clock(), t).unwrap();
            sink.send(MidiMsg::note_off(0, 60 + i), t + 0.25).unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
        // What a crash now would leave: the journal holds all but at most the last bar.
        let crashed = recover(&journal_path(&path)).unwrap();
        assert!(crashed.notes.len() >= 8, "{} notes", crashed.notes.len());
        assert!(!path.exists());
        let (seq, failed) = rec.finish().unwrap();
        assert_eq!(seq.notes.len(), 12);
        assert_eq!(failed, None);
        assert!(!journal_path(&path).exists());
        let back = midi::read_file(&path).unwrap().seq;
        let pitches: Vec<u8> = back.notes.iter().map(|n| n.pitch).collect();
        assert_eq!(pitches, (60..72).collect::<Vec<u8>>());
        assert!((back.notes[11].start - 11.0).abs() < 1e-2);
        assert!((back.notes[0].duration - 0.5).abs() < 1e-2);
    }

    #[test]
    fn a_take_never_replaces_a_file_or_an_unrecovered_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.mid");
        std::fs::write(&path, b"the user's file").unwrap();
        let e = Recorder::start(&path, 120.0, 4.0)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.ends_with("mine.mid exists; not replaced: record to a new file"),
            "{e}"
        );
        let other = dir.path().join("take.mid");
        std::fs::write(journal_path(&other), "improv-journal 1 bpm 120\n").unwrap();
        let e = Recorder::start(&other, 120.0, 4.0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("take.mid.journal"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"the user's file");
    }

    #[test]
    fn a_damaged_journal_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let j = dir.path().join("x.mid.journal");
        std::fs::write(
            &j,
            "improv-journal 1 bpm 120\n1.0 0 90 3c 40\nnonsense here\n",
        )
        .unwrap();
        let e = recover(&j).unwrap_err().to_string();
        assert!(
            e.ends_with("x.mid.journal: line 3: not a journal entry"),
            "{e}"
        );
    }
}
