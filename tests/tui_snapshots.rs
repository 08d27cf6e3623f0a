//! Snapshots of every pane and of the whole screen at two sizes (insta + ratatui's TestBackend),
//! drawn from real data: the bundled model's training log and a bundled Bach chorale.

use improv::tui::app::{App, Mode};
use improv::tui::panes::cmdline::CmdlinePane;
use improv::tui::panes::help::HelpPane;
use improv::tui::panes::latent::LatentPane;
use improv::tui::panes::log::LogPane;
use improv::tui::panes::loss::LossPane;
use improv::tui::panes::ports::PortsPane;
use improv::tui::panes::roll::RollPane;
use improv::tui::panes::transport::TransportPane;
use improv::tui::sample::realistic_app;
use ratatui::backend::TestBackend;
use ratatui::widgets::Widget;
use ratatui::Terminal;

fn app() -> App {
    realistic_app(&improv::paths::bundle_root()).expect("bundled log and MIDI")
}

/// Draws `f` on a `w`x`h` test terminal and snapshots the text.
fn snap(name: &str, w: u16, h: u16, f: impl FnOnce(&mut ratatui::Frame)) {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(f).unwrap();
    let mut settings = insta::Settings::clone_current();
    // Measured throughput changes from run to run.
    settings.add_filter(r"\d+ tok/s", "[N] tok/s");
    settings.set_snapshot_path("snapshots");
    settings.bind(|| insta::assert_snapshot!(name, terminal.backend()));
}

#[test]
fn whole_screen_120x40() {
    let app = app();
    snap("screen_120x40", 120, 40, |f| app.draw(f));
}

#[test]
fn whole_screen_200x60() {
    let app = app();
    snap("screen_200x60", 200, 60, |f| app.draw(f));
}

#[test]
fn whole_screen_perform_mode_with_help() {
    let mut app = app();
    app.mode = Mode::Perform;
    app.help = true;
    snap("screen_help_120x40", 120, 40, |f| app.draw(f));
}

#[test]
fn fresh_screen_before_anything_is_loaded() {
    let app = App::default();
    snap("screen_fresh_120x40", 120, 40, |f| app.draw(f));
}

#[test]
fn pane_loss() {
    let app = app();
    snap("pane_loss", 72, 16, |f| {
        LossPane {
            train: &app.view.train,
        }
        .render(f.area(), f.buffer_mut())
    });
}

#[test]
fn pane_latent() {
    let app = app();
    snap("pane_latent", 48, 18, |f| {
        LatentPane {
            latent: &app.view.latent,
            cursor: app.dim,
            selected: &app.selected,
            focused: true,
        }
        .render(f.area(), f.buffer_mut())
    });
}

#[test]
fn pane_roll() {
    let app = app();
    snap("pane_roll", 80, 14, |f| {
        RollPane {
            roll: &app.view.roll,
        }
        .render(f.area(), f.buffer_mut())
    });
}

#[test]
fn pane_transport() {
    let app = app();
    snap("pane_transport", 100, 5, |f| {
        TransportPane { view: &app.view }.render(f.area(), f.buffer_mut())
    });
}

#[test]
fn pane_ports() {
    let app = app();
    snap("pane_ports", 36, 9, |f| {
        PortsPane {
            ports: &app.view.ports,
        }
        .render(f.area(), f.buffer_mut())
    });
}

#[test]
fn pane_log() {
    let app = app();
    snap("pane_log", 80, 8, |f| {
        LogPane {
            lines: &app.log,
            scroll: 0,
        }
        .render(f.area(), f.buffer_mut())
    });
}

#[test]
fn pane_cmdline() {
    let app = app();
    snap("pane_cmdline", 80, 4, |f| {
        CmdlinePane {
            line: &app.cmd,
            focused: true,
        }
        .render(f.area(), f.buffer_mut())
    });
}

#[test]
fn pane_help() {
    snap("pane_help", 70, 26, |f| {
        HelpPane.render(f.area(), f.buffer_mut())
    });
}

/// Resizing down to nothing never panics, in either mode, with or without help.
#[test]
fn tiny_sizes_do_not_panic() {
    let mut app = app();
    for (w, h) in [
        (0, 0),
        (1, 1),
        (2, 3),
        (10, 5),
        (20, 8),
        (40, 12),
        (7, 40),
        (200, 4),
    ] {
        for (mode, help) in [(Mode::Command, false), (Mode::Perform, true)] {
            app.mode = mode;
            app.help = help;
            let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
            terminal.draw(|f| app.draw(f)).unwrap();
        }
    }
}
