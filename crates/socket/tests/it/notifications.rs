//! CAsyncSocket's notification rules (WSAAsyncSelect's), each shown as: these
//! notifications, in this order, and then no more.

use std::cell::RefCell;
use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::common::LOCALHOST;
use sockarc::{AsyncSocket, EventLoop, Events, Handler, Socket};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Accept,
    Connect,
    Receive,
    Send,
    OutOfBand,
    Close,
}

type Seen = (AsyncSocket, What, Option<ErrorKind>);
type Log = Rc<RefCell<Vec<Seen>>>;

/// Records every notification and does nothing else.
struct Recorder(Log);

impl Recorder {
    fn note(&self, socket: AsyncSocket, what: What, error: Option<std::io::Error>) {
        self.0
            .borrow_mut()
            .push((socket, what, error.map(|e| e.kind())));
    }
}

impl Handler for Recorder {
    fn on_accept(&mut self, _: &mut EventLoop, s: AsyncSocket, e: Option<std::io::Error>) {
        self.note(s, What::Accept, e);
    }
    fn on_connect(&mut self, _: &mut EventLoop, s: AsyncSocket, e: Option<std::io::Error>) {
        self.note(s, What::Connect, e);
    }
    fn on_receive(&mut self, _: &mut EventLoop, s: AsyncSocket, e: Option<std::io::Error>) {
        self.note(s, What::Receive, e);
    }
    fn on_send(&mut self, _: &mut EventLoop, s: AsyncSocket, e: Option<std::io::Error>) {
        self.note(s, What::Send, e);
    }
    fn on_out_of_band_data(
        &mut self,
        _: &mut EventLoop,
        s: AsyncSocket,
        e: Option<std::io::Error>,
    ) {
        self.note(s, What::OutOfBand, e);
    }
    fn on_close(&mut self, _: &mut EventLoop, s: AsyncSocket, e: Option<std::io::Error>) {
        self.note(s, What::Close, e);
    }
}

/// Runs the loop until `expected` has arrived (within 5 s), then two more short
/// turns, and asserts that exactly `expected` came.
fn expect_notes(ev: &mut EventLoop, log: &Log, expected: &[Seen]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while log.borrow().len() < expected.len() {
        assert!(
            Instant::now() < deadline,
            "still waiting for {expected:?}, got {:?}",
            log.borrow()
        );
        ev.run_once(Some(Duration::from_millis(100))).unwrap();
    }
    for _ in 0..2 {
        ev.run_once(Some(Duration::from_millis(30))).unwrap();
    }
    assert_eq!(log.take(), expected);
}

/// A listening socket on 127.0.0.1 and its port.
fn listener(ev: &mut EventLoop, log: &Log) -> (AsyncSocket, u16) {
    let builder = Socket::builder().address(LOCALHOST);
    let listener = ev
        .create_with(builder, Events::ALL, Recorder(log.clone()))
        .unwrap();
    ev.listen(listener).unwrap();
    let port = ev.local_addr(listener).unwrap().port();
    (listener, port)
}

/// A blocking client connected to an accepted AsyncSocket; the accept's own
/// notifications (on_accept, then on_send for the new socket) are consumed.
fn accepted(ev: &mut EventLoop, log: &Log) -> (TcpStream, AsyncSocket) {
    let (listener, port) = listener(ev, log);
    let client = TcpStream::connect((LOCALHOST, port)).unwrap();
    expect_notes(ev, log, &[(listener, What::Accept, None)]);
    let (conn, _) = ev.accept(listener, Recorder(log.clone())).unwrap();
    expect_notes(ev, log, &[(conn, What::Send, None)]);
    (client, conn)
}

#[test]
fn a_partial_receive_is_followed_by_another_on_receive() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (mut client, conn) = accepted(&mut ev, &log);
    client.write_all(b"0123456789").unwrap();
    expect_notes(&mut ev, &log, &[(conn, What::Receive, None)]);
    let mut buf = [0u8; 4];
    assert_eq!(ev.receive(conn, &mut buf).unwrap(), 4);
    expect_notes(&mut ev, &log, &[(conn, What::Receive, None)]);
}

