//! The tolerant byte-level reader: chunk checks, the RIFF wrapper, and each track's events read
//! past damage, with what was skipped counted.

use super::{Damage, MidiProblem};

pub(super) fn check_chunks(bytes: &[u8]) -> Result<(), MidiProblem> {
    if bytes.is_empty() {
        return Err(MidiProblem::Empty);
    }
    if !bytes.starts_with(b"MThd") {
        return Err(MidiProblem::NotMidi);
    }
    if bytes.len() < 14 {
        return Err(MidiProblem::Truncated(format!(
            "header needs 14 bytes, file has {}",
            bytes.len()
        )));
    }
    let header_len = be32(bytes, 4) as usize;
    if header_len < 6 {
        return Err(MidiProblem::Corrupt(format!(
            "header length {header_len} < 6"
        )));
    }
    let announced = be16(bytes, 10) as usize;
    let mut pos = 8usize.saturating_add(header_len);
    let mut tracks = 0usize;
    while pos < bytes.len() {
        let rest = bytes.len() - pos;
        if rest < 8 {
            if bytes[pos..].iter().all(|&b| b == 0) {
                break;
            }
            return Err(MidiProblem::Truncated(format!(
                "{rest} stray byte(s) after the last chunk"
            )));
        }
        let len = be32(bytes, pos + 4) as usize;
        let is_track = &bytes[pos..pos + 4] == b"MTrk";
        if len > rest - 8 {
            if is_track && tracks < announced {
                return Err(MidiProblem::Truncated(format!(
                    "track {} declares {len} bytes but only {} remain",
                    tracks + 1,
                    rest - 8
                )));
            }
            break; // junk past the announced tracks
        }
        if is_track {
            tracks += 1;
        }
        pos += 8 + len;
    }
    if tracks < announced {
        return Err(MidiProblem::Truncated(format!(
            "header announces {announced} track(s), file has {tracks}"
        )));
    }
    Ok(())
}

/// Big-endian integers at a position the caller has checked.
pub(super) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
pub(super) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The SMF inside an RMID file (a RIFF wrapper with little-endian, even-padded chunks).
pub(super) fn unwrap_riff(raw: &[u8]) -> Result<&[u8], MidiProblem> {
    fn chunks(mut raw: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
        std::iter::from_fn(move || {
            if raw.len() < 8 {
                return None;
            }
            let id = &raw[..4];
            let len = u32::from_le_bytes([raw[4], raw[5], raw[6], raw[7]]) as usize;
            let body = &raw[8..];
            let (data, rest) = body.split_at(len.min(body.len()));
            // Chunks of odd length carry a pad byte.
            raw = if len % 2 == 1 && !rest.is_empty() {
                &rest[1..]
            } else {
                rest
            };
            Some((id, data))
        })
    }
    let bad = |what: &str| MidiProblem::Corrupt(format!("RIFF wrapper: {what}"));
    let (id, riff) = chunks(raw).next().ok_or_else(|| bad("no RIFF chunk"))?;
    if id != b"RIFF" {
        return Err(bad("no RIFF chunk"));
    }
    if riff.get(..4) != Some(b"RMID") {
        return Err(bad("not an RMID file"));
    }
    chunks(&riff[4..])
        .find(|(id, _)| *id == b"data")
        .map(|(_, data)| data)
        .ok_or_else(|| bad("no data chunk"))
}

/// A sounding note: (order of its note-on, on tick, velocity, program, track).
pub(super) type OpenNote = (u64, u64, u8, u8, usize);

/// The events the reader keeps from a track.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Ev {
    Tempo(u32),
    TimeSig(u8, u8),
    Program(u8, u8),
    On(u8, u8, u8),
    Off(u8, u8),
}

/// How many data bytes follow a channel status byte.
pub(super) fn data_len(status: u8) -> usize {
    match status & 0xF0 {
        0xC0 | 0xD0 => 1,
        _ => 2,
    }
}

/// A variable-length number at the start of `b`: (value, bytes used, whether it was over-long).
/// None if `b` ends inside it. Like midly, at most 4 bytes are read.
pub(super) fn varlen(b: &[u8]) -> Option<(u32, usize, bool)> {
    let mut v = 0u32;
    for (i, &byte) in b.iter().take(4).enumerate() {
        v = (v << 7) | (byte & 0x7F) as u32;
        if byte < 0x80 {
            return Some((v, i + 1, false));
        }
        if i == 3 {
            return Some((v, 4, true));
        }
    }
    None
}

