//! Transport and sampling: tempo, bar:beat, playing or not, temperature/top-k/top-p/seed/style,
//! and which training step's weights the generator plays; the corpus and model on a second line.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use crate::tui::view::View;

pub struct TransportPane<'a> {
    pub view: &'a View,
}

fn field(name: &'static str, value: String) -> [Span<'static>; 2] {
    [Span::raw(name).dark_gray(), Span::raw(value + "  ")]
}

pub fn lines(view: &View) -> Vec<Line<'static>> {
    let t = &view.transport;
    let (bar, beat) = t.bar_beat();
    let state = if t.playing {
        Span::raw("▶ playing  ").fg(Color::LightGreen).bold()
    } else {
        Span::raw("■ stopped  ").fg(Color::Red)
    };
    let mut first = vec![state];
    first.extend(field("tempo ", format!("{:.1}", t.bpm)));
    first.extend(field("at ", format!("{bar}:{beat}")));
    if t.swing != 0.0 {
        first.extend(field("swing ", format!("{:.2}", t.swing)));
    }
    if t.transpose != 0 {
        first.extend(field("transpose ", format!("{:+}", t.transpose)));
    }
    first.extend(field(
        "weights ",
        match t.weights_step {
            Some(s) => format!("step {s}"),
            None => "as loaded".into(),
        },
    ));
    if let Some(b) = t.loop_bars {
        first.push(Span::raw(format!("loop {b} bars  ")).fg(Color::LightYellow));
    }
    let mut second = Vec::new();
    second.extend(field("temperature ", format!("{:.2}", t.temperature)));
    second.extend(field(
        "top-k ",
        t.top_k.map_or("off".into(), |k| k.to_string()),
    ));
    second.extend(field(
        "top-p ",
        t.top_p.map_or("off".into(), |p| format!("{p:.2}")),
    ));
    second.extend(field(
        "seed ",
        t.seed.map_or("random".into(), |s| s.to_string()),
    ));
    second.extend(field(
        "style ",
        t.style.clone().unwrap_or_else(|| "none".into()),
    ));
    let mut third = Vec::new();
    third.extend(field(
        "corpus ",
        view.corpus.clone().unwrap_or_else(|| "none".into()),
    ));
    third.extend(field(
        "model ",
        view.model.clone().unwrap_or_else(|| "none".into()),
    ));
    if !t.layers.is_empty() {
        third.extend(field("layers ", t.layers.join(" ")));
    }
    vec![Line::from(first), Line::from(second), Line::from(third)]
}

impl Widget for TransportPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        Paragraph::new(lines(self.view))
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" transport ".bold()))
            .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panes::plain;
    use crate::tui::view::TransportView;

    #[test]
    fn shows_position_state_and_settings() {
        let view = View {
            corpus: Some("data/ 3 files".into()),
            model: Some("vae-lstm tiny".into()),
            transport: TransportView {
                bpm: 96.0,
                beat: 9.5,
                playing: true,
                temperature: 0.8,
                top_k: Some(20),
                seed: Some(7),
                weights_step: Some(30),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 72, 5));
        TransportPane { view: &view }.render(buf.area, &mut buf);
        assert_eq!(
            plain(&buf),
            Buffer::with_lines([
                "┌ transport ───────────────────────────────────────────────────────────┐",
                "│▶ playing  tempo 96.0  at 3:2  weights step 30                        │",
                "│temperature 0.80  top-k 20  top-p off  seed 7  style none             │",
                "│corpus data/ 3 files  model vae-lstm tiny                             │",
                "└──────────────────────────────────────────────────────────────────────┘",
            ])
        );
        assert_eq!(buf[(1, 1)].fg, Color::LightGreen);
    }

    #[test]
    fn shows_the_loop_and_the_layers() {
        let view = View {
            transport: TransportView {
                beat: 4.0,
                playing: true,
                loop_bars: Some(4),
                layers: vec!["main:m".into(), "bass:3".into(), "lead:5:m".into()],
                ..Default::default()
            },
            ..Default::default()
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 80, 5));
        TransportPane { view: &view }.render(buf.area, &mut buf);
        assert_eq!(
            plain(&buf),
            Buffer::with_lines([
                "┌ transport ───────────────────────────────────────────────────────────────────┐",
                "│▶ playing  tempo 120.0  at 2:1  weights as loaded  loop 4 bars                │",
                "│temperature 1.00  top-k off  top-p off  seed random  style none               │",
                "│corpus none  model none  layers main:m bass:3 lead:5:m                        │",
                "└──────────────────────────────────────────────────────────────────────────────┘",
            ])
        );
    }
}
