//! Fuzzing what a user types or keeps, bounded so CI takes seconds: mutated command lines
//! through the parser, completion and highlighting; mutated session files through the session
//! reader; mutated checkpoint folders through the checkpoint loader. No panic, every error one
//! printable line, whatever loads is in range. `scripts/fuzz.sh` runs the same for millions.

#[path = "common/input_mutants.rs"]
mod input_mutants;

use input_mutants::*;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// A fixed seed: CI sees the same mutants on every run, and a failure reproduces.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(17),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn the_seeds_themselves_are_fine() {
    for line in seed_lines() {
        check_line(&line, 0).unwrap();
    }
    let f = improv::engine::read_session(SESSION).unwrap();
    assert_eq!(f.player.tempo, 96.0);
    assert_eq!(f.layers.len(), 2);
    let seed = checkpoint_seed();
    let dir = tempfile::tempdir().unwrap();
    check_checkpoint(&dir.path().join("c"), &seed.meta, &seed.weights).unwrap();
}

#[test]
fn regressions_stay_fixed() {
    // Inputs that once failed: a 16,000-deep `at` (stack overflow), escapes echoed raw.
    let deep = format!("{}tempo 120", "at bar ".repeat(16_000));
    check_line(&deep, 0).unwrap();
    check_line("tempo \u{1b}[2J\u{1b}]0;pwned\u{7}", 3).unwrap();
    check_line(&format!("load corpus {}", "x".repeat(1_000_000)), 5).unwrap();
    // A bare 1 MB word was compared with every command name, character by character (over
    // 1 s of CPU each, found by the soak); so was one given as an instrument name.
    for line in [
        "x".repeat(1_000_000),
        format!("program {}", "x".repeat(1_000_000)),
        format!("layer a program {}", "x".repeat(1_000_000)),
    ] {
        check_line(&line, 7).unwrap();
    }
    for text in [
        SESSION.replace("tempo = 96.0", "tempo = nan"),
        SESSION.replace("z = [0.0, 1.75, -0.5, 0.0]", "z = [1e30]"),
        SESSION.replace("top_p = 0.9", "top_p = 2.0"),
        // Found by the session soak: a layer line's control character quoted raw in the error.
        SESSION.replace("\"mute bass\"", "\"mu\\u0085te bass\""),
        SESSION.replace("octave -1 temperature", "octave -1 t\\temperature"),
    ] {
        assert!(improv::engine::read_session(&text).is_err());
        check_session(&text).unwrap();
    }
    // Found by the checkpoint soak: a vocabulary token with a control character, quoted raw.
    let seed = checkpoint_seed();
    let meta = String::from_utf8(seed.meta.clone())
        .unwrap()
        .replacen("\"Dur_", "\"Du\u{7f}_", 1);
    assert!(meta.contains('\u{7f}'), "the seed has a Dur_ token");
    let dir = tempfile::tempdir().unwrap();
    let r = check_checkpoint(&dir.path().join("c"), meta.as_bytes(), &seed.weights);
    assert!(r.is_ok(), "{r:?}");
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn command_lines_parse_or_fail_in_one_printable_line(seed in any::<u64>(), cursor in any::<usize>()) {
        let seeds = seed_lines();
        let dict = line_dictionary();
        let mut rng = StdRng::seed_from_u64(seed);
        let line = mutate_line(&mut rng, &seeds, &dict);
        let r = check_line(&line, cursor);
        prop_assert!(r.is_ok(), "{:?}: {:?}", &line.chars().take(200).collect::<String>(), r);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn sessions_load_in_range_or_fail_in_one_printable_line(seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let text = mutate_session(&mut rng);
        let r = check_session(&text);
        prop_assert!(r.is_ok(), "{:?}", r);
    }
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn checkpoints_load_whole_or_fail_in_one_printable_line(seed in any::<u64>()) {
        static SEED: std::sync::OnceLock<CheckpointSeed> = std::sync::OnceLock::new();
        let s = SEED.get_or_init(checkpoint_seed);
        let mut rng = StdRng::seed_from_u64(seed);
        let (meta, weights) = mutate_checkpoint(&mut rng, s);
        let dir = tempfile::tempdir().unwrap();
        let r = check_checkpoint(&dir.path().join("c"), &meta, &weights);
        prop_assert!(r.is_ok(), "{:?}", r);
    }
}
