//! Archives on an AsyncSocket: messages split across segments wait whole, many
//! in one segment all load, replies go out through the storing half.
// Test vectors build lengths and counts that are small by construction.
#![allow(clippy::cast_possible_truncation)]

use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::common::LOCALHOST;
use sockarc::archive::{Loading, MfcString, Result};
use sockarc::{AsyncSocket, EventLoop, Events, Handler, Socket, SocketArchive};

/// `(DWORD id, CString text)`.
type Message = (u32, String);

fn message(ar: &mut Loading<'_>) -> Result<Message> {
    Ok((
        ar.read()?,
        ar.read::<MfcString>()?.to_string_lossy().into_owned(),
    ))
}

type Got = Rc<RefCell<Vec<Message>>>;
type Errors = Rc<RefCell<Vec<sockarc::archive::Cause>>>;

struct Listener(Got, Errors);

impl Handler for Listener {
    fn on_accept(&mut self, ev: &mut EventLoop, s: AsyncSocket, _: Option<std::io::Error>) {
        let conn = Conn {
            archive: SocketArchive::default(),
            got: self.0.clone(),
            errors: self.1.clone(),
        };
        let _ = ev.accept(s, conn);
    }
}

/// Loads every whole message and answers each with `id + 1000` and its text;
/// closes a connection that sends something the archive rejects.
struct Conn {
    archive: SocketArchive,
    got: Got,
    errors: Errors,
}

impl Handler for Conn {
    fn on_receive(&mut self, ev: &mut EventLoop, s: AsyncSocket, _: Option<std::io::Error>) {
        match self.archive.receive(ev, s) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            match self.archive.read_message(message) {
                Ok(Some((id, text))) => {
                    let out = self.archive.storing();
                    out.write(&(id + 1000)).unwrap();
                    out.write(&MfcString::ansi(text.clone().into_bytes()))
                        .unwrap();
                    self.got.borrow_mut().push((id, text));
                }
                Ok(None) => break,
                Err(e) => {
                    self.errors.borrow_mut().push(e.cause());
                    ev.close(s);
                    return;
                }
            }
        }
        self.archive.send(ev, s).unwrap();
    }

    fn on_send(&mut self, ev: &mut EventLoop, s: AsyncSocket, _: Option<std::io::Error>) {
        let _ = self.archive.send(ev, s);
    }
}

/// The bytes of message `(id, text)` with an ANSI text, from the spec's tables.
fn bytes_of(id: u32, text: &str) -> Vec<u8> {
    let mut bytes = id.to_le_bytes().to_vec();
    bytes.push(text.len() as u8);
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

fn server() -> (EventLoop, Got, Errors, u16) {
    let mut ev = EventLoop::new().unwrap();
    let (got, errors) = (Got::default(), Errors::default());
    let listener = ev
        .create_with(
            Socket::builder().address(LOCALHOST),
            Events::ALL,
            Listener(got.clone(), errors.clone()),
        )
        .unwrap();
    ev.listen(listener).unwrap();
    let port = ev.local_addr(listener).unwrap().port();
    (ev, got, errors, port)
}

fn run_until(ev: &mut EventLoop, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        ev.run_once(Some(Duration::from_millis(50))).unwrap();
    }
}

/// A few short turns of the loop, for "nothing happens" checks.
fn turn(ev: &mut EventLoop) {
    for _ in 0..3 {
        ev.run_once(Some(Duration::from_millis(20))).unwrap();
    }
}

#[test]
fn a_message_split_across_segments_waits_and_arrives_whole() {
    let (mut ev, got, _, port) = server();
    let mut client = TcpStream::connect((LOCALHOST, port)).unwrap();
    client.set_nodelay(true).unwrap();
    let bytes = bytes_of(7, "split in three");
    for part in [&bytes[..2], &bytes[2..9]] {
        client.write_all(part).unwrap();
        turn(&mut ev);
        assert!(got.borrow().is_empty(), "no message from a part");
    }
    client.write_all(&bytes[9..]).unwrap();
    run_until(&mut ev, "the message", || got.borrow().len() == 1);
    assert_eq!(got.borrow()[0], (7, "split in three".to_owned()));

    let mut reply = vec![0u8; bytes_of(1007, "split in three").len()];
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.read_exact(&mut reply).unwrap();
    assert_eq!(reply, bytes_of(1007, "split in three"));
}

