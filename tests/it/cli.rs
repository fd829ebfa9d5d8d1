//! The CLI checks its input and says where it failed: each error's exact
//! message and exit status (2 for a usage error, 1 for a failure), and no
//! panic in a debug build.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};

use crate::common::SOCKARC;

fn sockarc(args: &[&str]) -> Output {
    Command::new(SOCKARC)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("sockarc runs")
}

/// The exit status and the first line of standard error.
fn failure(args: &[&str]) -> (i32, String) {
    let out = sockarc(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    let first = stderr.lines().next().unwrap_or_default().to_owned();
    (out.status.code().unwrap_or(-1), first)
}

#[test]
fn channels_and_ports_out_of_range_are_usage_errors() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["chat-server", "--channel", "65535"],
            "error: invalid value '65535' for '--channel <CHANNEL>': 65535 is not in 0..=99",
        ),
        (
            &["chat-server", "--channel", "100"],
            "error: invalid value '100' for '--channel <CHANNEL>': 100 is not in 0..=99",
        ),
        (
            &[
                "chat",
                "--server",
                "localhost",
                "--handle",
                "a",
                "--port",
                "65536",
            ],
            "error: invalid value '65536' for '--port <PORT>': 65536 is not in 1..=65535",
        ),
        (
            &[
                "chat",
                "--server",
                "localhost",
                "--handle",
                "a",
                "--port",
                "0",
            ],
            "error: invalid value '0' for '--port <PORT>': 0 is not in 1..=65535",
        ),
        (
            &["send", "127.0.0.1", "0", "u32:1"],
            "error: invalid value '0' for '<PORT>': 0 is not in 1..=65535",
        ),
        (
            &["recv", "--port", "0", "u33"],
            "error: invalid value 'u33' for '<TYPE>...'",
        ),
    ];
    for (args, message) in cases {
        assert_eq!(failure(args), (2, (*message).to_owned()), "{args:?}");
    }
}

#[test]
fn an_unknown_code_page_is_a_usage_error_listing_the_known_ones() {
    let (status, message) = failure(&["send", "127.0.0.1", "1", "u32:1", "--codepage", "9999"]);
    assert_eq!(status, 2);
    assert!(
        message.starts_with(
            "error: invalid value '9999' for '--codepage <CODEPAGE>': unknown code page 9999; known: 866 874 932 936"
        ),
        "{message}"
    );
}

#[test]
fn text_the_code_page_cannot_hold_is_refused_unless_lossy() {
    assert_eq!(
        failure(&["send", "127.0.0.1", "1", "str:张三"]),
        (
            2,
            "error: str:张三: code page 1252 cannot hold \"张三\"; send it as wstr, choose \
             another --codepage, or pass --lossy to send '?' for them"
                .to_owned()
        )
    );
}

#[test]
fn connect_errors_name_the_host_and_port() {
    // A bound socket that does not listen refuses connections, and holds its
    // port for the test's life (a port bound and closed could be taken by a
    // test running beside this one: it was, and the send succeeded).
    let refusing =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    refusing
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let port = refusing
        .local_addr()
        .unwrap()
        .as_socket()
        .expect("an IPv4 address")
        .port();
    assert_eq!(
        failure(&["send", "127.0.0.1", &port.to_string(), "u32:1"]),
        (
            1,
            format!("sockarc: connect to 127.0.0.1 port {port}: Connection refused")
        )
    );
    let (status, message) = failure(&["send", "nonexistent.invalid", "7000", "u32:1"]);
    assert_eq!(status, 1);
    assert!(
        message
            .starts_with("sockarc: connect to nonexistent.invalid port 7000: name lookup failed"),
        "{message}"
    );
}

#[test]
fn an_address_in_use_names_the_address_and_port() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let expected = format!("sockarc: listen on 127.0.0.1 port {port}: Address already in use");
    for args in [
        &["recv", "--host", "127.0.0.1", "--port", &port, "u8"][..],
        &["chat-server", "--host", "127.0.0.1", "--port", &port][..],
    ] {
        assert_eq!(failure(args), (1, expected.clone()), "{args:?}");
    }
}

#[test]
fn recv_gives_up_after_its_timeout() {
    let out = sockarc(&[
        "recv",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--timeout",
        "300ms",
        "u8",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("sockarc: accept timed out after 300ms: no connection on 127.0.0.1 port "),
        "{stderr}"
    );
}

/// `sockarc recv` on a port the system chooses, waiting at most 5 s, with
/// `args`; a peer connected to it; and its standard error, past the
/// listening line.
fn recv_connected(
    args: &[&str],
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStderr>,
    TcpStream,
) {
    let mut child = Command::new(SOCKARC)
        .args([
            "recv",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--timeout",
            "5s",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let port = crate::common::listening_port(&mut stderr);
    let peer = TcpStream::connect(("127.0.0.1", port)).unwrap();
    (child, stderr, peer)
}

#[test]
fn recv_reports_the_bytes_it_did_not_read() {
    let (child, mut stderr, mut peer) = recv_connected(&["--hex", "u8"]);
    // A u8, then six bytes nobody asked for.
    peer.write_all(&[7, 1, 2, 3, 4, 5, 6]).unwrap();
    drop(peer);
    let out = child.wait_with_output().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(out.status.code(), Some(0), "{rest}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "u8 7\nrest 01 02 03 04 05 06\n"
    );
    assert_eq!(
        rest.trim_end(),
        "sockarc: warning: 6 bytes left unread after the last value (u8)"
    );
}

/// A peer that goes on sending after the last value does not keep `recv`
/// running: it counts a mebibyte of leftovers and says "at least".
#[test]
fn recv_stops_counting_leftovers_at_a_mebibyte() {
    let (child, mut stderr, mut peer) = recv_connected(&["u8"]);
    // A u8 with the first 64 KiB nobody asked for in one write, so they are
    // queued together before `recv` reads the value; then up to 8 MiB more
    // from a thread, faster than `recv` counts them (the writes stop, with an
    // error, once `recv` has gone).
    let mut first = vec![7u8];
    first.extend(vec![0x55u8; 64 * 1024]);
    peer.write_all(&first).unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![0x55u8; 64 * 1024];
        for _ in 0..127 {
            if peer.write_all(&chunk).is_err() {
                break;
            }
        }
        peer
    });
    let out = child.wait_with_output().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    drop(writer.join().unwrap());
    assert_eq!(out.status.code(), Some(0), "{rest}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "u8 7\n");
    assert_eq!(
        rest.trim_end(),
        "sockarc: warning: at least 1048576 bytes left unread after the last value (u8); --hex prints them"
    );
}
