//! The echo example gives a client that half-closes its whole echo back, even
//! when the client reads slowly and the server's backlog is full when the
//! client's end of stream arrives.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::process::Child;
use std::time::Duration;

/// The echo server, killed when dropped.
struct Echo(Child);

impl Drop for Echo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn nine_megabytes_come_back_whole_to_a_slow_reader_that_half_closed() {
    let args = ["--host", "127.0.0.1", "--port", "0"].map(std::ffi::OsStr::new);
    let (child, port) = crate::common::spawn_example("echo", &args);
    let _echo = Echo(child);
    let sent: Vec<u8> = (0..9_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    // A small receive buffer makes the client a slow reader: the server's
    // backlog fills and it stops reading, as for a real slow client.
    let client = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    client.set_recv_buffer_size(4096).unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    client
        .connect_timeout(&addr.into(), Duration::from_secs(5))
        .unwrap();
    let mut client = std::net::TcpStream::from(client);
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut writer = client.try_clone().unwrap();
    let to_send = sent.clone();
    let writing = std::thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut echoed = Vec::with_capacity(sent.len());
    client
        .read_to_end(&mut echoed)
        .expect("the echo ends with the server's close");
    writing.join().unwrap();
    assert_eq!(echoed.len(), sent.len(), "bytes echoed");
    assert!(echoed == sent, "the echo differs");
}

/// 600 connections of 4 MB each, 100 at a time, each client half-closing after
/// its last byte: every echo comes back byte-identical, none is reset.
#[test]
#[ignore = "load: 2.4 GB each way; cargo test --release -p sockarc-socket --test it -- --ignored echo::"]
fn six_hundred_bulk_connections_of_4_megabytes_echo_whole() {
    let args = ["--host", "127.0.0.1", "--port", "0"].map(std::ffi::OsStr::new);
    let (child, port) = crate::common::spawn_example("echo", &args);
    let _echo = Echo(child);
    let sent: std::sync::Arc<Vec<u8>> = std::sync::Arc::new(
        (0..4_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect(),
    );
    let threads: Vec<_> = (0..100)
        .map(|_| {
            let sent = std::sync::Arc::clone(&sent);
            std::thread::spawn(move || {
                for _ in 0..6 {
                    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                    client
                        .set_read_timeout(Some(Duration::from_secs(30)))
                        .unwrap();
                    let mut writer = client.try_clone().unwrap();
                    let to_send = std::sync::Arc::clone(&sent);
                    let writing = std::thread::spawn(move || {
                        writer.write_all(&to_send).unwrap();
                        writer.shutdown(Shutdown::Write).unwrap();
                    });
                    let mut echoed = Vec::with_capacity(sent.len());
                    client.read_to_end(&mut echoed).expect("no reset");
                    writing.join().unwrap();
                    assert!(
                        echoed[..] == sent[..],
                        "an echo of {} bytes differs",
                        echoed.len()
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}
