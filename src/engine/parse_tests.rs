//! Table-driven parser tests: every command's words, and errors with their column and advice.

use std::path::PathBuf;

use rstest::rstest;

use super::command::*;
use super::parse::parse;
use crate::model::{ModelKind, Preset};
use crate::play::{Mode, Scale};

#[rstest]
#[case("load corpus data", Command::LoadCorpus { path: PathBuf::from("data") })]
#[case("load corpus \"my midi/folder\"", Command::LoadCorpus { path: PathBuf::from("my midi/folder") })]
#[case("corpus stats", Command::CorpusStats)]
#[case("model new vae-lstm tiny", Command::ModelNew { kind: ModelKind::VaeLstm, preset: Preset::Tiny })]
#[case("model new vae-transformer", Command::ModelNew { kind: ModelKind::VaeTransformer, preset: Preset::Small })]
#[case("model load models/vae-lstm-small", Command::ModelLoad { path: PathBuf::from("models/vae-lstm-small") })]
#[case("model save out/m", Command::ModelSave { path: PathBuf::from("out/m") })]
#[case("train", Command::Train(TrainCmd::Start(TrainSettings::default())))]
#[case("train steps 30 beta 0.5", Command::Train(TrainCmd::Start(TrainSettings { steps: Some(30), beta: Some(0.5), ..TrainSettings::default() })))]
#[case("train epochs 2 lr 0.001 batch 8", Command::Train(TrainCmd::Start(TrainSettings { epochs: Some(2), lr: Some(0.001), batch: Some(8), ..TrainSettings::default() })))]
#[case("train steps 200 swap 20", Command::Train(TrainCmd::Start(TrainSettings { steps: Some(200), swap_every: Some(20), ..TrainSettings::default() })))]
#[case("train pause", Command::Train(TrainCmd::Pause))]
#[case("train resume", Command::Train(TrainCmd::Resume))]
#[case("train stop", Command::Train(TrainCmd::Stop))]
#[case("gen", Command::Gen(GenCmd::default()))]
#[case("gen bars 4 style jazz out x.mid", Command::Gen(GenCmd { bars: Some(4), style: Some("jazz".into()), out: Some(PathBuf::from("x.mid")), ..GenCmd::default() }))]
#[case("gen notes 100", Command::Gen(GenCmd { notes: Some(100), ..GenCmd::default() }))]
#[case("play", Command::Play)]
#[case("play piece", Command::PlayPiece)]
#[case("stop", Command::Stop)]
#[case("panic", Command::Panic)]
#[case("tempo 96.5", Command::Tempo(96.5))]
#[case("tap", Command::Tap)]
#[case("swing 0.33", Command::Swing(0.33))]
#[case("transpose -5", Command::Transpose(-5))]
#[case("channel 10", Command::Channel(Some(9)))]
#[case("channel off", Command::Channel(None))]
#[case("program 33", Command::Program(Some(33)))]
#[case("scale D dorian", Command::Scale(Some(Scale::new(2, Mode::Dorian))))]
#[case("scale off", Command::Scale(None))]
#[case("temperature 0.8", Command::Temperature(0.8))]
#[case("top-k 20", Command::TopK(Some(20)))]
#[case("top-p off", Command::TopP(None))]
#[case("seed 7", Command::Seed(7))]
#[case("style folk", Command::Style(Some("folk".into())))]
#[case("latent sample", Command::Latent(LatentCmd::Sample))]
#[case(
    "latent encode a.mid",
    Command::Latent(LatentCmd::Encode(PathBuf::from("a.mid")))
)]
#[case("latent set 3 -1.5", Command::Latent(LatentCmd::Set { dim: 3, value: -1.5 }))]
#[case("latent nudge 0 0.25", Command::Latent(LatentCmd::Nudge { dim: 0, delta: 0.25 }))]
#[case("latent add density 0.5", Command::Latent(LatentCmd::Add { attr: "density".into(), amount: 0.5 }))]
#[case("latent interp a b 8", Command::Latent(LatentCmd::Interp { a: "a".into(), b: "b".into(), bars: 8 }))]
#[case("latent walk 0.1", Command::Latent(LatentCmd::Walk { step: 0.1 }))]
#[case("preset save calm", Command::Preset(PresetCmd::Save("calm".into())))]
#[case("ports", Command::Ports)]
#[case("connect 0", Command::Connect("0".into()))]
#[case("virtual", Command::Virtual)]
#[case("input keys", Command::Input("keys".into()))]
#[case("listen 4", Command::Listen(4))]
#[case("map 74 latent 3", Command::Map(MapCmd::Set { cc: 74, target: MapTarget::Latent(3), range: None }))]
#[case("map 1 tempo", Command::Map(MapCmd::Set { cc: 1, target: MapTarget::Tempo, range: None }))]
#[case("map 7 temperature 0.5 1.5", Command::Map(MapCmd::Set { cc: 7, target: MapTarget::Temperature, range: Some((0.5, 1.5)) }))]
#[case("map 74 off", Command::Map(MapCmd::Off(74)))]
#[case("map", Command::Map(MapCmd::List))]
#[case("synth on", Command::Synth(SynthCmd::On))]
#[case("synth patch piano", Command::Synth(SynthCmd::Patch("piano".into())))]
#[case("synth patch electric piano", Command::Synth(SynthCmd::Patch("electric piano".into())))]
#[case("synth patch \"electric piano\"", Command::Synth(SynthCmd::Patch("electric piano".into())))]
#[case("clock in keys", Command::Clock(ClockCmd::In(Some("keys".into()))))]
#[case("latency synth 25", Command::Latency { sink: "synth".into(), ms: 25.0 })]
#[case(
    "record start take.mid",
    Command::Record(RecordCmd::Start(PathBuf::from("take.mid")))
)]
#[case("record stop", Command::Record(RecordCmd::Stop))]
#[case("clock out on", Command::Clock(ClockCmd::Out(true)))]
#[case("clock in off", Command::Clock(ClockCmd::In(None)))]
#[case("loop 2", Command::Loop(2))]
#[case("unloop", Command::Unloop)]
#[case("layer bass channel 2", Command::Layer(LayerCmd::Set { name: "bass".into(), settings: vec![LayerSetting::Channel(1)] }))]
#[case("layer lead temperature 0.8 octave -1 program off style jazz", Command::Layer(LayerCmd::Set { name: "lead".into(), settings: vec![LayerSetting::Temperature(0.8), LayerSetting::Octave(-1), LayerSetting::Program(None), LayerSetting::Style(Some("jazz".into()))] }))]
#[case("layer bass off", Command::Layer(LayerCmd::Off("bass".into())))]
#[case("layer", Command::Layer(LayerCmd::List))]
#[case("mute bass", Command::Mute("bass".into()))]
#[case("at bar tempo 100", Command::At { quantum: Quantum::Bar, command: Box::new(Command::Tempo(100.0)) })]
#[case("at beat latent set 1 0", Command::At { quantum: Quantum::Beat, command: Box::new(Command::Latent(LatentCmd::Set { dim: 1, value: 0.0 })) })]
#[case("wait train", Command::Wait(Wait::Train))]
#[case("wait bars 4", Command::Wait(Wait::Bars(4)))]
#[case("session save gig", Command::Session(SessionCmd::Save("gig".into())))]
#[case("session load /tmp/s.toml", Command::Session(SessionCmd::Load("/tmp/s.toml".into())))]
#[case(
    "run sessions/live.improv",
    Command::Run(PathBuf::from("sessions/live.improv"))
)]
#[case("watch off", Command::Watch(None))]
#[case("help tempo", Command::Help(Some("tempo".into())))]
#[case("  TEMPO 90   # a comment", Command::Tempo(90.0))]
#[case("quit", Command::Quit)]
fn parses(#[case] line: &str, #[case] expected: Command) {
    assert_eq!(parse(line), Ok(expected));
}