#[test]
fn a_receive_that_drains_everything_gets_none_until_more_arrives() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (mut client, conn) = accepted(&mut ev, &log);
    client.write_all(b"0123456789").unwrap();
    expect_notes(&mut ev, &log, &[(conn, What::Receive, None)]);
    let mut buf = [0u8; 64];
    assert_eq!(ev.receive(conn, &mut buf).unwrap(), 10);
    expect_notes(&mut ev, &log, &[]);
    client.write_all(b"more").unwrap();
    expect_notes(&mut ev, &log, &[(conn, What::Receive, None)]);
}

#[test]
fn no_second_on_receive_without_a_receive_even_when_more_arrives() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (mut client, conn) = accepted(&mut ev, &log);
    client.write_all(b"first").unwrap();
    expect_notes(&mut ev, &log, &[(conn, What::Receive, None)]);
    client.write_all(b"second").unwrap();
    expect_notes(&mut ev, &log, &[]);
    assert_eq!(ev.receive(conn, &mut [0u8; 64]).unwrap(), 11);
    expect_notes(&mut ev, &log, &[]);
}

#[test]
fn a_failed_receive_also_re_enables_on_receive() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (mut client, conn) = accepted(&mut ev, &log);
    assert_eq!(
        ev.receive(conn, &mut [0u8; 8]).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    client.write_all(b"x").unwrap();
    expect_notes(&mut ev, &log, &[(conn, What::Receive, None)]);
}

#[test]
fn async_select_write_on_a_writable_socket_notifies_at_once() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (_client, conn) = accepted(&mut ev, &log);
    ev.async_select(conn, Events::WRITE | Events::CLOSE)
        .unwrap();
    expect_notes(&mut ev, &log, &[(conn, What::Send, None)]);
    assert_eq!(ev.mask(conn).unwrap(), Events::WRITE | Events::CLOSE);
}

#[test]
fn a_send_that_would_block_brings_on_send_when_it_can_go_on() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (client, conn) = accepted(&mut ev, &log);
    let chunk = [0u8; 64 * 1024];
    let mut sent = 0usize;
    let would_block = loop {
        match ev.send(conn, &chunk) {
            Ok(n) => sent += n,
            Err(e) => break e,
        }
        assert!(sent < 1 << 30, "the send buffer never filled");
    };
    assert_eq!(would_block.kind(), ErrorKind::WouldBlock);
    expect_notes(&mut ev, &log, &[]);
    // The peer reads everything; room frees up.
    let reader = crate::common::drain_in_thread(client, sent);
    expect_notes(&mut ev, &log, &[(conn, What::Send, None)]);
    drop(reader.join().unwrap());
}

#[test]
fn a_partial_send_brings_on_send_when_room_frees() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (client, conn) = accepted(&mut ev, &log);
    let huge = vec![0u8; 64 << 20];
    let sent = ev.send(conn, &huge).unwrap();
    assert!(sent < huge.len(), "the kernel took all 64 MiB at once");
    expect_notes(&mut ev, &log, &[]);
    let reader = crate::common::drain_in_thread(client, sent);
    expect_notes(&mut ev, &log, &[(conn, What::Send, None)]);
    drop(reader.join().unwrap());
}

#[test]
fn out_of_band_data_arrives_as_on_out_of_band_data_once_until_received() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (client, conn) = accepted(&mut ev, &log);
    ev.async_select(conn, Events::OOB | Events::CLOSE).unwrap();
    socket2::SockRef::from(&client)
        .send_out_of_band(b"!")
        .unwrap();
    expect_notes(&mut ev, &log, &[(conn, What::OutOfBand, None)]);
    let mut urgent = [0u8; 1];
    assert_eq!(ev.receive_out_of_band(conn, &mut urgent).unwrap(), 1);
    assert_eq!(&urgent, b"!");
    expect_notes(&mut ev, &log, &[]);
}

#[test]
fn a_refused_connect_arrives_as_on_connect_with_the_error() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    // A bound socket that does not listen refuses connections.
    let refusing = Socket::builder().address(LOCALHOST).create().unwrap();
    let port = refusing.local_addr().unwrap().port();
    let client = ev.create(0, Events::ALL, Recorder(log.clone())).unwrap();
    assert_eq!(
        ev.connect(client, "127.0.0.1", port).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    expect_notes(
        &mut ev,
        &log,
        &[(client, What::Connect, Some(ErrorKind::ConnectionRefused))],
    );
}

