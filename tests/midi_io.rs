//! MIDI files in and out on real files from the bundled corpus, and bad input.

use std::path::{Path, PathBuf};

use improv::music::midi::{self, MidiProblem};
use improv::music::{Note, NoteSeq};
use proptest::prelude::*;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

fn first_files(dir: &str, n: usize) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mid"))
        .collect();
    v.sort();
    v.truncate(n);
    v
}

/// Every note as a comparable tuple (times in ticks of 1/960 beat, rounded).
fn key(n: &Note) -> (u8, u8, u8, u8, i64, i64) {
    (
        n.pitch,
        n.velocity,
        n.channel,
        n.program,
        (n.start * 960.0).round() as i64,
        (n.duration * 960.0).round() as i64,
    )
}

#[test]
fn real_files_round_trip_through_write_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = first_files("classical/bach", 5);
    files.extend(first_files("folk/oneills1850", 5));
    files.extend(first_files("genres/jazz", 2));
    files.extend(first_files("genres/disco", 2));
    for f in files {
        let a = midi::read_file(&f).unwrap().seq;
        assert!(!a.notes.is_empty(), "{}", f.display());
        let out = dir.path().join("out.mid");
        midi::write_file(&a, &out).unwrap();
        let b = midi::read_file(&out).unwrap();
        assert_eq!(b.unterminated, 0);
        let b = b.seq;
        assert_eq!(a.notes.len(), b.notes.len(), "{}", f.display());
        for (x, y) in a.notes.iter().zip(&b.notes) {
            assert_eq!(key(x), key(y), "{}", f.display());
            assert!((x.start_secs - y.start_secs).abs() < 1e-9);
            assert!((x.duration_secs - y.duration_secs).abs() < 1e-9);
        }
        assert_eq!(a.tempo, b.tempo);
        assert_eq!(a.time_sigs, b.time_sigs);
    }
}

#[test]
fn chorale_has_four_voices_and_seconds_follow_tempo() {
    let read = midi::read_file(&data("classical/bach/bach__bwv1.6.mid")).unwrap();
    let seq = &read.seq;
    assert!(read.tracks >= 4);
    let n = &seq.notes[seq.notes.len() / 2];
    let expected = seq.tempo.seconds_at(n.start);
    assert!((n.start_secs - expected).abs() < 1e-9);
    // Four voices start together on the first beat.
    let first: Vec<_> = seq
        .notes
        .iter()
        .filter(|m| m.start == seq.notes[0].start)
        .collect();
    assert!(first.len() >= 4, "{first:?}");
}

#[test]
fn a_jig_is_in_six_eight() {
    let seq = midi::read_file(&data("folk/oneills1850/0001-005020.mid"))
        .unwrap()
        .seq;
    assert_eq!(
        (seq.time_sigs[0].numerator, seq.time_sigs[0].denominator),
        (6, 8)
    );
    assert!((seq.time_sigs[0].bar_beats() - 3.0).abs() < 1e-12);
}

#[test]
fn retriggered_notes_without_note_off_are_closed_and_counted() {
    // MMA's strummed guitar re-strikes strings without switching them off.
    let read = midi::read_file(&data("genres/disco/disco__DSoul__axis__k0.mid")).unwrap();
    assert!(read.unterminated > 0);
    assert_eq!(read.warnings().len(), 1);
    let longest = read
        .seq
        .notes
        .iter()
        .filter(|n| n.channel == 13)
        .map(|n| n.duration)
        .fold(0.0, f64::max);
    assert!(longest <= 8.0, "a retriggered note lasts {longest} beats");
}

/// A hand-assembled file: format 0, running status, note-on with velocity 0 as note-off,
/// overlapping notes of one pitch, a note never switched off, and program changes.
fn handmade(division: [u8; 2]) -> Vec<u8> {
    let mut trk: Vec<u8> = vec![
        0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, // tempo 500000
        0x00, 0xC0, 0x05, // program 5 on channel 0
        0x00, 0xC1, 0x21, // program 33 on channel 1
        0x00, 0x90, 60, 100, // C4 on
        0x60, 62, 90, // running status: D4 on at 96
        0x60, 60, 0, // running status, velocity 0: C4 off at 192
        0x00, 62, 0, // D4 off at 192
        0x00, 0x91, 40, 70, // ch1 E2 on at 192 (never off)
        0x00, 0x90, 64, 80, // E4 on at 192
        0x30, 64, 81, // E4 again at 240, overlapping
        0x30, 0x80, 64, 0, // first E4 off at 288
        0x30, 0x80, 64, 0, // second E4 off at 336
        0x81, 0x00, 0xFF, 0x2F, 0x00, // end of track at 464
    ];
    let mut out = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01".to_vec();
    out.extend_from_slice(&division);
    out.extend_from_slice(b"MTrk");
    out.extend_from_slice(&(trk.len() as u32).to_be_bytes());
    out.append(&mut trk);
    out
}

