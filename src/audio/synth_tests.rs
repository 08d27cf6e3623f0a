//! Offline synth checks: determinism, block-size independence, no clicks, voice limit, and a
//! callback that never allocates.

use super::*;
use crate::audio::render::{render_seq, wav_bytes, write_wav};
use crate::music::midi::read_file;
use crate::music::{Note, NoteSeq};
use crate::play::params::Params;

const SR: u32 = 48_000;

fn bach() -> NoteSeq {
    let path = crate::paths::bundled_corpus().join("classical/bach/bach__bwv1.6.mid");
    read_file(&path).unwrap().seq
}

/// The largest jump between neighbouring samples.
fn max_step(x: &[f32]) -> f32 {
    x.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn renders_a_real_file_the_same_whatever_the_block_size() {
    let seq = bach();
    let a = render_seq(&seq, Params::default(), SR, 1, 64);
    let b = render_seq(&seq, Params::default(), SR, 1, 1000);
    assert_eq!(a, b);
    let secs = a.len() as f64 / SR as f64;
    assert!((secs - seq.duration_secs() - 1.5).abs() < 0.1, "{secs} s");
    let peak = a.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(peak > 0.1 && peak < 1.0, "peak {peak}");
    let rms = (a.iter().map(|x| x * x).sum::<f32>() / a.len() as f32).sqrt();
    assert!(rms > 0.02, "rms {rms}");
}

#[test]
fn starts_and_stops_without_clicks() {
    for program in [0u8, 33, 89] {
        let mut notes: Vec<Note> = (0..8)
            .map(|i| Note::new(48 + i * 3, 120, i as f64 * 0.25, 0.1 + i as f64 * 0.05))
            .collect();
        for n in &mut notes {
            n.program = program;
        }
        let y = render_seq(
            &NoteSeq::from_notes(notes, 140.0),
            Params::default(),
            SR,
            1,
            256,
        );
        // A click is a jump far beyond what the loudest low note moves in one sample.
        assert!(
            max_step(&y) < 0.15,
            "program {program}: step {}",
            max_step(&y)
        );
        assert!(
            y.last().unwrap().abs() < 1e-3,
            "program {program} still sounding"
        );
    }
}

#[test]
fn voice_limit_fades_the_oldest_note() {
    let mut s = Synth::new(SR).with_voice_limit(4);
    let mut buf = vec![0.0; 512];
    for p in 0..10 {
        s.handle(MidiMsg::note_on(0, 50 + p, 100));
        s.render(&mut buf, 1);
        assert!(max_step(&buf) < 0.2);
    }
    assert_eq!(s.held_voices(), 4);
    for _ in 0..20 {
        s.render(&mut buf, 1);
    }
    assert_eq!(s.active_voices(), 4);
    s.handle(MidiMsg::control(0, CC_ALL_SOUND_OFF, 0));
    for _ in 0..10 {
        s.render(&mut buf, 1);
    }
    assert_eq!(s.active_voices(), 0);
}

#[test]
fn drums_and_timbres_by_program() {
    assert_eq!(timbre_for(9, 0), crate::audio::voice::Timbre::Drums);
    assert_eq!(timbre_for(0, 33), crate::audio::voice::Timbre::Bass);
    assert_eq!(timbre_for(1, 48), crate::audio::voice::Timbre::Pad);
    let mut s = Synth::new(SR);
    let mut buf = vec![0.0; 4800];
    for key in [36, 38, 42, 49, 45] {
        s.handle(MidiMsg::note_on(9, key, 110));
        s.render(&mut buf, 1);
        assert!(buf.iter().any(|x| x.abs() > 0.02), "drum {key} silent");
    }
}

#[test]
fn handle_and_render_never_allocate() {
    let mut s = Synth::new(SR);
    let mut buf = vec![0.0f32; 2 * 256];
    assert_no_alloc::assert_no_alloc(|| {
        for i in 0..40u8 {
            s.handle(MidiMsg::program(i % 16, i * 3));
            s.handle(MidiMsg::note_on(i % 16, 40 + i, 90));
            s.render(&mut buf, 2);
            s.handle(MidiMsg::note_off(i % 16, 40 + i));
        }
    });
    assert!(buf.iter().any(|x| *x != 0.0));
}

#[test]
fn wav_file_has_a_valid_header_and_is_written_atomically() {
    let samples = [0.0f32, 0.5, -0.5, 1.0];
    let b = wav_bytes(&samples, 2, SR).unwrap();
    assert_eq!(&b[0..4], b"RIFF");
    assert_eq!(u32::from_le_bytes(b[4..8].try_into().unwrap()), 36 + 8);
    assert_eq!(u16::from_le_bytes(b[22..24].try_into().unwrap()), 2);
    assert_eq!(u32::from_le_bytes(b[24..28].try_into().unwrap()), SR);
    assert_eq!(i16::from_le_bytes(b[46..48].try_into().unwrap()), 16384);
    assert_eq!(b.len(), 44 + 8);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.wav");
    write_wav(&path, &samples, 2, SR).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b);
    // A file where a folder should be.
    let err = write_wav(&path.join("y.wav"), &samples, 2, SR).unwrap_err();
    assert!(err.to_string().contains("y.wav: cannot write WAV"), "{err}");
}
