//! Reads MIDI files named on stdin (one path a line) and prints one JSON line each: the notes
//! improv keeps, its warnings, or its one-line error. `scripts/midi_mutants.py` drives it to
//! compare improv's reader with another reader over many mutated files in one process; the
//! `digest` (blake3 of every note, the tempo map, time signatures and end) shows whether a change
//! to the reader alters what it reads from a file.

use std::io::{BufRead, Write};
use std::path::Path;

fn main() -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in stdin.lock().lines() {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        let row = match improv::music::midi::read_file(Path::new(&line)) {
            Ok(read) => {
                let s = &read.seq;
                let all = format!("{:?}{:?}{:?}{}", s.notes, s.tempo, s.time_sigs, s.end);
                serde_json::json!({
                    "path": line,
                    "notes": s.notes.len(),
                    "warnings": read.warnings(),
                    "unmatched_offs": read.unmatched_offs,
                    "ons": s.notes.len() + read.unterminated,
                    "digest": blake3::hash(all.as_bytes()).to_hex().to_string(),
                })
            }
            Err(e) => serde_json::json!({ "path": line, "error": e.to_string() }),
        };
        writeln!(out, "{row}")?;
        // One line per file as it is done, so a driver reading a pipe sees progress.
        out.flush()?;
    }
    Ok(())
}
