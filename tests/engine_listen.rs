//! Call and response through the engine under a real JACK server (`scripts/with-jack.sh cargo
//! test --features jack --test engine_listen`): `input PORT` then `listen 2` captures a Bach
//! phrase played into the port, encodes it as the latent, and `gen` answers it.
#![cfg(feature = "jack")]

mod common;

use common::{bundled_model, engine, run};
use std::sync::Arc;
use std::time::Duration;

use improv::music::midi::read_file;
use improv::play::{Clock, MidiPortSink, MonotonicClock, Player, PlayerConfig, SeqSource};

const BPM: f64 = 240.0;

#[test]
fn listen_captures_a_phrase_and_gen_answers_it() {
    let home = tempfile::tempdir().unwrap();
    let e = engine(home.path());
    run(&e, &format!("model load {}", bundled_model().display())).unwrap();
    run(&e, "tempo 240").unwrap();

    // Errors first: no input chosen, and a port that does not exist.
    let err = run(&e, "listen 2").unwrap_err();
    assert!(err.contains("listen: no input port"), "{err}");
    let err = run(&e, "input no-such-port-here").unwrap_err();
    assert!(err.starts_with("input:"), "{err}");

    let path = improv::paths::bundled_corpus().join("classical/bach/bach__bwv1.6.mid");
    let mut phrase = read_file(&path).unwrap().seq;
    phrase.notes.retain(|n| n.start < 8.0);
    phrase.end = 8.0;
    phrase.finish();

    let port = format!("t{}-listen", std::process::id());
    let sink = MidiPortSink::virtual_port(&port, false).unwrap();
    run(&e, &format!("input {port}")).unwrap();
    let before = e.snapshot().latent;

    // The performer plays once the engine listens.
    let clock: Arc<dyn Clock> = MonotonicClock::shared();
    let player = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        let mut p = Player::new(
            PlayerConfig {
                bpm: BPM,
                realtime: None,
                ..PlayerConfig::default()
            },
            clock,
        )
        .unwrap();
        p.add_sink(Box::new(sink), 0.0).unwrap();
        p.params().set_tempo(Some(BPM));
        p.feed(Box::new(SeqSource::new(phrase))).unwrap();
        p.start();
        let start = std::time::Instant::now();
        while !p.is_done() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(p.finish());
    });
    run(&e, "listen 2").unwrap();
    player.join().unwrap();

    let s = e.snapshot();
    assert_ne!(s.latent, before, "the latent is the phrase's");
    let heard = s.piece.expect("the phrase is the current piece");
    assert!(heard.notes >= 8, "heard {} notes", heard.notes);

    // The answer continues the phrase.
    let out = home.path().join("answer.mid");
    run(&e, &format!("gen bars 2 out {}", out.display())).unwrap();
    assert!(!read_file(&out).unwrap().seq.notes.is_empty());
}
