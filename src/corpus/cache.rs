//! The token cache: one file per corpus folder and tokenizer setting under `$IMPROV_HOME/cache`,
//! holding each file's tokens keyed by the blake3 of its bytes (and its style label), so an edited
//! file is read again and an unchanged corpus loads without parsing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::FileResult;

/// Bumped whenever the reader or a tokenizer changes what it produces.
const VERSION: u32 = 3;

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    fingerprint: String,
    entries: HashMap<String, FileResult>,
}

pub(crate) struct Cache {
    path: PathBuf,
    fingerprint: String,
    entries: HashMap<String, FileResult>,
}

/// The cache key of one file's tokens.
pub(crate) fn entry_key(hash: &str, style: Option<&str>) -> String {
    match style {
        Some(s) => format!("{hash}|{s}"),
        None => hash.to_string(),
    }
}

impl Cache {
    /// Opens the cache for `root` under `dir`; a missing, old or unreadable cache is empty.
    pub fn open(dir: &Path, root: &Path, fingerprint: &str) -> Cache {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut key = blake3::Hasher::new();
        key.update(root.to_string_lossy().as_bytes());
        key.update(b"\0");
        key.update(fingerprint.as_bytes());
        let name = format!("corpus-{}.bin", &key.finalize().to_hex()[..24]);
        let path = dir.join(name);
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|b| bincode::deserialize::<CacheFile>(&b).ok())
            .filter(|c| c.version == VERSION && c.fingerprint == fingerprint)
            .map(|c| c.entries)
            .unwrap_or_default();
        Cache {
            path,
            fingerprint: fingerprint.to_string(),
            entries,
        }
    }

    pub fn get(&self, key: &str) -> Option<&FileResult> {
        self.entries.get(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Replaces the cache with exactly these entries (files no longer present are forgotten).
    pub fn save(self, entries: Vec<(String, FileResult)>) -> std::io::Result<()> {
        let file = CacheFile {
            version: VERSION,
            fingerprint: self.fingerprint,
            entries: entries.into_iter().collect(),
        };
        let bytes = bincode::serialize(&file).map_err(std::io::Error::other)?;
        crate::fsx::write_atomic(&self.path, &bytes)
    }
}
