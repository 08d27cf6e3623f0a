//! JACK helpers for tests and benchmarks: a client that counts the server's xruns and measures the
//! audio arriving at its input port (connected from, say, the synth's cpal output).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use jack::{
    AudioIn, Client, ClientOptions, Control, NotificationHandler, Port, PortFlags, ProcessHandler,
    ProcessScope,
};

/// Counters shared with the JACK threads.
#[derive(Debug, Default)]
pub struct TapStats {
    pub xruns: AtomicU64,
    pub frames: AtomicU64,
    /// Largest absolute sample seen, as f32 bits.
    pub peak: AtomicU32,
}

impl TapStats {
    pub fn peak(&self) -> f32 {
        f32::from_bits(self.peak.load(Ordering::Relaxed))
    }
}

struct Notes(Arc<TapStats>);

impl NotificationHandler for Notes {
    fn xrun(&mut self, _: &Client) -> Control {
        self.0.xruns.fetch_add(1, Ordering::Relaxed);
        Control::Continue
    }
}

struct Capture {
    port: Port<AudioIn>,
    stats: Arc<TapStats>,
}

impl ProcessHandler for Capture {
    fn process(&mut self, _: &Client, ps: &ProcessScope) -> Control {
        let x = self.port.as_slice(ps);
        let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        self.stats.peak.fetch_max(peak.to_bits(), Ordering::Relaxed);
        self.stats
            .frames
            .fetch_add(x.len() as u64, Ordering::Relaxed);
        Control::Continue
    }
}

/// A running tap client.
pub struct JackTap {
    client: jack::AsyncClient<Notes, Capture>,
    input: String,
    pub stats: Arc<TapStats>,
}

impl JackTap {
    /// Opens a client called `name` on the running server (it never starts one).
    pub fn open(name: &str) -> Result<Self, jack::Error> {
        let (client, _) = Client::new(name, ClientOptions::NO_START_SERVER)?;
        let port = client.register_port("in", AudioIn::default())?;
        let input = port.name()?;
        let stats = Arc::new(TapStats::default());
        let client = client.activate_async(
            Notes(stats.clone()),
            Capture {
                port,
                stats: stats.clone(),
            },
        )?;
        Ok(JackTap {
            client,
            input,
            stats,
        })
    }

    /// One JACK period in microseconds (buffer size over sample rate).
    pub fn period_us(&self) -> f64 {
        let c = self.client.as_client();
        c.buffer_size() as f64 * 1e6 / c.sample_rate() as f64
    }

    /// Audio output ports whose names match the regular expression `pattern`.
    pub fn outputs(&self, pattern: &str) -> Vec<String> {
        self.client
            .as_client()
            .ports(Some(pattern), Some("audio"), PortFlags::IS_OUTPUT)
    }

    /// Connects every audio output matching `pattern` to the tap; how many it connected. A port
    /// that cannot be connected yet (its client still starting) or is already connected is
    /// skipped, so callers can retry.
    pub fn connect_from(&self, pattern: &str) -> usize {
        self.outputs(pattern)
            .iter()
            .filter(|o| {
                self.client
                    .as_client()
                    .connect_ports_by_name(o, &self.input)
                    .is_ok()
            })
            .count()
    }
}

/// The pattern of this process's cpal JACK output ports (cpal names its client after the pid).
pub fn cpal_ports_pattern() -> String {
    format!("cpal_client_{}", std::process::id())
}
