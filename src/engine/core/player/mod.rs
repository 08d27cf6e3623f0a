//! Playing: the player and its sinks (synth, MIDI ports, the virtual port, the recorder), live
//! parameters, tap tempo, and the transport the snapshot shows.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crossbeam_channel::Sender;

use crate::audio::{open_synth, SynthOutput};
use crate::music::gm::find_patch_in;
use crate::music::sf2::read_presets;
use crate::music::TimeSig;
use crate::play::midi_port::PortWatch;
use crate::play::{Clock, NoteSource, Params, Player, PlayerConfig, Recorder, Sink};

use super::super::command::{Quantum, RecordCmd, SynthCmd};
use super::super::event::{Event, Level};
use super::super::snapshot::PortList;

mod ports;
mod status;

/// A sink the session has, wherever it is now (idle, or inside the player).
/// How often connected ports are looked for.
const PORT_LOOK: std::time::Duration = std::time::Duration::from_secs(1);

struct SinkEntry {
    name: String,
    latency_ms: f64,
}

pub struct PlayState {
    clock: Arc<dyn Clock>,
    realtime: bool,
    pub params: Params,
    player: Option<Player>,
    /// Sinks waiting for the next `play`.
    idle: Vec<Box<dyn Sink>>,
    entries: Vec<SinkEntry>,
    /// Kept alive while the synth may sound.
    audio: Vec<SynthOutput>,
    pub synth_on: bool,
    pub virtual_on: bool,
    recorder: Option<(Recorder, PathBuf)>,
    pub clock_out: bool,
    /// The MIDI ports connected by name (`connect`, a layer's `port`), watched for going away.
    port_names: Vec<String>,
    port_watch: Option<PortWatch>,
    last_port_look: Instant,
    taps: Vec<Instant>,
    sigs: Vec<TimeSig>,
    pub ports: PortList,
    /// The last playhead, kept after playing stops so the display stays put.
    last_position: f64,
    /// Channels that play only to one sink (a layer's `port`): (sink name, zero-based channel).
    routes: Vec<(String, u8)>,
    /// Sinks opened for layers alone: they get their layers' channels and nothing else.
    layer_only: Vec<String>,
}

/// The bank-0 preset names of the General MIDI SoundFont (`$IMPROV_SOUNDFONT` or the system's),
/// so `synth patch` knows the names a GM synth shows; read once, and none without a SoundFont
/// (the General MIDI names still work).
pub fn soundfont_names() -> &'static [(u8, String)] {
    static NAMES: OnceLock<Vec<(u8, String)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        crate::analysis::render::find_soundfont()
            .and_then(|p| read_presets(&p).ok())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.bank == 0 && p.program < 128)
            .map(|p| (p.program as u8, p.name))
            .collect()
    })
}

/// The player's ids of the sinks called `name`.
fn sink_ids(p: &Player, name: &str) -> Vec<usize> {
    p.sinks()
        .iter()
        .filter(|s| s.name == name)
        .map(|s| s.id)
        .collect()
}

fn send_log(events: &Sender<Event>, text: String) {
    let _ = events.send(Event::Log {
        level: Level::Info,
        text,
    });
}

impl PlayState {
    pub fn new(clock: Arc<dyn Clock>, realtime: bool) -> Self {
        PlayState {
            clock,
            realtime,
            params: Params {
                tempo: Some(120.0),
                ..Params::default()
            },
            player: None,
            idle: Vec::new(),
            entries: Vec::new(),
            audio: Vec::new(),
            synth_on: false,
            virtual_on: false,
            recorder: None,
            clock_out: false,
            port_names: Vec::new(),
            port_watch: None,
            last_port_look: Instant::now(),
            taps: Vec::new(),
            sigs: Vec::new(),
            ports: PortList::default(),
            last_position: 0.0,
            routes: Vec::new(),
            layer_only: Vec::new(),
        }
    }

    pub fn is_playing(&self) -> bool {
        self.player.as_ref().is_some_and(|p| !p.is_done())
    }

    pub fn position(&self) -> f64 {
        self.player
            .as_ref()
            .map_or(self.last_position, |p| p.position())
    }

    pub fn bpm(&self) -> f64 {
        self.params.tempo.unwrap_or(120.0)
    }

    pub fn bar_beats(&self) -> f64 {
        self.sigs.first().map_or(4.0, |s| s.bar_beats()).max(0.25)
    }

    /// The beat of the next bar line or beat after the playhead.
    pub fn next_boundary(&self, q: Quantum) -> f64 {
        let pos = self.position();
        let unit = match q {
            Quantum::Bar => self.bar_beats(),
            Quantum::Beat => 1.0,
        };
        ((pos / unit).floor() + 1.0) * unit
    }

    fn latency_of(&self, name: &str) -> f64 {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map_or(0.0, |e| e.latency_ms / 1000.0)
    }

