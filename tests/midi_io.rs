//! MIDI files in and out on real files from the bundled corpus, and bad input.

use std::path::{Path, PathBuf};

use improv::music::midi::{self, MidiProblem};
use improv::music::{Note, NoteSeq};
use proptest::prelude::*;

#[path = "common/midi_reference.rs"]
mod midi_reference;
use midi_reference::held_notes;

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
    // A delta time of 0x0FFFFFFF ticks at 96 per beat is 2.8 million beats: before the first
    // note nothing is left to read; before the end of track only the end is dropped (and said).
    let with_delta = |at: usize, len: usize| {
        let mut f = handmade([0, 96]);
        f.splice(at..at + len, [0xFF, 0xFF, 0xFF, 0x7F]);
        let n = f.len() - 22;
        f[18..22].copy_from_slice(&(n as u32).to_be_bytes());
        f
    };
    assert!(problem_line(&with_delta(22, 1), "huge.mid").contains("limit"));
    let late_end = with_delta(handmade([0, 96]).len() - 5, 2);
    let read = midi::read_bytes(&late_end).unwrap();
    assert_eq!(read.seq.notes.len(), 5);
    assert!(
        read.warnings().iter().any(|w| w.contains("limit")),
        "{:?}",
        read.warnings()
    );
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

/// A real file written the way some recorders write them: the status byte only where it changes,
/// even across meta and sysex events (which the standard says cancel running status), and, with
/// `clock`, a real-time clock message (0xF8, not allowed in a file) after every note event.
fn rewritten(bytes: &[u8], clock: bool) -> (Vec<u8>, usize) {
    let (header, tracks) = midly::parse(bytes).unwrap();
    let mut out = bytes[..14].to_vec();
    let mut clocks = 0;
    for track in tracks {
        let mut trk = Vec::new();
        let mut running = None;
        for ev in track.unwrap().bytemapped() {
            let (raw, ev) = ev.unwrap();
            let mut delta = Vec::new();
            let d = ev.delta.as_int();
            for shift in [21u32, 14, 7] {
                if d >> shift > 0 {
                    delta.push(0x80 | (d >> shift) as u8 & 0x7F);
                }
            }
            delta.push(d as u8 & 0x7F);
            trk.extend_from_slice(&delta);
            match ev.kind.as_live_event() {
                Some(midly::live::LiveEvent::Midi { channel, message }) => {
                    let mut msg = Vec::new();
                    midly::live::LiveEvent::Midi { channel, message }
                        .write_std(&mut msg)
                        .unwrap();
                    if running == Some(msg[0]) {
                        trk.extend_from_slice(&msg[1..]);
                    } else {
                        running = Some(msg[0]);
                        trk.extend_from_slice(&msg);
                    }
                    if clock && matches!(message, midly::MidiMessage::NoteOn { .. }) {
                        trk.extend_from_slice(&[0x00, 0xF8]);
                        clocks += 1;
                    }
                }
                // Meta and sysex events always carry their status byte; running status is kept.
                _ => trk.extend_from_slice(raw),
            }
        }
        out.extend_from_slice(b"MTrk");
        out.extend_from_slice(&(trk.len() as u32).to_be_bytes());
        out.extend_from_slice(&trk);
    }
    assert_eq!(header.format, midly::Format::Parallel);
    (out, clocks)
}

#[test]
fn running_status_across_meta_events_and_clock_messages_lose_no_note() {
    // Chorales have their tempo and key signature after the first notes of some voices.
    for f in first_files("classical/bach", 6) {
        let bytes = std::fs::read(&f).unwrap();
        let want = midi::read_bytes(&bytes).unwrap();
        let (across, _) = rewritten(&bytes, false);
        let got = midi::read_bytes(&across).unwrap();
        assert_eq!(got.seq.notes.len(), want.seq.notes.len(), "{}", f.display());
        assert!(
            got.warnings().is_empty(),
            "{}: {:?}",
            f.display(),
            got.warnings()
        );
        let (clocked, clocks) = rewritten(&bytes, true);
        let got = midi::read_bytes(&clocked).unwrap();
        let all: Vec<_> = got.seq.notes.iter().map(key).collect();
        assert_eq!(all, want.seq.notes.iter().map(key).collect::<Vec<_>>());
        // Said, not silently dropped: midly stopped each track at its first clock.
        let w = got.warnings().join("\n");
        assert!(
            w.contains(&format!("{clocks} system message(s)")),
            "{}: {w}",
            f.display()
        );
    }
}

