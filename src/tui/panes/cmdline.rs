//! The command line pane: prompt, input with the cursor, the parse error pointing at its column,
//! and the completion candidates.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

use crate::tui::cmdline::CommandLine;

pub struct CmdlinePane<'a> {
    pub line: &'a CommandLine,
    pub focused: bool,
}

pub const PROMPT: &str = "> ";

impl CmdlinePane<'_> {
    /// Where the terminal cursor goes inside `area` (None when not focused).
    pub fn cursor(&self, area: Rect) -> Option<Position> {
        if !self.focused || area.height < 3 || area.width < 3 {
            return None;
        }
        let col = self.line.input[..self.line.cursor].chars().count() + PROMPT.len();
        let x = (area.x + 1 + col as u16).min(area.right().saturating_sub(2));
        Some(Position::new(x, area.y + 1))
    }
}

impl Widget for CmdlinePane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let l = self.line;
        let hint = if self.focused {
            " command · Tab complete · ↑↓ history · Esc perform keys · ? help "
        } else {
            " perform keys · : or Enter to type · ? help "
        };
        let border = if self.focused {
            Color::Green
        } else {
            Color::Reset
        };
        let block = Block::bordered()
            .title(hint)
            .border_style(Style::new().fg(border));
        let mut lines = vec![];
        let mut input = vec![Span::raw(PROMPT).fg(Color::Green)];
        match &l.error {
            Some((col, _)) if *col <= l.input.len() && l.input.is_char_boundary(*col) => {
                input.push(Span::raw(&l.input[..*col]));
                input.push(
                    Span::raw(&l.input[*col..])
                        .fg(Color::LightRed)
                        .add_modifier(Modifier::UNDERLINED),
                );
            }
            _ => input.push(Span::raw(l.input.as_str())),
        }
        lines.push(Line::from(input));
        if !l.candidates.is_empty() {
            let mut spans = vec![];
            for (i, c) in l.candidates.iter().enumerate() {
                let s = Span::raw(format!("{} ", c.text));
                spans.push(if Some(i) == l.candidate {
                    s.reversed()
                } else {
                    s.dark_gray()
                });
            }
            lines.push(Line::from(spans));
        } else if let Some((col, msg)) = &l.error {
            let col = l.input.get(..*col).map_or(0, |s| s.chars().count());
            lines.push(
                Line::from(vec![
                    Span::raw(" ".repeat(col + PROMPT.len()) + "^ "),
                    Span::raw(msg.as_str()),
                ])
                .fg(Color::LightRed),
            );
        }
        Paragraph::new(lines).block(block).render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::cmdline::Candidate;
    use crate::tui::panes::plain;

    #[test]
    fn points_at_the_error_column() {
        let mut line = CommandLine::default();
        "tempo fast".chars().for_each(|c| line.insert(c));
        line.error = Some((6, "expected a number (BPM)".into()));
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 4));
        let pane = CmdlinePane {
            line: &line,
            focused: true,
        };
        assert_eq!(pane.cursor(buf.area), Some(Position::new(13, 1)));
        pane.render(buf.area, &mut buf);
        assert_eq!(
            plain(&buf),
            Buffer::with_lines([
                "┌ command · Tab complete · ↑↓ history ·┐",
                "│> tempo fast                          │",
                "│        ^ expected a number (BPM)     │",
                "└──────────────────────────────────────┘",
            ])
        );
        assert!(buf[(9, 1)].modifier.contains(Modifier::UNDERLINED));
        assert!(!buf[(7, 1)].modifier.contains(Modifier::UNDERLINED));
    }

    #[test]
    fn shows_candidates_with_the_current_one_reversed() {
        let mut line = CommandLine::default();
        line.candidates = vec![
            Candidate {
                start: 0,
                text: "tempo".into(),
            },
            Candidate {
                start: 0,
                text: "temperature".into(),
            },
        ];
        line.candidate = Some(1);
        let mut buf = Buffer::empty(Rect::new(0, 0, 30, 4));
        let pane = CmdlinePane {
            line: &line,
            focused: false,
        };
        assert_eq!(pane.cursor(buf.area), None);
        pane.render(buf.area, &mut buf);
        let row = |y: u16| {
            (0..30)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        };
        assert_eq!(row(2), "│tempo temperature           │");
        assert!(buf[(7, 2)].modifier.contains(Modifier::REVERSED));
        assert!(!buf[(1, 2)].modifier.contains(Modifier::REVERSED));
    }
}
