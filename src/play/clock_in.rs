//! Following an external MIDI clock: tempo by least-squares regression over the last 24 ticks
//! (one beat), start/stop/continue and song position.

use super::midi_port::InputEvent;
use super::scheduler::Player;

/// Ticks the tempo estimate looks back over.
pub const WINDOW: usize = 24;

/// What an external clock asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClockChange {
    /// A new tempo estimate in BPM.
    Tempo(f64),
    Start,
    /// Continue from this beat.
    Continue(f64),
    Stop,
}

impl ClockChange {
    /// Makes `player` follow the external clock: its tempo, Start (the first one starts playback,
    /// later ones resume), Continue, and Stop (a pause, so a Continue goes on from there). Tempo
    /// is followed, not phase: improv keeps its own beat grid at the sender's tempo.
    pub fn apply(self, player: &mut Player) {
        match self {
            ClockChange::Tempo(bpm) => player.params().set_tempo(Some(bpm)),
            ClockChange::Start if !player.has_started() => player.start(),
            ClockChange::Start | ClockChange::Continue(_) => player.resume(),
            ClockChange::Stop => player.pause(),
        }
    }
}

/// Reads MIDI clock messages and estimates the sender's tempo.
#[derive(Clone, Debug, Default)]
pub struct ClockFollower {
    ticks: [f64; WINDOW],
    n: usize,
    head: usize,
    position: f64,
    running: bool,
}

impl ClockFollower {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Beats received since the last start or song position.
    pub fn position(&self) -> f64 {
        self.position
    }

    /// The tempo from the ticks in the window, if there are enough (at least 6).
    pub fn bpm(&self) -> Option<f64> {
        if self.n < 6 {
            return None;
        }
        // Oldest first, x = tick index, y = arrival time; slope = seconds per tick.
        let start = (self.head + WINDOW - self.n) % WINDOW;
        let ys = (0..self.n).map(|i| self.ticks[(start + i) % WINDOW]);
        let n = self.n as f64;
        let mean_x = (n - 1.0) / 2.0;
        let mean_y = ys.clone().sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, y) in ys.enumerate() {
            let dx = i as f64 - mean_x;
            sxy += dx * (y - mean_y);
            sxx += dx * dx;
        }
        let secs_per_tick = sxy / sxx;
        (secs_per_tick > 0.0).then(|| 60.0 / (secs_per_tick * WINDOW as f64))
    }

    fn reset_ticks(&mut self) {
        self.n = 0;
        self.head = 0;
    }

    /// Takes one input message; returns what changed, if anything.
    pub fn feed(&mut self, ev: &InputEvent) -> Option<ClockChange> {
        match ev.msg.status() {
            0xf8 => {
                self.ticks[self.head] = ev.at;
                self.head = (self.head + 1) % WINDOW;
                self.n = (self.n + 1).min(WINDOW);
                if self.running {
                    self.position += 1.0 / WINDOW as f64;
                }
                self.bpm().map(ClockChange::Tempo)
            }
            0xfa => {
                self.running = true;
                self.position = 0.0;
                self.reset_ticks();
                Some(ClockChange::Start)
            }
            0xfb => {
                self.running = true;
                self.reset_ticks();
                Some(ClockChange::Continue(self.position))
            }
            0xfc => {
                self.running = false;
                Some(ClockChange::Stop)
            }
            0xf2 => {
                let b = ev.msg.as_bytes();
                self.position = (b[1] as u16 | (b[2] as u16) << 7) as f64 / 4.0;
                None
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::play::msg::MidiMsg;

    fn ev(at: f64, msg: MidiMsg) -> InputEvent {
        InputEvent { at, msg }
    }

    #[test]
    fn estimates_tempo_from_jittered_ticks_and_follows_transport() {
        let mut f = ClockFollower::new();
        assert_eq!(f.feed(&ev(0.0, MidiMsg::start())), Some(ClockChange::Start));
        let tick = 60.0 / (128.0 * 24.0);
        let mut last = None;
        // Deterministic ±0.3 ms jitter, as a USB MIDI interface adds.
        for i in 0..96 {
            let jitter = ((i * 7919) % 13) as f64 / 12.0 * 0.0006 - 0.0003;
            last = f.feed(&ev(i as f64 * tick + jitter, MidiMsg::clock()));
        }
        let Some(ClockChange::Tempo(bpm)) = last else {
            panic!("no tempo: {last:?}")
        };
        assert!((bpm - 128.0).abs() < 0.5, "{bpm}");
        assert!((f.position() - 4.0).abs() < 1e-9);
        assert_eq!(f.feed(&ev(5.0, MidiMsg::stop())), Some(ClockChange::Stop));
        assert!(!f.is_running());
        f.feed(&ev(5.1, MidiMsg::song_position(32)));
        assert_eq!(
            f.feed(&ev(5.2, MidiMsg::continue_())),
            Some(ClockChange::Continue(8.0))
        );
        assert_eq!(f.bpm(), None, "a continue starts a fresh window");
    }
}
