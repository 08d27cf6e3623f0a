//! Voices besides the main one and the loop: `layer`, `mute`, `unmute`, `loop`, `unloop`.
//! Each layer is a live stream of its own (its model, sampling, latent, channel, program),
//! played by the `Mixer` on the main voice's bar grid; the engine keeps what each layer is
//! (`LayerSpec`, saved in sessions) and, while playing, the handles that reach its voice.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::generate::piece;
use crate::generate::sample::Sampling;
use crate::generate::stream::{Controls, NoteStream};
use crate::model::Vae;
use crate::music::tokens::TokenizerConfig;
use crate::music::DRUM_CHANNEL;
use crate::play::{LiveConfig, LiveHandle, LiveSource, MixHandle, Mixer, NoteSource, VoiceCtl};
use crate::rng::Rng;

use super::super::command::{Command, LayerCmd, LayerSetting};
use super::super::snapshot::LayerStatus;
use super::{Core, ModelState};

/// What a layer is: saved in sessions, rebuilt at each `play`.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSpec {
    pub name: String,
    /// A checkpoint of its own; `None`: the current model.
    pub model: Option<PathBuf>,
    /// Zero-based.
    pub channel: u8,
    pub program: Option<u8>,
    /// The one sink it plays to (a sink name); `None`: the main outputs.
    pub port: Option<String>,
    pub temperature: Option<f32>,
    pub seed: Option<u64>,
    pub style: Option<String>,
    pub transpose: i32,
    pub octave: i32,
    pub muted: bool,
}

impl LayerSpec {
    fn new(name: &str, channel: u8) -> LayerSpec {
        LayerSpec {
            name: name.to_string(),
            model: None,
            channel,
            program: None,
            port: None,
            temperature: None,
            seed: None,
            style: None,
            transpose: 0,
            octave: 0,
            muted: false,
        }
    }

    fn shift(&self) -> i32 {
        self.transpose + 12 * self.octave
    }

    /// The seed of its sampling and latent: its own, else one drawn from its name.
    fn seed(&self) -> u64 {
        self.seed.unwrap_or_else(|| {
            // FNV-1a: a stable seed per name, so a layer sounds the same in every session.
            self.name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
            })
        })
    }

    /// The command line that makes this layer (what a session stores).
    pub fn line(&self) -> String {
        let mut s = format!("layer {} channel {}", self.name, self.channel + 1);
        if let Some(m) = &self.model {
            s += &format!(" model \"{}\"", m.display());
        }
        if let Some(p) = &self.port {
            s += &format!(" port \"{p}\"");
        }
        if let Some(p) = self.program {
            s += &format!(" program {p}");
        }
        if let Some(t) = self.temperature {
            s += &format!(" temperature {t}");
        }
        if let Some(seed) = self.seed {
            s += &format!(" seed {seed}");
        }
        if let Some(st) = &self.style {
            s += &format!(" style {st}");
        }
        if self.transpose != 0 {
            s += &format!(" transpose {}", self.transpose);
        }
        if self.octave != 0 {
            s += &format!(" octave {}", self.octave);
        }
        s
    }
}

/// A layer's voice while playing.
struct Running {
    name: String,
    ctl: Arc<VoiceCtl>,
    handle: LiveHandle,
}

/// The layers and, while playing, their voices.
#[derive(Default)]
pub struct Layers {
    pub specs: Vec<LayerSpec>,
    pub main_muted: bool,
    /// Checkpoints layers named, loaded once and shared by every layer that names them.
    models: HashMap<PathBuf, Arc<ModelState>>,
    mix: Option<MixHandle>,
    main: Option<Arc<VoiceCtl>>,
    running: Vec<Running>,
}

impl Layers {
    /// The bars looping now, and the bars asked for.
    pub fn looping(&self) -> (Option<u32>, Option<u32>) {
        self.mix
            .as_ref()
            .map_or((None, None), |m| (m.looping(), m.loop_wanted()))
    }