/// Meta events whose length the standard fixes: one of another length is not a meta event but
/// damage that happens to hold 0xFF.
pub(super) fn meta_len_ok(kind: u8, len: usize) -> bool {
    match kind {
        0x00 => len == 0 || len == 2,
        0x20 | 0x21 => len == 1,
        0x2F => len == 0,
        0x51 => len == 3,
        0x54 => len == 5,
        0x58 => len == 4,
        0x59 => len == 2,
        _ => true,
    }
}

/// The event at `b[0]` (a status byte), if it is a plausible one: (where its data starts, where
/// it ends). Plausible are a channel message whose data bytes are all under 128, a meta event of
/// a possible length that fits the track, and a sysex (0xF0: 7-bit bytes, then 0xF7) or escape
/// (0xF7, holding a byte over 127) that fits.
pub(super) fn plausible_event(b: &[u8]) -> Option<(usize, usize)> {
    let status = *b.first()?;
    match status {
        0x80..=0xEF => {
            let n = data_len(status);
            let data = b.get(1..1 + n)?;
            data.iter().all(|&d| d < 0x80).then_some((1, 1 + n))
        }
        0xFF => {
            let kind = *b.get(1)?;
            let (len, used, long) = varlen(b.get(2..)?)?;
            let start = 2 + used;
            let end = start + len as usize;
            (kind < 0x80 && !long && end <= b.len() && meta_len_ok(kind, len as usize))
                .then_some((start, end))
        }
        0xF0 | 0xF7 => {
            let (len, used, long) = varlen(b.get(1..)?)?;
            let start = 1 + used;
            let body = b.get(start..start + len as usize)?;
            // A sysex is 7-bit bytes closed by 0xF7; an escape carries what needs escaping (status
            // bytes, or the 0xF7 that ends a sysex sent in packets). A damaged byte that becomes
            // 0xF0 or 0xF7 in a run of notes would otherwise swallow the notes as its body.
            let clean = match status {
                0xF0 => {
                    body.last() == Some(&0xF7) && body[..body.len() - 1].iter().all(|&d| d < 0x80)
                }
                _ => body.iter().any(|&d| d >= 0x80),
            };
            (!long && clean).then_some((start, start + body.len()))
        }
        _ => None,
    }
}

