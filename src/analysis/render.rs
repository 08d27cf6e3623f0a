//! MIDI to audio through a General MIDI SoundFont (rustysynth), mono at 22,050 Hz, so that
//! symbolic music can be judged by audio features as the seed paper did.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustysynth::{MidiFile, MidiFileSequencer, SoundFont, Synthesizer, SynthesizerSettings};

use super::SAMPLE_RATE;
use crate::music::{midi, NoteSeq};

/// Where Debian's GM SoundFonts live; TimGM6mb (package timgm6mb-soundfont) is the small one.
pub const SOUNDFONTS: [&str; 3] = [
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
];

/// Why a piece could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(
        "no General MIDI SoundFont found (install timgm6mb-soundfont, or set IMPROV_SOUNDFONT)"
    )]
    NoSoundFont,
    #[error("soundfont {}: {problem}", path.display())]
    SoundFont { path: PathBuf, problem: String },
    #[error("cannot render: {0}")]
    Midi(String),
}

/// A loaded SoundFont, shared by renders.
#[derive(Clone)]
pub struct Renderer {
    font: Arc<SoundFont>,
}

/// The SoundFont file named by `$IMPROV_SOUNDFONT`, else the first of [`SOUNDFONTS`] present.
pub fn find_soundfont() -> Option<PathBuf> {
    std::env::var_os("IMPROV_SOUNDFONT")
        .map(PathBuf::from)
        .into_iter()
        .chain(SOUNDFONTS.iter().map(PathBuf::from))
        .find(|p| p.is_file())
}

impl Renderer {
    /// The SoundFont [`find_soundfont`] finds.
    pub fn find() -> Result<Renderer, RenderError> {
        let path = find_soundfont().ok_or(RenderError::NoSoundFont)?;
        Renderer::open(&path)
    }

    pub fn open(path: &Path) -> Result<Renderer, RenderError> {
        let bad = |problem: String| RenderError::SoundFont {
            path: path.to_path_buf(),
            problem,
        };
        let mut f = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        let font = SoundFont::new(&mut f).map_err(|e| bad(format!("{e:?}")))?;
        Ok(Renderer {
            font: Arc::new(font),
        })
    }

    /// Renders the first `seconds` of a piece (less if it is shorter), mono.
    pub fn render(&self, seq: &NoteSeq, seconds: f64) -> Result<Vec<f32>, RenderError> {
        let bytes = midi::to_bytes(seq).map_err(|e| RenderError::Midi(e.to_string()))?;
        self.render_bytes(&bytes, seconds.min(seq.duration_secs() + 1.0))
    }

    /// Renders the first `seconds` of a standard MIDI file held in memory, mono.
    pub fn render_bytes(&self, bytes: &[u8], seconds: f64) -> Result<Vec<f32>, RenderError> {
        let file = MidiFile::new(&mut Cursor::new(bytes))
            .map_err(|e| RenderError::Midi(format!("{e:?}")))?;
        let settings = SynthesizerSettings::new(SAMPLE_RATE as i32);
        let synth = Synthesizer::new(&self.font, &settings)
            .map_err(|e| RenderError::Midi(format!("{e:?}")))?;
        let mut seq = MidiFileSequencer::new(synth);
        seq.play(&Arc::new(file), false);
        let n = (seconds.max(0.0) * SAMPLE_RATE as f64) as usize;
        let (mut left, mut right) = (vec![0f32; n], vec![0f32; n]);
        seq.render(&mut left, &mut right);
        Ok(left
            .iter()
            .zip(&right)
            .map(|(l, r)| 0.5 * (l + r))
            .collect())
    }
}
