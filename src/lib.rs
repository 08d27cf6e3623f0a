//! improv: live-coding music with machine learning, as a library.
//!
//! The core (`music`, `corpus`) is pure data and files; nothing here knows about terminals, ports or
//! sound cards. See docs/ARCHITECTURE.md for the module map, the threads and what may import what.

pub mod analysis;
pub mod audio;
pub mod corpus;
pub mod engine;
pub mod fsx;
pub mod generate;
pub mod judge;
pub mod model;
pub mod music;
pub mod paths;
pub mod play;
pub mod repl;
pub mod rng;
pub mod text;
pub mod train;
pub mod tui;

// In debug test builds, `assert_no_alloc` scopes (the scheduler's dispatch, the synth callback)
// abort on any allocation.
#[cfg(all(test, debug_assertions))]
#[global_allocator]
static ALLOC: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;