/// (line, column of the error, words the message holds, suggestion)
#[rstest]
#[case("tempp 90", 1, "unknown command `tempp`", Some("tempo"))]
#[case("temprature 0.5", 1, "unknown command", Some("temperature"))]
#[case("gne bars 2", 1, "unknown command", Some("gen"))]
#[case("xyzzy", 1, "unknown command", None)]
#[case("tempo fast", 7, "`fast` is not a tempo", None)]
#[case("tempo 5000", 7, "1..1000", None)]
#[case("tempo", 6, "expected a tempo", None)]
#[case("model new vae-lstn", 11, "unknown word `vae-lstn`", Some("vae-lstm"))]
#[case("train stpes 5", 7, "unknown word", Some("steps"))]
#[case("gen bars 2 notes 3", 12, "not both", None)]
#[case("scale H dorian", 7, "unknown scale", None)]
#[case("channel 17", 9, "channel 1..16", None)]
#[case("tempo 90 100", 10, "unexpected `100`", None)]
#[case("at bar", 7, "expected a command", None)]
#[case("layer bass chanel 3", 12, "unknown word `chanel`", Some("channel"))]
#[case("layer bass channel 0", 20, "channel 1..16", None)]
#[case("layer main channel 2", 7, "main voice", None)]
#[case("at bar wait train", 8, "other than", None)]
#[case("", 1, "empty line", None)]
#[case("map 200 tempo", 5, "controller number 0..127", None)]
#[case("map 74 tempi", 8, "unknown word `tempi`", Some("tempo"))]
#[case("map 74 tempo 100 100", 18, "two different numbers", None)]
#[case("map 74 tempo 60", 16, "expected the value at 127", None)]
fn errors_point_at_the_column(
    #[case] line: &str,
    #[case] column: usize,
    #[case] message: &str,
    #[case] suggestion: Option<&str>,
) {
    let e = parse(line).unwrap_err();
    assert_eq!(e.column(line), column, "{e}");
    assert!(
        e.message.contains(message),
        "{:?} lacks {message:?}",
        e.message
    );
    assert_eq!(e.suggestion.as_deref(), suggestion);
}

