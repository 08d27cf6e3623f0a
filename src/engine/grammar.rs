//! The one table of commands: names, usage lines and help text, and what their arguments are
//! (for completion). `help`, the parser's suggestions and the completer all read it.

/// What the free argument of a command is, so a completer can offer values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    None,
    Path,
    OutputPort,
    InputPort,
    Preset,
    Attribute,
    Session,
    Command,
    Sink,
}

/// One command of the language.
#[derive(Clone, Copy, Debug)]
pub struct CommandSpec {
    pub name: &'static str,
    pub usage: &'static str,
    pub help: &'static str,
    /// Words that may follow the name (sub-commands, keywords, fixed values).
    pub words: &'static [&'static str],
    /// The kind of the free argument, if any.
    pub arg: ArgKind,
}

const fn spec(
    name: &'static str,
    usage: &'static str,
    help: &'static str,
    words: &'static [&'static str],
    arg: ArgKind,
) -> CommandSpec {
    CommandSpec {
        name,
        usage,
        help,
        words,
        arg,
    }
}

use ArgKind as A;

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[CommandSpec] = &[
    spec("load", "load corpus PATH", "read a folder of MIDI files as the corpus (in the background)", &["corpus"], A::Path),
    spec("corpus", "corpus stats", "pieces, notes, tokens and styles of the loaded corpus", &["stats"], A::None),
    spec("model", "model new KIND [PRESET] | model load PATH | model save PATH", "a fresh model (vae-lstm, vae-transformer; presets paper, small, tiny), or a checkpoint folder", &["new", "load", "save", "vae-lstm", "vae-transformer", "paper", "small", "tiny"], A::Path),
    spec("train", "train [epochs N | steps N] [beta B] [lr X] [batch N] [swap N] | train pause|resume|stop", "train the model on the corpus in the background; losses stream to the chart; a live stream takes the new weights at each epoch end (and every N steps with `swap N`)", &["epochs", "steps", "beta", "lr", "batch", "swap", "pause", "resume", "stop"], A::None),
    spec("gen", "gen [bars N | notes N] [style NAME] [out FILE]", "generate a piece with the model (it becomes the piece `play` plays); `out` also writes MIDI", &["bars", "notes", "style", "out"], A::Path),
    spec("play", "play | play piece", "stream live from the model (latent, sampling and training changes are heard as made); `play piece` (or no model) plays the current piece once, generating 8 bars first if there is none", &["piece"], A::None),
    spec("stop", "stop", "stop playing, releasing every note", &[], A::None),
    spec("panic", "panic", "all notes off on every channel of every sink", &[], A::None),
    spec("tempo", "tempo BPM", "set the tempo (1..1000 BPM)", &[], A::None),
    spec("tap", "tap", "tap tempo: tap at least twice, in time", &[], A::None),
    spec("swing", "swing X", "swing of the eighths: 0 straight .. 0.9; 0.33 is triplet swing", &[], A::None),
    spec("transpose", "transpose N", "semitones added to every pitched note", &[], A::None),
    spec("channel", "channel N|off", "send pitched notes on MIDI channel N (1..16)", &["off"], A::None),
    spec("program", "program N|off", "program (instrument) 0..127 for pitched channels", &["off"], A::None),
    spec("scale", "scale ROOT MODE | scale off", "quantize pitches to a scale, e.g. `scale D dorian`", &["off", "C", "D", "E", "F", "G", "A", "B", "major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian", "pentatonic", "blues", "chromatic"], A::None),
    spec("temperature", "temperature T", "sampling temperature (> 0; lower is safer)", &[], A::None),
    spec("top-k", "top-k K|off", "sample only from the K most likely tokens", &["off"], A::None),
    spec("top-p", "top-p P|off", "sample from the smallest set of tokens whose probability reaches P", &["off"], A::None),
    spec("seed", "seed N", "random seed of generation: the same seed gives the same piece", &[], A::None),
    spec("style", "style NAME|off", "prime generation with a piece of this corpus style", &["off"], A::None),
    spec("latent", "latent sample | encode FILE | set DIM V | nudge DIM D | reset | add ATTR X | interp A B BARS | walk STEP", "steer the latent z the generator uses", &["sample", "encode", "set", "nudge", "reset", "add", "interp", "walk"], A::Path),
    spec("preset", "preset save|load NAME", "save or recall the latent as a named preset", &["save", "load"], A::Preset),
    spec("ports", "ports", "list MIDI output and input ports", &[], A::None),
    spec("connect", "connect PORT", "play to a MIDI output port (name, part of it, or index)", &[], A::OutputPort),
    spec("disconnect", "disconnect PORT", "stop playing to a port", &[], A::OutputPort),
    spec("virtual", "virtual", "create the virtual MIDI port `improv` for synths and DAWs", &[], A::None),
    spec("input", "input PORT", "listen to a MIDI input port", &[], A::InputPort),
    spec("listen", "listen BARS", "call and response: record BARS bars from the input, then answer", &[], A::None),
    spec("map", "map CC TARGET [MIN MAX] | map CC off | map", "MIDI learn: controller CC of the `input` port drives latent DIM (-3..3), temperature (0.1..2) or tempo (40..240 BPM), or MIN..MAX; `map` lists the maps", &["latent", "temperature", "tempo", "off"], A::None),
    spec("synth", "synth on|off | synth patch NAME", "the built-in synth on the default audio device; `patch` picks the General MIDI instrument by name (e.g. `synth patch electric piano`)", &["on", "off", "patch"], A::None),
    spec("latency", "latency SINK MS", "how late a sink is heard, in ms (the others wait to match)", &["synth", "virtual"], A::Sink),
    spec("record", "record start FILE | record stop", "record what is played to a MIDI file", &["start", "stop"], A::Path),
    spec("clock", "clock out on|off | clock in PORT|off", "send MIDI clock, or follow one from an input port (its tempo; its Start plays, its Stop stops)", &["out", "in", "on", "off"], A::InputPort),
    spec("loop", "loop BARS", "from the next bar line, repeat the last BARS bars played (1..64; every voice, as heard, at the current tempo and transpose); the generators pause, and latent or sampling changes made meanwhile are heard after `unloop`", &[], A::None),
    spec("unloop", "unloop", "from the next bar line, the voices go on generating from where they paused when the loop began", &[], A::None),
    spec("layer", "layer | layer NAME [model PATH] [channel N] [program N|off] [port PORT] [temperature T] [seed N] [style S|off] [transpose N] [octave N] | layer NAME off", "a voice of its own on the same bars (its own model, sampling, latent, channel, program, output); settings on an existing layer change it; `off` removes it; `layer` alone lists them. Layers play with `play` and stop with `stop`; one added while playing joins at the next bar line", &["off", "model", "channel", "program", "port", "temperature", "seed", "style", "transpose", "octave"], A::None),
    spec("mute", "mute NAME", "silence a layer (or `main`) from the next bar line", &[], A::None),
    spec("unmute", "unmute NAME", "hear a layer (or `main`) again from the next bar line", &[], A::None),
    spec("at", "at bar|beat COMMAND", "run COMMAND at the next bar line or beat", &["bar", "beat"], A::Command),
    spec("wait", "wait train | wait bars N | wait jobs", "hold the following commands until training ends, N bars have played, or no job runs (a piece playing counts; a live stream, which plays until `stop`, does not)", &["train", "bars", "jobs"], A::None),
    spec("session", "session save|load NAME", "save or restore the whole session (TOML under $IMPROV_HOME/sessions)", &["save", "load"], A::Session),
    spec("run", "run FILE", "run a script of commands", &[], A::Path),
    spec("watch", "watch FILE | watch off", "re-run the blocks of a script that change when it is saved", &["off"], A::Path),
    spec("help", "help [COMMAND]", "this list, or one command's help", &[], A::Command),
    spec("quit", "quit", "save the session to autosave and leave", &[], A::None),
];

