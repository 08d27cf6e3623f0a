//! Where improv keeps its own files: `$IMPROV_HOME` (caches, history, autosaves) and the bundled
//! corpus and models that ship with the repository.

use std::path::PathBuf;

/// `$IMPROV_HOME`, else the platform's data directory (`~/.local/share/improv` on Linux).
pub fn improv_home() -> PathBuf {
    if let Some(p) = std::env::var_os("IMPROV_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir()
        .map(|d| d.join("improv"))
        .unwrap_or_else(|| std::env::temp_dir().join("improv"))
}

/// The cache directory under `$IMPROV_HOME`.
pub fn cache_dir() -> PathBuf {
    improv_home().join("cache")
}

/// The repository root that holds the bundled `data/`, `models/` and `sessions/`: the current
/// directory when it has them (a clone run with `cargo run`), else the crate's source directory.
pub fn bundle_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if cwd.join("data").join("README.md").is_file() {
        return cwd;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A relative path that is not here but is in the bundle (`data`, `models/...`, `sessions/...`)
/// means the bundled one, so the example sessions work from any folder.
pub fn resolve_input(path: PathBuf) -> PathBuf {
    if path.is_relative() && !path.exists() {
        let bundled = bundle_root().join(&path);
        if bundled.exists() {
            return bundled;
        }
    }
    path
}

/// The bundled default corpus.
pub fn bundled_corpus() -> PathBuf {
    bundle_root().join("data")
}

/// The bundled default model (as `sessions/default.improv` loads it), relative to the bundle.
pub const DEFAULT_MODEL: &str = "models/vae-transformer-flagship";

/// The bundled default model: what `improv generate` uses without `--model`.
pub fn default_model() -> PathBuf {
    bundle_root().join(DEFAULT_MODEL)
}