    /// The session lines that restore the layers and mutes.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.specs.iter().map(LayerSpec::line).collect();
        for s in self.specs.iter().filter(|s| s.muted) {
            out.push(format!("mute {}", s.name));
        }
        if self.main_muted {
            out.push("mute main".into());
        }
        out
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.name == name)
    }

    /// The lowest channel no other voice uses (not the drum channel), zero-based.
    fn free_channel(&self, main: Option<u8>) -> u8 {
        (1..16u8)
            .find(|c| {
                *c != DRUM_CHANNEL
                    && Some(*c) != main
                    && !self.specs.iter().any(|s| s.channel == *c)
            })
            .unwrap_or(1)
    }

    fn running(&self, name: &str) -> Option<&Running> {
        self.running.iter().find(|r| r.name == name)
    }
}

impl Core {
    /// The player source for `main` with every layer beside it (layers that cannot stream
    /// are reported and left out).
    pub(super) fn mixed(&mut self, main: Box<dyn NoteSource>) -> Box<dyn NoteSource> {
        let main_ctl = VoiceCtl::main(self.layers.main_muted);
        let (mut mixer, handle) = Mixer::new(main_ctl.clone(), main);
        let mut running = Vec::new();
        for spec in &self.layers.specs {
            match self.layer_voice(spec) {
                Ok((ctl, source, live)) => {
                    mixer = mixer.with(ctl.clone(), Box::new(source));
                    running.push(Running {
                        name: spec.name.clone(),
                        ctl,
                        handle: live,
                    });
                }
                Err(e) => self.warn(e),
            }
        }
        self.layers.mix = Some(handle);
        self.layers.main = Some(main_ctl);
        self.layers.running = running;
        Box::new(mixer)
    }

    /// A layer's live stream and voice.
    fn layer_voice(
        &self,
        spec: &LayerSpec,
    ) -> Result<(Arc<VoiceCtl>, LiveSource, LiveHandle), String> {
        let name = &spec.name;
        let m: &ModelState = match &spec.model {
            Some(p) => self
                .layers
                .models
                .get(p)
                .map(|m| &**m)
                .ok_or_else(|| format!("layer {name}: {} is not loaded", p.display()))?,
            None => self.models.model.as_ref().ok_or_else(|| {
                format!("layer {name}: no model (`model load PATH`, or `layer {name} model PATH`)")
            })?,
        };
        if matches!(m.meta.tokenizer, TokenizerConfig::Paper(_)) {
            return Err(format!(
                "layer {name}: {} uses paper tokens; a layer streams event tokens",
                m.label
            ));
        }
        let seed = spec.seed();
        let mut rng = Rng::new(seed);
        let controls = Controls {
            z: piece::sample_latent(m.meta.model.latent, &mut rng),
            sampling: Sampling {
                temperature: spec.temperature.unwrap_or(self.sampling.temperature),
                top_k: self.sampling.top_k,
                top_p: self.sampling.top_p,
                ..Sampling::default()
            },
            seed: Some(seed),
        };
        let primer = match spec.style.as_deref() {
            Some(style) => self
                .primer(m, Some(style), &mut rng)
                .map_err(|e| format!("layer {name}: {e}"))?,
            None => piece::empty_primer(&m.meta),
        };
        let gen = NoteStream::new(m.model.stream(), m.step as u64, &m.meta, controls, &primer)
            .map_err(|e| format!("layer {name}: {e}"))?;
        let (source, handle) = LiveSource::new(gen, LiveConfig::default());
        let ctl = VoiceCtl::layer(name, spec.channel, spec.program, spec.shift(), spec.muted);
        Ok((ctl, source, handle))
    }

    /// Starts a layer's voice in the playing mix (from the next bar line).
    fn join(&mut self, spec: &LayerSpec) -> Result<(), String> {
        let Some(mix) = self.layers.mix.clone() else {
            return Ok(());
        };
        let (ctl, source, handle) = self.layer_voice(spec)?;
        mix.add(ctl.clone(), Box::new(source));
        self.layers.running.push(Running {
            name: spec.name.clone(),
            ctl,
            handle,
        });
        Ok(())
    }

    fn leave(&mut self, name: &str) {
        if let Some(i) = self.layers.running.iter().position(|r| r.name == name) {
            self.layers.running.remove(i).ctl.remove();
        }
    }

