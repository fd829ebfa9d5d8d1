//! Platform code: waiting for readiness with a deadline and a wake-up, send
//! flags, and buffer casts. Unix (Linux, macOS, the BSDs) now; Windows later.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(not(unix))]
compile_error!("sockarc supports unix platforms only for now");
