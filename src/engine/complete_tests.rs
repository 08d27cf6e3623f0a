//! Completion and validation: what a Tab offers where, and which lines are valid.

use rstest::rstest;

use super::complete::{complete, validate};
use super::snapshot::{PortList, Snapshot};

fn values(line: &str, snap: &Snapshot) -> Vec<String> {
    complete(line, line.len(), snap)
        .into_iter()
        .map(|c| c.value)
        .collect()
}

#[rstest]
#[case("te", &["tempo", "temperature"])]
#[case("model ", &["new", "load", "save", "vae-lstm", "vae-transformer", "paper", "small", "tiny"])]
#[case("train s", &["steps", "swap", "stop"])]
#[case("synth o", &["on", "off"])]
#[case("at bar tem", &["tempo", "temperature"])]
#[case("help pa", &["panic"])]
#[case("wait ", &["train", "bars", "jobs"])]
#[case("synth patch electric p", &["electric piano 1", "electric piano 2"])]
#[case("synth patch vio", &["violin", "viola"])]
#[case("map 74 ", &["latent", "temperature", "tempo", "off"])]
fn completes_words(#[case] line: &str, #[case] expected: &[&str]) {
    assert_eq!(values(line, &Snapshot::default()), expected);
}

#[test]
fn completes_ports_from_the_snapshot() {
    let snap = Snapshot {
        ports: PortList {
            outputs: vec!["Midi Through:0".into(), "FluidSynth:0".into()],
            inputs: vec!["Keystation:0".into()],
        },
        ..Snapshot::default()
    };
    assert_eq!(values("connect Fl", &snap), ["FluidSynth:0"]);
    assert_eq!(values("input ", &snap), ["Keystation:0"]);
}

#[test]
fn completes_paths_with_folders_marked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("songs")).unwrap();
    std::fs::write(dir.path().join("set.improv"), "tempo 90\n").unwrap();
    let base = format!("{}/", dir.path().display());
    let out = complete(
        &format!("run {base}s"),
        4 + base.len() + 1,
        &Snapshot::default(),
    );
    let v: Vec<String> = out.iter().map(|c| c.value.clone()).collect();
    assert_eq!(v, [format!("{base}set.improv"), format!("{base}songs/")]);
    // The span covers the whole path typed so far.
    assert_eq!(out[0].span, 4..4 + base.len() + 1);
}

#[rstest]
#[case("tempo 90", true)]
#[case("", true)]
#[case("# only a comment", true)]
#[case("tempo", false)]
#[case("tmepo 90", false)]
#[case("gen bars 2 out x.mid", true)]
#[case("synth patch electric piano", true)]
#[case("map 74 off", true)]
#[case("map 74 latent", false)]
fn validates(#[case] line: &str, #[case] ok: bool) {
    assert_eq!(validate(line).is_ok(), ok, "{line}");
}
