//! The message log: engine messages and errors, newest at the bottom.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
    /// A command the user ran, echoed.
    Command,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    pub text: String,
}

pub struct LogPane<'a> {
    pub lines: &'a [LogLine],
    /// Lines scrolled back from the newest.
    pub scroll: usize,
}

impl Widget for LogPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let title = if self.scroll > 0 {
            format!(" log (-{}) ", self.scroll)
        } else {
            " log ".to_string()
        };
        let block = Block::bordered().title(title.bold());
        let rows = block.inner(area).height as usize;
        let end = self.lines.len().saturating_sub(self.scroll);
        let start = end.saturating_sub(rows);
        let shown: Vec<Line> = self.lines[start..end]
            .iter()
            .map(|l| match l.level {
                Level::Info => Line::raw(l.text.as_str()),
                Level::Warn => Line::styled(l.text.as_str(), Style::new().fg(Color::Yellow)),
                Level::Error => Line::styled(l.text.as_str(), Style::new().fg(Color::LightRed)),
                Level::Command => Line::from(vec![
                    Span::raw("> ").dark_gray(),
                    Span::raw(l.text.as_str()).fg(Color::Cyan),
                ]),
            })
            .collect();
        Paragraph::new(shown).block(block).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panes::plain;

    fn line(level: Level, text: &str) -> LogLine {
        LogLine {
            level,
            text: text.into(),
        }
    }

    #[test]
    fn newest_lines_at_the_bottom_and_scrolls_back() {
        let lines = vec![
            line(Level::Info, "one"),
            line(Level::Command, "train steps 30"),
            line(Level::Warn, "three"),
            line(Level::Error, "gen: no model"),
        ];
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 4));
        LogPane {
            lines: &lines,
            scroll: 0,
        }
        .render(buf.area, &mut buf);
        assert_eq!(
            plain(&buf),
            Buffer::with_lines([
                "┌ log ─────────────┐",
                "│three             │",
                "│gen: no model     │",
                "└──────────────────┘",
            ])
        );
        assert_eq!(buf[(1, 2)].fg, Color::LightRed);
        assert_eq!(buf[(1, 1)].fg, Color::Yellow);
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 4));
        LogPane {
            lines: &lines,
            scroll: 2,
        }
        .render(buf.area, &mut buf);
        assert_eq!(
            plain(&buf),
            Buffer::with_lines([
                "┌ log (-2) ────────┐",
                "│one               │",
                "│> train steps 30  │",
                "└──────────────────┘",
            ])
        );
    }
}
