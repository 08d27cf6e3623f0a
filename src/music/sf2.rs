//! The preset names of a SoundFont 2 file (its `phdr` records), read without loading the
//! samples, so `synth patch` also knows the names a General MIDI synth shows ("Piano 1").

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// One preset: the bank and program a synth selects it by, and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SfPreset {
    pub bank: u16,
    pub program: u16,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Sf2Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a SoundFont 2 file ({problem})", path.display())]
    Format {
        path: PathBuf,
        problem: &'static str,
    },
}

/// Bytes of one `phdr` record: name[20], preset, bank, bag index (u16 each), three u32.
const PHDR: usize = 38;

/// The presets of the SoundFont at `path`, in file order (the terminal record left out).
pub fn read_presets(path: &Path) -> Result<Vec<SfPreset>, Sf2Error> {
    let io = |source| Sf2Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let bad = |problem| Sf2Error::Format {
        path: path.to_path_buf(),
        problem,
    };
    let mut f = BufReader::new(File::open(path).map_err(io)?);
    let mut head = [0u8; 12];
    f.read_exact(&mut head).map_err(|_| bad("too short"))?;
    if &head[0..4] != b"RIFF" || &head[8..12] != b"sfbk" {
        return Err(bad("no RIFF sfbk header"));
    }
    // Top-level chunks: LIST INFO, LIST sdta (the samples, skipped), LIST pdta (the presets).
    loop {
        let Some((id, size)) = chunk_header(&mut f).map_err(io)? else {
            return Err(bad("no preset headers (phdr)"));
        };
        if &id != b"LIST" {
            skip(&mut f, size).map_err(io)?;
            continue;
        }
        let mut kind = [0u8; 4];
        f.read_exact(&mut kind).map_err(io)?;
        if &kind != b"pdta" {
            skip(&mut f, size.saturating_sub(4)).map_err(io)?;
            continue;
        }
        let mut left = size.saturating_sub(4);
        while left >= 8 {
            let Some((sub, len)) = chunk_header(&mut f).map_err(io)? else {
                break;
            };
            left = left.saturating_sub(8 + len + len % 2);
            if &sub != b"phdr" {
                skip(&mut f, len).map_err(io)?;
                continue;
            }
            let mut data = vec![0u8; len as usize];
            f.read_exact(&mut data).map_err(io)?;
            let records: Vec<&[u8]> = data.chunks_exact(PHDR).collect();
            let Some((_, presets)) = records.split_last() else {
                return Err(bad("an empty preset list"));
            };
            return Ok(presets.iter().map(|r| preset(r)).collect());
        }
        return Err(bad("no preset headers (phdr)"));
    }
}

fn preset(r: &[u8]) -> SfPreset {
    let name = &r[..20];
    let end = name.iter().position(|&b| b == 0).unwrap_or(20);
    SfPreset {
        name: String::from_utf8_lossy(&name[..end]).trim().to_string(),
        program: u16::from_le_bytes([r[20], r[21]]),
        bank: u16::from_le_bytes([r[22], r[23]]),
    }
}

/// The next chunk's id and size, or `None` at the end of the file.
fn chunk_header(f: &mut impl Read) -> std::io::Result<Option<([u8; 4], u64)>> {
    let mut h = [0u8; 8];
    match f.read_exact(&mut h) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let id = [h[0], h[1], h[2], h[3]];
    Ok(Some((
        id,
        u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]])),
    )))
}

/// Skips a chunk's body (chunks are padded to an even length).
fn skip(f: &mut impl Seek, size: u64) -> std::io::Result<()> {
    f.seek(SeekFrom::Current((size + size % 2) as i64))
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_that_are_no_soundfont_are_one_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.sf2");
        std::fs::write(&p, b"MThd\0\0\0\x06\0\x01\0\x01\0\x60").unwrap();
        let e = read_presets(&p).unwrap_err().to_string();
        assert!(
            e.ends_with("x.sf2: not a SoundFont 2 file (no RIFF sfbk header)"),
            "{e}"
        );
        let e = read_presets(&dir.path().join("missing.sf2")).unwrap_err();
        assert!(matches!(e, Sf2Error::Io { .. }), "{e}");
    }
}
