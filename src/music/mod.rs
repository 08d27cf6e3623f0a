//! Pure musical data: notes, tempo maps, MIDI files in and out, and tokenizers.

pub mod gm;
pub mod midi;
pub mod note;
pub mod pitch;
pub mod sf2;
pub mod tokens;

pub use note::{Note, NoteSeq, TempoChange, TempoMap, TimeSig, DRUM_CHANNEL};
