//! The command language as values: one `Command` per thing a performer can say, built by
//! `parse` from a line of text (the same words in the REPL, the TUI and scripts).

use std::path::PathBuf;

use crate::model::{ModelKind, Preset};
use crate::play::Scale;

/// One command of the language. `parse` builds these from text; front ends may also build them
/// directly (the TUI's keys send `Command::Latent(LatentCmd::Nudge { .. })`, for example).
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `load corpus PATH`: read and tokenize a folder of MIDI files (on a worker thread).
    LoadCorpus { path: PathBuf },
    /// `corpus stats`: pieces, notes, tokens, styles of the loaded corpus.
    CorpusStats,
    /// `model new KIND [PRESET]`: a fresh, untrained model sized for the loaded corpus.
    ModelNew { kind: ModelKind, preset: Preset },
    /// `model load PATH`: a checkpoint folder (or a training folder with `best/`).
    ModelLoad { path: PathBuf },
    /// `model save PATH`: the current model as a checkpoint folder.
    ModelSave { path: PathBuf },
    /// `train ...`: start, pause, resume or stop training.
    Train(TrainCmd),
    /// `gen [bars N | notes N] [style NAME] [out FILE]`: generate a piece (it becomes the current
    /// piece that `play` plays).
    Gen(GenCmd),
    /// `play`: with a model loaded, stream live from it (latent and sampling changes are heard
    /// as they are made); without one, play the current piece.
    Play,
    /// `play piece`: play the current piece once (generating one first when there is none).
    PlayPiece,
    /// `stop`: stop playing; every sounding note is released.
    Stop,
    /// `panic`: all notes off on every channel of every sink.
    Panic,
    /// `tempo BPM`.
    Tempo(f64),
    /// `tap`: tap tempo; two or more taps within two seconds of each other set the tempo.
    Tap,
    /// `swing X`: 0 (straight) to 0.9.
    Swing(f64),
    /// `transpose N` (semitones).
    Transpose(i32),
    /// `channel N` (1..=16) or `channel off` (each note's own channel).
    Channel(Option<u8>),
    /// `program N` (0..=127) or `program off`.
    Program(Option<u8>),
    /// `scale ROOT MODE` or `scale off`.
    Scale(Option<Scale>),
    /// `temperature T`.
    Temperature(f32),
    /// `top-k K` or `top-k off`.
    TopK(Option<usize>),
    /// `top-p P` or `top-p off`.
    TopP(Option<f32>),
    /// `seed N`.
    Seed(u64),
    /// `style NAME` or `style off`: prime generation with a piece of this style of the corpus.
    Style(Option<String>),
    /// `latent ...`.
    Latent(LatentCmd),
    /// `preset save|load NAME`.
    Preset(PresetCmd),
    /// `ports`: list MIDI ports.
    Ports,
    /// `connect PORT`: play to a MIDI output port (name, part of a name, or index).
    Connect(String),
    /// `disconnect PORT`.
    Disconnect(String),
    /// `virtual`: create the virtual output port `improv`.
    Virtual,
    /// `input PORT`: listen to a MIDI input port.
    Input(String),
    /// `listen BARS`: record BARS bars from the input and answer them (call and response).
    Listen(u32),
    /// `map CC TARGET [MIN MAX]` / `map CC off` / `map`: a controller of the input port drives a
    /// latent dimension, temperature or tempo.
    Map(MapCmd),
    /// `synth on|off|patch NAME`.
    Synth(SynthCmd),
    /// `latency SINK MS`: how late a sink is heard, in ms (others wait to match).
    Latency { sink: String, ms: f64 },
    /// `record start FILE` / `record stop`.
    Record(RecordCmd),
    /// `clock out on|off` / `clock in PORT|off`.
    Clock(ClockCmd),
    /// `loop BARS`: from the next bar line, repeat the last BARS bars played (every voice).
    Loop(u32),
    /// `unloop`: from the next bar line, the voices go on from where they paused.
    Unloop,
    /// `layer`, `layer NAME [KEY VALUE]...`, `layer NAME off`: voices of their own.
    Layer(LayerCmd),
    /// `mute NAME`: silence a layer (or `main`) from the next bar line.
    Mute(String),
    /// `unmute NAME`.
    Unmute(String),
    /// `at bar|beat COMMAND`: run COMMAND at the next bar line or beat (at once when stopped).
    At {
        quantum: Quantum,
        command: Box<Command>,
    },
    /// `wait train|bars N|jobs`: hold later commands of the same script until then.
    Wait(Wait),
    /// `session save|load NAME`.
    Session(SessionCmd),
    /// `run FILE`: run a script of commands.
    Run(PathBuf),
    /// `watch FILE` / `watch off`: re-run the blocks of FILE that change when it is saved.
    Watch(Option<PathBuf>),
    /// `help [COMMAND]`.
    Help(Option<String>),
    /// `quit`.
    Quit,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TrainCmd {
    /// `train [epochs N | steps N] [beta B] [lr X] [batch N] [swap N]`.
    Start(TrainSettings),
    Pause,
    Resume,
    Stop,
}

