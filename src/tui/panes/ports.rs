//! Where the notes go (connected ports, the virtual port, the built-in synth, recording) and
//! what drives improv from outside (controller maps, an external clock).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

use crate::tui::view::PortsView;

pub struct PortsPane<'a> {
    pub ports: &'a PortsView,
}

pub fn lines(p: &PortsView) -> Vec<Line<'static>> {
    let on_off = |on: bool| {
        if on {
            Span::raw("on").fg(Color::LightGreen)
        } else {
            Span::raw("off").dark_gray()
        }
    };
    let mut synth = vec![Span::raw("synth ").dark_gray(), on_off(p.synth)];
    if let Some(patch) = &p.synth_patch {
        synth.push(Span::raw(format!(" ({patch})")));
    }
    let mut out = vec![Line::from(synth)];
    out.push(Line::from(vec![
        Span::raw("virtual ").dark_gray(),
        match &p.virtual_port {
            Some(name) => Span::raw(name.clone()).fg(Color::LightGreen),
            None => on_off(false),
        },
    ]));
    if p.connected.is_empty() {
        out.push(Line::from(vec![
            Span::raw("to ").dark_gray(),
            Span::raw("no port").dark_gray(),
        ]));
    }
    for c in &p.connected {
        out.push(Line::from(vec![
            Span::raw("to ").dark_gray(),
            Span::raw(c.clone()).fg(Color::LightGreen),
        ]));
    }
    if let Some(r) = &p.recording {
        out.push(Line::from(vec![
            Span::raw("rec ").fg(Color::Red),
            Span::raw(r.clone()),
        ]));
    }
    out.extend(
        p.controls
            .iter()
            .map(|c| Line::from(Span::raw(c.clone()).fg(Color::Cyan))),
    );
    let others: Vec<&String> = p
        .available
        .iter()
        .filter(|a| !p.connected.contains(a))
        .collect();
    if !others.is_empty() {
        out.push(Line::from(Span::raw("ports").dark_gray()));
        out.extend(others.into_iter().map(|a| Line::from(format!(" {a}"))));
    }
    out
}

impl Widget for PortsPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        Paragraph::new(lines(self.ports))
            .block(Block::bordered().title(" output ".bold()))
            .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panes::plain;

    #[test]
    fn lists_sinks_and_free_ports() {
        let ports = PortsView {
            available: vec!["Midi Through:0".into(), "fluid:0".into()],
            connected: vec!["fluid:0".into()],
            virtual_port: None,
            synth: true,
            synth_patch: Some("piano".into()),
            recording: Some("take1.mid".into()),
            controls: vec!["cc 74 -> latent 3".into()],
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 22, 9));
        PortsPane { ports: &ports }.render(buf.area, &mut buf);
        assert_eq!(
            plain(&buf),
            Buffer::with_lines([
                "┌ output ────────────┐",
                "│synth on (piano)    │",
                "│virtual off         │",
                "│to fluid:0          │",
                "│rec take1.mid       │",
                "│cc 74 -> latent 3   │",
                "│ports               │",
                "│ Midi Through:0     │",
                "└────────────────────┘",
            ])
        );
        assert_eq!(buf[(7, 1)].fg, Color::LightGreen);
        assert_eq!(buf[(1, 5)].fg, Color::Cyan);
    }
}
