//! Generation: sampling the next token from a model's logits, pieces from primers, and latent
//! steering (attribute vectors, interpolation, random walks, presets).

pub mod attributes;
pub mod latent;
pub mod piece;
pub mod recon;
pub mod sample;