/// What `train` was told; `None` keeps the trainer's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainSettings {
    pub epochs: Option<usize>,
    /// Stop after this many steps in all.
    pub steps: Option<usize>,
    /// Maximum KL weight.
    pub beta: Option<f64>,
    pub lr: Option<f64>,
    pub batch: Option<usize>,
    /// Hand the trainer's weights to the live stream every N steps (besides each epoch end).
    pub swap_every: Option<usize>,
}

/// `gen [bars N | notes N] [style NAME] [out FILE]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GenCmd {
    pub bars: Option<usize>,
    pub notes: Option<usize>,
    pub style: Option<String>,
    /// Also write the piece as a MIDI file.
    pub out: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LatentCmd {
    /// A fresh z from N(0, I).
    Sample,
    /// z = the posterior mean of a MIDI file's last window.
    Encode(PathBuf),
    /// `latent set DIM VALUE`.
    Set { dim: usize, value: f32 },
    /// `latent nudge DIM DELTA`.
    Nudge { dim: usize, delta: f32 },
    /// `latent add ATTR AMOUNT`: move along an attribute vector.
    Add { attr: String, amount: f32 },
    /// `latent interp A B BARS`: glide between two presets.
    Interp { a: String, b: String, bars: u32 },
    /// `latent walk STEP`: a random walk, STEP per bar.
    Walk { step: f32 },
    /// `latent reset`: z = 0.
    Reset,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PresetCmd {
    Save(String),
    Load(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum MapCmd {
    /// `map`: list the controller maps.
    List,
    /// `map CC TARGET [MIN MAX]`: controller CC (0..=127) drives TARGET over MIN..MAX (the
    /// target's default range without them).
    Set {
        cc: u8,
        target: MapTarget,
        range: Option<(f64, f64)>,
    },
    /// `map CC off`: forget controller CC.
    Off(u8),
}

#[derive(Clone, Debug, PartialEq)]
pub enum MapTarget {
    Latent(usize),
    Temperature,
    Tempo,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LayerCmd {
    /// `layer`: list the layers.
    List,
    /// `layer NAME [KEY VALUE]...`: add a layer, or change the one called NAME.
    Set {
        name: String,
        settings: Vec<LayerSetting>,
    },
    /// `layer NAME off`: remove it.
    Off(String),
}

/// One `KEY VALUE` of `layer NAME ...`.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerSetting {
    /// `model PATH`: a checkpoint of its own (default: the current model).
    Model(PathBuf),
    /// `channel N` (1..=16), stored zero-based.
    Channel(u8),
    /// `program N|off` (off: the program the model writes).
    Program(Option<u8>),
    /// `port PORT`: play only to this output (default: the main outputs).
    Port(String),
    Temperature(f32),
    Seed(u64),
    /// `style NAME|off`: primed with a corpus piece of this style.
    Style(Option<String>),
    /// `transpose N` semitones, on top of the player's.
    Transpose(i32),
    /// `octave N`: N octaves up (or down).
    Octave(i32),
}

#[derive(Clone, Debug, PartialEq)]
pub enum SynthCmd {
    On,
    Off,
    Patch(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum RecordCmd {
    Start(PathBuf),
    Stop,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ClockCmd {
    Out(bool),
    /// Follow the clock of this input port; `None` stops following.
    In(Option<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantum {
    Bar,
    Beat,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Wait {
    /// Until training ends.
    Train,
    /// Until N more bars have played (at once when stopped).
    Bars(u32),
    /// Until no job runs: training, a fixed-length playback, generation, loading.
    Jobs,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SessionCmd {
    Save(String),
    Load(String),
}

impl Command {
    /// Commands that run at once even while earlier commands wait for a job (a `wait`, a corpus
    /// load): the ones a performer needs to get out of trouble.
    pub fn is_urgent(&self) -> bool {
        matches!(
            self,
            Command::Stop
                | Command::Panic
                | Command::Quit
                | Command::Help(_)
                | Command::Train(TrainCmd::Pause | TrainCmd::Resume | TrainCmd::Stop)
        )
    }
}
