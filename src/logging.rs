//! Logs on standard error, through `tracing`. A server must not stop because its
//! log went away: when stderr is closed, lines are dropped (tracing-subscriber
//! would report the failed write with `eprintln!`, which panics). Colours only
//! on a terminal, timestamps only off one: a log file or a service manager's
//! journal gets plain lines with the time, a person at a terminal sees colour.

use std::io::{self, IsTerminal, Write};

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
    let terminal = io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_writer(|| LossyStderr)
        .with_target(false)
        .with_ansi(terminal);
    if terminal {
        builder.without_time().init();
    } else {
        builder.init();
    }
}
