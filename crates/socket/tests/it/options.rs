//! Typed options, out-of-band data, shutdown, non-blocking mode, and descriptors
//! in and out (Attach/Detach).

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use crate::common::{connected_pair, loopback_server};
use sockarc::Socket;

#[test]
fn typed_options_read_back_what_was_set() {
    let (client, _accepted) = connected_pair();
    client.set_nodelay(true).unwrap();
    assert!(client.nodelay().unwrap());
    client.set_keepalive(true).unwrap();
    assert!(client.keepalive().unwrap());
    client.set_linger(Some(Duration::from_secs(2))).unwrap();
    assert_eq!(client.linger().unwrap(), Some(Duration::from_secs(2)));
    client.set_linger(None).unwrap();
    assert_eq!(client.linger().unwrap(), None);
    client.set_send_buffer_size(64 * 1024).unwrap();
    assert!(client.send_buffer_size().unwrap() >= 64 * 1024);
    client.set_recv_buffer_size(64 * 1024).unwrap();
    assert!(client.recv_buffer_size().unwrap() >= 64 * 1024);
    assert_eq!(
        client.reuse_address().unwrap(),
        cfg!(unix),
        "stream sockets reuse addresses by default on Unix only, as std's TcpListener"
    );
    assert!(client.take_error().unwrap().is_none());
}

#[test]
fn out_of_band_data_arrives_apart_from_the_stream() {
    let (client, accepted) = connected_pair();
    accepted.set_read_timeout(Some(Duration::from_secs(5)));
    client.send(b"normal").unwrap();
    client.send_out_of_band(b"!").unwrap();
    let mut urgent = [0u8; 1];
    assert_eq!(accepted.receive_out_of_band(&mut urgent).unwrap(), 1);
    assert_eq!(&urgent, b"!");
    let mut normal = [0u8; 6];
    (&accepted).read_exact(&mut normal).unwrap();
    assert_eq!(&normal, b"normal");
}

#[test]
fn shutdown_write_is_end_of_stream_for_the_peer() {
    let (client, accepted) = connected_pair();
    client.send(b"last").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut all = Vec::new();
    (&accepted).read_to_end(&mut all).unwrap();
    assert_eq!(all, b"last");
    // The other direction still works.
    (&accepted).write_all(b"reply").unwrap();
    let mut reply = [0u8; 5];
    (&client).read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"reply");
}

#[test]
fn non_blocking_mode_answers_would_block() {
    let (server, _) = loopback_server();
    server.set_nonblocking(true).unwrap();
    assert_eq!(server.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
    let (_client, accepted) = connected_pair();
    accepted.set_nonblocking(true).unwrap();
    assert_eq!(
        accepted.receive(&mut [0u8; 4]).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[test]
fn a_non_blocking_connect_goes_on_in_the_background() {
    let (server, port) = loopback_server();
    let client = Socket::create(0).unwrap();
    client.set_nonblocking(true).unwrap();
    match client.connect("127.0.0.1", port) {
        Ok(()) => {}
        Err(e) => assert_eq!(
            e.kind(),
            ErrorKind::WouldBlock,
            "EINPROGRESS is normalised: {e}"
        ),
    }
    server.set_accept_timeout(Some(Duration::from_secs(5)));
    assert!(server.accept().is_ok());
}

#[test]
fn bytes_available_counts_unread_bytes() {
    let (client, accepted) = connected_pair();
    client.send(b"12345").unwrap();
    crate::common::wait_until("the bytes arrive", || {
        accepted.bytes_available().unwrap() == 5
    });
    accepted.receive(&mut [0u8; 2]).unwrap();
    assert_eq!(accepted.bytes_available().unwrap(), 3);
}

/// The platform's handle traits, under one name for the test below.
#[cfg(unix)]
mod handle {
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
    pub use std::os::fd::{OwnedFd as Owned, RawFd as Raw};

    pub fn into_raw(socket: sockarc::Socket) -> Raw {
        socket.into_raw_fd()
    }
    pub fn as_raw(socket: &sockarc::Socket) -> Raw {
        socket.as_raw_fd()
    }
    pub fn owned_into_raw(owned: Owned) -> Raw {
        owned.into_raw_fd()
    }
    /// # Safety
    /// `raw` is an open socket that nothing else owns.
    pub unsafe fn owned(raw: Raw) -> Owned {
        // SAFETY: the caller's promise.
        unsafe { Owned::from_raw_fd(raw) }
    }
    /// # Safety
    /// `raw` is an open stream socket that nothing else owns.
    pub unsafe fn socket(raw: Raw) -> sockarc::Socket {
        // SAFETY: the caller's promise.
        unsafe { sockarc::Socket::from_raw_fd(raw) }
    }
}

/// The platform's handle traits, under one name for the test below.
#[cfg(windows)]
mod handle {
    use std::os::windows::io::{AsRawSocket, FromRawSocket, IntoRawSocket};
    pub use std::os::windows::io::{OwnedSocket as Owned, RawSocket as Raw};

    pub fn into_raw(socket: sockarc::Socket) -> Raw {
        socket.into_raw_socket()
    }
    pub fn as_raw(socket: &sockarc::Socket) -> Raw {
        socket.as_raw_socket()
    }
    pub fn owned_into_raw(owned: Owned) -> Raw {
        owned.into_raw_socket()
    }
    /// # Safety
    /// `raw` is an open socket that nothing else owns.
    pub unsafe fn owned(raw: Raw) -> Owned {
        // SAFETY: the caller's promise.
        unsafe { Owned::from_raw_socket(raw) }
    }
    /// # Safety
    /// `raw` is an open stream socket that nothing else owns.
    pub unsafe fn socket(raw: Raw) -> sockarc::Socket {
        // SAFETY: the caller's promise.
        unsafe { sockarc::Socket::from_raw_socket(raw) }
    }
}

#[test]
fn handles_detach_and_attach() {
    let (client, accepted) = connected_pair();
    let raw = handle::into_raw(accepted);
    // SAFETY: `raw` was detached just now and is owned by nothing else.
    let owned = unsafe { handle::owned(raw) };
    let attached = Socket::attach(owned).unwrap();
    assert_eq!(handle::as_raw(&attached), raw);
    client.send(b"hi").unwrap();
    let mut buf = [0u8; 2];
    (&attached).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hi");

    let owned: handle::Owned = attached.into();
    // SAFETY: `owned` is an open socket, handed over whole.
    let again = unsafe { handle::socket(handle::owned_into_raw(owned)) };
    client.send(b"yo").unwrap();
    (&again).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"yo");
}