/// Reads one track's events into `events` (tagged with the track's index `ti`) and returns the
/// tick at which the track ends.
///
/// Tolerant where midly and the standard are strict, the way mido and most players are: running
/// status carries across meta and sysex events, system messages are stepped over, and after a
/// byte that cannot start an event, reading resumes at the next byte that can. All that is
/// skipped is counted in `damage`.
pub(super) fn read_track(
    data: &[u8],
    ti: usize,
    events: &mut Vec<(u64, usize, Ev)>,
    damage: &mut Damage,
) -> u64 {
    let hurt = |d: &Damage| {
        d.stray_bytes + d.system_messages + d.bad_messages + d.bad_deltas + d.cut_tracks
    };
    let before = hurt(damage);
    let mut pos = 0usize;
    let mut tick = 0u64;
    let mut running: Option<u8> = None;
    // Set after a skipped byte: the bytes that follow belong to the same broken event, so the
    // next event is looked for there without reading another delta time first.
    let mut resync = false;
    while pos < data.len() {
        let mut at = tick;
        if !resync {
            let Some((delta, used, long)) = varlen(&data[pos..]) else {
                damage.cut_tracks += 1;
                break;
            };
            damage.bad_deltas += long as usize;
            pos += used;
            at += delta as u64;
            if pos >= data.len() {
                damage.cut_tracks += 1;
                break;
            }
        }
        resync = false;
        tick = at;
        let status = data[pos];
        match status {
            0x00..=0xEF => {
                let (st, first) = match (status, running) {
                    (0x80..=0xEF, _) => (status, pos + 1),
                    (_, Some(r)) => (r, pos),
                    (_, None) => {
                        // A data byte with no status to apply it to.
                        damage.stray_bytes += 1;
                        pos += 1;
                        resync = true;
                        continue;
                    }
                };
                let n = data_len(st);
                let Some(bytes) = data.get(first..first + n) else {
                    damage.cut_tracks += 1;
                    break;
                };
                running = Some(st);
                pos = first + n;
                if bytes.iter().any(|&d| d >= 0x80) {
                    // Most likely one damaged data byte: dropping the message keeps the track in
                    // step, where reading the byte as a status would derail it.
                    damage.bad_messages += 1;
                    continue;
                }
                let ch = st & 0x0F;
                let e = match st & 0xF0 {
                    0x90 if bytes[1] > 0 => Ev::On(ch, bytes[0], bytes[1]),
                    0x80 | 0x90 => Ev::Off(ch, bytes[0]),
                    0xC0 => Ev::Program(ch, bytes[0]),
                    _ => continue,
                };
                events.push((at, ti, e));
            }
            0xFF | 0xF0 | 0xF7 => {
                let Some((start, end)) = plausible_event(&data[pos..]) else {
                    // Not a real meta or sysex event (its length runs past the track, say): the
                    // 0xFF or 0xF0 is most likely a damaged status byte, and running status may
                    // read the bytes after it.
                    damage.stray_bytes += 1;
                    pos += 1;
                    resync = true;
                    continue;
                };
                let body = &data[pos + start..pos + end];
                pos += end;
                if status != 0xFF {
                    continue;
                }
                match (data[pos - end + 1], body) {
                    (0x51, &[a, b, c]) => {
                        events.push((at, ti, Ev::Tempo(u32::from_be_bytes([0, a, b, c]))));
                    }
                    (0x58, &[n, d, ..]) if n > 0 && d <= 6 => {
                        events.push((at, ti, Ev::TimeSig(n, 1 << d)));
                    }
                    (0x2F, _) if data[pos..].iter().all(|&b| b == 0) => {
                        // End of track, with nothing or zero padding after it. Anything else
                        // after it is read on (as midly and mido do): one damaged byte can turn
                        // another meta event into an early end of track.
                        break;
                    }
                    _ => {}
                }
            }
            0xF1..=0xFE => {
                // System common and real-time messages. Written into a file (some recorders do)
                // they stand with their own data bytes, which are stepped over too.
                damage.system_messages += 1;
                let n = match status {
                    0xF2 => 2,
                    0xF1 | 0xF3 => 1,
                    _ => 0,
                };
                pos += 1;
                for _ in 0..n {
                    if data.get(pos).is_some_and(|&d| d < 0x80) {
                        pos += 1;
                    }
                }
            }
        }
    }
    if hurt(damage) > before {
        damage.tracks.push(ti + 1);
    }
    tick
}

/// How a file's ticks map to time.
#[derive(Clone, Copy)]
pub(super) enum Division {
    /// Ticks per quarter note.
    Metrical(u16),
    /// Ticks per second (SMPTE frames per second times ticks per frame).
    Timecode(f64),
}

/// The tracks of a file, as read.
pub(super) struct Parsed {
    /// Kept events: (tick, track index, event), in file order within each track.
    pub(super) events: Vec<(u64, usize, Ev)>,
    /// The tick at which each track ends.
    pub(super) track_end: Vec<u64>,
    pub(super) damage: Damage,
}

/// Reads every track chunk of an SMF whose chunks `check_chunks` has checked.
pub(super) fn parse_tracks(bytes: &[u8]) -> Parsed {
    let mut events: Vec<(u64, usize, Ev)> = Vec::with_capacity(bytes.len() / 4);
    let mut track_end = Vec::new();
    let mut damage = Damage::default();
    let mut pos = 8usize.saturating_add(be32(bytes, 4) as usize);
    while bytes.len().saturating_sub(pos) >= 8 {
        let len = be32(bytes, pos + 4) as usize;
        let body = &bytes[pos + 8..];
        let (chunk, cut) = if len <= body.len() {
            (&body[..len], false)
        } else {
            (body, true) // past the announced tracks (check_chunks refused the rest)
        };
        if &bytes[pos..pos + 4] == b"MTrk" {
            let ti = track_end.len();
            let end = read_track(chunk, ti, &mut events, &mut damage);
            if cut {
                damage.cut_tracks += 1;
                if damage.tracks.last() != Some(&(ti + 1)) {
                    damage.tracks.push(ti + 1);
                }
            }
            track_end.push(end);
        }
        // Other chunks (and a repeated header) are skipped, as the standard asks.
        pos = pos + 8 + chunk.len();
    }
    Parsed {
        events,
        track_end,
        damage,
    }
}
