//! The latent panel: every dimension of z as a bar around zero; the cursor dimension and the
//! selected ones highlighted.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Widget};

use crate::tui::view::LatentView;

/// Bars span -RANGE..RANGE (z is near a standard normal); larger values are clipped and show `>`.
pub const RANGE: f32 = 3.0;
/// Narrowest column: label, a bar of a few cells, the value.
const MIN_COLUMN: u16 = 16;

pub struct LatentPane<'a> {
    pub latent: &'a LatentView,
    /// The dimension the keys act on.
    pub cursor: usize,
    /// Dimensions picked with space: nudges apply to all of them.
    pub selected: &'a [usize],
    pub focused: bool,
}

/// `width` cells with a centre line, filled from the centre towards the sign of `v`.
pub fn bar(v: f32, width: usize) -> String {
    let half = width / 2;
    let mut cells: Vec<char> = vec![' '; width];
    if width == 0 {
        return String::new();
    }
    let n = if v.is_finite() {
        ((v.abs() / RANGE).min(1.0) * half as f32).round() as usize
    } else {
        0
    };
    if v >= 0.0 {
        for c in cells.iter_mut().skip(half + (width % 2)).take(n) {
            *c = '█';
        }
    } else {
        for c in cells.iter_mut().take(half).skip(half - n) {
            *c = '█';
        }
    }
    if width % 2 == 1 {
        cells[half] = '│';
    }
    if v.abs() > RANGE {
        let i = if v > 0.0 { width - 1 } else { 0 };
        cells[i] = if v > 0.0 { '>' } else { '<' };
    }
    cells.into_iter().collect()
}

impl Widget for LatentPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let z = &self.latent.z;
        let mut title = Line::from(format!(" latent {} dims ", z.len())).bold();
        if let Some(v) = z.get(self.cursor) {
            title.push_span(format!("· dim {} = {:+.2} ", self.cursor, v).not_bold());
        }
        let border = if self.focused {
            Color::Green
        } else {
            Color::Reset
        };
        let block = Block::bordered()
            .title(title)
            .border_style(Style::new().fg(border));
        let inner = block.inner(area);
        block.render(area, buf);
        if z.is_empty() {
            Paragraph::new("no latent yet: load a model, then `latent sample`")
                .dim()
                .render(inner, buf);
            return;
        }
        if inner.height == 0 || inner.width < 8 {
            return;
        }
        let rows = inner.height as usize;
        let label_w = format!("{}", z.len() - 1).len();
        // Every dimension on screen if it can be: with values when there is room, else as
        // narrower bars only (the cursor's value is in the title); page only past that.
        let needed = z.len().div_ceil(rows);
        let compact_min = (label_w + 5) as u16;
        let (cols, with_values) = if needed <= (inner.width / MIN_COLUMN) as usize {
            (needed, true)
        } else if needed <= (inner.width / compact_min) as usize {
            (needed, false)
        } else {
            ((inner.width / compact_min).max(1) as usize, false)
        };
        let visible = cols * rows;
        // Page so that the cursor's dimension is always on screen.
        let first = (self.cursor.min(z.len() - 1) / visible) * visible;
        let col_w = inner.width / cols as u16;
        for (i, &v) in z.iter().enumerate().skip(first).take(visible) {
            let slot = i - first;
            let x = inner.x + (slot / rows) as u16 * col_w;
            let y = inner.y + (slot % rows) as u16;
            let text = if with_values {
                let bar_w = (col_w as usize).saturating_sub(label_w + 8);
                format!("{i:>label_w$} {} {v:+5.2}", bar(v, bar_w))
            } else {
                let bar_w = (col_w as usize).saturating_sub(label_w + 2);
                format!("{i:>label_w$} {}", bar(v, bar_w))
            };
            let mut style = Style::new();
            if self.latent.marked.contains(&i) {
                style = style.fg(Color::Cyan);
            }
            if self.selected.contains(&i) {
                style = style.fg(Color::Yellow).add_modifier(Modifier::BOLD);
            }
            if i == self.cursor {
                style = style.add_modifier(Modifier::REVERSED);
            }
            buf.set_stringn(x, y, &text, col_w.saturating_sub(1) as usize, style);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panes::plain;

    #[test]
    fn bar_fills_from_the_centre() {
        assert_eq!(bar(0.0, 9), "    │    ");
        assert_eq!(bar(1.5, 9), "    │██  ");
        assert_eq!(bar(-3.0, 9), "████│    ");
        assert_eq!(bar(5.0, 9), "    │███>");
        assert_eq!(bar(-1.5, 8), "  ██    ");
        assert_eq!(bar(f32::NAN, 5), "  │  ");
        assert_eq!(bar(1.0, 0), "");
    }

    #[test]
    fn draws_every_dimension_and_highlights() {
        let latent = LatentView {
            z: vec![0.0, 1.5, -3.0, 0.75],
            marked: vec![3],
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 24, 6));
        LatentPane {
            latent: &latent,
            cursor: 1,
            selected: &[2],
            focused: false,
        }
        .render(buf.area, &mut buf);
        assert_eq!(
            plain(&buf),
            Buffer::with_lines([
                "┌ latent 4 dims · dim 1┐",
                "│0       │       +0.00 │",
                "│1       │███    +1.50 │",
                "│2 ██████│       -3.00 │",
                "│3       │██     +0.75 │",
                "└──────────────────────┘",
            ])
        );
        assert!(buf[(1, 2)].modifier.contains(Modifier::REVERSED));
        assert!(!buf[(1, 1)].modifier.contains(Modifier::REVERSED));
        assert_eq!(buf[(1, 3)].fg, Color::Yellow);
        assert_eq!(buf[(1, 4)].fg, Color::Cyan);
    }

    #[test]
    fn narrow_panel_drops_values_to_show_every_dimension() {
        let latent = LatentView {
            z: vec![1.5, -1.5, 3.0, 0.0, 0.0, 0.0],
            marked: vec![],
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 26, 4));
        LatentPane {
            latent: &latent,
            cursor: 0,
            selected: &[],
            focused: false,
        }
        .render(buf.area, &mut buf);
        assert_eq!(
            plain(&buf),
            Buffer::with_lines([
                "┌ latent 6 dims · dim 0 =┐",
                "│0   │█  2   │██ 4   │   │",
                "│1  █│   3   │   5   │   │",
                "└────────────────────────┘",
            ])
        );
    }

    #[test]
    fn pages_to_keep_the_cursor_visible() {
        let latent = LatentView {
            z: (0..40).map(|i| i as f32 / 10.0).collect(),
            marked: vec![],
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 20, 5));
        LatentPane {
            latent: &latent,
            cursor: 37,
            selected: &[],
            focused: true,
        }
        .render(buf.area, &mut buf);
        let row = |y: u16| {
            (0..20)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        };
        assert!(row(1).starts_with("│36 "), "{}", row(1));
        assert!(row(2).starts_with("│37 "), "{}", row(2));
        assert_eq!(buf[(0, 0)].fg, Color::Green);
    }
}
