//! Training: losses, schedules, the trainer thread and the events it sends.

pub mod losses;
