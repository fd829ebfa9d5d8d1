//! Helpers for the socket tests: loopback servers on port 0, connected pairs,
//! bounded waits on observable state.
#![allow(dead_code)]

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
