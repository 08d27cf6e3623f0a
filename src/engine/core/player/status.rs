//! What the snapshot shows of playing: the transport and every sink with its counts and
//! scheduler lateness.

use std::sync::atomic::Ordering;

use super::super::super::snapshot::{SinkStatus, TransportState};
use super::PlayState;
use crate::play::transport::bar_beat;

impl PlayState {
    pub fn transport(&self) -> TransportState {
        let position = self.position();
        let (bar, beat) = bar_beat(position, &self.sigs);
        TransportState {
            playing: self.is_playing(),
            bpm: self
                .player
                .as_ref()
                .filter(|p| !p.is_done())
                .map_or(self.bpm(), |p| p.bpm()),
            bar,
            beat,
            position,
            clock_out: self.clock_out,
            loop_bars: None,
        }
    }

    pub fn sinks(&self) -> Vec<SinkStatus> {
        let live = self
            .player
            .as_ref()
            .map(|p| p.sinks().to_vec())
            .unwrap_or_default();
        self.entries
            .iter()
            .map(|e| {
                let stats = live
                    .iter()
                    .find(|s| s.name == e.name)
                    .map(|s| s.stats.clone());
                let late = stats.as_ref().map(|s| s.lateness()).unwrap_or_default();
                SinkStatus {
                    name: e.name.clone(),
                    latency_ms: e.latency_ms,
                    sent: stats.as_ref().map_or(0, |s| s.sent.load(Ordering::Relaxed)),
                    errors: stats
                        .as_ref()
                        .map_or(0, |s| s.errors.load(Ordering::Relaxed)),
                    late_p99_us: late.p99_us,
                    late_max_us: late.max_us,
                }
            })
            .collect()
    }
}
