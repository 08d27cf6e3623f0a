//! MIDI output ports: listing, connecting by name (for everything or for layers alone), the
//! virtual port, and noticing a connected port whose program has gone.

use std::time::Instant;

use crossbeam_channel::Sender;

use super::super::super::event::Event;
use super::super::super::snapshot::PortList;
use super::{send_log, PlayState, PORT_LOOK};
use crate::play::midi_port::{input_ports, output_ports, PortWatch};
use crate::play::{MidiPortSink, Sink};

impl PlayState {
    /// Connected ports whose program has gone (looked at once a second): dropped from the
    /// player, which plays on to the other sinks.
    pub(super) fn vanished_ports(&mut self) -> Vec<String> {
        if self.port_names.is_empty() || self.last_port_look.elapsed() < PORT_LOOK {
            return Vec::new();
        }
        self.last_port_look = Instant::now();
        if self.port_watch.is_none() {
            self.port_watch = PortWatch::new().ok();
        }
        let Some(w) = &self.port_watch else {
            return Vec::new();
        };
        let gone = w.gone(self.port_names.iter().map(String::as_str));
        for name in &gone {
            self.remove(name);
        }
        gone
    }

    pub fn ports(&mut self, events: &Sender<Event>) -> Result<(), String> {
        let outputs = output_ports().map_err(|e| format!("ports: {e}"))?;
        let inputs = input_ports().map_err(|e| format!("ports: {e}"))?;
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        send_log(
            events,
            format!("outputs: {}\ninputs: {}", list(&outputs), list(&inputs)),
        );
        self.ports = PortList { outputs, inputs };
        Ok(())
    }

    pub fn connect(&mut self, port: &str, events: &Sender<Event>) -> Result<(), String> {
        let sink =
            MidiPortSink::connect(port, self.clock_out).map_err(|e| format!("connect: {e}"))?;
        let name = sink.name().to_string();
        if self.entries.iter().any(|e| e.name == name) {
            return Err(format!("connect: already playing to {name}"));
        }
        self.add(Box::new(sink))?;
        self.port_names.push(name.clone());
        send_log(events, format!("connected to {name}"));
        Ok(())
    }

    pub fn disconnect(&mut self, port: &str, events: &Sender<Event>) -> Result<(), String> {
        let wanted = port.to_ascii_lowercase();
        let name = self
            .entries
            .iter()
            .map(|e| e.name.clone())
            .find(|n| n.to_ascii_lowercase().contains(&wanted))
            .ok_or_else(|| format!("disconnect: not playing to a port called {port}"))?;
        self.remove(&name);
        self.virtual_on &= !name.ends_with("(virtual)");
        send_log(events, format!("disconnected {name}"));
        Ok(())
    }

    /// The channels sink `name` gets: every channel but those routed to other sinks; a sink
    /// opened for layers alone, only the channels routed to it.
    pub(super) fn mask_of(&self, name: &str) -> u16 {
        let bit = |m: u16, (_, c): &(String, u8)| m | (1 << (c & 0x0f));
        let routed = self.routes.iter().fold(0, bit);
        let mine = self.routes.iter().filter(|(n, _)| n == name).fold(0, bit);
        if self.layer_only.iter().any(|n| n == name) {
            mine
        } else {
            !routed | mine
        }
    }

    /// Plays each (sink, channel) channel only to that sink, from now on.
    pub fn set_routes(&mut self, routes: Vec<(String, u8)>) {
        self.routes = routes;
        let masks: Vec<(usize, u16)> = self.player.as_ref().map_or(Vec::new(), |p| {
            p.sinks()
                .iter()
                .map(|s| (s.id, self.mask_of(&s.name)))
                .collect()
        });
        if let Some(p) = self.player.as_mut() {
            for (id, mask) in masks {
                p.set_channels(id, mask);
            }
        }
    }

    /// The sink a layer's `port` means: one playing already (its name or part of it), else the
    /// output port `port`, connected for layers alone.
    pub fn layer_port(&mut self, port: &str, events: &Sender<Event>) -> Result<String, String> {
        let wanted = port.to_ascii_lowercase();
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.name.to_ascii_lowercase().contains(&wanted))
        {
            return Ok(e.name.clone());
        }
        let sink =
            MidiPortSink::connect(port, self.clock_out).map_err(|e| format!("port {port}: {e}"))?;
        let name = sink.name().to_string();
        self.layer_only.push(name.clone());
        self.add(Box::new(sink))?;
        self.port_names.push(name.clone());
        send_log(events, format!("connected to {name} for layers"));
        Ok(name)
    }

    /// Whether sink `name` was opened for layers alone (sessions leave it to the layers).
    pub fn is_layer_only(&self, name: &str) -> bool {
        self.layer_only.iter().any(|n| n == name)
    }

    pub fn virtual_port(&mut self, events: &Sender<Event>) -> Result<(), String> {
        if self.virtual_on {
            return Err("virtual: the virtual port is already open".into());
        }
        let sink = MidiPortSink::virtual_port("improv", self.clock_out)
            .map_err(|e| format!("virtual: {e}"))?;
        let name = sink.name().to_string();
        self.add(Box::new(sink))?;
        self.virtual_on = true;
        send_log(events, format!("virtual port {name} open"));
        Ok(())
    }
}
