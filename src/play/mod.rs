//! Real-time playback: the clock, the pure schedule, the scheduler thread and its sinks.

pub mod capture;
pub mod clock;
pub mod clock_in;
pub mod histogram;
pub mod live;
mod looper;
pub mod midi_port;
pub mod mixer;
pub mod msg;
pub mod params;
pub mod quiet;
pub mod recorder;
pub mod rt;
pub mod scale;
pub mod schedule;
pub mod scheduler;
pub mod sink;
pub mod source;
pub mod transport;

pub use clock::{Clock, FakeClock, MonotonicClock};
pub use live::{LiveConfig, LiveHandle, LiveSource, Quantize};
pub use midi_port::{InputEvent, MidiIn, MidiPortSink, PortError};
pub use mixer::{MixHandle, Mixer, VoiceCtl};
pub use msg::MidiMsg;
pub use params::{LiveParams, Params};
pub use recorder::{RecordError, Recorder, RecorderSink};
pub use scale::{Mode, Scale};
pub use schedule::{Item, Schedule, Timed};
pub use scheduler::{Player, PlayerConfig, PlayerError, SinkInfo};
pub use sink::{MemoryLog, MemorySink, Sink, SinkError, SinkStats};
pub use source::{NoteSource, SeqSource};
