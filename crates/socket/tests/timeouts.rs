//! Deadlines CSocket never had: connect, accept, read and write end with
//! `ErrorKind::TimedOut`, and the socket stays usable where TCP allows.

mod common;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use common::{connected_pair, loopback_server, LOCALHOST};
use sockarc::Socket;

const SHORT: Duration = Duration::from_millis(150);

/// Asserts `f` fails with `TimedOut` after about `SHORT`, well before 5 s.
fn assert_times_out<T: std::fmt::Debug>(what: &str, f: impl FnOnce() -> std::io::Result<T>) {
    let started = Instant::now();
    let err = f().expect_err(what);
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{what}: {err}");
    assert!(
        took >= SHORT,
        "{what} returned after {took:?}, before its deadline"
    );
    assert!(took < Duration::from_secs(5), "{what} took {took:?}");
}

#[test]
fn accept_times_out_without_a_client() {
    let (server, _) = loopback_server();
    server.set_accept_timeout(Some(SHORT));
    assert_eq!(server.accept_timeout(), Some(SHORT));
    assert_times_out("accept", || server.accept());
}

#[test]
fn receive_times_out_without_data_and_then_still_works() {
    let (client, accepted) = connected_pair();
    accepted.set_read_timeout(Some(SHORT));
    let mut buf = [0u8; 4];
    assert_times_out("receive", || accepted.receive(&mut buf));
    client.send(b"late").unwrap();
    assert_eq!(accepted.receive(&mut buf).unwrap(), 4);
    assert_eq!(&buf, b"late");
}

#[test]
fn send_times_out_when_the_peer_does_not_read() {
    let (client, _accepted) = connected_pair();
    client.set_send_buffer_size(4096).unwrap();
    client.set_write_timeout(Some(SHORT));
    let big = vec![0u8; 64 << 20];
    assert_times_out("send", || client.send(&big));
}

#[test]
fn connect_times_out_on_a_full_backlog() {
    let server = Socket::builder().address(LOCALHOST).create().unwrap();
    server.listen_backlog(0).unwrap();
    let port = server.local_addr().unwrap().port();
    // Fill the accept queue: nobody accepts, later handshakes go unanswered.
    let fillers: Vec<Socket> = (0..4)
        .map(|_| {
            let s = Socket::create(0).unwrap();
            s.set_nonblocking(true).unwrap();
            let _ = s.connect("127.0.0.1", port);
            s
        })
        .collect();
    let client = Socket::create(0).unwrap();
    client.set_connect_timeout(Some(SHORT));
    assert_times_out("connect", || client.connect("127.0.0.1", port));
    drop(fillers);
}
