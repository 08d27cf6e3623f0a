//! Generation: sampling the next token from a model's logits, primers, whole pieces, latent
//! steering and the incremental note stream the player uses live.

mod cursor;
pub mod latent;
pub mod notes_text;
pub mod piece;
pub mod sample;
pub mod stream;
