//! Commands to what runs them: long ones (loading, generating, `wait`, scripts, sessions) hold
//! the queue until their job ends, the rest run at once.

use super::super::command::*;
use super::super::event::CommandId;
use super::super::grammar;
use super::{live, resolve_input, Block, Core, Item, Wait};

impl Core {
    /// Runs `command`; a live control reaches the playing stream quantized by `q` (`at bar|beat`).
    pub(super) fn execute(
        &mut self,
        id: CommandId,
        command: Command,
        script: Option<(CommandId, String)>,
        q: crate::play::Quantize,
    ) {
        // Commands that finish later block the queue and answer from `poll_blocker`.
        let result: Result<Option<(String, Block)>, String> = match command {
            Command::LoadCorpus { path } => self
                .load_corpus(resolve_input(path))
                .map(|b| Some(("load corpus".into(), b))),
            Command::ModelLoad { path } => self
                .load_model(resolve_input(path))
                .map(|b| Some(("model load".into(), b))),
            Command::Gen(g) => self.generate(g).map(|b| Some(("gen".into(), b))),
            Command::Listen(bars) => self.listen(bars).map(|b| Some(("listen".into(), b))),
            Command::Latent(
                l @ (LatentCmd::Add { .. } | LatentCmd::Interp { .. } | LatentCmd::Walk { .. }),
            ) => self.steer(l).and_then(|b| match b {
                Some(b) => Ok(Some(("latent add".into(), b))),
                None => self.sync_live(q).map(|()| None),
            }),
            Command::Play if self.can_stream() => self.start_streaming().map(|()| None),
            Command::Play | Command::PlayPiece => match self.models.piece.is_none() {
                true => {
                    // Generate first, then come back to `play`.
                    let gen_id = self.internal_id();
                    self.queue.push_front(Item::Command {
                        id,
                        command: Command::PlayPiece,
                        script: script.clone(),
                    });
                    let g = GenCmd {
                        bars: Some(8),
                        ..GenCmd::default()
                    };
                    match self.generate(g) {
                        Ok(b) => {
                            self.block(gen_id, "gen", b, script.clone());
                            return;
                        }
                        Err(e) => {
                            self.queue.pop_front();
                            Err(format!("play: {e}"))
                        }
                    }
                }
                false => self.start_playing().map(|()| None),
            },
            Command::Wait(w) => Ok(Some(match w {
                Wait::Train => ("wait train".into(), Block::WaitTrain),
                Wait::Jobs => ("wait jobs".into(), Block::WaitJobs),
                Wait::Bars(n) => {
                    let beat = self.play.position() + n as f64 * self.play.bar_beats();
                    ("wait bars".into(), Block::WaitBeat(beat))
                }
            })),
            Command::At { quantum, command } => {
                if self.streaming() && live::is_live_control(&command) {
                    // The stream itself places the change on its bar line or beat.
                    self.execute(id, *command, script, live::quantize_of(quantum));
                    return;
                }
                if self.play.is_playing() {
                    let beat = self.play.next_boundary(quantum);
                    self.quantized.push((
                        beat,
                        Item::Command {
                            id,
                            command: *command,
                            script,
                        },
                    ));
                    return;
                }
                self.queue.push_front(Item::Command {
                    id,
                    command: *command,
                    script,
                });
                return;
            }
            Command::Session(SessionCmd::Load(name)) => match self.load_session(id, &name) {
                // Done comes when the restore has been applied.
                Ok(()) => return,
                Err(e) => Err(e),
            },
            Command::Run(path) => {
                let parent = script.as_ref().map(|s| s.0);
                match self.run_script(id, parent, &resolve_input(path)) {
                    // Done comes with the script's end marker.
                    Ok(()) => return,
                    Err(e) => Err(e),
                }
            }
            other => {
                let live = live::is_live_control(&other);
                self.execute_now(other)
                    .and_then(|()| match live {
                        true => self.sync_live(q),
                        false => Ok(()),
                    })
                    .map(|()| None)
            }
        };
        match result {
            Ok(Some((what, block))) => self.block(id, &what, block, script),
            Ok(None) => self.done(id, Ok(()), script),
            Err(e) => self.done(id, Err(e), script),
        }
    }

