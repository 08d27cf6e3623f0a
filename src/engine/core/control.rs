//! Playing improv from hardware: MIDI learn (`map CC TARGET`: a controller of the `input` port
//! drives a latent dimension, the temperature or the tempo) and `clock in PORT` (follow an
//! external MIDI clock's tempo, Start and Stop). The ports' midir callbacks only push into
//! lock-free rings (`MidiIn`); the engine loop drains them each tick, keeping the latest value of
//! each controller, and applies them the way the typed commands are applied.

use std::collections::BTreeMap;

use crate::play::clock_in::{ClockChange, ClockFollower};
use crate::play::{InputEvent, MidiIn, Quantize};

use super::super::command::{Command, LatentCmd, MapCmd, MapTarget};
use super::super::snapshot::ClockInStatus;
use super::{live, Core, Item};

/// Weight of each new clock tempo estimate in the smoothed tempo (one estimate per tick).
const CLOCK_SMOOTHING: f64 = 0.2;
/// Tempo estimates skipped after a (re)start, so the first one already spans half a beat.
const CLOCK_SETTLE: usize = 6;

/// What one controller drives, and over which range (CC 0 gives `min`, CC 127 gives `max`).
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    pub target: MapTarget,
    pub min: f64,
    pub max: f64,
}

/// The range a target gets without `MIN MAX`: latent in standard deviations of the prior,
/// temperature from nearly greedy to wild, tempo over the usual musical span.
pub fn default_range(target: &MapTarget) -> (f64, f64) {
    match target {
        MapTarget::Latent(_) => (-3.0, 3.0),
        MapTarget::Temperature => (0.1, 2.0),
        MapTarget::Tempo => (40.0, 240.0),
    }
}

impl Mapping {
    /// A mapping over `range`, or the target's default range; a range the target cannot take
    /// is an error.
    pub fn new(target: MapTarget, range: Option<(f64, f64)>) -> Result<Mapping, String> {
        let (min, max) = range.unwrap_or_else(|| default_range(&target));
        let (lo, hi) = (min.min(max), min.max(max));
        let ok = match target {
            MapTarget::Latent(_) => lo >= -10.0 && hi <= 10.0,
            MapTarget::Temperature => lo > 0.0 && hi <= 10.0,
            MapTarget::Tempo => lo >= 1.0 && hi <= 1000.0,
        };
        if !ok {
            let allowed = match target {
                MapTarget::Latent(_) => "-10..10",
                MapTarget::Temperature => "above 0, at most 10",
                MapTarget::Tempo => "1..1000 BPM",
            };
            return Err(format!("range {min}..{max} is outside {allowed}"));
        }
        Ok(Mapping { target, min, max })
    }

    /// The target's value for controller value `v` (0..=127), linear from `min` to `max`.
    pub fn value(&self, v: u8) -> f64 {
        self.min + (self.max - self.min) * f64::from(v.min(127)) / 127.0
    }

    /// The target in the words of `map`: "latent 3", "temperature", "tempo".
    pub fn target_words(&self) -> String {
        match self.target {
            MapTarget::Latent(d) => format!("latent {d}"),
            MapTarget::Temperature => "temperature".into(),
            MapTarget::Tempo => "tempo".into(),
        }
    }

    /// Target and range, as a session stores it and `map CC ...` reads it back.
    pub fn spec(&self) -> String {
        format!("{} {} {}", self.target_words(), self.min, self.max)
    }

    /// The command a controller value amounts to.
    pub fn command(&self, v: u8) -> Command {
        let x = self.value(v);
        match self.target {
            MapTarget::Latent(dim) => Command::Latent(LatentCmd::Set {
                dim,
                value: x as f32,
            }),
            MapTarget::Temperature => Command::Temperature(x as f32),
            MapTarget::Tempo => Command::Tempo(x),
        }
    }
}

/// Following an external clock.
struct ClockIn {
    input: MidiIn,
    follower: ClockFollower,
    /// The smoothed tempo, once settled.
    bpm: Option<f64>,
    estimates: usize,
}

/// Controller maps and the input ports they and the clock are read from.
#[derive(Default)]
pub struct Control {
    pub maps: BTreeMap<u8, Mapping>,
    /// The `input` port, open while there are maps.
    input: Option<MidiIn>,
    clock: Option<ClockIn>,
    buf: Vec<InputEvent>,
    /// The last failure of a controller, said once rather than at every knob movement.
    last_error: Option<String>,
}

impl Control {
    /// Whether hardware may be talking to the engine (it then polls quickly).
    pub fn active(&self) -> bool {
        self.input.is_some() || self.clock.is_some()
    }