    /// `layer ...`.
    pub(super) fn layer(&mut self, cmd: LayerCmd) -> Result<(), String> {
        match cmd {
            LayerCmd::List => {
                let lines = self.layers.lines();
                self.log(match lines.is_empty() {
                    true => "no layers (`layer NAME ...` adds one)".to_string(),
                    false => lines.join("\n"),
                });
                Ok(())
            }
            LayerCmd::Off(name) => {
                let i = self
                    .layers
                    .find(&name)
                    .ok_or_else(|| format!("layer {name} off: no layer called {name}"))?;
                self.layers.specs.remove(i);
                self.leave(&name);
                self.route_layers();
                self.log(format!("layer {name}: removed"));
                Ok(())
            }
            LayerCmd::Set { name, settings } => self.set_layer(&name, &settings),
        }
    }

    fn set_layer(&mut self, name: &str, settings: &[LayerSetting]) -> Result<(), String> {
        let old = self.layers.find(name).map(|i| self.layers.specs[i].clone());
        let mut spec = old.clone().unwrap_or_else(|| {
            LayerSpec::new(name, self.layers.free_channel(self.play.params.channel))
        });
        for s in settings {
            match s {
                LayerSetting::Model(p) => {
                    let p = super::resolve_input(p.clone());
                    self.load_layer_model(name, &p)?;
                    spec.model = Some(p);
                }
                LayerSetting::Channel(c) => spec.channel = *c,
                LayerSetting::Program(p) => spec.program = *p,
                LayerSetting::Port(port) => {
                    let sink = self
                        .play
                        .layer_port(port, &self.events)
                        .map_err(|e| format!("layer {name}: {e}"))?;
                    spec.port = Some(sink);
                }
                LayerSetting::Temperature(t) => spec.temperature = Some(*t),
                LayerSetting::Seed(n) => spec.seed = Some(*n),
                LayerSetting::Style(st) => spec.style = st.clone(),
                LayerSetting::Transpose(t) => spec.transpose = *t,
                LayerSetting::Octave(o) => spec.octave = *o,
            }
        }
        let playing = self.layers.mix.is_some() && self.play.is_playing();
        match &old {
            Some(o) if self.layers.running(name).is_some() => {
                if o.model != spec.model || o.style != spec.style {
                    // A new model or primer: a new stream, from the next bar line.
                    self.leave(name);
                    self.join(&spec)?;
                } else if let Some(r) = self.layers.running(name) {
                    r.ctl.set_channel(spec.channel);
                    r.ctl.set_program(spec.program);
                    r.ctl.set_transpose(spec.shift());
                    if o.temperature != spec.temperature || o.seed != spec.seed {
                        let t = spec.temperature.unwrap_or(self.sampling.temperature);
                        let seed = spec.seed();
                        r.handle
                            .update(crate::play::Quantize::Now, |c| {
                                c.sampling.temperature = t;
                                c.seed = Some(seed);
                            })
                            .map_err(|e| format!("layer {name}: {e}"))?;
                    }
                }
            }
            _ if playing => self.join(&spec)?,
            _ => {}
        }
        let when = if playing {
            " (from the next bar line)"
        } else {
            ""
        };
        self.log(format!("{}{when}", spec.line()));
        match self.layers.find(name) {
            Some(i) => self.layers.specs[i] = spec,
            None => self.layers.specs.push(spec),
        }
        self.route_layers();
        Ok(())
    }

    /// Gives each layer with a `port` its channel on that sink alone.
    fn route_layers(&mut self) {
        let routes = self
            .layers
            .specs
            .iter()
            .filter_map(|s| s.port.clone().map(|p| (p, s.channel)))
            .collect();
        self.play.set_routes(routes);
    }

    /// Loads a layer's checkpoint unless one layer has it already.
    fn load_layer_model(&mut self, name: &str, path: &std::path::Path) -> Result<(), String> {
        if self.layers.models.contains_key(path) {
            return Ok(());
        }
        let state = ModelState::load(path)
            .map_err(|e| format!("layer {name} model: {}: {e}", path.display()))?;
        self.layers
            .models
            .insert(path.to_path_buf(), Arc::new(state));
        Ok(())
    }