#[test]
fn a_connect_arrives_as_on_connect_then_on_send() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (listener, port) = listener(&mut ev, &log);
    let client = ev.create(0, Events::ALL, Recorder(log.clone())).unwrap();
    let _ = ev.connect(client, "127.0.0.1", port);
    let deadline = Instant::now() + Duration::from_secs(5);
    while log.borrow().len() < 3 {
        assert!(Instant::now() < deadline, "got {:?}", log.borrow());
        ev.run_once(Some(Duration::from_millis(100))).unwrap();
    }
    let mut seen = log.take();
    seen.sort_by_key(|(s, _, _)| *s == listener);
    assert_eq!(
        seen,
        [
            (client, What::Connect, None),
            (client, What::Send, None),
            (listener, What::Accept, None)
        ]
    );
}

#[test]
fn a_peer_close_arrives_once_after_the_data_is_read() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (mut client, conn) = accepted(&mut ev, &log);
    client.write_all(b"bye").unwrap();
    drop(client);
    expect_notes(&mut ev, &log, &[(conn, What::Receive, None)]);
    assert_eq!(ev.receive(conn, &mut [0u8; 8]).unwrap(), 3);
    expect_notes(&mut ev, &log, &[(conn, What::Close, None)]);
    assert_eq!(ev.receive(conn, &mut [0u8; 8]).unwrap(), 0);
    expect_notes(&mut ev, &log, &[]);
}

#[test]
fn data_and_close_in_one_event_still_bring_on_close_after_the_read() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (listener, port) = listener(&mut ev, &log);
    // Data and FIN are both waiting before the socket is accepted, so its first
    // readiness event reports them together.
    let mut client = TcpStream::connect((LOCALHOST, port)).unwrap();
    client.write_all(b"bye").unwrap();
    drop(client);
    expect_notes(&mut ev, &log, &[(listener, What::Accept, None)]);
    let (conn, _) = ev.accept(listener, Recorder(log.clone())).unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !seen.iter().any(|(_, what, _)| *what == What::Receive) {
        assert!(Instant::now() < deadline, "no on_receive: {seen:?}");
        ev.run_once(Some(Duration::from_millis(50))).unwrap();
        seen.extend(log.take());
    }
    assert_eq!(ev.receive(conn, &mut [0u8; 64]).unwrap(), 3);
    expect_notes(&mut ev, &log, &[(conn, What::Close, None)]);
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Wine 8 reports a reset as end of stream (recv gives 0); Windows gives WSAECONNRESET"
)]
fn a_reset_arrives_as_on_close_with_the_error() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (client, conn) = accepted(&mut ev, &log);
    socket2::SockRef::from(&client)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(client);
    expect_notes(
        &mut ev,
        &log,
        &[(conn, What::Close, Some(ErrorKind::ConnectionReset))],
    );
}

#[test]
fn accept_re_enables_on_accept_for_the_next_waiting_connection() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (listener, port) = listener(&mut ev, &log);
    let _a = TcpStream::connect((LOCALHOST, port)).unwrap();
    let _b = TcpStream::connect((LOCALHOST, port)).unwrap();
    expect_notes(&mut ev, &log, &[(listener, What::Accept, None)]);
    let (first, _) = ev.accept(listener, Recorder(log.clone())).unwrap();
    expect_notes(
        &mut ev,
        &log,
        &[(listener, What::Accept, None), (first, What::Send, None)],
    );
    let (second, _) = ev.accept(listener, Recorder(log.clone())).unwrap();
    expect_notes(&mut ev, &log, &[(second, What::Send, None)]);
    assert_eq!(
        ev.accept(listener, Recorder(log.clone()))
            .unwrap_err()
            .kind(),
        ErrorKind::WouldBlock
    );
}

/// Closes `other` (set later) when told data is there.
struct Closer {
    other: Rc<RefCell<Option<AsyncSocket>>>,
    log: Log,
}

