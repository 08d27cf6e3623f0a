//! Style labels: from a `manifest.json` (a list of `{"file": ..., "label": ...}` relative to the
//! manifest's folder) where there is one, else from the folder layout `DIR/<style>/...`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::CorpusError;

#[derive(Deserialize)]
struct Entry {
    file: String,
    label: Option<String>,
}

/// The style of every file (by relative path) that has one.
pub(crate) fn labels(
    root: &Path,
    files: &[(String, PathBuf)],
    manifests: &[PathBuf],
) -> Result<HashMap<String, String>, CorpusError> {
    let mut out = HashMap::new();
    // Folder layout first; manifests override it.
    for (rel, _) in files {
        if let Some((top, _)) = rel.split_once('/') {
            out.insert(rel.clone(), top.to_string());
        }
    }
    for m in manifests {
        let m = m.clone();
        let text = std::fs::read_to_string(&m).map_err(|e| CorpusError::Manifest {
            path: m.clone(),
            problem: e.to_string(),
        })?;
        let entries: Vec<Entry> =
            serde_json::from_str(&text).map_err(|e| CorpusError::Manifest {
                path: m.clone(),
                problem: format!("not a list of {{file, label}}: {e}"),
            })?;
        let dir = m.parent().unwrap_or(root);
        let prefix = dir
            .strip_prefix(root)
            .map(|p| {
                p.components()
                    .map(|c| format!("{}/", c.as_os_str().to_string_lossy()))
                    .collect::<String>()
            })
            .unwrap_or_default();
        for e in entries {
            if let Some(label) = e.label {
                out.insert(format!("{prefix}{}", e.file), label);
            }
        }
    }
    Ok(out)
}
