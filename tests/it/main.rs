//! The `sockarc` binary's tests, in one binary: each module drives the built
//! program (`CARGO_BIN_EXE_sockarc`) as a user would.

mod chat;
mod cli;
mod common;
mod derive;
mod documents;
mod inspect;
// Unix only: Python is Linux's here; a Windows process under Wine cannot start it.
#[cfg(unix)]
mod python_peer;