/// The spec of a command name.
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name)
}

pub use crate::text::edit_distance;

/// The nearest of `candidates` to `word`, if it is near enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    let chars = w.chars().count();
    candidates
        .into_iter()
        .filter_map(|c| {
            let allowed = (c.len() / 3).max(2);
            // A prefix of a long word ("temp" for "temperature") counts as close.
            let d = if c.starts_with(&w) && w.len() >= 3 {
                1
            } else if chars.abs_diff(c.chars().count()) > allowed {
                // The distance is at least the difference in length: too far, and a 1 MB
                // word is not compared character by character with every command.
                return None;
            } else {
                edit_distance(&w, c)
            };
            (d <= allowed).then_some((d, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `help` text: every command's usage, or one command's usage and help.
pub fn help_text(command: Option<&str>) -> Result<String, String> {
    match command {
        None => {
            let width = COMMANDS
                .iter()
                .map(|c| c.usage.len())
                .max()
                .unwrap_or(0)
                .min(48);
            let mut out = String::from("commands (help COMMAND for one):\n");
            for c in COMMANDS {
                out.push_str(&format!("  {:width$}  {}\n", c.usage, c.help));
            }
            Ok(out.trim_end().to_string())
        }
        Some(name) => match find(name) {
            Some(c) => Ok(format!("{}\n  {}", c.usage, c.help)),
            None => Err(match nearest(name, COMMANDS.iter().map(|c| c.name)) {
                Some(n) => format!("help: no command `{name}`; did you mean `{n}`?"),
                None => format!("help: no command `{name}`"),
            }),
        },
    }
}
