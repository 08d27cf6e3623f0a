//! Fuzzing the MIDI reader and the tokenizers with mutants of the bundled files, bounded so it
//! takes seconds: no panic, errors are one line, and a mutant of one byte keeps at least 95 % of
//! the notes a tolerant reader finds in it, or says what it skipped. `scripts/fuzz.sh` runs the
//! same checks for a million inputs and more.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use improv::music::midi::{self, MidiProblem, MidiRead};
use improv::music::tokens::{EventConfig, PaperConfig, TokenizerConfig};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

#[path = "common/midi_reference.rs"]
mod midi_reference;
use midi_reference::{keeps_95, reference_notes};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn midi_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            midi_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "mid") {
            out.push(p);
        }
    }
}

/// A bundled file with the notes improv reads and the notes the reference reader finds.
struct Original {
    path: PathBuf,
    bytes: Vec<u8>,
    notes: usize,
    reference: usize,
}

/// Every fourth bundled file (140 of them, every folder represented): enough variety, and
/// quick to read hundreds of mutants of.
fn originals() -> &'static [Original] {
    static FILES: OnceLock<Vec<Original>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut paths = Vec::new();
        midi_files(&data_dir(), &mut paths);
        paths
            .into_iter()
            .step_by(4)
            .map(|path| {
                let bytes = std::fs::read(&path).unwrap();
                let read = midi::read_bytes(&bytes).unwrap();
                assert!(
                    read.damage.is_empty(),
                    "{}: {:?}",
                    path.display(),
                    read.damage
                );
                let reference = reference_notes(&bytes).unwrap();
                Original {
                    path,
                    notes: read.seq.notes.len(),
                    reference,
                    bytes,
                }
            })
            .collect()
    })
}

/// Whether a read kept enough of what the reference finds in the same bytes (scaled by how the
/// two compare on the undamaged file: improv drops zero-length notes, mido counts note-ons), or
/// else said what went wrong.
fn kept_or_said(orig: &Original, mutant: &[u8], read: &Result<MidiRead, MidiProblem>) -> bool {
    let read = match read {
        Err(e) => return !e.to_string().contains('\n'),
        Ok(r) => r,
    };
    if !read.warnings().is_empty() {
        return true;
    }
    keeps_95(mutant, read.seq.notes.len(), orig.notes, orig.reference)
}

fn mutate(bytes: &[u8], changes: &[(usize, u8)]) -> Vec<u8> {
    let mut m = bytes.to_vec();
    for &(at, v) in changes {
        let i = at % m.len();
        m[i] = v;
    }
    m
}

/// A fixed seed: CI sees the same mutants on every run, and a failure reproduces.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(13),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn bundled_files_agree_with_the_reference_reader() {
    for o in originals() {
        // Only zero-length notes (an on and its off at one tick) are dropped.
        assert!(o.notes <= o.reference, "{}", o.path.display());
        assert!(o.notes * 100 >= o.reference * 95, "{}", o.path.display());
    }
}

proptest! {
    #![proptest_config(config(600))]

    #[test]
    fn one_byte_mutants_keep_their_notes_or_say_why(
        file in any::<prop::sample::Index>(),
        at in any::<usize>(),
        value in any::<u8>(),
    ) {
        let orig = file.get(originals());
        let m = mutate(&orig.bytes, &[(at, value)]);
        let read = midi::read_bytes(&m);
        prop_assert!(kept_or_said(orig, &m, &read), "{} byte {} = {value:#04x}: {:?}",
            orig.path.display(), at % m.len(), read.map(|r| (r.seq.notes.len(), orig.notes)));
    }
}

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn many_byte_mutants_read_or_fail_in_one_line(
        file in any::<prop::sample::Index>(),
        changes in prop::collection::vec((any::<usize>(), any::<u8>()), 2..24),
    ) {
        let orig = file.get(originals());
        let m = mutate(&orig.bytes, &changes);
        if let Err(e) = midi::read_bytes(&m) {
            prop_assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn tokenizers_take_whatever_the_reader_reads(
        file in any::<prop::sample::Index>(),
        changes in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let orig = file.get(originals());
        let m = mutate(&orig.bytes, &changes);
        if let Ok(read) = midi::read_bytes(&m) {
            for config in [
                TokenizerConfig::Event(EventConfig::default()),
                TokenizerConfig::Event(EventConfig::full()),
                TokenizerConfig::Paper(PaperConfig::default()),
            ] {
                let tk = config.build();
                if let Ok(tokens) = tk.encode(&read.seq, Some("jazz")) {
                    let back = tk.decode(&tokens);
                    prop_assert!(back.notes.iter().all(|n| n.duration > 0.0 && n.start >= 0.0));
                }
            }
        }
    }
}