    /// A new sink: into the player when playing, else kept for the next `play`.
    fn add(&mut self, sink: Box<dyn Sink>) -> Result<(), String> {
        let name = sink.name().to_string();
        if !self.entries.iter().any(|e| e.name == name) {
            self.entries.push(SinkEntry {
                name: name.clone(),
                latency_ms: 0.0,
            });
        }
        let latency = self.latency_of(&name);
        let mask = self.mask_of(&name);
        match self.player.as_mut().filter(|p| !p.is_done()) {
            Some(p) => {
                let info = p
                    .add_sink(sink, latency)
                    .map_err(|e| format!("{name}: {e}"))?;
                p.set_channels(info.id, mask);
                Ok(())
            }
            None => {
                self.idle.push(sink);
                Ok(())
            }
        }
    }

    /// Removes the sink called `name` (from the player or the idle ones).
    fn remove(&mut self, name: &str) -> bool {
        self.entries.retain(|e| e.name != name);
        self.port_names.retain(|n| n != name);
        self.layer_only.retain(|n| n != name);
        let before = self.idle.len();
        self.idle.retain(|s| s.name() != name);
        let mut found = before != self.idle.len();
        if let Some(p) = self.player.as_mut() {
            let ids = sink_ids(p, name);
            found |= !ids.is_empty();
            for id in ids {
                p.remove_sink(id);
            }
        }
        found
    }

    /// Ends the player (if any), taking its sinks back.
    fn retire(&mut self) {
        if let Some(p) = self.player.take() {
            self.last_position = p.position();
            self.idle.extend(p.finish());
        }
    }

    /// Plays `source` (its time signatures `sigs`, for the transport) on every sink.
    pub fn start(
        &mut self,
        source: Box<dyn NoteSource>,
        sigs: Vec<TimeSig>,
        events: &Sender<Event>,
    ) -> Result<(), String> {
        if self.entries.is_empty() {
            return Err("play: nowhere to play: `synth on`, `connect PORT`, `virtual` or `record start FILE` first".into());
        }
        self.retire();
        let cfg = PlayerConfig {
            bpm: self.bpm(),
            clock_out: self.clock_out,
            realtime: self.realtime.then_some(70),
            ..PlayerConfig::default()
        };
        let mut player = Player::new(cfg, self.clock.clone()).map_err(|e| format!("play: {e}"))?;
        player.params().set(self.params);
        for sink in std::mem::take(&mut self.idle) {
            let latency = self.latency_of(sink.name());
            let mask = self.mask_of(sink.name());
            let info = player
                .add_sink(sink, latency)
                .map_err(|e| format!("play: {e}"))?;
            player.set_channels(info.id, mask);
        }
        self.sigs = sigs;
        player.feed(source).map_err(|e| format!("play: {e}"))?;
        player.start();
        self.player = Some(player);
        let _ = events.send(Event::Transport {
            playing: true,
            bpm: self.bpm(),
        });
        Ok(())
    }

    /// Reports a playback that has ended, and sinks that went away.
    pub fn poll(&mut self) -> Option<Event> {
        let gone = self.vanished_ports();
        if !gone.is_empty() {
            return Some(Event::Error {
                text: format!(
                    "{}: the port went away (its program quit?); playing on the other sinks",
                    gone.join(", ")
                ),
            });
        }
        if let Some((rec, path)) = self.recorder.as_mut() {
            if let Some(e) = rec.failure() {
                return Some(Event::Error {
                    text: format!(
                        "record: {} stopped recording: {e}; what was journaled is kept (`record stop` writes it)",
                        path.display()
                    ),
                });
            }
        }
        let p = self.player.as_ref()?;
        let lost = p.take_lost_sinks();
        if !lost.is_empty() {
            self.entries.retain(|e| !lost.contains(&e.name));
            return Some(Event::Error {
                text: format!(
                    "{}: the port went away; playing on the other sinks",
                    lost.join(", ")
                ),
            });
        }
        if !p.is_done() {
            return None;
        }
        let (notes, dropped) = p.note_counts();
        self.retire();
        Some(Event::PlayDone { notes, dropped })
    }

    pub fn stop(&mut self, events: &Sender<Event>) -> Result<(), String> {
        match self.player.as_mut() {
            Some(p) if !p.is_done() => {
                p.stop();
                let _ = events.send(Event::Transport {
                    playing: false,
                    bpm: self.bpm(),
                });
            }
            _ => send_log(events, "stop: not playing".into()),
        }
        Ok(())
    }

    pub fn panic(&mut self) -> Result<(), String> {
        if let Some(p) = self.player.as_mut() {
            p.panic();
        }
        Ok(())
    }

    pub fn set_tempo(&mut self, bpm: f64) {
        self.params.tempo = Some(bpm);
        if let Some(p) = &self.player {
            p.params().set_tempo(Some(bpm));
        }
    }

    /// Changes the live parameters; the player hears them from its next event.
    pub fn edit(&mut self, f: impl FnOnce(&mut Params)) -> Result<(), String> {
        f(&mut self.params);
        if let Some(p) = &self.player {
            p.params().set(self.params);
        }
        Ok(())
    }

