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
