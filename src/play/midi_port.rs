//! MIDI ports through midir (ALSA by default, JACK with the `jack` feature): listing, an output
//! sink connected by name or index or as the virtual port `improv`, and a timestamped input.

use std::sync::Arc;

use midir::{Ignore, MidiInput, MidiInputConnection, MidiOutput, MidiOutputConnection};

use super::clock::Clock;
use super::msg::MidiMsg;
use super::quiet::quiet_backends;
use super::sink::{Sink, SinkError};

/// The client name other programs see.
pub const CLIENT: &str = "improv";

/// Why a port could not be listed or opened; each displays as one line.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("cannot open MIDI ({backend}): {detail}")]
    Backend {
        backend: &'static str,
        detail: String,
    },
    #[error("no MIDI {dir} port matches {wanted:?} (ports: {available})")]
    NotFound {
        dir: &'static str,
        wanted: String,
        available: String,
    },
    #[error("cannot connect to MIDI port {port:?}: {detail}")]
    Connect { port: String, detail: String },
}

/// The MIDI backend this build uses.
pub fn backend() -> &'static str {
    if cfg!(feature = "jack") {
        "JACK"
    } else {
        "ALSA sequencer"
    }
}

fn backend_error(e: impl std::fmt::Display) -> PortError {
    let hint = if cfg!(feature = "jack") {
        "is a JACK server running?"
    } else {
        "no /dev/snd/seq? (no sound hardware or the snd-seq module is not loaded)"
    };
    PortError::Backend {
        backend: backend(),
        detail: format!("{e}; {hint}"),
    }
}

fn output() -> Result<MidiOutput, PortError> {
    quiet_backends();
    MidiOutput::new(CLIENT).map_err(backend_error)
}

fn input() -> Result<MidiInput, PortError> {
    quiet_backends();
    let mut i = MidiInput::new(CLIENT).map_err(backend_error)?;
    i.ignore(Ignore::ActiveSense);
    Ok(i)
}

/// Names of the ports improv can send to.
pub fn output_ports() -> Result<Vec<String>, PortError> {
    let out = output()?;
    Ok(out
        .ports()
        .iter()
        .filter_map(|p| out.port_name(p).ok())
        .collect())
}

/// Watches the output ports that exist, through one client kept open (opening a client for each
/// look would disturb a JACK graph): a port whose program quit is noticed even though sending to
/// it still succeeds (the connection just goes).
pub struct PortWatch {
    out: MidiOutput,
}

impl PortWatch {
    pub fn new() -> Result<Self, PortError> {
        Ok(PortWatch { out: output()? })
    }

    /// Which of `names` are not output ports any more.
    pub fn gone<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let now: Vec<String> = self
            .out
            .ports()
            .iter()
            .filter_map(|p| self.out.port_name(p).ok())
            .collect();
        names
            .into_iter()
            .filter(|n| !now.iter().any(|p| p == n))
            .map(String::from)
            .collect()
    }
}

/// Names of the ports improv can listen to.
pub fn input_ports() -> Result<Vec<String>, PortError> {
    let i = input()?;
    Ok(i.ports()
        .iter()
        .filter_map(|p| i.port_name(p).ok())
        .collect())
}

/// The index of the port `wanted` names: an index into the list, an exact name, or the only
/// name that contains it (case-insensitive).
pub fn find_port(names: &[String], wanted: &str, dir: &'static str) -> Result<usize, PortError> {
    let not_found = || PortError::NotFound {
        dir,
        wanted: wanted.to_string(),
        available: if names.is_empty() {
            "none".into()
        } else {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{i}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    };
    if let Ok(i) = wanted.parse::<usize>() {
        return (i < names.len()).then_some(i).ok_or_else(not_found);
    }
    if let Some(i) = names.iter().position(|n| n == wanted) {
        return Ok(i);
    }
    let lower = wanted.to_lowercase();
    let hits: Vec<usize> = (0..names.len())
        .filter(|&i| names[i].to_lowercase().contains(&lower))
        .collect();
    match hits[..] {
        [i] => Ok(i),
        _ => Err(not_found()),
    }
}

/// Sends to a MIDI output port.
pub struct MidiPortSink {
    name: String,
    conn: MidiOutputConnection,
    clock: bool,
}

impl MidiPortSink {
    /// Connects to the port `wanted` names (see [`find_port`]); `clock` also sends MIDI clock.
    pub fn connect(wanted: &str, clock: bool) -> Result<Self, PortError> {
        let out = output()?;
        let ports = out.ports();
        let names: Vec<String> = ports
            .iter()
            .map(|p| out.port_name(p).unwrap_or_default())
            .collect();
        let i = find_port(&names, wanted, "output")?;
        let conn = out
            .connect(&ports[i], "out")
            .map_err(|e| PortError::Connect {
                port: names[i].clone(),
                detail: e.to_string(),
            })?;
        Ok(MidiPortSink {
            name: names[i].clone(),
            conn,
            clock,
        })
    }

    /// Creates a port named `port` that synths and DAWs can subscribe to.
    pub fn virtual_port(port: &str, clock: bool) -> Result<Self, PortError> {
        use midir::os::unix::VirtualOutput;
        let conn = output()?
            .create_virtual(port)
            .map_err(|e| PortError::Connect {
                port: port.to_string(),
                detail: e.to_string(),
            })?;
        Ok(MidiPortSink {
            name: format!("{CLIENT}:{port} (virtual)"),
            conn,
            clock,
        })
    }
}

/// Sends sustain off, all notes off and all sound off on every channel to the port `wanted`
/// names (notes a killed run left sounding stop); its name. Under JACK a new connection carries
/// messages only from a later process cycle, so it waits for the graph to settle first.
pub fn silence_port(wanted: &str) -> Result<String, PortError> {
    let mut sink = MidiPortSink::connect(wanted, false)?;
    if cfg!(feature = "jack") {
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    for ch in 0..16 {
        for cc in [64, 123, 120] {
            let _ = sink.conn.send(MidiMsg::control(ch, cc, 0).as_bytes());
        }
    }
    Ok(sink.name.clone())
}

impl Sink for MidiPortSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&mut self, msg: MidiMsg, _deadline: f64) -> Result<(), SinkError> {
        self.conn.send(msg.as_bytes()).map_err(|e| match e {
            midir::SendError::InvalidData(_) => SinkError::Failed,
            midir::SendError::Other(_) => SinkError::Gone,
        })
    }

    fn wants_clock(&self) -> bool {
        self.clock
    }
}