impl Handler for Closer {
    fn on_receive(&mut self, ev: &mut EventLoop, s: AsyncSocket, _: Option<std::io::Error>) {
        self.log.borrow_mut().push((s, What::Receive, None));
        if let Some(other) = self.other.borrow_mut().take() {
            ev.close(other);
        }
    }
}

#[test]
fn closing_a_socket_in_another_ones_callback_drops_its_queued_notifications() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (listener, port) = listener(&mut ev, &log);
    let mut a = TcpStream::connect((LOCALHOST, port)).unwrap();
    let mut b = TcpStream::connect((LOCALHOST, port)).unwrap();
    let a_target = Rc::new(RefCell::new(None));
    let b_target = Rc::new(RefCell::new(None));
    let mut conns = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while conns.len() < 2 {
        assert!(Instant::now() < deadline);
        ev.run_once(Some(Duration::from_millis(100))).unwrap();
        let targets = [&a_target, &b_target];
        while let Ok((conn, _)) = ev.accept(
            listener,
            Closer {
                other: Rc::clone(targets[conns.len().min(1)]),
                log: log.clone(),
            },
        ) {
            ev.async_select(conn, Events::READ).unwrap();
            conns.push(conn);
        }
    }
    // Each connection's handler closes the other one.
    *a_target.borrow_mut() = Some(conns[1]);
    *b_target.borrow_mut() = Some(conns[0]);
    log.take();
    a.write_all(b"a").unwrap();
    b.write_all(b"b").unwrap();
    // Both on_receives are queued before either runs; the first handler closes
    // the other socket, whose notification must not arrive.
    let deadline = Instant::now() + Duration::from_secs(5);
    while log.borrow().is_empty() {
        assert!(Instant::now() < deadline);
        ev.run_once(Some(Duration::from_millis(100))).unwrap();
    }
    for _ in 0..3 {
        ev.run_once(Some(Duration::from_millis(30))).unwrap();
    }
    let seen = log.take();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let survivor = seen[0].0;
    assert!(ev.is_open(survivor));
    assert_eq!(conns.iter().filter(|c| ev.is_open(**c)).count(), 1);
}

#[test]
fn calls_on_a_closed_socket_answer_not_found() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let s = ev.create(0, Events::ALL, Recorder(log)).unwrap();
    ev.close(s);
    assert_eq!(
        ev.receive(s, &mut [0u8; 1]).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    ev.close(s);
}

#[test]
fn data_and_close_that_come_with_the_connect_are_announced() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let server = std::net::TcpListener::bind((LOCALHOST, 0)).unwrap();
    let port = server.local_addr().unwrap().port();
    let client = ev.create(0, Events::ALL, Recorder(log.clone())).unwrap();
    let _ = ev.connect(client, "127.0.0.1", port);
    // The server greets and closes before the loop looks at the socket at all.
    let (mut conn, _) = server.accept().unwrap();
    conn.write_all(b"hello").unwrap();
    drop(conn);
    expect_notes(
        &mut ev,
        &log,
        &[
            (client, What::Connect, None),
            (client, What::Send, None),
            (client, What::Receive, None),
        ],
    );
    assert_eq!(ev.receive(client, &mut [0u8; 64]).unwrap(), 5);
    expect_notes(&mut ev, &log, &[(client, What::Close, None)]);
}

#[test]
fn a_socket_not_yet_connected_gets_no_notification_and_keeps_its_on_close() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let client = ev.create(0, Events::ALL, Recorder(log.clone())).unwrap();
    expect_notes(&mut ev, &log, &[]);
    let server = std::net::TcpListener::bind((LOCALHOST, 0)).unwrap();
    let _ = ev.connect(client, "127.0.0.1", server.local_addr().unwrap().port());
    let (conn, _) = server.accept().unwrap();
    expect_notes(
        &mut ev,
        &log,
        &[(client, What::Connect, None), (client, What::Send, None)],
    );
    drop(conn);
    expect_notes(&mut ev, &log, &[(client, What::Close, None)]);
}

/// What a [`Reader`] got: each receive's bytes, or the close.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Data(Vec<u8>),
    Failed(ErrorKind),
    Close,
}

type Gots = Rc<RefCell<Vec<Got>>>;

