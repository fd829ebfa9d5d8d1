//! Deadlines CSocket never had: connect, accept, read and write end with
//! `ErrorKind::TimedOut`, and the socket stays usable where TCP allows.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use crate::common::{connected_pair, loopback_server, LOCALHOST};
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

#[test]
fn an_expired_read_deadline_still_takes_the_bytes_that_wait() {
    let (client, accepted) = connected_pair();
    let mut buf = [0u8; 64];
    // Zero, or so short it is gone before the wait looks at the clock.
    for timeout in [Duration::ZERO, Duration::from_micros(1)] {
        accepted.set_read_timeout(None);
        // A short read: the next receive waits before it asks.
        client.send(b"x").unwrap();
        assert_eq!(accepted.receive(&mut buf).unwrap(), 1);
        client.send(b"abc").unwrap();
        crate::common::wait_until("the bytes arrive", || {
            accepted.bytes_available().unwrap() == 3
        });
        accepted.set_read_timeout(Some(timeout));
        let n = accepted
            .receive(&mut buf)
            .unwrap_or_else(|e| panic!("timeout {timeout:?}, 3 bytes waiting: {e}"));
        assert_eq!(&buf[..n], b"abc");
    }
    // Nothing waiting: the last look finds nothing, and the deadline holds.
    accepted.set_read_timeout(Some(Duration::ZERO));
    let err = accepted.receive(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
}

/// Unix only: it waits for the urgent byte with `poll(POLLPRI)`.
#[cfg(unix)]
#[test]
fn an_expired_read_deadline_still_takes_waiting_out_of_band_data() {
    use std::os::fd::AsRawFd;
    let (client, accepted) = connected_pair();
    client.send_out_of_band(b"!").unwrap();
    crate::common::wait_until("the urgent byte arrives", || {
        let mut fds = [libc::pollfd {
            fd: accepted.as_raw_fd(),
            events: libc::POLLPRI,
            revents: 0,
        }];
        // SAFETY: `fds` is a valid array of one pollfd for the call.
        unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) == 1 }
    });
    accepted.set_read_timeout(Some(Duration::ZERO));
    let mut urgent = [0u8; 1];
    assert_eq!(accepted.receive_out_of_band(&mut urgent).unwrap(), 1);
    assert_eq!(&urgent, b"!");
}
