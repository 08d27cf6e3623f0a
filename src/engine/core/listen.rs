//! Call and response: `input PORT` chooses the MIDI input a performer plays into; `listen BARS`
//! captures a phrase there on a worker thread (from its first note, for BARS bars at the current
//! tempo), encodes it to the latent and keeps it as the primer, so the next `gen` or `play`
//! answers it.

use crossbeam_channel::bounded;

use crate::generate::latent::encode_mean;
use crate::music::NoteSeq;
use crate::play::capture::capture;
use crate::play::midi_port::{find_port, input_ports};
use crate::play::{MidiIn, Quantize};

use super::{Block, Core, JobResult};

/// How long `listen` waits for the first note before it gives up.
const WAIT_SECS: f64 = 60.0;

impl Core {
    /// `input PORT`: checks the port exists now and remembers its full name.
    pub(super) fn input(&mut self, wanted: &str) -> Result<(), String> {
        let names = input_ports().map_err(|e| format!("input: {e}"))?;
        let i = find_port(&names, wanted, "input").map_err(|e| format!("input: {e}"))?;
        self.log(format!("input: listening for phrases on {}", names[i]));
        self.input_port = Some(names[i].clone());
        // The controller maps listen there too.
        self.sync_control_input().map_err(|e| format!("input: {e}"))
    }

    /// `listen BARS`: starts the capture; the queue waits for it.
    pub(super) fn listen(&mut self, bars: u32) -> Result<Block, String> {
        if self.models.model.is_none() {
            return Err("listen: no model to answer (model new KIND, or model load PATH)".into());
        }
        let port = self
            .input_port
            .clone()
            .ok_or("listen: no input port (input PORT; `ports` lists them)")?;
        if bars == 0 {
            return Err("listen: BARS must be at least 1".into());
        }
        let beats = bars as f64 * self.play.bar_beats();
        let bpm = self.play.bpm();
        let clock = self.opts.clock.clone();
        self.log(format!(
            "listen: play {bars} bars on {port} at {bpm:.0} BPM (waiting up to {WAIT_SECS:.0} s for the first note)"
        ));
        let (tx, rx) = bounded(1);
        std::thread::Builder::new()
            .name("improv-listen".into())
            .spawn(move || {
                let r = MidiIn::connect(&port, clock.clone())
                    .map_err(|e| format!("listen: {e}"))
                    .and_then(|mut input| {
                        capture(&mut input, &clock, beats, bpm, WAIT_SECS)
                            .map_err(|e| format!("listen: {e}"))
                    });
                let _ = tx.send(JobResult::Phrase(r));
            })
            .map_err(|e| format!("listen: cannot start a thread: {e}"))?;
        Ok(Block::Job(rx))
    }

    /// The captured phrase becomes the latent and the primer of the answer.
    pub(super) fn phrase_captured(&mut self, r: Result<NoteSeq, String>) -> Result<(), String> {
        let seq = r?;
        let m = self
            .models
            .model
            .as_ref()
            .ok_or("listen: the model was unloaded while listening")?;
        let tokens = m
            .meta
            .tokenizer
            .build()
            .encode(&seq, None)
            .map_err(|e| format!("listen: the phrase: {e}"))?;
        let ids = m.meta.vocab.encode(&tokens).0;
        let z = encode_mean(&m.model, &ids, m.meta.model.window)
            .ok_or("listen: the phrase has too few notes the model knows")?;
        let from = ids.len().saturating_sub(m.meta.model.window);
        self.models.phrase = Some(ids[from..].to_vec());
        self.models.latent = z;
        self.log(format!(
            "listen: heard {} notes; the latent is the phrase's, `gen` or `play` answers it",
            seq.notes.len()
        ));
        self.models.piece = Some(seq);
        if self.live.is_some() {
            self.sync_live(Quantize::Now)?;
        }
        Ok(())
    }
}