    /// The maps as the snapshot shows them: (cc, "latent 3").
    pub fn summary(&self) -> Vec<(u8, String)> {
        self.maps
            .iter()
            .map(|(cc, m)| (*cc, m.target_words()))
            .collect()
    }

    pub fn clock_status(&self) -> Option<ClockInStatus> {
        self.clock.as_ref().map(|c| ClockInStatus {
            port: c.input.name.clone(),
            bpm: c.bpm,
            running: c.follower.is_running(),
        })
    }

    /// The maps as a session stores them: "74" = "latent 3 -3 3".
    pub fn session_maps(&self) -> BTreeMap<String, String> {
        self.maps
            .iter()
            .map(|(cc, m)| (cc.to_string(), m.spec()))
            .collect()
    }

    pub fn clock_port(&self) -> Option<String> {
        self.clock.as_ref().map(|c| c.input.name.clone())
    }
}

/// The latest value of each controller in `events`, in controller order: a knob turned fast
/// sends many values, and only where it ended matters.
pub fn latest_values(events: &[InputEvent]) -> Vec<(u8, u8)> {
    let mut latest = [None; 128];
    for e in events {
        if let Some((_, cc, v)) = e.msg.as_control() {
            latest[usize::from(cc & 0x7f)] = Some(v);
        }
    }
    (0u8..128)
        .filter_map(|cc| latest[usize::from(cc)].map(|v| (cc, v)))
        .collect()
}

impl Core {
    /// `map`, `map CC TARGET [MIN MAX]`, `map CC off`.
    pub(super) fn map(&mut self, m: MapCmd) -> Result<(), String> {
        match m {
            MapCmd::List => {
                let from = match &self.input_port {
                    Some(p) => format!("from {p}"),
                    None => "no input port yet: `input PORT`".into(),
                };
                if self.control.maps.is_empty() {
                    self.log(format!("map: no controller maps ({from})"));
                } else {
                    let lines: Vec<String> = self
                        .control
                        .maps
                        .iter()
                        .map(|(cc, m)| {
                            format!("  cc {cc} -> {} ({}..{})", m.target_words(), m.min, m.max)
                        })
                        .collect();
                    self.log(format!("controller maps ({from}):\n{}", lines.join("\n")));
                }
                Ok(())
            }
            MapCmd::Set { cc, target, range } => {
                let what = format!("map {cc}");
                if let (MapTarget::Latent(d), Some(m)) = (&target, &self.models.model) {
                    let size = m.meta.model.latent;
                    if *d >= size {
                        return Err(format!(
                            "{what}: latent {d}: the model has {size} dimensions (0..{})",
                            size - 1
                        ));
                    }
                }
                let mapping = Mapping::new(target, range).map_err(|e| format!("{what}: {e}"))?;
                let text = format!(
                    "map: cc {cc} -> {} ({}..{})",
                    mapping.target_words(),
                    mapping.min,
                    mapping.max
                );
                let previous = self.control.maps.insert(cc, mapping);
                if let Err(e) = self.sync_control_input() {
                    // Keep the maps as they were: the new one could not be heard.
                    match previous {
                        Some(p) => self.control.maps.insert(cc, p),
                        None => self.control.maps.remove(&cc),
                    };
                    return Err(format!("{what}: {e}"));
                }
                match &self.input_port {
                    Some(p) => self.log(format!("{text} on {p}")),
                    None => self.log(format!("{text} (no input port yet: `input PORT`)")),
                }
                Ok(())
            }
            MapCmd::Off(cc) => {
                if self.control.maps.remove(&cc).is_none() {
                    return Err(format!(
                        "map {cc} off: cc {cc} is not mapped (`map` lists the maps)"
                    ));
                }
                self.sync_control_input()
                    .map_err(|e| format!("map {cc} off: {e}"))?;
                self.log(format!("map: cc {cc} unmapped"));
                Ok(())
            }
        }
    }

    /// Opens the `input` port while there are maps (and closes it when there are none or the
    /// port changed).
    pub(super) fn sync_control_input(&mut self) -> Result<(), String> {
        let wanted = match self.control.maps.is_empty() {
            true => None,
            false => self.input_port.clone(),
        };
        let open = self.control.input.as_ref().map(|i| i.name.clone());
        if wanted == open {
            return Ok(());
        }
        self.control.input = None;
        if let Some(port) = wanted {
            let input = MidiIn::connect(&port, self.opts.clock.clone())
                .map_err(|e| format!("input {port}: {e}"))?;
            self.control.input = Some(input);
        }
        Ok(())
    }

