//! The CNN's mel spectrogram against librosa's `power_to_db(melspectrogram(...))` on the fixture
//! WAV (first 3-second window; values in tests/fixtures/librosa_features.json).

use std::path::{Path, PathBuf};

use improv::analysis::{mel, wav};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn mel_window_matches_librosa_within_0_01_db() {
    let y = wav::read_clip(&fixture("jazz_clip.wav")).unwrap();
    let windows = mel::windows(&y);
    assert_eq!(windows.len(), 2);
    let m = &windows[0];
    assert_eq!((m.bands, m.frames), (128, 130));
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("librosa_features.json")).unwrap())
            .unwrap();
    let reference = &reference["mel_window0"];
    let theirs = |key: &str| -> Vec<f64> {
        reference[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let band_mean = theirs("band_mean_db");
    let frame64 = theirs("frame64_db");
    assert_eq!((band_mean.len(), frame64.len()), (128, 128));
    // librosa works in float32 and the fixture keeps 5 decimals; dB values agree to ~1e-4.
    for b in 0..128 {
        let ours = (0..m.frames).map(|t| m.at(b, t) as f64).sum::<f64>() / m.frames as f64;
        assert!(
            (ours - band_mean[b]).abs() < 0.01,
            "band {b} mean: ours {ours}, librosa {}",
            band_mean[b]
        );
        let ours = m.at(b, 64) as f64;
        assert!(
            (ours - frame64[b]).abs() < 0.01,
            "band {b} frame 64: ours {ours}, librosa {}",
            frame64[b]
        );
    }
}
