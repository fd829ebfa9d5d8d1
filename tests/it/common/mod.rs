//! Helpers shared by the binary's tests.

use std::io::BufRead;

/// The built `sockarc` binary.
pub const SOCKARC: &str = env!("CARGO_BIN_EXE_sockarc");

/// The path of one of the real MFC files in `../shared/mfc-samples`.
pub fn sample(name: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/mfc-samples/").to_owned() + name
}

/// The port a server's first line on standard error names (`listening on
/// 127.0.0.1:40123`, `chat-server: listening on …`), read from `stderr`,
/// which stays readable for the rest of the log.
pub fn listening_port(stderr: &mut impl BufRead) -> u16 {
    let mut line = String::new();
    stderr.read_line(&mut line).expect("the listening line");
    line.trim()
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("port in {line:?}"))
}
