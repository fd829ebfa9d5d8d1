//! `sockarc recv` and `sockarc send` against Python's standard `socket` module, a
//! peer no one here wrote, with bytes from the archive spec's tables.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::SOCKARC;

const LIMIT: Duration = Duration::from_secs(20);

/// Waits for `child` to exit, killing it after `LIMIT`; returns its stdout.
fn finish(mut child: Child, what: &str) -> String {
    let (tx, rx) = mpsc::channel();
    let mut stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
        let _ = tx.send(out);
    });
    let out = rx.recv_timeout(LIMIT).unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("{what} did not finish within {LIMIT:?}")
    });
    let status = child.wait().expect("wait");
    assert!(status.success(), "{what} failed: {status}");
    out
}

fn python(script: &str) -> Child {
    Command::new("python3")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs")
}

#[test]
fn recv_decodes_what_a_python_client_sends() {
    let mut recv = Command::new(SOCKARC)
        .args(["recv", "--host", "127.0.0.1", "--port", "0"])
        .args([
            "u32", "str", "wstr", "count", "BOOL", "bool", "f64", "i16", "u64", "str",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sockarc runs");
    let mut stderr = BufReader::new(recv.stderr.take().expect("piped stderr"));
    let port = crate::common::listening_port(&mut stderr);

    // Spec section 1 (little-endian primitives), 2.3 (CStrings), 3 (WriteCount).
    let client = python(&format!(
        r#"
import socket, struct
s = socket.create_connection(("127.0.0.1", {port}), timeout=10)
s.sendall(struct.pack("<I", 0xC0FFEE))
s.sendall(b"\x05hello")
s.sendall(b"\xff\xfe\xff\x02" + "张三".encode("utf-16-le"))
s.sendall(b"\xff\xff\x70\x11\x01\x00")
s.sendall(b"\x01\x00\x00\x00" + b"\x00")
s.sendall(struct.pack("<d", 1.5) + b"\xfe\xff" + struct.pack("<Q", 2**40))
s.sendall(b"\xff\xff\x00" + b"x" * 255)
s.close()
"#
    ));
    assert_eq!(finish(client, "the python client"), "");
    let out = finish(recv, "sockarc recv");
    let expected = [
        "u32 12648430".to_owned(),
        "str hello".into(),
        "wstr 张三".into(),
        "count 70000".into(),
        "BOOL true".into(),
        "bool false".into(),
        "f64 1.5".into(),
        "i16 -2".into(),
        "u64 1099511627776".into(),
        format!("str {}", "x".repeat(255)),
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn send_writes_the_bytes_a_python_server_expects() {
    let mut server = python(
        r#"
import socket, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
srv.settimeout(10)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
conn.settimeout(10)
data = b""
while True:
    chunk = conn.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.hex(" "))
"#,
    );
    let mut stdout = BufReader::new(server.stdout.take().expect("piped stdout"));
    let mut port = String::new();
    stdout.read_line(&mut port).expect("the port line");
    let port = port.trim();

    let status = Command::new(SOCKARC)
        .args(["send", "127.0.0.1", port])
        .args([
            "u32:12648430",
            "str:hello",
            "wstr:张三",
            "count:70000",
            "BOOL:true",
            "bool:false",
        ])
        .args(["f32:1.5", "i16:-2", "count:65535", "str:Ärger"])
        .status()
        .expect("sockarc send runs");
    assert!(status.success());
    let mut hex = String::new();
    stdout.read_line(&mut hex).expect("the data line");
    let _ = server.wait();
    let expected = [
        "ee ff c0 00",             // u32 0xC0FFEE
        "05 68 65 6c 6c 6f",       // CStringA "hello"
        "ff fe ff 02 20 5f 09 4e", // CStringW "张三"
        "ff ff 70 11 01 00",       // WriteCount(70000)
        "01 00 00 00",             // BOOL TRUE
        "00",                      // bool false
        "00 00 c0 3f",             // float 1.5
        "fe ff",                   // short -2
        "ff ff ff ff 00 00",       // WriteCount(0xFFFF)
        "05 c4 72 67 65 72",       // CStringA "Ärger" in Windows-1252
    ]
    .join(" ");
    assert_eq!(hex.trim(), expected);
}