#[test]
fn a_scale_with_a_clock_message_reads_all_eight_notes() {
    // The reproducer: a C-major scale whose track holds a timing clock.
    let mut trk = vec![0x00, 0xF8];
    for (i, key) in [60u8, 62, 64, 65, 67, 69, 71, 72].into_iter().enumerate() {
        let status = if i == 0 { vec![0x90] } else { vec![] };
        trk.extend([0x00].iter().chain(&status).chain(&[key, 90, 0x60, key, 0]));
    }
    trk.extend_from_slice(&[0x00, 0xFF, 0x2F, 0x00]);
    let mut bytes = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk".to_vec();
    bytes.extend_from_slice(&(trk.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&trk);
    let read = midi::read_bytes(&bytes).unwrap();
    assert_eq!(read.seq.notes.len(), 8);
    assert_eq!(read.warnings().len(), 1, "{:?}", read.warnings());
}

#[test]
fn one_bad_byte_in_a_chorale_is_read_past_and_reported() {
    // Byte 91 of this chorale set to 0xFF used to end its track there: 346 of 491 notes, no word.
    let path = data("classical/bach/bach__bwv1.6.mid");
    let mut bytes = std::fs::read(&path).unwrap();
    let whole = midi::read_bytes(&bytes).unwrap().seq.notes.len();
    bytes[91] = 0xFF;
    let read = midi::read_bytes(&bytes).unwrap();
    assert!(
        read.seq.notes.len() * 100 >= whole * 95,
        "{} of {whole}",
        read.seq.notes.len()
    );
    assert!(!read.warnings().is_empty());
    assert!(!read.damage.is_empty());
}

#[test]
fn regression_inputs_read_without_panic_and_say_what_they_skipped() {
    // Inputs that once failed: the fuzz soak's findings and the reproducers.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/midi");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        match midi::read_file(&path) {
            Ok(read) => assert!(
                !read.warnings().is_empty(),
                "{}: read silently",
                path.display()
            ),
            Err(e) => assert!(!e.to_string().contains('\n')),
        }
        seen += 1;
    }
    assert!(seen > 0);
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_huge_files_fail_at_once_with_one_line() {
    use improv::corpus::{Corpus, LoadOptions};
    use improv::music::tokens::TokenizerConfig;

    let dir = tempfile::tempdir().unwrap();
    let real = data("classical/bach/bach__bwv1.6.mid");
    std::fs::copy(&real, dir.path().join("a.mid")).unwrap();
    let fifo = dir.path().join("x.mid");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.mid")).unwrap();
    // A real file with 65 MiB of zeros after it (sparse on disk).
    let big = dir.path().join("big.mid");
    std::fs::copy(&real, &big).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();

    // Without the checks each of these blocks forever or reads until memory runs out.
    let line = |p: &Path| midi::read_file(p).unwrap_err().to_string();
    assert!(line(&fifo)
        .ends_with("x.mid: not a regular file (a FIFO); only regular files are read as MIDI"));
    assert!(line(&dir.path().join("zero.mid")).contains("(a device)"));
    assert!(line(Path::new("/dev/zero")).contains("(a device)"));
    assert!(line(&big).ends_with("big.mid: larger than 64 MiB (not a MIDI file?)"));
    assert!(line(dir.path()).contains("(a folder)"));

    let mut opts = LoadOptions::new(TokenizerConfig::default());
    opts.cache_dir = None;
    let corpus = Corpus::load(dir.path(), &opts).unwrap();
    let failed = &corpus.report.failed;
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(failed
        .iter()
        .any(|l| l.contains("x.mid: not a regular file")));
    assert!(failed.iter().any(|l| l.contains("big.mid: larger than")));
    assert_eq!(corpus.pieces.len(), 1);
}

#[test]
fn many_held_notes_pair_correctly() {
    let read = midi::read_bytes(&held_notes(20_000, 20_000)).unwrap();
    assert_eq!(read.unterminated, 0);
    let (short, held): (Vec<&Note>, Vec<&Note>) =
        read.seq.notes.iter().partition(|n| n.pitch == 60);
    assert_eq!(short.len(), 20_000);
    assert_eq!(held.len(), 20_000);
    let ticks = |n: &Note| ((n.start * 480.0).round(), (n.duration * 480.0).round());
    for (i, n) in short.iter().enumerate() {
        assert_eq!(ticks(n), (i as f64, 1.0));
    }
    assert!(held.iter().all(|n| ticks(n) == (0.0, 20_000.0)));
}

#[test]
fn a_note_byte_turned_into_an_escape_is_still_read_silently() {
    // A known limit, kept as a regression case from the soak: a status 0x99 turned into 0xF7
    // makes an escape whose 38 bytes hold a status byte, so it looks real and swallows a few
    // notes without a warning (mido gives up on this file). The reader must still not panic and
    // must read the rest.
    let f = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/midi-known-silent/silent-loss-one-byte-172914.mid");
    let read = midi::read_file(&f).unwrap();
    assert_eq!(read.seq.notes.len(), 1329);
}