#[test]
fn every_command_in_the_table_has_help_and_parses_its_name() {
    for c in super::grammar::COMMANDS {
        let help = super::grammar::help_text(Some(c.name)).unwrap();
        assert!(help.starts_with(c.usage));
        // The name alone either parses or asks for what is missing (never "unknown command").
        if let Err(e) = parse(c.name) {
            assert!(!e.message.contains("unknown command"), "{}: {e}", c.name);
        }
    }
}

#[test]
fn at_nested_sixteen_thousand_deep_is_refused_without_recursing() {
    // A 112 KB line that once overflowed the stack.
    let line = format!("{}tempo 120", "at bar ".repeat(16_000));
    let e = parse(&line).unwrap_err();
    assert!(e.message.contains("other than `at`"), "{e}");
    assert_eq!(e.column(&line), 8, "points at the second `at`");
}

mod round_trip {
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;

    use super::*;

    /// A word a user could type (never `off`, which reads as "none").
    fn word() -> impl Strategy<Value = String> {
        "[a-zA-Z_][a-zA-Z0-9_.:#-]{0,8}( [a-z0-9]{1,4})?".prop_filter("not off", |w| {
            !w.eq_ignore_ascii_case("off") && !w.eq_ignore_ascii_case("main")
        })
    }

    fn path() -> impl Strategy<Value = PathBuf> {
        "[a-z./~][a-zA-Z0-9_./ -]{0,16}"
            .prop_filter("not off", |p| p != "off" && !p.ends_with(' '))
            .prop_map(PathBuf::from)
    }

