//! Datagram sockets: boundaries kept, truncation reported, connect for a default
//! peer, timeouts.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use crate::common::LOCALHOST;
use sockarc::DatagramSocket;

fn loopback_pair() -> (DatagramSocket, DatagramSocket) {
    let a = DatagramSocket::builder()
        .address(LOCALHOST)
        .create_datagram()
        .unwrap();
    let b = DatagramSocket::builder()
        .address(LOCALHOST)
        .create_datagram()
        .unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(Duration::from_secs(5)));
    }
    (a, b)
}

#[test]
fn datagrams_keep_their_boundaries_and_sender() {
    let (a, b) = loopback_pair();
    let to: SocketAddr = b.local_addr().unwrap();
    a.send_to(b"one", to).unwrap();
    a.send_to(b"three", to).unwrap();
    let mut buf = [0u8; 64];
    let first = b.receive_from(&mut buf).unwrap();
    assert_eq!(
        (&buf[..first.len], first.from, first.truncated),
        (&b"one"[..], a.local_addr().unwrap(), false)
    );
    let second = b.receive_from(&mut buf).unwrap();
    assert_eq!(&buf[..second.len], b"three");
}

#[test]
fn an_over_long_datagram_is_reported_truncated() {
    let (a, b) = loopback_pair();
    a.send_to(&[7u8; 100], b.local_addr().unwrap()).unwrap();
    let mut small = [0u8; 10];
    let got = b.receive_from(&mut small).unwrap();
    assert_eq!((got.len, got.truncated), (10, true));
    assert_eq!(small, [7u8; 10]);
}

#[test]
fn connect_sets_a_default_peer() {
    let (a, b) = loopback_pair();
    a.connect("127.0.0.1", b.local_addr().unwrap().port())
        .unwrap();
    b.connect("127.0.0.1", a.local_addr().unwrap().port())
        .unwrap();
    a.send(b"ping").unwrap();
    let mut buf = [0u8; 8];
    let got = b.receive(&mut buf).unwrap();
    assert_eq!(
        (&buf[..got.len], got.from),
        (&b"ping"[..], a.local_addr().unwrap())
    );
    assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
}

#[test]
fn receive_times_out_without_a_datagram() {
    let (a, _b) = loopback_pair();
    a.set_read_timeout(Some(Duration::from_millis(100)));
    let err = a.receive_from(&mut [0u8; 8]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
}

#[test]
fn broadcast_is_an_option_to_switch_on() {
    let (a, _b) = loopback_pair();
    assert!(!a.broadcast().unwrap());
    a.set_broadcast(true).unwrap();
    assert!(a.broadcast().unwrap());
}

#[test]
fn bytes_available_is_the_next_datagram_size() {
    let (a, b) = loopback_pair();
    assert_eq!(b.bytes_available().unwrap(), 0);
    a.send_to(b"12345", b.local_addr().unwrap()).unwrap();
    a.send_to(b"123", b.local_addr().unwrap()).unwrap();
    crate::common::wait_until("the datagram arrives", || b.bytes_available().unwrap() > 0);
    assert_eq!(b.bytes_available().unwrap(), 5);
    let got = b.receive_from(&mut [0u8; 8]).unwrap();
    assert_eq!(got.len, 5);
    assert_eq!(b.bytes_available().unwrap(), 3);
}
