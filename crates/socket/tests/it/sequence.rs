//! MFC's "Windows Sockets: Sequence of Operations", row by row and note by note.

use std::io::Read;
use std::sync::mpsc;

use crate::common::{connected_pair, loopback_server, LOCALHOST};
use sockarc::archive::{Archive, Cause, MfcString};
use sockarc::{Socket, SocketFile};

#[test]
fn the_server_listens_on_the_port_it_created_with() {
    // Create(nPort): port 0 lets the system choose; the socket reports it.
    let server = Socket::builder()
        .address(LOCALHOST)
        .port(0)
        .create()
        .unwrap();
    let port = server.local_addr().unwrap().port();
    assert_ne!(port, 0);
    server.listen().unwrap();
    let client = Socket::create(0).unwrap();
    client.connect("127.0.0.1", port).unwrap();
    assert_eq!(client.peer_addr().unwrap().port(), port);
}

#[test]
fn create_with_a_port_in_use_fails_with_addr_in_use() {
    let (_server, port) = loopback_server();
    let err = Socket::builder()
        .address(LOCALHOST)
        .port(port)
        .reuse_address(false)
        .create()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}

#[test]
fn the_client_default_is_any_port_chosen_by_the_system() {
    let (server, port) = loopback_server();
    let client = Socket::create(0).unwrap();
    let chosen = client.local_addr().unwrap().port();
    assert_ne!(chosen, 0);
    client.connect("127.0.0.1", port).unwrap();
    let (_accepted, peer) = server.accept_from().unwrap();
    assert_eq!(peer.port(), chosen);
    assert_eq!(
        peer.ip(),
        LOCALHOST,
        "an IPv4 peer of a dual-stack socket shows as IPv4"
    );
}

#[test]
fn connect_takes_a_dotted_address_or_a_name() {
    let (server, port) = loopback_server();
    for host in ["127.0.0.1", "localhost"] {
        let client = Socket::create(0).unwrap();
        client
            .connect(host, port)
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        let accepted = server.accept().unwrap();
        assert_eq!(
            accepted.peer_addr().unwrap().port(),
            client.local_addr().unwrap().port(),
            "{host}"
        );
        assert_eq!(
            client.peer_addr().unwrap(),
            std::net::SocketAddr::new(LOCALHOST, port),
            "{host}"
        );
    }
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Wine 8 aborts (WSAECONNABORTED) a second connect on a socket whose first was refused; Winsock documents that it may connect again"
)]
fn connect_tries_every_address_in_turn() {
    // A bound socket that does not listen refuses connections.
    let refusing = Socket::builder().address(LOCALHOST).create().unwrap();
    let refused = refusing.local_addr().unwrap();
    let (_server, port) = loopback_server();
    let open = std::net::SocketAddr::new(LOCALHOST, port);

    let client = Socket::create(0).unwrap();
    let err = client.connect_addrs(&[refused]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);

    let client = Socket::create(0).unwrap();
    client.connect_addrs(&[refused, open]).unwrap();
    assert_eq!(client.peer_addr().unwrap(), open);
}

#[test]
fn accept_returns_a_new_connected_socket() {
    let (server, port) = loopback_server();
    let client = Socket::create(0).unwrap();
    client.connect("127.0.0.1", port).unwrap();
    let accepted: Socket = server.accept().unwrap();
    assert_eq!(accepted.local_addr().unwrap().port(), port);
    assert_eq!(
        accepted.peer_addr().unwrap().port(),
        client.local_addr().unwrap().port()
    );
    // The listener goes on listening.
    let second = Socket::create(0).unwrap();
    second.connect("127.0.0.1", port).unwrap();
    assert!(server.accept().is_ok());
}

#[test]
fn an_accepted_socket_out_of_scope_closes_the_connection() {
    let (client, accepted) = connected_pair();
    drop(accepted);
    let mut buf = [0u8; 8];
    assert_eq!(
        (&client).read(&mut buf).unwrap(),
        0,
        "the peer sees end of stream"
    );
}

#[test]
fn archives_on_one_socket_file_exchange_values_both_ways() {
    let (server, port) = loopback_server();
    let (done_tx, done_rx) = mpsc::channel();
    let server_thread = std::thread::spawn(move || {
        let conn = server.accept().unwrap();
        let file = SocketFile::new(conn);
        let mut ar_in = Archive::load(&file);
        let mut ar_out = Archive::store(&file);
        let v: u32 = ar_in.read().unwrap();
        let s: MfcString = ar_in.read().unwrap();
        ar_out.write(&(v + 1)).unwrap();
        ar_out.write(&MfcString::unicode(&format!("{s}!"))).unwrap();
        ar_out.flush().unwrap();
        done_rx.recv().unwrap();
    });
    let client = Socket::create(0).unwrap();
    client.connect("127.0.0.1", port).unwrap();
    let file = SocketFile::new(client);
    let mut ar_out = Archive::store(&file);
    let mut ar_in = Archive::load(&file);
    ar_out.write(&41u32).unwrap();
    ar_out.write(&MfcString::ansi(*b"hello")).unwrap();
    ar_out.flush().unwrap();
    assert_eq!(ar_in.read::<u32>().unwrap(), 42);
    assert_eq!(
        ar_in.read::<MfcString>().unwrap(),
        MfcString::unicode("hello!")
    );
    done_tx.send(()).unwrap();
    server_thread.join().unwrap();
}

#[test]
fn a_dropped_archive_flushes_and_a_dropped_file_closes() {
    let (client, accepted) = connected_pair();
    {
        let file = SocketFile::new(client);
        let mut ar = Archive::store(&file);
        ar.write(&0xABCDu16).unwrap();
        // No flush: dropping the archive sends, dropping the file closes.
    }
    let file = SocketFile::new(accepted);
    let mut ar = Archive::load(&file);
    assert_eq!(ar.read::<u16>().unwrap(), 0xABCD);
    assert_eq!(ar.read::<u8>().unwrap_err().cause(), Cause::EndOfFile);
}

#[test]
fn several_messages_in_one_segment_are_read_while_the_buffer_is_not_empty() {
    let (client, accepted) = connected_pair();
    let sender = SocketFile::new(client);
    let mut ar_out = Archive::store(&sender);
    for i in 0..5u32 {
        ar_out.write(&i).unwrap();
        ar_out
            .write(&MfcString::ansi(format!("message {i}").into_bytes()))
            .unwrap();
    }
    ar_out.flush().unwrap();
    let receiver = SocketFile::new(accepted);
    receiver
        .socket()
        .set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut ar_in = Archive::load(&receiver);
    // The MFC idiom: read a message, then go on while the buffer is not empty.
    let mut got = Vec::new();
    while got.is_empty() || !ar_in.is_buffer_empty() {
        let i: u32 = ar_in.read().unwrap();
        let text: MfcString = ar_in.read().unwrap();
        got.push((i, text.to_string_lossy().into_owned()));
    }
    let expected: Vec<_> = (0..5).map(|i| (i, format!("message {i}"))).collect();
    assert_eq!(
        got, expected,
        "one flush arrives whole on loopback, and nothing is left behind"
    );
}
