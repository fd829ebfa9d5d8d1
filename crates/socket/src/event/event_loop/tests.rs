//! The loop against a real peer on loopback, with the peer made to act between
//! two of the rules' system calls through the probe's test seam.

use std::cell::RefCell;
use std::io::{self, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::*;
use crate::event::events::Events;
use crate::event::probe::seam::{self, Call};

/// What the handler saw: bytes received per `on_receive`, and `on_close`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Received(usize),
    Closed(Option<io::ErrorKind>),
}

/// Receives everything on each `on_receive` with a buffer of exactly the
/// bytes expected first (a full read, so the level is checked again).
struct Reader {
    log: Rc<RefCell<Vec<Seen>>>,
    first: usize,
}

impl Handler for Reader {
    fn on_receive(&mut self, ev: &mut EventLoop, socket: AsyncSocket, _: Option<io::Error>) {
        let mut buf = vec![0u8; self.first.max(1)];
        self.first = 4096;
        if let Ok(n) = ev.receive(socket, &mut buf) {
            self.log.borrow_mut().push(Seen::Received(n));
        }
    }
    fn on_close(&mut self, ev: &mut EventLoop, socket: AsyncSocket, e: Option<io::Error>) {
        self.log
            .borrow_mut()
            .push(Seen::Closed(e.map(|e| e.kind())));
        ev.close(socket);
    }
}

/// Runs `ev` until `log` holds `n` entries, for at most five seconds.
fn run_until(ev: &mut EventLoop, log: &Rc<RefCell<Vec<Seen>>>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while log.borrow().len() < n {
        assert!(Instant::now() < deadline, "only {:?}", log.borrow());
        ev.run_once(Some(Duration::from_millis(100))).unwrap();
    }
}

/// A request arrives in the middle of the level check that follows a full
/// read, after the check began and before it asks `poll(2)`: it is received,
/// not taken for a close. (The old check asked `FIONREAD` first, then `poll`;
/// a request arriving between the two made `poll` report readable with no
/// hang-up, which was taken for end of stream, and the connection was closed
/// with the request unread, which sent a reset. The check now asks `poll`
/// first and proves end of stream with a peek, so it has no such window: data
/// arriving after the `poll` raises an edge of its own.)
#[test]
fn a_request_arriving_during_the_level_check_is_received_not_taken_for_a_close() {
    let call = Call::Readiness;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let mut ev = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let reader = Reader {
        log: log.clone(),
        first: 64,
    };
    let rules = Rules::new(
        Events::READ | Events::CLOSE,
        crate::event::rules::Phase::Connected,
    );
    let socket = socket2::Socket::from(server);
    let watch = socket.try_clone().unwrap();
    let conn = ev.insert(socket, rules, Box::new(reader)).unwrap();
    let mut client = client;
    client.write_all(&[1; 64]).unwrap();
    // On the first `call` after the first read, the second request comes
    // and is in the receive queue before the call is made.
    let mut writer = Some(client);
    let kept = Rc::new(RefCell::new(None));
    let keep = kept.clone();
    seam::install(Some(Box::new(move |made| {
        if made != call {
            return;
        }
        if let Some(mut peer) = writer.take() {
            peer.write_all(&[2; 129]).unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            while !crate::sys::readiness_now(&watch).is_ok_and(|now| now.readable) {
                assert!(Instant::now() < deadline, "the request never arrived");
                std::thread::yield_now();
            }
            // Kept open: the peer waits for its answer.
            *keep.borrow_mut() = Some(peer);
        }
    })));
    run_until(&mut ev, &log, 2);
    seam::install(None);
    assert_eq!(
        log.borrow()[..],
        [Seen::Received(64), Seen::Received(129)],
        "request before {call:?}"
    );
    assert!(ev.is_open(conn));
    ev.close(conn);
    drop(kept);
}