/// Makes one receive of `size` bytes per on_receive (the intended pattern) and
/// records what it got; records on_close.
struct Reader {
    size: usize,
    got: Gots,
}

impl Handler for Reader {
    fn on_receive(&mut self, ev: &mut EventLoop, s: AsyncSocket, _: Option<std::io::Error>) {
        let mut buf = vec![0u8; self.size];
        let got = match ev.receive(s, &mut buf) {
            Ok(n) => Got::Data(buf[..n].to_vec()),
            Err(e) => Got::Failed(e.kind()),
        };
        self.got.borrow_mut().push(got);
    }
    fn on_close(&mut self, _: &mut EventLoop, _: AsyncSocket, _: Option<std::io::Error>) {
        self.got.borrow_mut().push(Got::Close);
    }
}

/// A `Reader` of `size`-byte receives on an accepted socket with mask
/// READ | CONNECT | CLOSE, whose peer has sent "AAAA", the urgent byte "B" and
/// "CCCC" before the loop looks at the socket. Returns what the reader got once
/// `expected` has come, or 5 s have passed, and two short turns more.
fn read_across_the_urgent_mark(size: usize, expected: &[Got]) -> Vec<Got> {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (listener, port) = listener(&mut ev, &log);
    let mut client = TcpStream::connect((LOCALHOST, port)).unwrap();
    expect_notes(&mut ev, &log, &[(listener, What::Accept, None)]);
    let got = Gots::default();
    let reader = Reader {
        size,
        got: got.clone(),
    };
    let (conn, _) = ev.accept(listener, reader).unwrap();
    ev.async_select(conn, Events::READ | Events::CONNECT | Events::CLOSE)
        .unwrap();
    client.write_all(b"AAAA").unwrap();
    socket2::SockRef::from(&client)
        .send_out_of_band(b"B")
        .unwrap();
    client.write_all(b"CCCC").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.borrow().len() < expected.len() && Instant::now() < deadline {
        ev.run_once(Some(Duration::from_millis(100))).unwrap();
    }
    for _ in 0..2 {
        ev.run_once(Some(Duration::from_millis(30))).unwrap();
    }
    assert_eq!(log.take(), [], "the listener got more");
    drop(client);
    got.take()
}

#[test]
fn data_behind_the_urgent_mark_is_announced_after_a_read_that_stopped_there() {
    // Linux stops a read at the urgent mark: the first comes back short, "AAAA",
    // and must not count as having drained the socket.
    let expected = [Got::Data(b"AAAA".to_vec()), Got::Data(b"CCCC".to_vec())];
    assert_eq!(read_across_the_urgent_mark(64, &expected), expected);
}

#[test]
fn a_read_that_ends_at_the_urgent_mark_is_followed_by_on_receive_not_on_close() {
    // FIONREAD counts only up to the mark: 0 there, with "CCCC" behind it. That
    // is no end of stream.
    let expected = [Got::Data(b"AAAA".to_vec()), Got::Data(b"CCCC".to_vec())];
    assert_eq!(read_across_the_urgent_mark(4, &expected), expected);
}

