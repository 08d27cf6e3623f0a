//! The synth on the default audio device through cpal (ALSA, or JACK with the `jack` feature).
//! The callback takes MIDI messages from a lock-free ring and renders; it never allocates, locks
//! or frees, which debug builds check with `assert_no_alloc`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use crate::play::histogram::Histogram;
use crate::play::msg::MidiMsg;
use crate::play::quiet::quiet_backends;
use crate::play::rt::rt_section;
use crate::play::sink::{Sink, SinkError};

use super::synth::Synth;

/// Why the audio output could not start; one line each.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot open audio ({host}): {detail}")]
    Open { host: String, detail: String },
}

/// Counters the audio callback keeps.
#[derive(Debug, Default)]
pub struct AudioStats {
    pub callbacks: AtomicU64,
    pub frames: AtomicU64,
    /// Stream errors reported by the backend (xruns among them).
    pub errors: AtomicU64,
    /// Time spent in each callback.
    pub callback_time: Histogram,
    /// Largest absolute sample of the last callback, as f32 bits (to check the synth sounds).
    pub peak: AtomicU64,
}

/// A running output stream; audio stops when it is dropped.
pub struct SynthOutput {
    _stream: cpal::Stream,
    pub host: String,
    pub device: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub stats: Arc<AudioStats>,
}

/// The sink the scheduler sends to: a ring into the audio callback.
pub struct SynthSink {
    tx: rtrb::Producer<MidiMsg>,
}

impl Sink for SynthSink {
    fn name(&self) -> &str {
        "synth"
    }

    fn send(&mut self, msg: MidiMsg, _deadline: f64) -> Result<(), SinkError> {
        self.tx.push(msg).map_err(|_| SinkError::Full)
    }
}

fn host() -> Result<cpal::Host, AudioError> {
    #[cfg(feature = "jack")]
    {
        cpal::host_from_id(cpal::HostId::Jack).map_err(|e| AudioError::Open {
            host: "JACK".into(),
            detail: format!("{e}; is a JACK server running?"),
        })
    }
    #[cfg(not(feature = "jack"))]
    {
        Ok(cpal::default_host())
    }
}

/// Opens the default output device and starts the synth on it.
pub fn open_synth(voice_limit: usize) -> Result<(SynthOutput, SynthSink), AudioError> {
    quiet_backends();
    let host = host()?;
    let host_name = host.id().name().to_string();
    let err = |detail: String| AudioError::Open {
        host: host_name.clone(),
        detail,
    };
    let device = host
        .default_output_device()
        .ok_or_else(|| err("no output device (no sound card?)".into()))?;
    let device_name = device
        .description()
        .map(|d| d.name().to_string())
        .unwrap_or_else(|_| "default".into());
    let supported = device
        .default_output_config()
        .map_err(|e| err(format!("{device_name}: {e}")))?;
    let config = supported.config();
    let (sample_rate, channels) = (config.sample_rate, config.channels);
    let (tx, mut rx) = rtrb::RingBuffer::<MidiMsg>::new(4096);
    let stats = Arc::new(AudioStats::default());
    let st = stats.clone();
    let mut synth = Synth::new(sample_rate).with_voice_limit(voice_limit);
    let ch = channels as usize;
    let callback = move |data: &mut [f32], _: &cpal::OutputCallbackInfo| {
        let t0 = Instant::now();
        rt_section(|| {
            while let Ok(m) = rx.pop() {
                synth.handle(m);
            }
            synth.render(data, ch);
        });
        let peak = data.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        st.peak.store(peak.to_bits() as u64, Ordering::Relaxed);
        st.callbacks.fetch_add(1, Ordering::Relaxed);
        st.frames
            .fetch_add((data.len() / ch.max(1)) as u64, Ordering::Relaxed);
        st.callback_time.record(t0.elapsed().as_nanos() as i64);
    };
    let st = stats.clone();
    let on_error = move |_e: cpal::Error| {
        st.errors.fetch_add(1, Ordering::Relaxed);
    };
    let stream = device
        .build_output_stream::<f32, _, _>(config, callback, on_error, None)
        .map_err(|e| err(format!("{device_name}: {e}")))?;
    stream
        .play()
        .map_err(|e| err(format!("{device_name}: {e}")))?;
    Ok((
        SynthOutput {
            _stream: stream,
            host: host_name,
            device: device_name,
            sample_rate,
            channels,
            stats,
        },
        SynthSink { tx },
    ))
}

#[cfg(test)]
mod tests {
    /// Without a sound card (CI, this machine) opening fails with one line.
    #[cfg(not(feature = "jack"))]
    #[test]
    fn without_a_sound_card_opening_is_one_clear_line() {
        if std::path::Path::new("/dev/snd").exists() {
            return; // a machine with sound hardware: nothing to check here
        }
        let e = super::open_synth(8).err().unwrap().to_string();
        assert!(e.starts_with("cannot open audio (ALSA)"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }
}
