//! What the mixer has handed over, kept for a while, and the loops it repeats from it.

use std::collections::VecDeque;

use super::schedule::Item;

/// The notes handed over (with the id of the voice that played them), the last `keep` beats.
pub(super) struct Played {
    keep: f64,
    items: VecDeque<(u64, Item)>,
}

impl Played {
    pub(super) fn new(keep: f64) -> Played {
        Played {
            keep,
            items: VecDeque::new(),
        }
    }

    pub(super) fn push(&mut self, voice: u64, item: Item) {
        if matches!(item, Item::Note(_) | Item::Voiced(_)) {
            self.items.push_back((voice, item));
        }
    }

    /// Forgets what lies more than `keep` beats before `beat`.
    pub(super) fn forget_before(&mut self, beat: f64) {
        let cut = beat - self.keep;
        while self.items.front().is_some_and(|(_, i)| i.beat() < cut) {
            self.items.pop_front();
        }
    }

    /// The loop of the notes that started from `from` to `to`, repeated from `to` on. A note
    /// that sounds past `to` is cut there, so that no repeat overlaps the next.
    pub(super) fn take_loop(&self, from: f64, to: f64, bars: u32) -> Loop {
        let mut items: Vec<(u64, Item)> = self
            .items
            .iter()
            .filter(|(_, i)| (from..to).contains(&i.beat()))
            .map(|&(v, i)| {
                let relative = i.map_note(|mut n| {
                    n.duration = n.duration.min(to - n.start);
                    n.start -= from;
                    n
                });
                (v, relative)
            })
            .collect();
        items.sort_by(|a, b| a.1.beat().total_cmp(&b.1.beat()));
        Loop {
            bars,
            start: to,
            len: to - from,
            items,
        }
    }
}

/// A loop: `items` (onsets relative to the loop's start) repeated every `len` beats from the
/// mixer's beat `start` on.
pub(super) struct Loop {
    pub bars: u32,
    start: f64,
    len: f64,
    items: Vec<(u64, Item)>,
}

impl Loop {
    /// The repeated notes whose onsets fall from `from` to `to` (mixer beats), in order.
    pub(super) fn repeats(&self, from: f64, to: f64) -> Vec<(u64, Item)> {
        let mut out = Vec::new();
        if self.items.is_empty() || to <= from {
            return out;
        }
        let first = ((from - self.start) / self.len).floor().max(0.0) as u64;
        let last = ((to - self.start) / self.len).ceil().max(0.0) as u64;
        for k in first..=last {
            let base = self.start + k as f64 * self.len;
            for &(v, i) in &self.items {
                let i = i.map_note(|mut n| {
                    n.start += base;
                    n
                });
                if (from..to).contains(&i.beat()) {
                    out.push((v, i));
                }
            }
        }
        out
    }
}
