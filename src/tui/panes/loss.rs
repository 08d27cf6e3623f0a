//! The loss chart: total, reconstruction and KL for training and validation, live while training.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Widget};

use crate::tui::view::TrainView;

/// Colours of the six series, in `LossSeries::all` order.
const COLORS: [Color; 6] = [
    Color::Yellow,
    Color::Cyan,
    Color::Magenta,
    Color::LightYellow,
    Color::LightCyan,
    Color::LightMagenta,
];

pub struct LossPane<'a> {
    pub train: &'a TrainView,
}

/// At most this many points per series are drawn: more than the chart's braille columns only
/// costs frame time.
fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let stride = points.len() as f64 / max as f64;
    let mut out: Vec<(f64, f64)> = (0..max)
        .map(|i| points[(i as f64 * stride) as usize])
        .collect();
    if let (Some(last), Some(end)) = (out.last_mut(), points.last()) {
        *last = *end;
    }
    out
}

/// Losses below this are drawn at it (log scale; KL can be exactly zero).
const MIN_LOSS: f64 = 1e-3;

/// A loss value in at most five characters: `0.001`, `3.2`, `588`, `12k`.
fn short(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn title(t: &TrainView) -> Line<'static> {
    let mut spans = vec![Span::raw(" loss ").bold()];
    let status = if t.status.is_empty() {
        "idle"
    } else {
        &t.status
    };
    let step = match t.target_steps {
        Some(n) => format!("{status} step {}/{n} epoch {} ", t.step, t.epoch),
        None => format!("{status} step {} epoch {} ", t.step, t.epoch),
    };
    spans.push(Span::raw(step));
    if let Some(tps) = t.tokens_per_s {
        spans.push(Span::raw(format!("{tps:.0} tok/s ")));
    }
    if let Some(&(_, v)) = t.losses.total.last() {
        spans.push(Span::raw(format!("total {v:.3} ")).fg(COLORS[0]));
    }
    if let Some(&(_, v)) = t.losses.val_total.last() {
        spans.push(Span::raw(format!("val {v:.3} ")).fg(COLORS[3]));
    }
    Line::from(spans)
}

impl Widget for LossPane<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let block = Block::bordered().title(title(self.train));
        let series = self.train.losses.all();
        if self.train.losses.is_empty() {
            Paragraph::new("no training yet: `model new vae-lstm tiny`, then `train steps 30`")
                .block(block)
                .dim()
                .render(area, buf);
            return;
        }
        // Losses span orders of magnitude (a window's total in the hundreds, KL near zero early,
        // validation per token): the y axis is log10 so every curve stays readable.
        let max_points = (area.width as usize * 2).max(2);
        let thinned: Vec<Vec<(f64, f64)>> = series
            .iter()
            .map(|(_, s)| {
                thin(s, max_points)
                    .into_iter()
                    .filter(|p| p.1.is_finite())
                    .map(|(x, y)| (x, y.max(MIN_LOSS).log10()))
                    .collect()
            })
            .collect();
        let (mut x_max, mut y_max, mut y_min) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
        for &(x, y) in thinned.iter().flatten() {
            x_max = x_max.max(x);
            y_max = y_max.max(y);
            y_min = y_min.min(y);
        }
        let (y_min, y_max) = if y_min.is_finite() && y_max > y_min {
            (y_min.floor(), y_max.ceil())
        } else {
            (y_min.floor().min(0.0), y_min.floor().max(0.0) + 1.0)
        };
        let datasets: Vec<Dataset> = series
            .iter()
            .zip(&thinned)
            .enumerate()
            .filter(|(_, (_, pts))| !pts.is_empty())
            .map(|(i, ((name, _), pts))| {
                Dataset::default()
                    .name(*name)
                    .marker(Marker::Braille)
                    .graph_type(GraphType::Line)
                    .style(Style::new().fg(COLORS[i]))
                    .data(pts)
            })
            .collect();
        let x_axis = Axis::default()
            .bounds([0.0, x_max])
            .labels(["0".to_string(), format!("{x_max:.0}")])
            .style(Style::new().dark_gray());
        let y_axis = Axis::default()
            .bounds([y_min, y_max])
            .labels([y_min, (y_min + y_max) / 2.0, y_max].map(|e| short(10f64.powf(e))))
            .style(Style::new().dark_gray());
        Chart::new(datasets)
            .block(block)
            .legend_position(Some(ratatui::widgets::LegendPosition::TopRight))
            .hidden_legend_constraints((Constraint::Ratio(1, 3), Constraint::Ratio(3, 4)))
            .x_axis(x_axis)
            .y_axis(y_axis)
            .render(area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::panes::plain;
    use crate::tui::view::LossSeries;

    #[test]
    fn thin_keeps_ends_and_caps_count() {
        let pts: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, i as f64 * 2.0)).collect();
        let t = thin(&pts, 50);
        assert_eq!(t.len(), 50);
        assert_eq!(t[0], (0.0, 0.0));
        assert_eq!(*t.last().unwrap(), (999.0, 1998.0));
        assert_eq!(thin(&pts[..10], 50).len(), 10);
    }

    #[test]
    fn short_labels() {
        assert_eq!(short(0.001), "0.001");
        assert_eq!(short(3.16), "3.2");
        assert_eq!(short(588.4), "588");
        assert_eq!(short(31622.0), "32k");
    }

    #[test]
    fn empty_history_says_how_to_start() {
        let train = TrainView::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 40, 4));
        LossPane { train: &train }.render(buf.area, &mut buf);
        assert_eq!(
            plain(&buf),
            Buffer::with_lines([
                "┌ loss idle step 0 epoch 0 ────────────┐",
                "│no training yet: `model new vae-lstm t│",
                "│                                      │",
                "└──────────────────────────────────────┘",
            ])
        );
    }

    #[test]
    fn title_shows_step_target_and_latest_losses() {
        let train = TrainView {
            status: "training".into(),
            step: 12,
            epoch: 1,
            target_steps: Some(30),
            tokens_per_s: Some(5123.4),
            losses: LossSeries {
                total: vec![(1.0, 5.0), (12.0, 3.25)],
                val_total: vec![(10.0, 3.5)],
                ..Default::default()
            },
        };
        let text: String = title(&train)
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(
            text,
            " loss training step 12/30 epoch 1 5123 tok/s total 3.250 val 3.500 "
        );
    }

    #[test]
    fn chart_draws_points_inside_the_border() {
        let train = TrainView {
            status: "training".into(),
            losses: LossSeries {
                total: (0..100)
                    .map(|i| (i as f64, 5.0 - i as f64 * 0.03))
                    .collect(),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 12));
        LossPane { train: &train }.render(buf.area, &mut buf);
        let braille = buf
            .content
            .iter()
            .filter(|c| {
                c.symbol()
                    .chars()
                    .any(|ch| ('\u{2801}'..='\u{28ff}').contains(&ch))
            })
            .count();
        assert!(braille > 20, "{braille} braille cells");
        assert!(buf.content.iter().any(|c| c.fg == Color::Yellow));
    }
}
