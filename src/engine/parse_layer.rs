//! The words of `layer`: a layer's settings, each checked where it stands.

use super::{err, Args, LayerCmd, LayerSetting, ParseError};

impl Args<'_> {
    /// `layer`, `layer NAME off`, `layer NAME [KEY VALUE]...`.
    pub(super) fn layer(&mut self, u: &str) -> Result<LayerCmd, ParseError> {
        if self.peek().is_none() {
            return Ok(LayerCmd::List);
        }
        let name = self.text("a layer name", u)?;
        if name == "main" {
            let at = self.ws[self.i - 1].span.clone();
            return Err(err(
                at,
                "`main` is the main voice: name the layer otherwise",
            ));
        }
        if self.ws.len() == self.i + 1 && self.ws[self.i].text.eq_ignore_ascii_case("off") {
            self.i += 1;
            return Ok(LayerCmd::Off(name));
        }
        let mut settings = Vec::new();
        while self.peek().is_some() {
            let keys = [
                "model",
                "channel",
                "program",
                "port",
                "temperature",
                "seed",
                "style",
                "transpose",
                "octave",
            ];
            settings.push(match self.keyword(&keys, u)? {
                "model" => LayerSetting::Model(self.path(u)?),
                "channel" => LayerSetting::Channel(
                    self.ranged("a MIDI channel 1..16", u, |c: &u8| (1..=16).contains(c))? - 1,
                ),
                "program" => LayerSetting::Program(
                    self.off_or(u, |a| a.ranged("a program 0..127", u, |p: &u8| *p <= 127))?,
                ),
                "port" => LayerSetting::Port(self.text("an output port", u)?),
                "temperature" => LayerSetting::Temperature(self.ranged(
                    "a temperature above 0 (at most 10)",
                    u,
                    |t: &f32| *t > 0.0 && *t <= 10.0,
                )?),
                "seed" => LayerSetting::Seed(self.number("a whole number", u)?),
                "style" => LayerSetting::Style(self.off_or(u, |a| a.text("a style name", u))?),
                "transpose" => {
                    LayerSetting::Transpose(
                        self.ranged("semitones (-48..48)", u, |t: &i32| (-48..=48).contains(t))?,
                    )
                }
                _ => LayerSetting::Octave(
                    self.ranged("octaves (-4..4)", u, |t: &i32| (-4..=4).contains(t))?,
                ),
            });
        }
        Ok(LayerCmd::Set { name, settings })
    }
}
