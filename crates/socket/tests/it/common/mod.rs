//! Helpers for the socket tests: loopback servers on port 0, connected pairs,
//! bounded waits on observable state.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use sockarc::Socket;

pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A listening socket on 127.0.0.1 with a port the system chose, and that port.
pub fn loopback_server() -> (Socket, u16) {
    let server = Socket::builder()
        .address(LOCALHOST)
        .create()
        .expect("create server");
    server.listen().expect("listen");
    let port = server.local_addr().expect("local_addr").port();
    (server, port)
}

/// A connected pair on loopback: (client, the server's accepted socket).
pub fn connected_pair() -> (Socket, Socket) {
    let (server, port) = loopback_server();
    let client = Socket::create(0).expect("create client");
    client.connect("127.0.0.1", port).expect("connect");
    let accepted = server.accept().expect("accept");
    (client, accepted)
}

/// Waits until `condition` holds, for at most five seconds, yielding between
/// checks; panics with `what` otherwise.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::yield_now();
    }
}

/// An example binary: `cargo test` builds examples next to the test binaries.
pub fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let target = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    target.join("examples").join(name)
}

/// Starts example `name` with `args`, reads the port from the "… listening on
/// ADDR:PORT" line it prints first on stderr, and returns the child and port.
pub fn spawn_example(name: &str, args: &[&std::ffi::OsStr]) -> (std::process::Child, u16) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(example(name))
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("example {name}: {e}; `cargo test` builds it (or `cargo build -p sockarc-socket --example {name}`)"));
    let mut line = String::new();
    std::io::BufReader::new(child.stderr.take().expect("piped stderr"))
        .read_line(&mut line)
        .expect("the listening line");
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("port in {line:?}"));
    (child, port)
}

/// Reads `n` bytes from `stream` on another thread; join it to get the stream
/// back once they have all arrived.
pub fn drain_in_thread(
    mut stream: std::net::TcpStream,
    n: usize,
) -> std::thread::JoinHandle<std::net::TcpStream> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0;
        while got < n {
            got += std::io::Read::read(&mut stream, &mut buf).expect("read");
        }
        stream
    })
}
