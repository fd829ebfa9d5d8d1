//! mfc-archive's integration tests, in one binary: one module per concept,
//! with the spec's and the real files' bytes. `memory.rs` stays a binary of
//! its own: it installs a counting global allocator.

mod buffering;
mod chains;
mod collections;
mod common;
mod counts;
mod hostile;
mod objects;
mod primitives;
mod properties;
mod resume;
mod samples;
mod strings;
