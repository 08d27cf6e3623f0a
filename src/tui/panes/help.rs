//! The help overlay (`?`): every key binding, drawn over the centre of the screen.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

/// (keys, what they do), in the order shown. The key handling in `app.rs` is the truth; a test
/// there checks that each binding listed here does what it says.
pub const BINDINGS: &[(&str, &str)] = &[
    ("any mode", ""),
    ("?  F1", "this help (any key closes it)"),
    ("Ctrl-C", "quit"),
    ("PgUp PgDn", "scroll the log"),
    ("command mode", ""),
    ("Enter", "run the line (same commands as the REPL)"),
    ("Tab", "complete; again to cycle"),
    ("Up Down", "history"),
    ("Ctrl-U  Ctrl-W", "clear line / delete word"),
    ("Esc", "perform mode"),
    ("perform mode", ""),
    ("j k  Down Up", "choose a latent dimension"),
    ("h l  Left Right", "nudge it by -/+ 0.25 (latent nudge)"),
    ("H L", "nudge by -/+ 1.0"),
    ("Space", "select / unselect (nudges move all selected)"),
    ("0", "reset the dimension(s) to 0 (latent set)"),
    ("p", "play / stop"),
    ("g", "generate (gen)"),
    ("s", "new latent (latent sample)"),
    (": Enter i", "command mode"),
    ("q", "quit"),
];

pub struct HelpPane;

impl Widget for HelpPane {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let height = (BINDINGS.len() as u16 + 2).min(area.height);
        let width = 62.min(area.width);
        let [row] = Layout::vertical([Constraint::Length(height)])
            .flex(Flex::Center)
            .areas(area);
        let [popup] = Layout::horizontal([Constraint::Length(width)])
            .flex(Flex::Center)
            .areas(row);
        Clear.render(popup, buf);
        let lines: Vec<Line> = BINDINGS
            .iter()
            .map(|(k, what)| {
                if what.is_empty() {
                    Line::from(Span::raw(*k).bold().fg(Color::Green))
                } else {
                    Line::from(vec![
                        Span::raw(format!(" {k:<16}")).fg(Color::Yellow),
                        Span::raw(*what),
                    ])
                }
            })
            .collect();
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" keys ".bold()))
            .render(popup, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_and_clears_what_is_under_it() {
        let mut buf = Buffer::filled(Rect::new(0, 0, 80, 29), ratatui::buffer::Cell::new("x"));
        HelpPane.render(buf.area, &mut buf);
        let row = |y: u16| {
            (0..80)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        };
        assert_eq!(
            row(3),
            format!(
                "{}┌ keys {}┐{}",
                "x".repeat(9),
                "─".repeat(54),
                "x".repeat(9)
            )
        );
        assert_eq!(
            row(4),
            format!(
                "{}│any mode{}│{}",
                "x".repeat(9),
                " ".repeat(52),
                "x".repeat(9)
            )
        );
        assert!(
            row(5).contains("│ ?  F1") && row(5).contains("this help"),
            "{}",
            row(5)
        );
        assert_eq!(row(2), "x".repeat(80));
    }

    #[test]
    fn tiny_area_does_not_panic() {
        for (w, h) in [(0, 0), (1, 1), (5, 3), (80, 2)] {
            let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
            HelpPane.render(buf.area, &mut buf);
        }
    }
}
