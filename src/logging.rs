//! Logs on standard error, through `tracing`. A server must not stop because its
//! log went away: when stderr is closed, lines are dropped (tracing-subscriber
//! would report the failed write with `eprintln!`, which panics).

use std::io::{self, Write};

/// Standard error, with write errors swallowed.
struct LossyStderr;

impl Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = io::stderr().lock().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the process's log subscriber: INFO and above, on stderr.
pub fn init() {
    tracing_subscriber::fmt()
        .with_writer(|| LossyStderr)
        .with_target(false)
        .without_time()
        .init();
}