    /// `clock in PORT` / `clock in off`.
    pub(super) fn clock_in(&mut self, port: Option<String>) -> Result<(), String> {
        let Some(port) = port else {
            match self.control.clock.take() {
                Some(c) => self.log(format!(
                    "clock in: stopped following {}; the tempo stays {:.1} BPM",
                    c.input.name,
                    self.play.bpm()
                )),
                None => self.log("clock in: not following a clock"),
            }
            return Ok(());
        };
        let input = MidiIn::connect(&port, self.opts.clock.clone())
            .map_err(|e| format!("clock in: {e}"))?;
        self.log(format!(
            "clock in: following {} (tempo from its clock; its Start plays, its Stop stops)",
            input.name
        ));
        self.control.clock = Some(ClockIn {
            input,
            follower: ClockFollower::new(),
            bpm: None,
            estimates: 0,
        });
        Ok(())
    }

    /// Applies what the controllers and the clock sent since the last tick.
    pub(super) fn poll_control(&mut self) {
        let mut buf = std::mem::take(&mut self.control.buf);
        buf.clear();
        if let Some(input) = self.control.input.as_mut() {
            input.drain(&mut buf);
        }
        let mut live_changed = false;
        for (cc, v) in latest_values(&buf) {
            let Some(m) = self.control.maps.get(&cc) else {
                continue;
            };
            let command = m.command(v);
            live_changed |= live::is_live_control(&command);
            match self.execute_now(command) {
                Ok(()) => self.control.last_error = None,
                Err(e) => {
                    let e = format!("map {cc}: {e}");
                    if self.control.last_error.as_ref() != Some(&e) {
                        self.warn(e.clone());
                        self.control.last_error = Some(e);
                    }
                }
            }
        }
        if live_changed {
            if let Err(e) = self.sync_live(Quantize::Now) {
                self.warn(format!("map: {e}"));
            }
        }
        buf.clear();
        self.poll_clock(&mut buf);
        self.control.buf = buf;
    }

    fn poll_clock(&mut self, buf: &mut Vec<InputEvent>) {
        let Some(c) = self.control.clock.as_mut() else {
            return;
        };
        c.input.drain(buf);
        let (mut start, mut stop) = (false, false);
        let mut new_tempo = false;
        for e in buf.iter() {
            match c.follower.feed(e) {
                Some(ClockChange::Tempo(bpm)) => {
                    c.estimates += 1;
                    if c.estimates > CLOCK_SETTLE {
                        let s = c.bpm.map_or(bpm, |s| s + CLOCK_SMOOTHING * (bpm - s));
                        c.bpm = Some(s);
                        new_tempo = true;
                    }
                }
                Some(ClockChange::Start | ClockChange::Continue(_)) => {
                    c.estimates = 0;
                    (start, stop) = (true, false);
                }
                Some(ClockChange::Stop) => (start, stop) = (false, true),
                None => {}
            }
        }
        let bpm = c.bpm.filter(|_| new_tempo).map(|b| b.clamp(1.0, 1000.0));
        if let Some(bpm) = bpm {
            if (bpm - self.play.bpm()).abs() > 0.01 {
                self.play.set_tempo(bpm);
            }
        }
        if start && !self.play.is_playing() {
            let id = self.internal_id();
            self.queue.push_back(Item::Command {
                id,
                command: Command::Play,
                script: None,
            });
        }
        if stop && self.play.is_playing() {
            if let Err(e) = self.execute_now(Command::Stop) {
                self.warn(format!("clock in: {e}"));
            }
        }
    }

    /// A session's maps, input port and clock: what is not here any more is reported.
    pub(super) fn restore_control(
        &mut self,
        input: Option<&str>,
        maps: &BTreeMap<String, String>,
        clock_in: Option<&str>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        self.control.maps.clear();
        for (cc, spec) in maps {
            let line = format!("map {cc} {spec}");
            match super::super::parse::parse(&line) {
                Ok(Command::Map(MapCmd::Set { cc, target, range })) => {
                    match Mapping::new(target, range) {
                        Ok(m) => {
                            self.control.maps.insert(cc, m);
                        }
                        Err(e) => problems.push(format!("{line}: {e}")),
                    }
                }
                Ok(_) => problems.push(format!("`{line}` is not a controller map")),
                Err(e) => problems.push(format!("`{line}`: {e}")),
            }
        }
        if let Some(port) = input {
            if let Err(e) = self.input(port) {
                problems.push(e);
            }
        }
        if let Err(e) = self.sync_control_input() {
            problems.push(format!("map: {e}"));
        }
        if let Some(port) = clock_in {
            if let Err(e) = self.clock_in(Some(port.to_string())) {
                problems.push(e);
            }
        }
        problems
    }
}

#[cfg(test)]
#[path = "control_tests.rs"]
mod tests;