#[test]
fn data_behind_the_mark_is_announced_when_the_urgent_byte_was_taken_first() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (mut client, conn) = accepted(&mut ev, &log);
    client.write_all(b"AAAA").unwrap();
    socket2::SockRef::from(&client)
        .send_out_of_band(b"B")
        .unwrap();
    client.write_all(b"CCCC").unwrap();
    expect_notes(
        &mut ev,
        &log,
        &[(conn, What::Receive, None), (conn, What::OutOfBand, None)],
    );
    let mut urgent = [0u8; 1];
    assert_eq!(ev.receive_out_of_band(conn, &mut urgent).unwrap(), 1);
    assert_eq!(&urgent, b"B");
    expect_notes(&mut ev, &log, &[(conn, What::Receive, None)]);
    // The urgent byte is gone (no more POLLPRI), but the read still stops at
    // the mark.
    let mut buf = [0u8; 64];
    assert_eq!(ev.receive(conn, &mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"AAAA");
    expect_notes(&mut ev, &log, &[(conn, What::Receive, None)]);
    assert_eq!(ev.receive(conn, &mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"CCCC");
    expect_notes(&mut ev, &log, &[]);
}

/// On its first on_receive: receives, has its peer send more and another
/// socket's peer send something, then pumps the loop from inside the handler
/// (as a modal wait does) until that other socket's on_receive has come.
struct Pumper {
    log: Log,
    peer: TcpStream,
    other: AsyncSocket,
    other_peer: TcpStream,
    pumped: bool,
}

impl Handler for Pumper {
    fn on_receive(&mut self, ev: &mut EventLoop, s: AsyncSocket, _: Option<std::io::Error>) {
        self.log.borrow_mut().push((s, What::Receive, None));
        let _ = ev.receive(s, &mut [0u8; 64]);
        if std::mem::replace(&mut self.pumped, true) {
            return;
        }
        self.peer.write_all(b"more").unwrap();
        self.other_peer.write_all(b"x").unwrap();
        let other_seen = |log: &Log| log.borrow().iter().any(|(s, _, _)| *s == self.other);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !other_seen(&self.log) {
            assert!(Instant::now() < deadline, "no on_receive for the other");
            ev.run_once(Some(Duration::from_millis(100))).unwrap();
        }
    }
}

#[test]
fn pumping_the_loop_inside_a_handler_delays_its_own_notifications_but_loses_none() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (other_peer, other) = accepted(&mut ev, &log);
    ev.async_select(other, Events::READ | Events::CLOSE)
        .unwrap();
    let (listener, port) = listener(&mut ev, &log);
    let mut peer = TcpStream::connect((LOCALHOST, port)).unwrap();
    expect_notes(&mut ev, &log, &[(listener, What::Accept, None)]);
    let pumper = Pumper {
        log: log.clone(),
        peer: peer.try_clone().unwrap(),
        other,
        other_peer: other_peer.try_clone().unwrap(),
        pumped: false,
    };
    let (conn, _) = ev.accept(listener, pumper).unwrap();
    ev.async_select(conn, Events::READ | Events::CLOSE).unwrap();
    peer.write_all(b"first").unwrap();
    // The pump sees "more" arrive while conn's handler runs: its on_receive
    // comes after the handler returns, not inside it, and not never.
    expect_notes(
        &mut ev,
        &log,
        &[
            (conn, What::Receive, None),
            (other, What::Receive, None),
            (conn, What::Receive, None),
        ],
    );
}

/// Closes `client` with a reset (`SO_LINGER` 0), as a peer that aborts does.
fn reset_by(client: TcpStream) {
    socket2::SockRef::from(&client)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(client);
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Wine 8 reports a reset as end of stream (recv gives 0); Windows gives WSAECONNRESET"
)]
fn last_words_before_a_reset_arrive_as_on_receive_then_on_close_with_the_reset() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (mut client, conn) = accepted(&mut ev, &log);
    client.write_all(b"farewell").unwrap();
    reset_by(client);
    expect_notes(&mut ev, &log, &[(conn, What::Receive, None)]);
    let mut buf = [0u8; 64];
    assert_eq!(ev.receive(conn, &mut buf).unwrap(), 8);
    assert_eq!(&buf[..8], b"farewell");
    let reset = Some(ErrorKind::ConnectionReset);
    expect_notes(&mut ev, &log, &[(conn, What::Close, reset)]);
}

#[test]
fn a_reset_after_on_close_wakes_a_blocked_sender() {
    let mut ev = EventLoop::new().unwrap();
    let log = Log::default();
    let (client, conn) = accepted(&mut ev, &log);
    client.shutdown(std::net::Shutdown::Write).unwrap();
    expect_notes(&mut ev, &log, &[(conn, What::Close, None)]);
    // Half-open: go on sending until the buffers are full.
    let chunk = [7u8; 65536];
    let mut sent = 0usize;
    loop {
        match ev.send(conn, &chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("send: {e}"),
        }
        assert!(sent < 1 << 30, "the buffers never filled");
    }
    reset_by(client);
    expect_notes(&mut ev, &log, &[(conn, What::Send, None)]);
    let err = ev.send(conn, &chunk).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
        ),
        "{err}"
    );
}
