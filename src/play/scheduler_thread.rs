//! The scheduler thread's loop: commands, live parameters and new items in; due messages out to
//! every sink at their deadlines; then sleep to the next deadline.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Command, Shared, Slot, IDLE_WAKE};
use crate::play::clock::Clock;
use crate::play::msg::{MidiMsg, CC_ALL_NOTES_OFF, CC_ALL_SOUND_OFF};
use crate::play::rt::{make_current_thread_realtime, rt_section, RtStatus};
use crate::play::schedule::{Item, Schedule, ScheduleStats, Timed};
use crate::play::sink::{Sink, SinkError};

/// Everything the scheduler thread owns.
pub(super) struct Thread {
    pub(super) shared: Arc<Shared>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) schedule: Schedule,
    pub(super) cmd: rtrb::Consumer<Command>,
    pub(super) items: rtrb::Consumer<Item>,
    pub(super) trash: rtrb::Producer<Box<Slot>>,
    // Boxed so a slot arrives and leaves as a pointer: unboxing it here would free the box on
    // this thread.
    #[allow(clippy::vec_box)]
    pub(super) slots: Vec<Box<Slot>>,
    pub(super) realtime: Option<i32>,
}

impl Thread {
    pub(super) fn run(mut self) -> Vec<Box<dyn Sink>> {
        let rt = match self.realtime {
            Some(p) => make_current_thread_realtime(p),
            None => RtStatus::NotAsked,
        };
        self.shared.rt.store(rt.pack(), Ordering::Relaxed);
        let mut params = self.shared.params.snapshot();
        self.schedule.set_params(self.clock.now(), params);
        let mut quitting = false;
        loop {
            let now = self.clock.now();
            while let Ok(c) = self.cmd.pop() {
                quitting |= self.command(c, now);
            }
            let p = self.shared.params.snapshot();
            if p != params {
                self.schedule.set_params(now, p);
                params = p;
            }
            while self.schedule.room() > 0 {
                let Ok(item) = self.items.pop() else { break };
                let _ = self.schedule.push(item);
            }
            self.dispatch_checked();
            if self.schedule.is_done() && self.schedule.is_playing() {
                // The source is over: stop the transport, so clock followers stop too.
                self.schedule.stop(self.clock.now());
                self.dispatch_checked();
            }
            self.publish();
            if quitting && self.slots.iter().all(|s| s.queue.is_empty()) {
                break;
            }
            let now = self.clock.now();
            let mut next = now + IDLE_WAKE;
            if let Some(t) = self.schedule.next_time() {
                next = next.min(t);
            }
            for s in &self.slots {
                if let Some((due, _)) = s.queue.front() {
                    next = next.min(*due);
                }
            }
            self.clock.sleep_until(next);
        }
        self.slots.drain(..).map(|s| s.sink).collect()
    }

    /// In debug builds, proves the steady-state path allocates nothing (where the test binary
    /// installs `assert_no_alloc`'s allocator).
    fn dispatch_checked(&mut self) {
        rt_section(|| self.dispatch());
    }

    fn dispatch(&mut self) {
        let now = self.clock.now();
        while let Some(ev) = self.schedule.poll(now) {
            self.route(ev);
        }
        for i in 0..self.slots.len() {
            while let Some(&(due, msg)) = self.slots[i].queue.front() {
                if due > self.clock.now() {
                    break;
                }
                self.slots[i].queue.pop_front();
                self.deliver(i, msg, due);
            }
        }
    }

    fn route(&mut self, ev: Timed) {
        let clock_msg = ev.msg.status() >= 0xf0;
        for i in 0..self.slots.len() {
            let s = &mut self.slots[i];
            if clock_msg && !s.clock {
                continue;
            }
            // Note-offs pass every mask: a note that began before the routing changed still ends.
            let masked = ev.msg.channel().is_some_and(|c| s.channels & (1 << c) == 0);
            if masked && ev.msg.as_note_off().is_none() {
                continue;
            }
            let due = ev.at + s.delay;
            if s.queue.is_empty() && due <= self.clock.now() {
                self.deliver(i, ev.msg, due);
            } else if s.queue.len() < s.queue.capacity() {
                s.queue.push_back((due, ev.msg));
            } else {
                s.stats.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn deliver(&mut self, i: usize, msg: MidiMsg, due: f64) {
        let s = &mut self.slots[i];
        if s.stats.gone.load(Ordering::Relaxed) {
            return;
        }
        let sent_at = self.clock.now();
        let r = s.sink.send(msg, due);
        s.stats.record(((sent_at - due) * 1e9) as i64, r.is_ok());
        if r == Err(SinkError::Gone) {
            s.stats.gone.store(true, Ordering::Relaxed);
        }
    }

    fn recompute_delays(&mut self) {
        let max = self.slots.iter().map(|s| s.latency).fold(0.0, f64::max);
        for s in &mut self.slots {
            s.delay = max - s.latency;
        }
    }

    /// Applies a command; true for Quit.
    fn command(&mut self, c: Command, now: f64) -> bool {
        match c {
            Command::Start => self.schedule.start(now, 0.0),
            Command::Pause => self.schedule.pause(now),
            Command::Resume => self.schedule.resume(now),
            Command::Stop => self.schedule.stop(now),
            Command::Panic => self.panic(now),
            Command::AddSink(slot) => {
                self.slots.push(slot);
                self.recompute_delays();
            }
            Command::RemoveSink(id) => {
                if let Some(i) = self.slots.iter().position(|s| s.id == id) {
                    let slot = self.slots.remove(i);
                    // Dropped on the control side: closing a port is no job for this thread.
                    let _ = self.trash.push(slot);
                    self.recompute_delays();
                }
            }
            Command::SetChannels(id, channels) => {
                if let Some(s) = self.slots.iter_mut().find(|s| s.id == id) {
                    s.channels = channels;
                }
            }
            Command::SetLatency(id, latency) => {
                if let Some(s) = self.slots.iter_mut().find(|s| s.id == id) {
                    s.latency = latency;
                }
                self.recompute_delays();
            }
            Command::Quit => {
                self.schedule.stop(now);
                self.dispatch();
                return true;
            }
        }
        false
    }

    fn panic(&mut self, now: f64) {
        self.schedule.release_all(now);
        self.dispatch();
        for i in 0..self.slots.len() {
            // Whatever waits in a delay queue goes now, but no new note starts after a panic.
            while let Some((due, msg)) = self.slots[i].queue.pop_front() {
                if msg.as_note_on().is_none() {
                    self.deliver(i, msg, due);
                }
            }
            for ch in 0..16 {
                self.deliver(i, MidiMsg::control(ch, CC_ALL_NOTES_OFF, 0), now);
                self.deliver(i, MidiMsg::control(ch, CC_ALL_SOUND_OFF, 0), now);
            }
        }
    }

    fn publish(&self) {
        let now = self.clock.now();
        let sh = &self.shared;
        sh.beat
            .store(self.schedule.beat_at(now).to_bits(), Ordering::Relaxed);
        sh.bpm
            .store(self.schedule.bpm().to_bits(), Ordering::Relaxed);
        sh.playing
            .store(self.schedule.is_playing(), Ordering::Relaxed);
        sh.done.store(self.schedule.is_done(), Ordering::Relaxed);
        let ScheduleStats {
            notes,
            dropped_late,
            dropped_range,
            refused,
            stolen: _,
        } = self.schedule.stats();
        sh.notes.store(notes, Ordering::Relaxed);
        sh.dropped
            .store(dropped_late + dropped_range + refused, Ordering::Relaxed);
    }
}
