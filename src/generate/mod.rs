//! Generation: sampling the next token from a model's logits, primers, whole pieces, latent
//! steering (attribute vectors, interpolation, random walks, presets) and the incremental note
//! stream the player uses live.

pub mod attributes;
mod cursor;
pub mod latent;
pub mod notes_text;
pub mod palette;
pub mod piece;
pub mod recon;
pub mod sample;
pub mod stream;
