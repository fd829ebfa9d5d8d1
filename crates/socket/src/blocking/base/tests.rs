//! Receives that wait in `recv(2)` itself: a cancel interrupts them, also one
//! that lands between the look at the flag and the system call, and the
//! socket stays usable; a `recv(2)` that does not wait after all goes on in
//! `poll(2)`; calls that cannot say "do not wait" put the descriptor back in
//! non-blocking mode.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::seam;
use crate::sys::tests::interrupts_handled;
use crate::{is_cancelled, Socket};

/// A connected pair on 127.0.0.1: (client, the server's accepted socket).
fn connected_pair() -> (Socket, Socket) {
    let server = Socket::builder()
        .address([127, 0, 0, 1].into())
        .create()
        .unwrap();
    server.listen().unwrap();
    let client = Socket::create(0).unwrap();
    client
        .connect("127.0.0.1", server.local_addr().unwrap().port())
        .unwrap();
    (client, server.accept().unwrap())
}

/// Waits until `condition` holds, for at most five seconds, yielding between
/// checks.
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::yield_now();
    }
}

/// One receive of up to `len` bytes on another thread.
fn receive_on_a_thread(
    socket: &Arc<Socket>,
    len: usize,
) -> std::thread::JoinHandle<io::Result<Vec<u8>>> {
    let socket = Arc::clone(socket);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; len];
        let n = socket.receive(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    })
}

/// Receives `expected.len()` bytes on `socket` and checks them.
fn receive_exactly(socket: &Socket, expected: &[u8]) {
    let mut got = Vec::new();
    let mut buf = [0u8; 16];
    while got.len() < expected.len() {
        let n = socket.receive(&mut buf).unwrap();
        assert_ne!(n, 0, "end of stream after {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, expected);
}

#[test]
fn a_cancel_interrupts_a_receive_waiting_in_recv_and_the_socket_stays_usable() {
    let (client, accepted) = connected_pair();
    let accepted = Arc::new(accepted);
    let cancel = accepted.cancel_handle();
    let blocked = {
        let accepted = Arc::clone(&accepted);
        std::thread::spawn(move || accepted.receive(&mut [0u8; 8]))
    };
    wait_until("the receive waits in recv(2)", || {
        accepted.base.control.receiving_in_kernel() == 1
    });
    cancel.cancel();
    let err = blocked.join().unwrap().unwrap_err();
    assert!(is_cancelled(&err), "{err}");
    assert_eq!(accepted.base.control.receiving_in_kernel(), 0);
    assert!(!accepted.is_blocking());

    accepted.clear_cancel();
    client.send(b"after").unwrap();
    receive_exactly(&accepted, b"after");
}

#[test]
fn a_cancel_that_lands_before_recv_interrupts_it_again() {
    let (client, accepted) = connected_pair();
    let accepted = Arc::new(accepted);
    let cancel = accepted.cancel_handle();
    let (at_recv, reached) = mpsc::channel();
    let (done, outcome) = mpsc::channel();
    {
        let accepted = Arc::clone(&accepted);
        std::thread::spawn(move || {
            // Past the look at the flag, before recv(2): the cancel's first
            // interrupt is handled here, so recv(2) starts with none pending.
            seam::install(Box::new(move || {
                let before = interrupts_handled();
                at_recv.send(()).unwrap();
                wait_until("the first interrupt arrives", || {
                    interrupts_handled() > before
                });
            }));
            let before = interrupts_handled();
            let result = accepted.receive(&mut [0u8; 8]);
            done.send((result, interrupts_handled() - before)).unwrap();
        });
    }
    reached.recv().unwrap();
    cancel.cancel();
    let Ok((result, interrupts)) = outcome.recv_timeout(Duration::from_secs(5)) else {
        client.send(b"!").unwrap();
        panic!("the cancel left the receive waiting in recv(2)");
    };
    let err = result.unwrap_err();
    assert!(is_cancelled(&err), "{err}");
    assert!(interrupts >= 2, "{interrupts} interrupt(s)");

    accepted.clear_cancel();
    client.send(b"still here").unwrap();
    receive_exactly(&accepted, b"still here");
}

#[test]
fn a_cleared_cancel_lets_a_new_receive_wait_in_recv() {
    let (client, accepted) = connected_pair();
    let cancel = accepted.cancel_handle();
    cancel.cancel();
    assert!(is_cancelled(&accepted.receive(&mut [0u8; 1]).unwrap_err()));
    accepted.clear_cancel();
    let accepted = Arc::new(accepted);
    let waiting = receive_on_a_thread(&accepted, 2);
    wait_until("the receive waits in recv(2)", || {
        accepted.base.control.receiving_in_kernel() == 1
    });
    client.send(b"ok").unwrap();
    assert_eq!(waiting.join().unwrap().unwrap(), b"ok");
}

#[test]
fn a_recv_that_times_out_by_so_rcvtimeo_goes_on_waiting_in_poll() {
    let (client, accepted) = connected_pair();
    accepted
        .base
        .socket
        .set_read_timeout(Some(Duration::from_millis(5)))
        .unwrap();
    let accepted = Arc::new(accepted);
    let waiting = receive_on_a_thread(&accepted, 4);
    // In poll(2) after recv(2) timed out: waited on, and not in recv(2).
    wait_until("the receive waits in poll(2)", || {
        accepted.base.control.is_waited_on() && accepted.base.control.receiving_in_kernel() == 0
    });
    client.send(b"late").unwrap();
    assert_eq!(waiting.join().unwrap().unwrap(), b"late");
}

#[test]
fn accept_and_detach_put_the_descriptor_back_in_non_blocking_mode() {
    let (client, accepted) = connected_pair();
    let listener = Socket::builder()
        .address([127, 0, 0, 1].into())
        .create()
        .unwrap();
    listener.listen().unwrap();
    // A receive on a listening socket fails at once, after putting the
    // descriptor in blocking mode; the accept after it must still time out.
    let err = listener.receive(&mut [0u8; 1]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotConnected, "{err}");
    assert!(!listener.base.socket.nonblocking().unwrap());
    listener.set_accept_timeout(Some(Duration::from_millis(20)));
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || done.send(listener.accept().map(drop)));
    let accepted_err = outcome
        .recv_timeout(Duration::from_secs(5))
        .expect("the accept waits in poll(2), not in accept(2)")
        .unwrap_err();
    assert_eq!(accepted_err.kind(), io::ErrorKind::TimedOut);

    client.send(b"x").unwrap();
    receive_exactly(&accepted, b"x");
    assert!(!accepted.base.socket.nonblocking().unwrap());
    let detached = socket2::Socket::from(OwnedFd::from(accepted));
    assert!(detached.nonblocking().unwrap());
}
