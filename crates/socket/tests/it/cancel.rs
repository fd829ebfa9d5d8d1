//! Cancelling a blocked call from another thread: a distinct error that
//! `read_exact` does not retry, seen through archives too.

use std::io::{ErrorKind, Read};
use std::sync::Arc;

use crate::common::{connected_pair, loopback_server, wait_until};
use sockarc::archive::Archive;
use sockarc::{is_cancelled, Socket, SocketFile};

#[test]
fn a_blocked_receive_returns_cancelled() {
    let (client, accepted) = connected_pair();
    let accepted = Arc::new(accepted);
    let cancel = accepted.cancel_handle();
    let blocked = {
        let accepted = Arc::clone(&accepted);
        std::thread::spawn(move || accepted.receive(&mut [0u8; 8]))
    };
    wait_until("the receive blocks", || accepted.is_blocking());
    cancel.cancel();
    let err = blocked.join().unwrap().unwrap_err();
    assert!(is_cancelled(&err), "{err}");
    assert_ne!(
        err.kind(),
        ErrorKind::Interrupted,
        "Interrupted would be retried by read_exact"
    );
    assert!(!accepted.is_blocking());
    // Cleared, the socket receives what is sent after the cancel.
    accepted.clear_cancel();
    client.send(b"12345678").unwrap();
    let mut buf = [0u8; 8];
    (&*accepted).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"12345678");
}

#[test]
fn a_handle_made_after_the_call_started_still_cancels_it() {
    let (server, _) = loopback_server();
    let server = Arc::new(server);
    let blocked = {
        let server = Arc::clone(&server);
        std::thread::spawn(move || server.accept().map(drop))
    };
    wait_until("the accept blocks", || server.is_blocking());
    server.cancel_handle().cancel();
    assert!(is_cancelled(&blocked.join().unwrap().unwrap_err()));
}

#[test]
fn read_exact_stops_at_a_cancel() {
    let (client, accepted) = connected_pair();
    client.send(b"ab").unwrap();
    let cancel = accepted.cancel_handle();
    let blocked = std::thread::spawn(move || {
        let mut buf = [0u8; 4];
        (&accepted).read_exact(&mut buf)
    });
    // The first two bytes arrive; read_exact then waits for two more.
    cancel.cancel();
    assert!(is_cancelled(&blocked.join().unwrap().unwrap_err()));
}

#[test]
fn a_cancel_reaches_through_an_archive() {
    let (_client, accepted) = connected_pair();
    let file = Arc::new(SocketFile::new(accepted));
    let cancel = file.socket().cancel_handle();
    let blocked = {
        let file = Arc::clone(&file);
        std::thread::spawn(move || Archive::load(&*file).read::<u32>())
    };
    wait_until("the archive read blocks", || file.socket().is_blocking());
    cancel.cancel();
    let err: std::io::Error = blocked.join().unwrap().unwrap_err().into();
    assert!(is_cancelled(&err), "{err}");
}

#[test]
fn a_cancel_lasts_until_cleared() {
    let (client, accepted) = connected_pair();
    let cancel = accepted.cancel_handle();
    cancel.cancel();
    assert!(cancel.is_cancelled());
    assert!(is_cancelled(&accepted.receive(&mut [0u8; 1]).unwrap_err()));
    accepted.clear_cancel();
    client.send(b"x").unwrap();
    assert_eq!(accepted.receive(&mut [0u8; 1]).unwrap(), 1);
}

#[test]
fn cancel_handles_are_clone_send_and_sync() {
    fn assert_thread_safe<T: Clone + Send + Sync>() {}
    assert_thread_safe::<sockarc::CancelHandle>();
    let socket = Socket::create(0).unwrap();
    let handle = socket.cancel_handle();
    let copy = handle.clone();
    copy.cancel();
    assert!(handle.is_cancelled());
}