    /// Commands that finish at once.
    pub(super) fn execute_now(&mut self, command: Command) -> Result<(), String> {
        match command {
            Command::CorpusStats => self.corpus_stats(),
            Command::ModelNew { kind, preset } => self.new_model(kind, preset),
            Command::ModelSave { path } => self.save_model(&path),
            Command::Train(t) => self.train(t),
            Command::Stop => {
                self.live = None;
                self.play.stop(&self.events)
            }
            Command::Panic => {
                self.play.panic()?;
                // A stream would go on forever: panic ends it too.
                if self.live.take().is_some() {
                    self.play.stop(&self.events)?;
                }
                Ok(())
            }
            Command::Tempo(bpm) => {
                self.play.set_tempo(bpm);
                Ok(())
            }
            Command::Tap => self.play.tap(&self.events),
            Command::Swing(s) => self.play.edit(|p| p.swing = s),
            Command::Transpose(t) => self.play.edit(|p| p.transpose = t),
            Command::Channel(c) => self.play.edit(|p| p.channel = c),
            Command::Program(prog) => self.play.edit(|p| p.program = prog),
            Command::Scale(s) => self.play.edit(|p| p.scale = s),
            Command::Temperature(t) => {
                self.sampling.temperature = t;
                Ok(())
            }
            Command::TopK(k) => {
                self.sampling.top_k = k;
                Ok(())
            }
            Command::TopP(p) => {
                self.sampling.top_p = p;
                Ok(())
            }
            Command::Seed(s) => {
                self.sampling.seed = s;
                Ok(())
            }
            Command::Style(s) => {
                self.set_style(s)?;
                if self.streaming() {
                    self.log("style: primes the next `play` or `gen`; the stream plays on");
                }
                Ok(())
            }
            Command::Latent(l) => self.latent(l),
            Command::Ports => self.play.ports(&self.events),
            Command::Connect(port) => self
                .play
                .connect(&port, &self.events)
                .map(|()| self.note_outputs()),
            Command::Disconnect(port) => self
                .play
                .disconnect(&port, &self.events)
                .map(|()| self.note_outputs()),
            Command::Virtual => self.play.virtual_port(&self.events),
            Command::Synth(s) => self.play.synth(s, &self.events),
            Command::Latency { sink, ms } => self.play.latency(&sink, ms),
            Command::Record(r) => self.record(r),
            Command::Clock(ClockCmd::Out(on)) => self.play.clock_out(on, &self.events),
            Command::Watch(path) => self.watch(path.map(resolve_input)),
            Command::Session(SessionCmd::Save(name)) => self.save_session(&name),
            Command::Help(topic) => grammar::help_text(topic.as_deref()).map(|t| self.log(t)),
            Command::Quit => {
                self.quit = true;
                Ok(())
            }
            Command::Preset(p) => self.preset(p),
            Command::Input(port) => self.input(&port),
            Command::Map(m) => self.map(m),
            Command::Clock(ClockCmd::In(port)) => self.clock_in(port),
            Command::Loop(bars) => self.set_loop(Some(bars)),
            Command::Unloop => self.set_loop(None),
            Command::Layer(l) => self.layer(l).map(|()| self.note_outputs()),
            Command::Mute(name) => self.mute(&name, true),
            Command::Unmute(name) => self.mute(&name, false),
            // Handled by `execute`.
            Command::LoadCorpus { .. }
            | Command::ModelLoad { .. }
            | Command::Gen(_)
            | Command::Listen(_)
            | Command::Play
            | Command::PlayPiece
            | Command::Wait(_)
            | Command::At { .. }
            | Command::Session(SessionCmd::Load(_))
            | Command::Run(_) => Err("internal: command routed wrongly".into()),
        }
    }
}