    fn opt<T: std::fmt::Debug + Clone + 'static>(
        s: impl Strategy<Value = T> + 'static,
    ) -> impl Strategy<Value = Option<T>> {
        prop::option::of(s)
    }

    fn latent() -> impl Strategy<Value = LatentCmd> {
        prop_oneof![
            Just(LatentCmd::Sample),
            Just(LatentCmd::Reset),
            path().prop_map(LatentCmd::Encode),
            (0usize..64, -10.0f32..=10.0).prop_map(|(dim, value)| LatentCmd::Set { dim, value }),
            (0usize..64, -10.0f32..=10.0).prop_map(|(dim, delta)| LatentCmd::Nudge { dim, delta }),
            (word(), -5.0f32..5.0).prop_map(|(attr, amount)| LatentCmd::Add { attr, amount }),
            (word(), word(), 1u32..=256).prop_map(|(a, b, bars)| LatentCmd::Interp { a, b, bars }),
            (0.0f32..=2.0).prop_map(|step| LatentCmd::Walk { step }),
        ]
    }

    fn layer() -> impl Strategy<Value = LayerCmd> {
        let setting = prop_oneof![
            path().prop_map(LayerSetting::Model),
            (0u8..16).prop_map(LayerSetting::Channel),
            opt(0u8..=127).prop_map(LayerSetting::Program),
            word().prop_map(LayerSetting::Port),
            (0.01f32..=10.0).prop_map(LayerSetting::Temperature),
            any::<u64>().prop_map(LayerSetting::Seed),
            opt(word()).prop_map(LayerSetting::Style),
            (-48i32..=48).prop_map(LayerSetting::Transpose),
            (-4i32..=4).prop_map(LayerSetting::Octave),
        ];
        prop_oneof![
            Just(LayerCmd::List),
            word().prop_map(LayerCmd::Off),
            (word(), prop::collection::vec(setting, 1..5))
                .prop_map(|(name, settings)| LayerCmd::Set { name, settings }),
        ]
    }

    /// Commands with every value in the range the parser takes.
    fn command() -> impl Strategy<Value = Command> {
        let kinds = prop_oneof![Just(ModelKind::VaeLstm), Just(ModelKind::VaeTransformer)];
        let presets = prop_oneof![Just(Preset::Paper), Just(Preset::Small), Just(Preset::Tiny)];
        let train = (
            opt(1usize..100),
            opt(1usize..10_000),
            opt(0.0f64..=10.0),
            opt(1e-6f64..0.5),
            opt(1usize..256),
            opt(1usize..1000),
        )
            .prop_map(
                |(epochs, steps, beta, lr, batch, swap_every)| TrainSettings {
                    epochs,
                    steps,
                    beta,
                    lr,
                    batch,
                    swap_every,
                },
            );
        let gen = (
            prop_oneof![
                Just((None, None)),
                (1usize..=256).prop_map(|b| (Some(b), None)),
                (1usize..=10_000).prop_map(|n| (None, Some(n))),
            ],
            opt(word()),
            opt(path()),
        )
            .prop_map(|((bars, notes), style, out)| GenCmd {
                bars,
                notes,
                style,
                out,
            });
        let map_target = prop_oneof![
            (0usize..64).prop_map(MapTarget::Latent),
            Just(MapTarget::Temperature),
            Just(MapTarget::Tempo),
        ];
        let range = opt((-100.0f64..100.0, 100.5f64..200.0));
        let modes = prop::sample::select(vec![
            Mode::Major,
            Mode::Minor,
            Mode::Dorian,
            Mode::Mixolydian,
            Mode::Blues,
            Mode::Chromatic,
        ]);
        let simple = prop_oneof![
            path().prop_map(|path| Command::LoadCorpus { path }),
            Just(Command::CorpusStats),
            (kinds, presets).prop_map(|(kind, preset)| Command::ModelNew { kind, preset }),
            path().prop_map(|path| Command::ModelLoad { path }),
            path().prop_map(|path| Command::ModelSave { path }),
            train.prop_map(|s| Command::Train(TrainCmd::Start(s))),
            prop_oneof![
                Just(TrainCmd::Pause),
                Just(TrainCmd::Resume),
                Just(TrainCmd::Stop)
            ]
            .prop_map(Command::Train),
            gen.prop_map(Command::Gen),
            Just(Command::Play),
            Just(Command::PlayPiece),
            Just(Command::Stop),
            Just(Command::Panic),
            (1.0f64..=1000.0).prop_map(Command::Tempo),
            Just(Command::Tap),
            (0.0f64..=0.9).prop_map(Command::Swing),
            (-48i32..=48).prop_map(Command::Transpose),
            opt(0u8..16).prop_map(Command::Channel),
            opt(0u8..=127).prop_map(Command::Program),
            opt((0u8..12, modes).prop_map(|(r, m)| Scale::new(r, m))).prop_map(Command::Scale),
            (0.01f32..=10.0).prop_map(Command::Temperature),
            opt(1usize..1000).prop_map(Command::TopK),
            opt(0.01f32..=1.0).prop_map(Command::TopP),
            any::<u64>().prop_map(Command::Seed),
            opt(word()).prop_map(Command::Style),
            latent().prop_map(Command::Latent),
            word().prop_map(|n| Command::Preset(PresetCmd::Save(n))),
            word().prop_map(|n| Command::Preset(PresetCmd::Load(n))),
            Just(Command::Ports),
            word().prop_map(Command::Connect),
            word().prop_map(Command::Disconnect),
            Just(Command::Virtual),
            word().prop_map(Command::Input),
            (1u32..=64).prop_map(Command::Listen),
            Just(Command::Map(MapCmd::List)),
            (0u8..=127).prop_map(|cc| Command::Map(MapCmd::Off(cc))),
            (0u8..=127, map_target, range)
                .prop_map(|(cc, target, range)| Command::Map(MapCmd::Set { cc, target, range })),
            Just(Command::Synth(SynthCmd::On)),
            Just(Command::Synth(SynthCmd::Off)),
            "[a-z]{1,8}( [a-z]{1,8}){0,2}".prop_map(|p| Command::Synth(SynthCmd::Patch(p))),
            (word(), 0.0f64..=2000.0).prop_map(|(sink, ms)| Command::Latency { sink, ms }),
            path().prop_map(|p| Command::Record(RecordCmd::Start(p))),
            Just(Command::Record(RecordCmd::Stop)),
            any::<bool>().prop_map(|on| Command::Clock(ClockCmd::Out(on))),
            opt(word()).prop_map(|p| Command::Clock(ClockCmd::In(p))),
            (1u32..=64).prop_map(Command::Loop),
            Just(Command::Unloop),
            layer().prop_map(Command::Layer),
            word().prop_map(Command::Mute),
            word().prop_map(Command::Unmute),
        ];
        let rest = prop_oneof![
            Just(Command::Wait(Wait::Train)),
            Just(Command::Wait(Wait::Jobs)),
            (1u32..=10_000).prop_map(|n| Command::Wait(Wait::Bars(n))),
            word().prop_map(|n| Command::Session(SessionCmd::Save(n))),
            word().prop_map(|n| Command::Session(SessionCmd::Load(n))),
            path().prop_map(Command::Run),
            opt(path()).prop_map(Command::Watch),
            opt(prop::sample::select(
                super::super::grammar::COMMANDS
                    .iter()
                    .map(|c| c.name.to_string())
                    .collect::<Vec<_>>(),
            ))
            .prop_map(Command::Help),
            Just(Command::Quit),
        ];
        let leaf = prop_oneof![4 => simple, 1 => rest];
        (leaf.clone(), any::<bool>(), prop::option::of(any::<bool>())).prop_map(|(c, beat, at)| {
            match (at, &c) {
                (Some(_), Command::Wait(_)) | (None, _) => c,
                (Some(_), _) => Command::At {
                    quantum: if beat { Quantum::Beat } else { Quantum::Bar },
                    command: Box::new(c),
                },
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 3000,
            rng_seed: RngSeed::Fixed(5),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn every_command_reads_back_from_its_text(c in command()) {
            let line = c.to_string();
            prop_assert_eq!(parse(&line), Ok(c), "{}", line);
        }
    }
}
