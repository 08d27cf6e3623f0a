//! Call and response under a real JACK server (run with `scripts/with-jack.sh cargo test
//! --features jack --test jack_capture`): a chorale phrase played through a midir output into an
//! input port is captured with its pitches, order and beats, encoded, and answered by the model.
#![cfg(feature = "jack")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use dfdx::prelude::Cpu;
use improv::generate::latent::encode_mean;
use improv::generate::sample::Sampling;
use improv::generate::stream::{Controls, NoteStream};
use improv::model::{checkpoint, Vae};
use improv::music::midi::read_file;
use improv::play::capture::capture;
use improv::play::{Clock, MidiIn, MidiPortSink, MonotonicClock, Player, PlayerConfig, SeqSource};

const BPM: f64 = 240.0;

#[test]
fn a_played_phrase_is_captured_and_answered() {
    let path = improv::paths::bundled_corpus().join("classical/bach/bach__bwv1.6.mid");
    let mut phrase = read_file(&path).unwrap().seq;
    phrase.notes.retain(|n| n.start < 8.0);
    phrase.end = 8.0;
    phrase.finish();
    let first = phrase.notes[0].start;

    let clock: Arc<dyn Clock> = MonotonicClock::shared();
    let port = format!("t{}-capture", std::process::id());
    let sink = MidiPortSink::virtual_port(&port, false).unwrap();
    let mut input = MidiIn::connect(&port, clock.clone()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut p = Player::new(
        PlayerConfig {
            bpm: BPM,
            realtime: None,
            ..PlayerConfig::default()
        },
        clock.clone(),
    )
    .unwrap();
    p.add_sink(Box::new(sink), 0.0).unwrap();
    p.params().set_tempo(Some(BPM));
    p.feed(Box::new(SeqSource::new(phrase.clone()))).unwrap();
    p.start();
    let got = capture(&mut input, &clock, 8.0 - first, BPM, 10.0).unwrap();
    let t = Instant::now();
    while !p.is_done() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(p.finish());

    let key = |start: f64, pitch: u8| ((start * 4.0).round() as i64, pitch);
    let mut sent: Vec<_> = phrase
        .notes
        .iter()
        .map(|n| (key(n.start - first, n.pitch), n.start - first))
        .collect();
    let mut heard: Vec<_> = got
        .notes
        .iter()
        .map(|n| (key(n.start, n.pitch), n.start))
        .collect();
    sent.sort_by_key(|s| s.0);
    heard.sort_by_key(|s| s.0);
    assert_eq!(
        sent.iter().map(|s| s.0 .1).collect::<Vec<_>>(),
        heard.iter().map(|s| s.0 .1).collect::<Vec<_>>(),
        "the same pitches in the same order"
    );
    for (s, h) in sent.iter().zip(&heard) {
        assert!(
            (s.1 - h.1).abs() < 0.15,
            "sent at beat {}, heard at {}",
            s.1,
            h.1
        );
    }

    // The answer: the captured phrase, encoded, primes the model.
    let dir = improv::paths::bundle_root().join("models/vae-lstm-small");
    let (model, meta) = checkpoint::load(&dir, &Cpu::default()).unwrap();
    let tokens = meta.tokenizer.build().encode(&got, None).unwrap();
    let ids = meta.vocab.encode(&tokens).0;
    let z = encode_mean(&model, &ids, meta.model.window).unwrap();
    let controls = Controls {
        z,
        sampling: Sampling::default(),
        seed: Some(1),
    };
    let mut answer = NoteStream::new(model.stream(), 0, &meta, controls, &ids).unwrap();
    let notes: Vec<_> = (0..16).filter_map(|_| answer.next_note(256)).collect();
    assert_eq!(notes.len(), 16);
    assert!(notes.iter().all(|(n, _)| n.start >= 0.0));
}
