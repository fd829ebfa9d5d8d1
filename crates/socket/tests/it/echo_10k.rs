//! The echo example holds 10,000 concurrent loopback connections and echoes on
//! every one; reports the server's memory per idle connection.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::Duration;

const CONNECTIONS: usize = 10_000;

/// The echo server, killed when dropped.
struct Echo(Child);

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// Raises this process's descriptor limit as far as the hard limit allows.
fn raise_fd_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write and read one rlimit struct we own.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max.min(wanted);
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}

#[test]
fn the_echo_server_holds_10000_connections_and_echoes_on_all() {
    let limit = raise_fd_limit(CONNECTIONS as u64 + 1000);
    assert!(
        limit > CONNECTIONS as u64 + 100,
        "descriptor limit {limit} is too low for {CONNECTIONS} connections"
    );
    let args = ["--host", "127.0.0.1", "--port", "0"].map(OsStr::new);
    let (child, port) = crate::common::spawn_example("echo", &args);
    let server = Echo(child);
    let idle_before = rss_kib(server.0.id());

    let mut clients = Vec::with_capacity(CONNECTIONS);
    for i in 0..CONNECTIONS {
        let client = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connection {i}: {e}"));
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        clients.push(client);
    }
    // Every connection is live at once: each sends, then each reads its echo.
    for (i, client) in clients.iter_mut().enumerate() {
        client.write_all(&(i as u64).to_le_bytes()).unwrap();
    }
    for (i, client) in clients.iter_mut().enumerate() {
        let mut echo = [0u8; 8];
        client
            .read_exact(&mut echo)
            .unwrap_or_else(|e| panic!("echo on connection {i}: {e}"));
        assert_eq!(u64::from_le_bytes(echo), i as u64);
    }
    let held = rss_kib(server.0.id());
    eprintln!(
        "echo server: {CONNECTIONS} connections, RSS {idle_before} KiB -> {held} KiB, {:.0} bytes per connection",
        (held.saturating_sub(idle_before) * 1024) as f64 / CONNECTIONS as f64
    );
}
