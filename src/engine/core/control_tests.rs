//! The value mapping of controller maps, their session text and coalescing of controller values.

use super::*;
use crate::play::MidiMsg;

/// (target, range, controller value, expected target value)
type Case = (MapTarget, Option<(f64, f64)>, u8, f64);

#[test]
fn controller_values_span_the_range() {
    let cases: &[Case] = &[
        (MapTarget::Latent(3), None, 0, -3.0),
        (MapTarget::Latent(3), None, 127, 3.0),
        (MapTarget::Latent(3), None, 64, -3.0 + 6.0 * 64.0 / 127.0),
        (MapTarget::Temperature, None, 0, 0.1),
        (MapTarget::Temperature, None, 127, 2.0),
        (MapTarget::Tempo, None, 0, 40.0),
        (MapTarget::Tempo, None, 127, 240.0),
        (MapTarget::Tempo, Some((60.0, 180.0)), 127, 180.0),
        // A reversed range turns the knob around.
        (MapTarget::Latent(0), Some((1.0, -1.0)), 0, 1.0),
        (MapTarget::Latent(0), Some((1.0, -1.0)), 127, -1.0),
    ];
    for (target, range, v, want) in cases {
        let m = Mapping::new(target.clone(), *range).unwrap();
        assert!(
            (m.value(*v) - want).abs() < 1e-9,
            "{target:?} {v}: {}",
            m.value(*v)
        );
    }
    let m = Mapping::new(MapTarget::Latent(3), None).unwrap();
    assert_eq!(
        m.command(127),
        Command::Latent(LatentCmd::Set { dim: 3, value: 3.0 })
    );
    assert_eq!(
        Mapping::new(MapTarget::Tempo, None).unwrap().command(0),
        Command::Tempo(40.0)
    );
}

#[test]
fn ranges_a_target_cannot_take_are_refused() {
    assert!(Mapping::new(MapTarget::Temperature, Some((0.0, 1.0))).is_err());
    assert!(Mapping::new(MapTarget::Tempo, Some((0.5, 100.0))).is_err());
    let e = Mapping::new(MapTarget::Latent(1), Some((-20.0, 1.0))).unwrap_err();
    assert!(e.contains("-10..10"), "{e}");
}

#[test]
fn the_session_spec_reads_back_as_the_same_map() {
    for (target, range) in [
        (MapTarget::Latent(7), None),
        (MapTarget::Temperature, Some((0.25, 1.5))),
        (MapTarget::Tempo, Some((200.0, 60.0))),
    ] {
        let m = Mapping::new(target.clone(), range).unwrap();
        let line = format!("map 21 {}", m.spec());
        match crate::engine::parse(&line) {
            Ok(Command::Map(MapCmd::Set {
                cc,
                target: t,
                range: r,
            })) => {
                assert_eq!(cc, 21);
                assert_eq!(Mapping::new(t, r).unwrap(), m, "{line}");
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

#[test]
fn only_the_latest_value_of_each_controller_counts() {
    let ev = |msg| InputEvent { at: 0.0, msg };
    let events = [
        ev(MidiMsg::control(0, 74, 10)),
        ev(MidiMsg::note_on(0, 60, 100)),
        ev(MidiMsg::control(0, 1, 5)),
        ev(MidiMsg::control(3, 74, 90)),
        ev(MidiMsg::clock()),
        ev(MidiMsg::control(0, 1, 6)),
    ];
    assert_eq!(latest_values(&events), vec![(1, 6), (74, 90)]);
    assert!(latest_values(&[]).is_empty());
}
