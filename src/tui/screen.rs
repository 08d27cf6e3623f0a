//! The whole screen: where each pane goes. A pure draw of `&App`.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::widgets::Widget;
use ratatui::Frame;

use crate::tui::app::{App, Mode};
use crate::tui::panes::cmdline::CmdlinePane;
use crate::tui::panes::help::HelpPane;
use crate::tui::panes::latent::LatentPane;
use crate::tui::panes::log::LogPane;
use crate::tui::panes::loss::LossPane;
use crate::tui::panes::ports::PortsPane;
use crate::tui::panes::roll::RollPane;
use crate::tui::panes::transport::TransportPane;

/// The areas of every pane for a screen of `area`.
pub struct Areas {
    pub loss: Rect,
    pub latent: Rect,
    pub roll: Rect,
    pub ports: Rect,
    pub transport: Rect,
    pub log: Rect,
    pub cmdline: Rect,
}

pub fn areas(area: Rect) -> Areas {
    let [top, middle, transport, log, cmdline] = Layout::vertical([
        Constraint::Fill(3),
        Constraint::Fill(2),
        Constraint::Length(5),
        Constraint::Length(7),
        Constraint::Length(4),
    ])
    .areas(area);
    let [loss, latent] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(top);
    let [roll, ports] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(30)]).areas(middle);
    Areas {
        loss,
        latent,
        roll,
        ports,
        transport,
        log,
        cmdline,
    }
}

impl App {
    fn cmdline_pane(&self) -> CmdlinePane<'_> {
        CmdlinePane {
            line: &self.cmd,
            focused: self.mode == Mode::Command && !self.help,
        }
    }

    /// Where the terminal's cursor goes (the command line's caret), if shown.
    pub fn cursor(&self, area: Rect) -> Option<Position> {
        self.cmdline_pane().cursor(areas(area).cmdline)
    }

    /// Draws the screen and places the cursor.
    pub fn draw(&self, frame: &mut Frame) {
        let area = frame.area();
        frame.render_widget(self, area);
        if let Some(p) = self.cursor(area) {
            frame.set_cursor_position(p);
        }
    }
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let a = areas(area);
        LossPane {
            train: &self.view.train,
        }
        .render(a.loss, buf);
        LatentPane {
            latent: &self.view.latent,
            cursor: self.dim,
            selected: &self.selected,
            focused: self.mode == Mode::Perform,
        }
        .render(a.latent, buf);
        RollPane {
            roll: &self.view.roll,
        }
        .render(a.roll, buf);
        PortsPane {
            ports: &self.view.ports,
        }
        .render(a.ports, buf);
        TransportPane { view: &self.view }.render(a.transport, buf);
        LogPane {
            lines: &self.log,
            scroll: self.log_scroll,
        }
        .render(a.log, buf);
        self.cmdline_pane().render(a.cmdline, buf);
        if self.help {
            HelpPane.render(area, buf);
        }
    }
}