    pub fn tap(&mut self, events: &Sender<Event>) -> Result<(), String> {
        let now = Instant::now();
        if self
            .taps
            .last()
            .is_some_and(|t| now.duration_since(*t).as_secs_f64() > 2.0)
        {
            self.taps.clear();
        }
        self.taps.push(now);
        if self.taps.len() > 5 {
            self.taps.remove(0);
        }
        if self.taps.len() < 2 {
            send_log(events, "tap: tap again in time".into());
            return Ok(());
        }
        let span = now.duration_since(self.taps[0]).as_secs_f64();
        let bpm = (60.0 * (self.taps.len() - 1) as f64 / span).clamp(20.0, 400.0);
        self.set_tempo(bpm);
        send_log(events, format!("tempo {bpm:.1} BPM"));
        Ok(())
    }

    pub fn synth(&mut self, s: SynthCmd, events: &Sender<Event>) -> Result<(), String> {
        match s {
            SynthCmd::On if self.synth_on => Ok(()),
            SynthCmd::On => {
                let (out, sink) = open_synth(24).map_err(|e| format!("synth on: {e}"))?;
                send_log(
                    events,
                    format!(
                        "synth on {} ({}), {} Hz",
                        out.device, out.host, out.sample_rate
                    ),
                );
                self.add(Box::new(sink))?;
                // The stream lives until the engine ends: closing a JACK client mid-callback can
                // abort the process (see `improv play`).
                self.audio.push(out);
                self.synth_on = true;
                Ok(())
            }
            SynthCmd::Off => {
                self.remove("synth");
                self.synth_on = false;
                Ok(())
            }
            SynthCmd::Patch(name) => {
                // The same as `program N`, by the instrument's General MIDI (or SoundFont) name.
                let (program, full) = find_patch_in(&name, soundfont_names())
                    .map_err(|e| format!("synth patch: {e}"))?;
                self.edit(|p| p.program = Some(program))?;
                send_log(events, format!("synth: patch {program} {full}"));
                Ok(())
            }
        }
    }

    pub fn latency(&mut self, sink: &str, ms: f64) -> Result<(), String> {
        let wanted = sink.to_ascii_lowercase();
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.name.to_ascii_lowercase().contains(&wanted))
            .ok_or_else(|| format!("latency: no sink called {sink}"))?;
        entry.latency_ms = ms;
        let name = entry.name.clone();
        if let Some(p) = self.player.as_mut() {
            for id in sink_ids(p, &name) {
                p.set_latency(id, ms / 1000.0);
            }
        }
        Ok(())
    }

    pub fn record(&mut self, r: RecordCmd, events: &Sender<Event>) -> Result<(), String> {
        match r {
            RecordCmd::Start(path) => {
                if self.recorder.is_some() {
                    return Err("record start: already recording (record stop first)".into());
                }
                let (rec, sink) = Recorder::start(&path, self.bpm(), self.bar_beats())
                    .map_err(|e| format!("record start: {e}"))?;
                self.add(Box::new(sink))?;
                send_log(events, format!("recording to {}", path.display()));
                self.recorder = Some((rec, path));
                Ok(())
            }
            RecordCmd::Stop => {
                let (rec, path) = self.recorder.take().ok_or("record stop: not recording")?;
                self.remove("recorder");
                let journal = crate::play::recorder::journal_path(&path);
                let (seq, failed) = rec.finish().map_err(|e| {
                    format!(
                        "record stop: {e}; the take is kept in {} and recovered at the next start",
                        journal.display()
                    )
                })?;
                send_log(
                    events,
                    format!("recorded {} notes to {}", seq.notes.len(), path.display()),
                );
                if let Some(f) = failed {
                    return Err(format!(
                        "record stop: the journal failed during the take ({f}); {} holds what was journaled before that",
                        path.display()
                    ));
                }
                Ok(())
            }
        }
    }

    pub fn recording(&self) -> Option<PathBuf> {
        self.recorder.as_ref().map(|(_, p)| p.clone())
    }

    pub fn clock_out(&mut self, on: bool, events: &Sender<Event>) -> Result<(), String> {
        self.clock_out = on;
        send_log(
            events,
            format!(
                "MIDI clock out {}: from the next `play`, to ports connected from now on",
                if on { "on" } else { "off" }
            ),
        );
        Ok(())
    }

    pub fn shutdown(&mut self, events: &Sender<Event>) {
        if let Some(p) = self.player.as_mut() {
            p.stop();
        }
        self.retire();
        if self.recorder.is_some() {
            if let Err(e) = self.record(RecordCmd::Stop, events) {
                let _ = events.send(Event::Error { text: e });
            }
        }
        self.idle.clear();
        // See `synth`: the audio stream ends with the process.
        for out in self.audio.drain(..) {
            std::mem::forget(out);
        }
    }
}
