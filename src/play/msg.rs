//! MIDI channel and real-time messages as small `Copy` values, so the real-time path never allocates.

/// One MIDI message of one to three bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MidiMsg {
    bytes: [u8; 3],
    len: u8,
}

/// Controller numbers used by `panic`.
pub const CC_ALL_SOUND_OFF: u8 = 120;
pub const CC_ALL_NOTES_OFF: u8 = 123;

impl MidiMsg {
    const fn three(status: u8, a: u8, b: u8) -> Self {
        MidiMsg {
            bytes: [status, a & 0x7f, b & 0x7f],
            len: 3,
        }
    }

    const fn one(status: u8) -> Self {
        MidiMsg {
            bytes: [status, 0, 0],
            len: 1,
        }
    }

    pub const fn note_on(channel: u8, pitch: u8, velocity: u8) -> Self {
        Self::three(0x90 | (channel & 0x0f), pitch, velocity)
    }

    pub const fn note_off(channel: u8, pitch: u8) -> Self {
        Self::three(0x80 | (channel & 0x0f), pitch, 0)
    }

    pub const fn program(channel: u8, program: u8) -> Self {
        MidiMsg {
            bytes: [0xc0 | (channel & 0x0f), program & 0x7f, 0],
            len: 2,
        }
    }

    pub const fn control(channel: u8, controller: u8, value: u8) -> Self {
        Self::three(0xb0 | (channel & 0x0f), controller, value)
    }

    /// Timing clock, sent 24 times per quarter note.
    pub const fn clock() -> Self {
        Self::one(0xf8)
    }

    pub const fn start() -> Self {
        Self::one(0xfa)
    }

    pub const fn continue_() -> Self {
        Self::one(0xfb)
    }

    pub const fn stop() -> Self {
        Self::one(0xfc)
    }

    /// Song position pointer, in sixteenth notes from the start.
    pub const fn song_position(sixteenths: u16) -> Self {
        Self::three(
            0xf2,
            (sixteenths & 0x7f) as u8,
            ((sixteenths >> 7) & 0x7f) as u8,
        )
    }

    /// Parses a message from raw bytes (running status is not supported); `None` for anything
    /// that is not a channel voice message or one of the real-time/song-position messages.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let status = *b.first()?;
        let data = |i: usize| b.get(i).copied().filter(|v| *v < 0x80);
        match status {
            0x80..=0xbf | 0xe0..=0xef => Some(Self::three(status, data(1)?, data(2)?)),
            0xc0..=0xdf => Some(MidiMsg {
                bytes: [status, data(1)?, 0],
                len: 2,
            }),
            0xf2 => Some(Self::three(status, data(1)?, data(2)?)),
            0xf8 | 0xfa | 0xfb | 0xfc => Some(Self::one(status)),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    pub fn status(&self) -> u8 {
        self.bytes[0]
    }

    /// Zero-based channel of a channel message.
    pub fn channel(&self) -> Option<u8> {
        (self.bytes[0] < 0xf0).then_some(self.bytes[0] & 0x0f)
    }

    /// `(channel, pitch, velocity)` of a note-on with velocity above zero.
    pub fn as_note_on(&self) -> Option<(u8, u8, u8)> {
        (self.bytes[0] & 0xf0 == 0x90 && self.bytes[2] > 0).then_some((
            self.bytes[0] & 0x0f,
            self.bytes[1],
            self.bytes[2],
        ))
    }

    /// `(channel, pitch)` of a note-off (or a note-on with velocity zero).
    pub fn as_note_off(&self) -> Option<(u8, u8)> {
        let kind = self.bytes[0] & 0xf0;
        (kind == 0x80 || (kind == 0x90 && self.bytes[2] == 0))
            .then_some((self.bytes[0] & 0x0f, self.bytes[1]))
    }

    /// `(channel, program)` of a program change.
    pub fn as_program(&self) -> Option<(u8, u8)> {
        (self.bytes[0] & 0xf0 == 0xc0).then_some((self.bytes[0] & 0x0f, self.bytes[1]))
    }

    /// `(channel, controller, value)` of a control change.
    pub fn as_control(&self) -> Option<(u8, u8, u8)> {
        (self.bytes[0] & 0xf0 == 0xb0).then_some((
            self.bytes[0] & 0x0f,
            self.bytes[1],
            self.bytes[2],
        ))
    }

    pub fn is_realtime(&self) -> bool {
        self.bytes[0] >= 0xf8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_accessors() {
        let on = MidiMsg::note_on(3, 60, 100);
        assert_eq!(on.as_bytes(), &[0x93, 60, 100]);
        assert_eq!(MidiMsg::from_bytes(on.as_bytes()), Some(on));
        assert_eq!(on.as_note_on(), Some((3, 60, 100)));
        assert_eq!(MidiMsg::note_on(3, 60, 0).as_note_off(), Some((3, 60)));
        assert_eq!(MidiMsg::program(9, 5).as_bytes(), &[0xc9, 5]);
        assert_eq!(MidiMsg::song_position(200).as_bytes(), &[0xf2, 72, 1]);
        assert_eq!(MidiMsg::from_bytes(&[0xf8]), Some(MidiMsg::clock()));
        assert_eq!(MidiMsg::from_bytes(&[0x90, 60]), None);
        assert_eq!(MidiMsg::from_bytes(&[0xf0, 1, 2, 0xf7]), None);
        assert_eq!(MidiMsg::clock().channel(), None);
    }
}
