//! A second MIDI reader, modelled on mido's, that only counts notes: the reference the fuzz
//! tests and the `midi_fuzz` soak hold improv's reader to. Shared by path (`#[path]`), not through
//! `common`, so the soak example can use it too.

/// The notes a tolerant reader modelled on mido's (1.3, `clip=True`) finds: note-ons with a
/// velocity above 0, counted track by track; None where mido gives up on the file. mido keeps
/// running status across meta events, clips data bytes over 127, and fails on an undefined
/// status byte, running status with no status, a track chunk that is not `MTrk`, or an event
/// that runs past its track (it then reads on into the next chunk and hits the end of the file).
pub fn reference_notes(b: &[u8]) -> Option<usize> {
    let be32 = |p: usize| Some(u32::from_be_bytes(b.get(p..p + 4)?.try_into().ok()?) as usize);
    if b.get(..4)? != b"MThd" {
        return None;
    }
    let header = be32(4)?;
    let tracks = i16::from_be_bytes(b.get(10..12)?.try_into().ok()?).max(0);
    let mut p = (8 + header).min(b.len());
    let mut notes = 0;
    for _ in 0..tracks {
        if b.get(p..p + 4)? != b"MTrk" {
            return None;
        }
        let size = be32(p + 4)?;
        p += 8;
        let end = p + size;
        let mut last: Option<u8> = None;
        let byte = |p: &mut usize| {
            let v = *b.get(*p)?;
            *p += 1;
            Some(v)
        };
        let varlen = |p: &mut usize| {
            let mut v = 0usize;
            loop {
                let x = byte(p)?;
                v = (v << 7) | (x & 0x7F) as usize;
                if x < 0x80 {
                    return Some(v);
                }
            }
        };
        while p != end {
            if p > end {
                return None; // mido reads on past the track and meets the end of the file
            }
            varlen(&mut p)?;
            let mut status = byte(&mut p)?;
            let mut peek = None;
            if status < 0x80 {
                peek = Some(status);
                status = last?;
            } else if status != 0xFF {
                last = Some(status);
            }
            match status {
                0xFF => {
                    byte(&mut p)?;
                    let n = varlen(&mut p)?;
                    p = p.checked_add(n).filter(|&q| q <= b.len())?;
                }
                0xF0 | 0xF7 => {
                    let n = varlen(&mut p)?;
                    p = p.checked_add(n).filter(|&q| q <= b.len())?;
                }
                _ => {
                    let len = match status {
                        0xC0..=0xDF | 0xF1 | 0xF3 => 1,
                        0x80..=0xEF | 0xF2 => 2,
                        0xF6 | 0xF8 | 0xFA | 0xFB | 0xFC | 0xFE => 0,
                        _ => return None, // undefined status byte
                    };
                    let mut data = Vec::new();
                    data.extend(peek);
                    while data.len() < len {
                        data.push(byte(&mut p)?);
                    }
                    if data.len() > len {
                        return None; // running status on a message without data
                    }
                    if status & 0xF0 == 0x90 && data[1] > 0 {
                        notes += 1;
                    }
                }
            }
        }
    }
    Some(notes)
}

/// Whether a read of `mutant` that kept `notes` notes kept 95 % of what the reference reader
/// finds in it, scaled by how the two readers compare on the undamaged file (`orig_notes` ours,
/// `orig_reference` the reference's); where the reference gives up, the undamaged file is the
/// measure.
#[allow(dead_code)] // midi_fuzz and the soak use it; midi_io does not
pub fn keeps_95(mutant: &[u8], notes: usize, orig_notes: usize, orig_reference: usize) -> bool {
    let expected = match reference_notes(mutant) {
        Some(r) if orig_reference > 0 => r as f64 * orig_notes as f64 / orig_reference as f64,
        Some(_) => 0.0,
        None => orig_notes as f64,
    };
    notes as f64 >= 0.95 * expected.floor()
}

/// `held` notes of one key switched on, `pairs` short notes of another, then the held notes
/// switched off: one list of open notes made pairing this quadratic (a 2.4 MB file took 35 s).
#[allow(dead_code)] // midi_io and the soak build it; midi_fuzz does not
pub fn held_notes(held: usize, pairs: usize) -> Vec<u8> {
    let on = |key| (0u8, key, 100u8);
    let mut evs = vec![on(40); held];
    for _ in 0..pairs {
        evs.extend([on(60), (1, 60, 0)]);
    }
    evs.extend(std::iter::repeat_n((0, 40, 0), held));
    let mut trk = Vec::with_capacity(evs.len() * 3 + 5);
    for (i, (delta, key, vel)) in evs.into_iter().enumerate() {
        trk.push(delta);
        if i == 0 {
            trk.push(0x90); // running status from here on
        }
        trk.extend_from_slice(&[key, vel]);
    }
    trk.extend_from_slice(&[0x00, 0xFF, 0x2F, 0x00]);
    let mut out = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk".to_vec();
    out.extend_from_slice(&(trk.len() as u32).to_be_bytes());
    out.extend_from_slice(&trk);
    out
}
