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
    /// The MMA groove a genre piece was rendered from (grouped by family in the split).
    groove: Option<String>,
}

/// The style and groove of every file (by relative path) that has one.
#[derive(Default)]
pub(crate) struct Labels {
    pub styles: HashMap<String, String>,
    pub grooves: HashMap<String, String>,
}

/// The style (and groove, from a manifest) of every file that has one.
pub(crate) fn labels(
    root: &Path,
    files: &[(String, PathBuf)],
    manifests: &[PathBuf],
) -> Result<Labels, CorpusError> {
    let mut out = Labels::default();
    // Folder layout first; manifests override it.
    for (rel, _) in files {
        if let Some((top, _)) = rel.split_once('/') {
            out.styles.insert(rel.clone(), top.to_string());
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
            let rel = format!("{prefix}{}", e.file);
            if let Some(groove) = e.groove {
                out.grooves.insert(rel.clone(), groove);
            }
            if let Some(label) = e.label {
                out.styles.insert(rel, label);
            }
        }
    }
    Ok(out)
}
