//! Generation: sampling the next token from a model's logits (and, with the models, primers,
//! streams and latent steering).

pub mod latent;
pub mod piece;
pub mod sample;
