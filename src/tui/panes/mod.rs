//! One widget per pane; each draws from plain data and has its own buffer tests.

pub mod cmdline;
pub mod help;
pub mod latent;
pub mod log;
pub mod loss;
pub mod ports;
pub mod roll;
pub mod transport;

/// The buffer with every style reset, to compare its text with `Buffer::with_lines`.
#[cfg(test)]
pub fn plain(buf: &ratatui::buffer::Buffer) -> ratatui::buffer::Buffer {
    let mut b = buf.clone();
    b.set_style(b.area, ratatui::style::Style::reset());
    b
}