impl Drop for MidiPortSink {
    fn drop(&mut self) {
        // JACK sends queued messages from its next process cycle; closing the port at once would
        // lose the last note-offs. A period is ~3 ms at 128 frames, but a server without real-time
        // priority on a busy machine runs its cycles late, so wait well beyond one.
        if cfg!(feature = "jack") {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// A message from an input port, stamped on arrival with the player's clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputEvent {
    pub at: f64,
    pub msg: MidiMsg,
}

/// Listens to a MIDI input port; messages wait in a lock-free queue until drained.
pub struct MidiIn {
    pub name: String,
    _conn: MidiInputConnection<()>,
    rx: rtrb::Consumer<InputEvent>,
    dropped: Arc<std::sync::atomic::AtomicU64>,
}

type Stamper = Box<dyn FnMut(u64, &[u8], &mut ()) + Send>;

fn stamper(
    clock: Arc<dyn Clock>,
    capacity: usize,
) -> (
    Stamper,
    rtrb::Consumer<InputEvent>,
    Arc<std::sync::atomic::AtomicU64>,
) {
    let (mut tx, rx) = rtrb::RingBuffer::new(capacity);
    let dropped = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let d = dropped.clone();
    let f = move |_stamp: u64, bytes: &[u8], _: &mut ()| {
        let at = clock.now();
        if let Some(msg) = MidiMsg::from_bytes(bytes) {
            if tx.push(InputEvent { at, msg }).is_err() {
                d.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    };
    (Box::new(f), rx, dropped)
}

impl MidiIn {
    /// Listens to the output port `wanted` names (see [`find_port`]).
    pub fn connect(wanted: &str, clock: Arc<dyn Clock>) -> Result<Self, PortError> {
        let i = input()?;
        let ports = i.ports();
        let names: Vec<String> = ports
            .iter()
            .map(|p| i.port_name(p).unwrap_or_default())
            .collect();
        let k = find_port(&names, wanted, "input")?;
        let (f, rx, dropped) = stamper(clock, 4096);
        let conn = i
            .connect(&ports[k], "in", f, ())
            .map_err(|e| PortError::Connect {
                port: names[k].clone(),
                detail: e.to_string(),
            })?;
        Ok(MidiIn {
            name: names[k].clone(),
            _conn: conn,
            rx,
            dropped,
        })
    }

    /// Creates an input port named `port` that keyboards and DAWs can send to.
    pub fn virtual_port(port: &str, clock: Arc<dyn Clock>) -> Result<Self, PortError> {
        use midir::os::unix::VirtualInput;
        let (f, rx, dropped) = stamper(clock, 4096);
        let conn = input()?
            .create_virtual(port, f, ())
            .map_err(|e| PortError::Connect {
                port: port.to_string(),
                detail: e.to_string(),
            })?;
        Ok(MidiIn {
            name: format!("{CLIENT}:{port} (virtual)"),
            _conn: conn,
            rx,
            dropped,
        })
    }

    /// Moves every message received so far into `out`.
    pub fn drain(&mut self, out: &mut Vec<InputEvent>) {
        while let Ok(e) = self.rx.pop() {
            out.push(e);
        }
    }

    /// Messages lost because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ports_by_index_name_or_unique_part() {
        let names: Vec<String> = [
            "Midi Through:Port-0 14:0",
            "FLUID Synth:0 128:0",
            "improv:out",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(find_port(&names, "1", "output").unwrap(), 1);
        assert_eq!(find_port(&names, "fluid", "output").unwrap(), 1);
        assert_eq!(find_port(&names, "improv:out", "output").unwrap(), 2);
        let e = find_port(&names, "0:", "output").unwrap_err().to_string();
        assert!(
            e.starts_with("no MIDI output port matches \"0:\" (ports: 0: Midi Through"),
            "{e}"
        );
        assert!(find_port(&names, "7", "output").is_err());
        assert!(find_port(&[], "x", "input")
            .unwrap_err()
            .to_string()
            .contains("ports: none"));
    }

    /// Without a sequencer (CI, this machine) opening fails with one line and prints nothing.
    #[cfg(not(feature = "jack"))]
    #[test]
    fn without_a_sequencer_opening_is_one_clear_line() {
        if std::path::Path::new("/dev/snd/seq").exists() {
            return; // a machine with a sequencer: nothing to check here
        }
        let e = MidiPortSink::virtual_port("improv-test", false)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("cannot open MIDI (ALSA sequencer)"), "{e}");
        assert!(!e.contains('\n'));
        assert!(output_ports().is_err());
        assert!(
            super::super::quiet::backend_messages().0 > 0,
            "ALSA's messages were not caught"
        );
    }
}
