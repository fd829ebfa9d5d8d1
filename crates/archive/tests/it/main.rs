//! mfc-archive's integration tests, in one binary: one module per concept,
//! with the spec's and the real files' bytes. `memory.rs` stays a binary of
//! its own (it installs a counting global allocator), and so does
//! `samples.rs` (it reads the real MFC files in `../shared`, which the
//! published package does not carry).

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
mod strings;
