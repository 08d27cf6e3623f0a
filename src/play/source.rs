//! Producers of notes for the player: a `NoteSource` trait, the source for a whole `NoteSeq`, and
//! the feeder thread that keeps the scheduler's queue filled ahead of the playhead.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::music::NoteSeq;

use super::schedule::Item;

/// Anything that can say which notes come next: a file, a generator, a pattern.
pub trait NoteSource: Send {
    /// Appends the items that start before `until` (beats) not given before, in beat order.
    /// Returns true once the source has nothing more (it has appended an `Item::End`).
    fn fill(&mut self, until: f64, out: &mut Vec<Item>) -> bool;
    /// Length of a bar in beats, the least the feeder stays ahead.
    fn bar_beats(&self) -> f64 {
        4.0
    }
    /// How far ahead of the playhead the feeder hands items over, in seconds. `None` (the
    /// default): the player's lookahead in beats, at least a bar. A live generator answers a
    /// short horizon, so that what it has not handed over yet it can still change.
    fn horizon_secs(&self) -> Option<f64> {
        None
    }
    /// Called by the feeder when it has nothing to hand over, with the playhead in beats:
    /// a chance to work ahead (generate) in small steps. True when there is more to do now.
    fn prepare(&mut self, _playhead: f64) -> bool {
        false
    }
}

/// Plays a whole `NoteSeq` once, with its tempo changes.
pub struct SeqSource {
    seq: NoteSeq,
    next_note: usize,
    next_tempo: usize,
    ended: bool,
}

impl SeqSource {
    pub fn new(mut seq: NoteSeq) -> Self {
        seq.sort();
        SeqSource {
            seq,
            next_note: 0,
            next_tempo: 0,
            ended: false,
        }
    }
}

impl NoteSource for SeqSource {
    fn fill(&mut self, until: f64, out: &mut Vec<Item>) -> bool {
        let changes = self.seq.tempo.changes();
        while let Some(c) = changes.get(self.next_tempo).filter(|c| c.beat < until) {
            out.push(Item::Tempo {
                beat: c.beat,
                bpm: c.bpm(),
            });
            self.next_tempo += 1;
        }
        while let Some(n) = self
            .seq
            .notes
            .get(self.next_note)
            .filter(|n| n.start < until)
        {
            out.push(Item::Note(*n));
            self.next_note += 1;
        }
        if !self.ended && self.next_note == self.seq.notes.len() && self.seq.end < until {
            out.push(Item::End { beat: self.seq.end });
            self.ended = true;
        }
        self.ended
    }

    fn bar_beats(&self) -> f64 {
        self.seq.time_sig_at(0.0).bar_beats()
    }
}

/// The shared position and tempo the feeder reads and the stop flag it obeys.
pub(crate) struct FeedState {
    pub beat: Arc<AtomicU64>,
    pub bpm: Arc<AtomicU64>,
    /// Tempo until the scheduler publishes one.
    pub start_bpm: f64,
    pub quit: Arc<AtomicBool>,
}

impl FeedState {
    /// Beats the feeder stays ahead for `source`.
    fn ahead(&self, source: &dyn NoteSource, lookahead: f64) -> f64 {
        match source.horizon_secs() {
            Some(h) => {
                let bpm = f64::from_bits(self.bpm.load(Ordering::Relaxed));
                let bpm = if bpm > 0.0 { bpm } else { self.start_bpm };
                h * bpm / 60.0
            }
            None => lookahead.max(source.bar_beats()),
        }
    }
}

/// Moves items from `buf` into the ring while there is room; false when the ring is full.
fn drain(buf: &mut Vec<Item>, sent: &mut usize, tx: &mut rtrb::Producer<Item>) -> bool {
    while let Some(item) = buf.get(*sent) {
        if tx.push(*item).is_err() {
            return false;
        }
        *sent += 1;
    }
    buf.clear();
    *sent = 0;
    true
}

/// Fills the first window now (so the first notes are queued before playback starts), then keeps
/// the queue `lookahead` beats (at least one bar; or the source's own horizon) ahead of the
/// playhead on a thread of its own.
pub(crate) fn spawn_feeder(
    mut source: Box<dyn NoteSource>,
    mut tx: rtrb::Producer<Item>,
    lookahead: f64,
    state: FeedState,
) -> std::io::Result<JoinHandle<()>> {
    let ahead = state.ahead(&*source, lookahead);
    let mut buf = Vec::new();
    let mut sent = 0;
    let mut ended = source.fill(ahead, &mut buf);
    drain(&mut buf, &mut sent, &mut tx);
    std::thread::Builder::new()
        .name("improv-feeder".into())
        .spawn(move || {
            let mut until = ahead;
            loop {
                if state.quit.load(Ordering::Relaxed) {
                    break;
                }
                if drain(&mut buf, &mut sent, &mut tx) {
                    if ended {
                        break;
                    }
                    let pos = f64::from_bits(state.beat.load(Ordering::Relaxed));
                    let ahead = state.ahead(&*source, lookahead);
                    if pos + ahead > until {
                        until = pos + ahead;
                        ended = source.fill(until, &mut buf);
                        continue;
                    }
                    if source.prepare(pos) {
                        continue;
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::midi::read_file;

    #[test]
    fn seq_source_gives_each_note_once_in_windows() {
        let path = crate::paths::bundled_corpus().join("folk/oneills1850");
        let file = std::fs::read_dir(&path)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "mid"))
            .min()
            .unwrap();
        let seq = read_file(&file).unwrap().seq;
        let total = seq.notes.len();
        let mut src = SeqSource::new(seq.clone());
        let mut out = Vec::new();
        let mut until = 0.0;
        while !src.fill(until, &mut out) {
            until += 4.0;
        }
        let notes: Vec<_> = out
            .iter()
            .filter_map(|i| match i {
                Item::Note(n) => Some(*n),
                _ => None,
            })
            .collect();
        assert_eq!(notes.len(), total);
        assert!(notes.windows(2).all(|w| w[0].start <= w[1].start));
        assert!(matches!(out.last(), Some(Item::End { .. })));
        assert!(matches!(out.first(), Some(Item::Tempo { beat, .. }) if *beat == 0.0));
        // Asking again gives nothing new.
        let before = out.len();
        assert!(src.fill(until + 100.0, &mut out));
        assert_eq!(out.len(), before);
    }
}
