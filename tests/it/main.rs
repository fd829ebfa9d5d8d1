//! The `sockarc` binary's tests, in one binary: each module drives the built
//! program (`CARGO_BIN_EXE_sockarc`) as a user would.

mod chat;
mod cli;
mod derive;
mod inspect;
mod python_peer;