    /// `mute NAME` / `unmute NAME`: from the next bar line while playing.
    pub(super) fn mute(&mut self, name: &str, on: bool) -> Result<(), String> {
        let word = if on { "mute" } else { "unmute" };
        if name == "main" {
            self.layers.main_muted = on;
            if let Some(c) = &self.layers.main {
                c.set_muted(on);
            }
        } else {
            let i = self.layers.find(name).ok_or_else(|| {
                format!("{word} {name}: no layer called {name} (`layer` lists them)")
            })?;
            self.layers.specs[i].muted = on;
            if let Some(r) = self.layers.running(name) {
                r.ctl.set_muted(on);
            }
        }
        if self.play.is_playing() {
            self.log(format!("{word} {name}: from the next bar line"));
        }
        Ok(())
    }

    /// `loop BARS` / `unloop`.
    pub(super) fn set_loop(&mut self, bars: Option<u32>) -> Result<(), String> {
        let word = bars.map_or("unloop".to_string(), |b| format!("loop {b}"));
        let mix = match &self.layers.mix {
            Some(m) if self.play.is_playing() => m.clone(),
            _ => return Err(format!("{word}: not playing (`play` first)")),
        };
        if bars.is_none() && mix.loop_wanted().is_none() {
            return Err("unloop: not looping".into());
        }
        mix.set_loop(bars);
        self.log(match bars {
            Some(b) => format!(
                "loop {b}: the last {b} bars again and again from the next bar line; latent and sampling changes are heard after `unloop`"
            ),
            None => "unloop: the music goes on from where the loop began, from the next bar line"
                .into(),
        });
        Ok(())
    }

    /// Tells the performer when a change to the stream waits for the loop's end.
    pub(super) fn note_loop_wait(&self) {
        if self.layers.looping().1.is_some() {
            self.log("loop: the change is heard after `unloop`");
        }
    }

    /// A session's layer lines (see `Layers::lines`); a line that fails is reported.
    pub(super) fn restore_layers(&mut self, lines: &[String]) {
        for name in self
            .layers
            .specs
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
        {
            self.leave(&name);
        }
        self.layers.specs.clear();
        self.layers.main_muted = false;
        self.route_layers();
        for line in lines {
            let r = match super::super::parse::parse(line) {
                Ok(Command::Layer(l)) => self.layer(l),
                Ok(Command::Mute(n)) => self.mute(&n, true),
                Ok(_) => Err("not a layer or mute command".into()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = r {
                self.warn(format!("session load: `{line}`: {e}"));
            }
        }
    }

    /// The trainer's latest weights for the layers that play the current model, from their
    /// next bar line (as the main voice takes them).
    pub(super) fn swap_layer_weights(&self) {
        let Some(m) = &self.models.model else { return };
        for r in &self.layers.running {
            let current = self
                .layers
                .specs
                .iter()
                .any(|s| s.name == r.name && s.model.is_none());
            if current {
                r.handle.swap_weights(m.model.stream(), m.step as u64);
            }
        }
    }

    /// Forgets the voices once playing has stopped.
    pub(super) fn poll_layers(&mut self) {
        if self.layers.mix.is_some() && !self.play.is_playing() {
            self.layers.mix = None;
            self.layers.main = None;
            self.layers.running.clear();
        }
    }

    pub(super) fn layer_statuses(&self) -> Vec<LayerStatus> {
        self.layers
            .specs
            .iter()
            .map(|s| {
                let r = self.layers.running(&s.name);
                LayerStatus {
                    name: s.name.clone(),
                    channel: s.channel + 1,
                    program: s.program,
                    muted: r.map_or(s.muted, |r| r.ctl.muted()),
                    notes: r.map_or(0, |r| r.ctl.notes()),
                    playing: r.is_some(),
                }
            })
            .collect()
    }

    /// Whether the main voice is silent now.
    pub(super) fn main_muted(&self) -> bool {
        self.layers
            .main
            .as_ref()
            .map_or(self.layers.main_muted, |c| c.muted())
    }
}