#[test]
fn running_status_velocity_zero_overlaps_and_programs() {
    let read = midi::read_bytes(&handmade([0x00, 0x60])).unwrap(); // 96 ticks per beat
    let seq = &read.seq;
    let got: Vec<(u8, u8, u8, f64, f64)> = seq
        .notes
        .iter()
        .map(|n| (n.pitch, n.channel, n.program, n.start, n.duration))
        .collect();
    assert_eq!(
        got,
        vec![
            (60, 0, 5, 0.0, 2.0),
            (62, 0, 5, 1.0, 1.0),
            (64, 0, 5, 2.0, 1.0),
            (40, 1, 33, 2.0, 464.0 / 96.0 - 2.0),
            (64, 0, 5, 2.5, 1.0),
        ]
    );
    assert_eq!(read.unterminated, 1);
    assert_eq!(seq.notes[1].start_secs, 0.5);
}

#[test]
fn smpte_division_times_in_seconds() {
    // 25 frames per second x 40 ticks per frame = 1000 ticks per second.
    let read = midi::read_bytes(&handmade([0xE7, 40])).unwrap();
    let d4 = read.seq.notes.iter().find(|n| n.pitch == 62).unwrap();
    assert!((d4.start_secs - 0.096).abs() < 1e-9);
    // At 120 BPM a beat is half a second.
    assert!((d4.start - 0.192).abs() < 1e-9);
}

fn problem_line(bytes: &[u8], name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    let e = midi::read_file(&p).unwrap_err();
    let line = e.to_string();
    assert!(line.contains(name), "{line}");
    assert!(!line.contains('\n'), "{line}");
    line
}

#[test]
fn bad_files_give_one_clear_line() {
    let good = std::fs::read(data("classical/bach/bach__bwv1.6.mid")).unwrap();
    assert!(problem_line(&[], "empty.mid").contains("empty file"));
    assert!(problem_line(&good[..good.len() / 2], "cut.mid").contains("truncated"));
    assert!(problem_line(&good[..10], "tiny.mid").contains("truncated"));
    let noise: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    assert!(problem_line(&noise, "noise.mid").contains("not a MIDI file"));
    let mut fmt2 = handmade([0, 96]);
    fmt2[9] = 2;
    assert!(problem_line(&fmt2, "seq.mid").contains("format 2"));
    // A delta time of 0x0FFFFFFF ticks at 96 per beat is 2.8 million beats.
    let mut huge = handmade([0, 96]);
    let eot = huge.len() - 5;
    huge.splice(eot..eot + 2, [0xFF, 0xFF, 0xFF, 0x7F]);
    let n = huge.len() - 22;
    huge[18..22].copy_from_slice(&(n as u32).to_be_bytes());
    assert!(problem_line(&huge, "huge.mid").contains("limit"));
    let missing = midi::read_file(Path::new("/no/such/file.mid")).unwrap_err();
    assert!(matches!(missing.problem, MidiProblem::Io(_)));
}

#[test]
fn generated_piece_writes_as_format_one_with_programs() {
    let mut notes = vec![Note::new(60, 90, 0.0, 1.0), Note::new(36, 100, 0.0, 0.25)];
    notes[1].channel = 9;
    notes[0].program = 40;
    let seq = NoteSeq::from_notes(notes, 90.0);
    let bytes = midi::to_bytes(&seq).unwrap();
    let smf = midly::Smf::parse(&bytes).unwrap();
    assert_eq!(smf.header.format, midly::Format::Parallel);
    assert_eq!(smf.tracks.len(), 3);
    let back = midi::read_bytes(&bytes).unwrap().seq;
    assert_eq!(back.notes[0].program, 40);
    assert!((back.tempo.bpm_at(0.0) - 90.0).abs() < 0.01);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = midi::read_bytes(&bytes);
    }

    #[test]
    fn random_bytes_after_a_valid_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk".to_vec();
        bytes.extend_from_slice(&(tail.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&tail);
        let _ = midi::read_bytes(&bytes);
    }
}
