//! Sessions: the whole state as TOML (`session save|load NAME`), written atomically under
//! `$IMPROV_HOME/sessions/`, autosaved every minute, on quit and on a panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

use serde::{Deserialize, Serialize};

use crate::model::checkpoint;
use crate::play::Params;

use super::super::command::{Command, SynthCmd};
use super::super::event::{CommandId, Event};
use super::super::snapshot::SamplingSettings;
use super::{Core, Item};

/// The file format version written.
pub(super) const VERSION: u32 = 1;
/// The largest session file read (a real one is a few KB).
const MAX_SESSION_BYTES: u64 = 16 << 20;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionFile {
    pub version: u32,
    pub corpus: Option<PathBuf>,
    /// A checkpoint folder; an unsaved model is saved beside the session file first.
    pub model: Option<PathBuf>,
    pub player: PlayerSection,
    pub sampling: SamplingSection,
    pub latent: LatentSection,
    #[serde(default)]
    pub presets: BTreeMap<String, Vec<f32>>,
    /// Controller maps: CC number to target.
    #[serde(default)]
    pub maps: BTreeMap<String, String>,
    /// The commands that rebuild the layers and mutes (`layer bass channel 3 ...`, `mute bass`).
    #[serde(default)]
    pub layers: Vec<String>,
    #[serde(default)]
    pub history: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlayerSection {
    pub tempo: f64,
    pub swing: f64,
    pub transpose: i32,
    /// 1..=16.
    pub channel: Option<u8>,
    pub program: Option<u8>,
    /// e.g. "D dorian".
    pub scale: Option<String>,
    pub clock_out: bool,
    pub synth: bool,
    pub virtual_port: bool,
    #[serde(default)]
    pub ports: Vec<String>,
    /// Sink name to latency in ms.
    #[serde(default)]
    pub latency: BTreeMap<String, f64>,
    /// The MIDI input (`input PORT`) phrases and controllers come from.
    #[serde(default)]
    pub input: Option<String>,
    /// The input port whose MIDI clock is followed (`clock in PORT`).
    #[serde(default)]
    pub clock_in: Option<String>,
}

impl Default for PlayerSection {
    fn default() -> Self {
        PlayerSection {
            tempo: 120.0,
            swing: 0.0,
            transpose: 0,
            channel: None,
            program: None,
            scale: None,
            clock_out: false,
            synth: false,
            virtual_port: false,
            ports: Vec::new(),
            latency: BTreeMap::new(),
            input: None,
            clock_in: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamplingSection {
    pub temperature: f32,
    pub top_k: Option<usize>,
    pub top_p: Option<f32>,
    pub seed: u64,
    pub style: Option<String>,
}

impl Default for SamplingSection {
    fn default() -> Self {
        let s = SamplingSettings::default();
        SamplingSection {
            temperature: s.temperature,
            top_k: s.top_k,
            top_p: s.top_p,
            seed: s.seed,
            style: s.style,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatentSection {
    pub z: Vec<f32>,
    #[serde(default)]
    pub selected: Vec<usize>,
}

/// The last state written, for the panic hook.
static LAST_STATE: Mutex<Option<(PathBuf, String)>> = Mutex::new(None);
static HOOK: Once = Once::new();

/// On a panic, writes the last known session to `autosave.toml` before the usual report.
pub fn install_panic_hook(_home: &Path) {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(guard) = LAST_STATE.try_lock() {
                if let Some((path, text)) = guard.as_ref() {
                    let _ = crate::fsx::write_atomic(path, text.as_bytes());
                }
            }
            previous(info);
        }));
    });
}

/// Where session `name` lives: a path when it has a slash or ends in `.toml`, else
/// `home/sessions/NAME.toml`.
pub fn session_path(home: &Path, name: &str) -> PathBuf {
    if name.contains('/') || name.ends_with(".toml") {
        PathBuf::from(name)
    } else {
        home.join("sessions").join(format!("{name}.toml"))
    }
}

impl Core {
    /// The session as a file; `model_dir` is where an unsaved model goes.
    fn session_file(&mut self, model_dir: &Path) -> Result<SessionFile, String> {
        let model = match self.models.model.as_mut() {
            Some(m) if m.unsaved || m.path.is_none() => {
                checkpoint::save(model_dir, &m.model, &m.meta, None)
                    .map_err(|e| format!("saving the model: {e}"))?;
                m.path = Some(model_dir.to_path_buf());
                m.unsaved = false;
                Some(model_dir.to_path_buf())
            }
            Some(m) => m.path.clone(),
            None => None,
        };
        let p = &self.play.params;
        let latency = self
            .play
            .sinks()
            .into_iter()
            .filter(|s| s.latency_ms > 0.0)
            .map(|s| (s.name, s.latency_ms))
            .collect();
        let ports = self
            .play
            .sinks()
            .into_iter()
            .map(|s| s.name)
            .filter(|n| n != "synth" && n != "recorder" && !n.ends_with("(virtual)"))
            .filter(|n| !self.play.is_layer_only(n))
            .collect();
        Ok(SessionFile {
            version: VERSION,
            corpus: self.models.corpus.as_ref().map(|c| absolute(&c.root)),
            model: model.map(|m| absolute(&m)),
            player: PlayerSection {
                tempo: p.tempo.unwrap_or(120.0),
                swing: p.swing,
                transpose: p.transpose,
                channel: p.channel.map(|c| c + 1),
                program: p.program,
                scale: p.scale.map(|s| s.to_string()),
                clock_out: self.play.clock_out,
                synth: self.play.synth_on,
                virtual_port: self.play.virtual_on,
                ports,
                latency,
                input: self.input_port.clone(),
                clock_in: self.control.clock_port(),
            },
            sampling: SamplingSection {
                temperature: self.sampling.temperature,
                top_k: self.sampling.top_k,
                top_p: self.sampling.top_p,
                seed: self.sampling.seed,
                style: self.sampling.style.clone(),
            },
            latent: LatentSection {
                z: self.models.latent.clone(),
                selected: self.models.selected.clone(),
            },
            presets: self.steering.presets.0.clone(),
            maps: self.control.session_maps(),
            layers: self.layers.lines(),
            history: self.history.clone(),
        })
    }

    fn write_session(&mut self, path: &Path) -> Result<(), String> {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("session");
        let model_dir = path.with_file_name(format!("{stem}.model"));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let file = self.session_file(&model_dir)?;
        let text = toml::to_string_pretty(&file).map_err(|e| format!("{}: {e}", path.display()))?;
        crate::fsx::write_atomic(path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if let Ok(mut last) = LAST_STATE.lock() {
            *last = Some((self.autosave_path(), text));
        }
        Ok(())
    }

    pub(super) fn save_session(&mut self, name: &str) -> Result<(), String> {
        let path = session_path(&self.opts.home, name);
        self.write_session(&path)
            .map_err(|e| format!("session save: {e}"))?;
        self.session_path = Some(path.clone());
        self.log(format!("session saved to {}", path.display()));
        self.emit(Event::SessionSaved { path });
        Ok(())
    }

    fn autosave_path(&self) -> PathBuf {
        self.opts.home.join("sessions").join("autosave.toml")
    }

    /// Writes the autosave, unless it is held (the autosave did not load, so writing would
    /// replace the user's only copy with this session's defaults). A failure is reported as an
    /// error every time, and also on stderr when the engine is quitting (no screen is left).
    pub(super) fn autosave(&mut self) {
        let path = self.autosave_path();
        if let Some(held) = &mut self.autosave_held {
            if !held.told {
                held.told = true;
                self.warn(format!(
                    "autosave: {} did not load, so it is kept as it was and not autosaved over; \
                     `session save NAME` saves this session",
                    path.display()
                ));
            }
            if self.quit {
                eprintln!(
                    "improv: {} was kept as it was (it did not load); this session was not autosaved",
                    path.display()
                );
            }
            return;
        }
        if let Err(e) = self.write_session(&path) {
            let text = format!("autosave failed: {e}");
            if self.quit {
                eprintln!("improv: {text}");
            }
            self.emit(Event::Error { text });
        }
    }

    /// Queues what restoring takes: the corpus, the model, then the rest; `Done` for `id`
    /// comes when all of it has been applied.
    pub(super) fn load_session(&mut self, id: CommandId, name: &str) -> Result<(), String> {
        let path = session_path(&self.opts.home, name);
        if path == self.autosave_path() {
            // Until it has loaded whole, the autosave is the user's only copy of that session.
            self.autosave_held = Some(AutosaveHeld { told: false });
        }
        let text = crate::fsx::read_text(&path, MAX_SESSION_BYTES, "session load")?;
        let file = super::session_check::read_session(&text)
            .map_err(|e| format!("session load: {}: {e}", path.display()))?;
        let place = format!("session {}", path.display());
        let mut items = Vec::new();
        if let Some(c) = &file.corpus {
            items.push(Command::LoadCorpus { path: c.clone() });
        }
        if let Some(m) = &file.model {
            items.push(Command::ModelLoad { path: m.clone() });
        }
        let mut queued: Vec<Item> = Vec::new();
        for command in items {
            queued.push(Item::Command {
                id: self.internal_id(),
                command,
                script: Some((id, place.clone())),
            });
        }
        queued.push(Item::Restore {
            id,
            file: Box::new(file),
        });
        for item in queued.into_iter().rev() {
            self.queue.push_front(item);
        }
        self.session_path = Some(path);
        Ok(())
    }

    /// Applies a session's values once its corpus and model are in.
    pub(super) fn restore(&mut self, file: SessionFile) -> Result<(), String> {
        self.autosave_held = None;
        let p = &file.player;
        let scale = match &p.scale {
            Some(s) => Some(s.parse().map_err(|e| format!("session load: {e}"))?),
            None => None,
        };
        self.play.params = Params {
            tempo: Some(p.tempo),
            swing: p.swing,
            transpose: p.transpose,
            channel: p.channel.map(|c| c.clamp(1, 16) - 1),
            program: p.program,
            scale,
            ..Params::default()
        };
        let params = self.play.params;
        self.play.edit(|x| *x = params)?;
        self.play.clock_out = p.clock_out;
        let s = &file.sampling;
        self.sampling = SamplingSettings {
            temperature: s.temperature,
            top_k: s.top_k,
            top_p: s.top_p,
            seed: s.seed,
            style: s.style.clone(),
        };
        if let Some(m) = &self.models.model {
            if file.latent.z.len() == m.meta.model.latent {
                self.models.latent = file.latent.z.clone();
                self.models.selected = file.latent.selected.clone();
            } else if !file.latent.z.is_empty() {
                self.warn(
                    "session load: the saved latent does not fit the model; starting from z = 0",
                );
            }
        }
        // Outputs that are not here any more are reported, not fatal.
        let mut problems = Vec::new();
        if p.synth {
            if let Err(e) = self.play.synth(SynthCmd::On, &self.events) {
                problems.push(e);
            }
        }
        if p.virtual_port && !self.play.virtual_on {
            if let Err(e) = self.play.virtual_port(&self.events) {
                problems.push(e);
            }
        }
        for port in &p.ports {
            if let Err(e) = self.play.connect(port, &self.events) {
                problems.push(e);
            }
        }
        self.note_outputs();
        for (sink, ms) in &p.latency {
            let _ = self.play.latency(sink, *ms);
        }
        problems.extend(self.restore_control(
            p.input.as_deref(),
            &file.maps,
            p.clock_in.as_deref(),
        ));
        for e in problems {
            self.warn(format!("session load: {e}"));
        }
        self.steering.presets = crate::generate::latent::Presets(file.presets.clone());
        self.restore_layers(&file.layers);
        // History lines are shown on the screen: never with raw control characters.
        let mut history: Vec<String> = file
            .history
            .iter()
            .map(|l| crate::text::printable(l, 1_000, false))
            .collect();
        history.append(&mut self.history);
        self.history = history;
        let path = self.session_path.clone().unwrap_or_default();
        self.log(format!("session restored from {}", path.display()));
        self.emit(Event::SessionLoaded { path });
        Ok(())
    }
}

/// The autosave is not written over: it did not load (`told`: the user has been warned).
pub struct AutosaveHeld {
    told: bool,
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
