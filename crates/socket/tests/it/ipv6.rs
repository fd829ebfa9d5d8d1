//! IPv6 on `::1`, which MFC's string-based calls never supported.

use std::net::{IpAddr, Ipv6Addr};

use sockarc::archive::Archive;
use sockarc::{Family, Socket, SocketFile};

const LOCALHOST_V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

#[test]
fn a_server_on_ipv6_loopback_serves_an_archive() {
    let server = Socket::builder().address(LOCALHOST_V6).create().unwrap();
    server.listen().unwrap();
    let port = server.local_addr().unwrap().port();
    let client = Socket::create(0).unwrap();
    client.connect("::1", port).unwrap();
    let accepted = server.accept().unwrap();
    assert_eq!(accepted.peer_addr().unwrap().ip(), LOCALHOST_V6);
    assert_eq!(client.peer_addr().unwrap().ip(), LOCALHOST_V6);

    let out = SocketFile::new(client);
    let mut ar = Archive::store(&out);
    ar.write(&-5i64).unwrap();
    ar.flush().unwrap();
    let input = SocketFile::new(accepted);
    assert_eq!(Archive::load(&input).read::<i64>().unwrap(), -5);
}

#[test]
fn bracketed_literals_are_accepted() {
    let server = Socket::builder().address(LOCALHOST_V6).create().unwrap();
    server.listen().unwrap();
    let port = server.local_addr().unwrap().port();
    let client = Socket::create(0).unwrap();
    client.connect("[::1]", port).unwrap();
    assert!(server.accept().is_ok());
}

#[test]
fn an_ipv4_only_socket_cannot_reach_an_ipv6_peer() {
    let client = Socket::builder().family(Family::V4).create().unwrap();
    let err = client.connect("::1", 9).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrNotAvailable);
    assert!(err.to_string().contains("\"::1\""), "{err}");
}

#[test]
fn a_dual_stack_client_reaches_both_families() {
    let v4 = Socket::builder()
        .address([127, 0, 0, 1].into())
        .create()
        .unwrap();
    let v6 = Socket::builder().address(LOCALHOST_V6).create().unwrap();
    v4.listen().unwrap();
    v6.listen().unwrap();
    for (host, server) in [("127.0.0.1", &v4), ("::1", &v6)] {
        let client = Socket::create(0).unwrap();
        client
            .connect(host, server.local_addr().unwrap().port())
            .unwrap();
        assert_eq!(
            server.accept().unwrap().peer_addr().unwrap().port(),
            client.local_addr().unwrap().port()
        );
    }
}