#[test]
fn many_messages_in_one_segment_all_load_in_one_notification() {
    let (mut ev, got, _, port) = server();
    let mut client = TcpStream::connect((LOCALHOST, port)).unwrap();
    let mut burst = Vec::new();
    for id in 0..50 {
        burst.extend(bytes_of(id, &format!("message {id}")));
    }
    client.write_all(&burst).unwrap();
    run_until(&mut ev, "50 messages", || got.borrow().len() == 50);
    let expected: Vec<Message> = (0..50).map(|id| (id, format!("message {id}"))).collect();
    assert_eq!(*got.borrow(), expected);

    let mut replies = Vec::new();
    for id in 0..50 {
        replies.extend(bytes_of(id + 1000, &format!("message {id}")));
    }
    let mut back = vec![0u8; replies.len()];
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.read_exact(&mut back).unwrap();
    assert_eq!(back, replies);
}

#[test]
fn a_peer_sending_garbage_is_dropped_and_the_others_go_on() {
    let (mut ev, got, errors, port) = server();
    let mut bad = TcpStream::connect((LOCALHOST, port)).unwrap();
    let mut good = TcpStream::connect((LOCALHOST, port)).unwrap();
    // An id, then a string length of 2^31 - 1 (FF, FF FF, FF FF FF 7F): over
    // the archive's limit, so the message is rejected, not waited for.
    let mut garbage = 1u32.to_le_bytes().to_vec();
    garbage.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
    bad.write_all(&garbage).unwrap();
    good.write_all(&bytes_of(2, "still here")).unwrap();
    run_until(&mut ev, "the good message and the bad one's error", || {
        got.borrow().len() == 1 && errors.borrow().len() == 1
    });
    assert_eq!(got.borrow()[0], (2, "still here".to_owned()));
    assert_eq!(
        errors.borrow()[0],
        sockarc::archive::Cause::Generic,
        "a limit error"
    );
    bad.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 8];
    let closed = match bad.read(&mut buf) {
        Ok(0) => true,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    assert!(closed, "the bad peer's connection is closed");
}

#[test]
fn a_detached_socket_carries_on_as_a_blocking_socket_file() {
    let mut ev = EventLoop::new().unwrap();
    let listener = ev
        .create_with(
            Socket::builder().address(LOCALHOST),
            Events::NONE,
            Listener(Got::default(), Errors::default()),
        )
        .unwrap();
    ev.listen(listener).unwrap();
    let port = ev.local_addr(listener).unwrap().port();
    let mut client = TcpStream::connect((LOCALHOST, port)).unwrap();
    client.write_all(&bytes_of(9, "after detach")).unwrap();
    let accepted = loop {
        match ev.accept(listener, Listener(Got::default(), Errors::default())) {
            Ok((socket, _)) => break socket,
            Err(e) if e.kind() == ErrorKind::WouldBlock => ev
                .run_once(Some(Duration::from_millis(20)))
                .map(drop)
                .unwrap(),
            Err(e) => panic!("accept: {e}"),
        }
    };
    let socket = ev.detach(accepted).unwrap();
    assert!(!ev.is_open(accepted));
    socket.set_read_timeout(Some(Duration::from_secs(5)));
    let file = sockarc::SocketFile::new(socket);
    let mut ar = sockarc::archive::Archive::load(&file);
    assert_eq!(ar.read::<u32>().unwrap(), 9);
    assert_eq!(
        ar.read::<MfcString>().unwrap().to_string_lossy(),
        "after detach"
    );
}
