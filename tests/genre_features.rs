//! Audio features against librosa's values on the same WAV (a bundled jazz groove rendered with
//! the GM SoundFont), and bad audio.

use std::path::{Path, PathBuf};

use improv::analysis::{features, wav};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn every_feature_matches_librosa_within_1e_4() {
    let y = wav::read_clip(&fixture("jazz_clip.wav")).unwrap();
    let row = features::summarize(&features::frames(&y));
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("librosa_features.json")).unwrap())
            .unwrap();
    let reference = reference["features"].as_object().unwrap();
    let names = features::names();
    assert_eq!(names.len(), reference.len());
    for (name, ours) in names.iter().zip(&row) {
        let theirs = reference[name].as_f64().unwrap();
        let rel = (ours - theirs).abs() / theirs.abs().max(1e-9);
        // librosa works in float32; the agreement seen is about 1e-7.
        assert!(rel < 1e-4, "{name}: ours {ours}, librosa {theirs}");
    }
}

#[test]
fn three_second_windows_are_rows_of_the_same_table() {
    let y = wav::read_clip(&fixture("jazz_clip.wav")).unwrap();
    let (whole, windows) = features::clip_and_windows(&y);
    assert_eq!(windows.len(), 2); // an 8 s clip holds two full 3 s windows
    assert!(windows.iter().all(|w| w.len() == whole.len()));
    assert_ne!(windows[0], windows[1]);
}

fn audio_error(bytes: &[u8], name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    let e = wav::read_clip(&p).unwrap_err().to_string();
    assert!(e.contains(name) && !e.contains('\n'), "{e}");
    e
}

fn wav_bytes(rate: u32, samples: &[i16]) -> Vec<u8> {
    let mut c = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    c.into_inner()
}

#[test]
fn bad_audio_gives_one_clear_line() {
    assert!(audio_error(b"", "empty.wav").contains("empty file"));
    assert!(audio_error(b"MThd not audio", "song.wav").contains("not a WAV file"));
    let tone: Vec<i16> = (0..4410)
        .map(|i| ((i as f32 * 0.1).sin() * 8000.0) as i16)
        .collect();
    assert!(audio_error(&wav_bytes(44_100, &tone), "cd.wav").contains("sample rate 44100 Hz"));
    assert!(audio_error(&wav_bytes(22_050, &[0; 22_050]), "quiet.wav").contains("silent"));
    assert!(audio_error(&wav_bytes(22_050, &[]), "none.wav").contains("no samples"));
}
