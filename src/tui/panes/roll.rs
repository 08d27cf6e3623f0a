//! The piano roll: notes played and queued, scrolling with the playhead (which stays a quarter of
//! the way in from the left).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::widgets::{Block, Widget};

use crate::tui::view::{RollNote, RollView};

/// Cells per beat: one sixteenth note per cell.
pub const CELLS_PER_BEAT: f64 = 4.0;
const LABEL_W: u16 = 4;

pub fn pitch_name(p: u8) -> String {
    format!(
        "{}{}",
        crate::play::scale::NOTE_NAMES[p as usize % 12],
        p as i32 / 12 - 1
    )
}

pub struct RollPane<'a> {
    pub roll: &'a RollView,
}

/// The lowest pitch shown when `rows` rows are available: the notes in view centred, and a
/// default around middle C when there are none.
fn low_pitch(notes: &[&RollNote], rows: usize) -> i32 {
    let (lo, hi) = notes.iter().fold((i32::MAX, i32::MIN), |(lo, hi), n| {
        (lo.min(n.pitch as i32), hi.max(n.pitch as i32))
    });
    if lo > hi {
        return 60 - rows as i32 / 2;
    }
    let mid = (lo + hi) / 2;
    (mid - rows as i32 / 2).clamp(0, (128 - rows as i32).max(0))
}

impl Widget for RollPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered().title(format!(" notes {} ", self.roll.notes.len()).bold());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.width <= LABEL_W + 1 || inner.height == 0 {
            return;
        }
        let grid_w = (inner.width - LABEL_W) as usize;
        let rows = inner.height as usize;
        let head_col = grid_w / 4;
        let t0 = self.roll.playhead - head_col as f64 / CELLS_PER_BEAT;
        let t1 = t0 + grid_w as f64 / CELLS_PER_BEAT;
        let in_view: Vec<&RollNote> = self
            .roll
            .notes
            .iter()
            .filter(|n| n.end > t0 && n.start < t1)
            .collect();
        let low = low_pitch(&in_view, rows);
        let x0 = inner.x + LABEL_W;
        for r in 0..rows {
            let pitch = low + (rows - 1 - r) as i32;
            let y = inner.y + r as u16;
            if (0..128).contains(&pitch) && (pitch % 12 == 0 || r == 0 || r == rows - 1) {
                buf.set_stringn(
                    inner.x,
                    y,
                    pitch_name(pitch as u8),
                    LABEL_W as usize,
                    Style::new().dim(),
                );
            }
            // Beat lines: a dot on each beat, a stronger mark on each bar of four.
            for c in 0..grid_w {
                let beat = t0 + c as f64 / CELLS_PER_BEAT;
                let on_beat = (beat * CELLS_PER_BEAT).round() as i64 % CELLS_PER_BEAT as i64 == 0;
                if on_beat && beat >= 0.0 {
                    buf[(x0 + c as u16, y)]
                        .set_symbol("·")
                        .set_style(Style::new().dark_gray());
                }
            }
        }
        for n in &in_view {
            let r = low + rows as i32 - 1 - n.pitch as i32;
            if !(0..rows as i32).contains(&r) {
                continue;
            }
            let c0 = ((n.start - t0) * CELLS_PER_BEAT).floor().max(0.0) as usize;
            let c1 = (((n.end - t0) * CELLS_PER_BEAT).ceil() as usize)
                .min(grid_w)
                .max(c0 + 1);
            let sounding = n.start <= self.roll.playhead && n.end > self.roll.playhead;
            let past = n.end <= self.roll.playhead;
            let style = if sounding {
                Style::new()
                    .fg(Color::LightGreen)
                    .add_modifier(Modifier::BOLD)
            } else if past {
                Style::new().fg(Color::Green).add_modifier(Modifier::DIM)
            } else {
                Style::new().fg(Color::Blue)
            };
            for c in c0..c1.min(grid_w) {
                buf[(x0 + c as u16, inner.y + r as u16)]
                    .set_symbol("█")
                    .set_style(style);
            }
        }
        for r in 0..rows {
            let cell = &mut buf[(x0 + head_col as u16, inner.y + r as u16)];
            if cell.symbol() == "█" {
                cell.set_style(Style::new().fg(Color::Red));
            } else {
                cell.set_symbol("│").set_style(Style::new().fg(Color::Red));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panes::plain;

    #[test]
    fn names_pitches() {
        assert_eq!(pitch_name(60), "C4");
        assert_eq!(pitch_name(61), "C#4");
        assert_eq!(pitch_name(21), "A0");
    }

    #[test]
    fn notes_scroll_past_the_playhead() {
        let roll = RollView {
            notes: vec![
                RollNote {
                    pitch: 60,
                    start: 0.0,
                    end: 1.0,
                    velocity: 90,
                },
                RollNote {
                    pitch: 62,
                    start: 1.0,
                    end: 1.5,
                    velocity: 90,
                },
                RollNote {
                    pitch: 64,
                    start: 2.0,
                    end: 3.0,
                    velocity: 90,
                },
            ],
            playhead: 1.25,
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 26, 7));
        RollPane { roll: &roll }.render(buf.area, &mut buf);
        assert_eq!(
            plain(&buf),
            Buffer::with_lines([
                "┌ notes 3 ───────────────┐",
                "│E4  ·   ·│  ████·   ·   │",
                "│    ·   ·│  ·   ·   ·   │",
                "│    ·   ██  ·   ·   ·   │",
                "│    ·   ·│  ·   ·   ·   │",
                "│C4  ████·│  ·   ·   ·   │",
                "└────────────────────────┘",
            ])
        );
        // The note under the playhead turns red; a queued note is blue, a past one green.
        assert_eq!(buf[(10, 3)].fg, Color::Red);
        assert_eq!(buf[(9, 3)].fg, Color::LightGreen);
        assert_eq!(buf[(13, 1)].fg, Color::Blue);
        assert_eq!(buf[(5, 5)].fg, Color::Green);
    }
}
