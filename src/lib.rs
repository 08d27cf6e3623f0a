//! improv: live-coding music with machine learning, as a library.
//!
//! The core (`music`, `corpus`) is pure data and files; nothing here knows about terminals, ports or
//! sound cards. See ARCHITECTURE.md in the project's shared notes for the module map.

pub mod corpus;
pub mod fsx;
pub mod model;
pub mod music;
pub mod paths;
pub mod train;
