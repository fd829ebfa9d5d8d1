//! The rules against a fake kernel: one row per rule and per interleaving.
//!
//! [`Kernel`] holds one socket's state as Linux keeps it (bytes queued, FIN,
//! a pending reset error, urgent data, send room, waiting connections) and
//! answers the probe's calls from it. A row may change that state *between*
//! two of the rules' system calls (`arrive_at`), which is how the races of a
//! real peer are played without threads.

use std::io;

use super::*;
use crate::sys::errno;

/// One socket in a fake kernel.
#[derive(Default)]
struct Kernel {
    queued: usize,
    fin: bool,
    /// A reset came in: `recv` gives the queued bytes, then this error once,
    /// then 0.
    reset: bool,
    error: Option<i32>,
    urgent: bool,
    at_mark: bool,
    writable: bool,
    connections: usize,
    /// The probe calls made, by name.
    calls: Vec<&'static str>,
    /// Before probe call number `.0` (counting from 0), this many bytes arrive.
    arrive_at: Option<(usize, usize)>,
}

impl Kernel {
    fn tick(&mut self, name: &'static str) {
        if let Some((at, bytes)) = self.arrive_at {
            if self.calls.len() == at {
                self.queued += bytes;
            }
        }
        self.calls.push(name);
    }
}

impl Probe for Kernel {
    fn readiness(&mut self) -> io::Result<Readiness> {
        self.tick("poll");
        let gone = self.fin || self.reset;
        Ok(Readiness {
            readable: self.queued > 0 || gone || self.connections > 0,
            writable: self.writable || self.reset,
            priority: self.urgent,
            hang_up: gone,
        })
    }

    fn peek(&mut self) -> io::Result<usize> {
        self.tick("peek");
        if self.queued > 0 {
            Ok(1)
        } else if let Some(code) = self.error.take() {
            Err(io::Error::from_raw_os_error(code))
        } else if self.fin || self.reset {
            Ok(0)
        } else {
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    fn at_mark(&mut self) -> io::Result<bool> {
        self.tick("sockatmark");
        Ok(self.at_mark)
    }

    fn take_error(&mut self) -> Option<io::Error> {
        self.tick("SO_ERROR");
        self.error.take().map(io::Error::from_raw_os_error)
    }
}

/// What the rules posted: the notification and the kind of its error.
#[derive(Default)]
struct Posted(Vec<(Note, Option<io::ErrorKind>)>);

impl Post for Posted {
    fn post(&mut self, note: Note, error: Option<io::Error>) {
        self.0.push((note, error.map(|e| e.kind())));
    }
}

impl Posted {
    fn take(&mut self) -> Vec<(Note, Option<io::ErrorKind>)> {
        std::mem::take(&mut self.0)
    }
}

const RESET: Option<io::ErrorKind> = Some(io::ErrorKind::ConnectionReset);

fn connected() -> Rules {
    Rules::new(Events::ALL, Phase::Connected)
}

fn edge(f: impl FnOnce(&mut Ready)) -> Ready {
    let mut ready = Ready::default();
    f(&mut ready);
    ready
}

fn readable() -> Ready {
    edge(|r| r.readable = true)
}

fn fin_edge() -> Ready {
    edge(|r| {
        r.readable = true;
        r.read_closed = true;
    })
}

fn reset_edge() -> Ready {
    edge(|r| {
        r.readable = true;
        r.writable = true;
        r.read_closed = true;
        r.error = true;
    })
}

/// A peer's reset as Linux keeps it: queued bytes stay readable.
fn reset(kernel: &mut Kernel) {
    kernel.reset = true;
    kernel.error = Some(errno::ECONNRESET);
}

/// Receives `n` of the queued bytes into a buffer of `len`, as the loop's
/// `receive` does, and tells the rules.
fn receive(rules: &mut Rules, k: &mut Kernel, post: &mut Posted, len: usize) -> io::Result<usize> {
    let result = if k.queued > 0 {
        let n = k.queued.min(len);
        k.queued -= n;
        Ok(n)
    } else if let Some(code) = k.error.take() {
        Err(io::Error::from_raw_os_error(code))
    } else if k.fin || k.reset {
        Ok(0)
    } else {
        Err(io::ErrorKind::WouldBlock.into())
    };
    rules.after_receive(&result, len, k, post);
    result
}

#[test]
fn readable_edge_posts_on_receive_without_a_system_call() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.queued = 10;
    rules.on_ready(readable(), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Receive, None)]);
    assert!(k.calls.is_empty(), "{:?}", k.calls);
}

#[test]
fn on_receive_is_outstanding_until_a_receive() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.queued = 10;
    rules.on_ready(readable(), &mut k, &mut post);
    rules.on_ready(readable(), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Receive, None)], "one until re-enabled");
    // A short read took part: the rest is announced at once.
    receive(&mut rules, &mut k, &mut post, 4).unwrap();
    assert_eq!(post.take(), [(Note::Receive, None)]);
    // A read that took all there was: no level check, the next edge tells.
    receive(&mut rules, &mut k, &mut post, 100).unwrap();
    assert_eq!(post.take(), []);
    assert_eq!(k.calls, ["poll", "peek"], "only the full read re-checked");
}

/// The race of issue 9: the queue is empty when the check starts and a
/// request arrives during it, before, between or after its system calls. The
/// check may post `on_receive` or leave it to the edge the arrival raises;
/// it must never post `on_close`, and must never miss the data when it saw it
/// readable.
#[test]
fn data_arriving_during_a_level_check_is_never_taken_for_end_of_stream() {
    for at in 0..4 {
        let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
        k.queued = 64;
        k.arrive_at = Some((at, 129));
        // A full read: the level is checked again.
        receive(&mut rules, &mut k, &mut post, 64).unwrap();
        let posted = post.take();
        assert!(
            !posted.iter().any(|(n, _)| *n == Note::Close),
            "arrival before call {at}: {posted:?} after {:?}",
            k.calls
        );
        // Arrival before the poll: it reports readable without hang-up (where
        // the old check had already read FIONREAD 0 and took that for end of
        // stream), and the peek finds the bytes: on_receive now. Any later
        // arrival raises an edge of its own after the check.
        let expected: &[_] = if at == 0 {
            &[(Note::Receive, None)]
        } else {
            &[]
        };
        assert_eq!(posted, expected, "arrival before call {at}: {:?}", k.calls);
    }
}

#[test]
fn end_of_stream_with_nothing_queued_posts_on_close_once() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.fin = true;
    rules.on_ready(fin_edge(), &mut k, &mut post);
    rules.on_ready(fin_edge(), &mut k, &mut post);
    rules.select(Events::ALL, &mut k, &mut post).unwrap();
    assert_eq!(post.take(), [(Note::Close, None)]);
}

#[test]
fn on_close_waits_until_every_byte_was_read() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.queued = 100;
    k.fin = true;
    rules.on_ready(fin_edge(), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Receive, None)]);
    receive(&mut rules, &mut k, &mut post, 60).unwrap();
    assert_eq!(post.take(), [(Note::Receive, None)], "40 bytes left");
    // A short read with the peer gone: no edge will come, so the rules check.
    receive(&mut rules, &mut k, &mut post, 60).unwrap();
    assert_eq!(post.take(), [(Note::Close, None)]);
}

#[test]
fn last_words_before_a_reset_come_as_on_receive_then_on_close_with_the_reset() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.queued = 12;
    reset(&mut k);
    rules.on_ready(reset_edge(), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Receive, None)]);
    assert_eq!(receive(&mut rules, &mut k, &mut post, 100).unwrap(), 12);
    assert_eq!(post.take(), [(Note::Close, RESET)]);
}

#[test]
fn a_reset_with_nothing_queued_posts_on_close_with_the_reset() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    reset(&mut k);
    rules.on_ready(reset_edge(), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Close, RESET)]);
}

#[test]
fn a_reset_the_receive_itself_took_still_reaches_on_close() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.queued = 5;
    rules.on_ready(readable(), &mut k, &mut post);
    post.take();
    reset(&mut k);
    assert_eq!(receive(&mut rules, &mut k, &mut post, 100).unwrap(), 5);
    let err = receive(&mut rules, &mut k, &mut post, 100).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(post.take(), [(Note::Close, RESET)]);
}

#[test]
fn a_reset_after_on_close_wakes_a_blocked_sender() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.fin = true;
    rules.on_ready(fin_edge(), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Close, None)]);
    // Half-open: the program goes on sending until the buffer fills.
    let blocked: io::Result<usize> = Err(io::ErrorKind::WouldBlock.into());
    rules.after_send(&blocked, 1000, &mut k, &mut post);
    reset(&mut k);
    rules.on_ready(reset_edge(), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Send, None)], "no second on_close");
}

#[test]
fn on_send_comes_once_after_a_send_that_would_block() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    let writable = edge(|r| r.writable = true);
    rules.on_ready(writable, &mut k, &mut post);
    assert_eq!(post.take(), [], "not blocked: no on_send");
    rules.after_send(&Ok(10), 100, &mut k, &mut post);
    rules.on_ready(writable, &mut k, &mut post);
    rules.on_ready(writable, &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Send, None)]);
}

#[test]
fn a_failed_send_announces_what_the_peer_sent_then_the_reset() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.queued = 7;
    k.reset = true;
    // The send took the connection's error.
    let failed: io::Result<usize> = Err(io::Error::from_raw_os_error(errno::ECONNRESET));
    rules.after_send(&failed, 10, &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Receive, None)]);
    receive(&mut rules, &mut k, &mut post, 100).unwrap();
    assert_eq!(post.take(), [(Note::Close, RESET)]);
}

#[test]
fn a_short_read_at_the_urgent_mark_re_checks_the_level() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.urgent = true;
    rules.on_ready(edge(|r| r.priority = true), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::OutOfBand, None)]);
    k.urgent = false;
    // The read stopped at the mark with 50 bytes behind it.
    k.queued = 80;
    rules.on_ready(readable(), &mut k, &mut post);
    post.take();
    k.at_mark = true;
    let result = Ok(30);
    k.queued = 50;
    rules.after_receive(&result, 100, &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Receive, None)]);
}

#[test]
fn select_posts_what_holds_now() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.queued = 3;
    k.writable = true;
    rules.select(Events::ALL, &mut k, &mut post).unwrap();
    assert_eq!(post.take(), [(Note::Receive, None), (Note::Send, None)]);
    assert_eq!(
        k.calls,
        ["poll", "peek"],
        "one poll serves the whole select"
    );
    // Not writable yet: on_send when it becomes so.
    k.writable = false;
    rules.select(Events::WRITE, &mut k, &mut post).unwrap();
    assert_eq!(post.take(), []);
    rules.on_ready(edge(|r| r.writable = true), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Send, None)]);
}

#[test]
fn a_deselected_notification_is_dropped_and_re_enabled() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.fin = true;
    rules.on_ready(fin_edge(), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Close, None)]);
    rules.select(Events::READ, &mut k, &mut post).unwrap();
    assert!(!rules.before_dispatch(Note::Close, &mut k, &mut post));
    rules.select(Events::ALL, &mut k, &mut post).unwrap();
    assert_eq!(
        post.take(),
        [(Note::Close, None)],
        "posted again on re-select"
    );
}

#[test]
fn a_queued_on_receive_whose_data_was_taken_is_not_delivered() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.queued = 10;
    rules.on_ready(readable(), &mut k, &mut post);
    post.take();
    receive(&mut rules, &mut k, &mut post, 100).unwrap();
    assert!(!rules.before_dispatch(Note::Receive, &mut k, &mut post));
    // The peer closed meanwhile: the filter's check finds it.
    k.fin = true;
    assert!(!rules.before_dispatch(Note::Receive, &mut k, &mut post));
    assert_eq!(post.take(), [(Note::Close, None)]);
}

#[test]
fn a_queued_on_receive_with_data_still_there_is_delivered_and_outstanding() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.queued = 10;
    rules.on_ready(readable(), &mut k, &mut post);
    assert!(rules.before_dispatch(Note::Receive, &mut k, &mut post));
    rules.on_ready(readable(), &mut k, &mut post);
    assert_eq!(
        post.take(),
        [(Note::Receive, None)],
        "still one outstanding"
    );
}

#[test]
fn connect_outcomes() {
    // Refused: on_connect with the error, no on_send, and nothing after.
    let (mut rules, mut k, mut post) = (
        Rules::new(Events::ALL, Phase::Connecting),
        Kernel::default(),
        Posted::default(),
    );
    k.error = Some(errno::ECONNREFUSED);
    rules.on_ready(reset_edge(), &mut k, &mut post);
    let refused = Some(io::ErrorKind::ConnectionRefused);
    assert_eq!(post.take(), [(Note::Connect, refused)]);
    rules.on_ready(reset_edge(), &mut k, &mut post);
    assert_eq!(
        post.take(),
        [],
        "an unconnected socket's hang-up is no close"
    );

    // Connected, with data and the peer's FIN in the same edge.
    let mut rules = Rules::new(Events::ALL, Phase::Connecting);
    let mut k = Kernel {
        queued: 4,
        fin: true,
        ..Kernel::default()
    };
    rules.on_ready(
        edge(|r| {
            r.writable = true;
            r.readable = true;
            r.read_closed = true;
        }),
        &mut k,
        &mut post,
    );
    assert_eq!(
        post.take(),
        [
            (Note::Connect, None),
            (Note::Send, None),
            (Note::Receive, None)
        ]
    );

    // At once, in progress, refused at once (reported through on_connect).
    let mut rules = Rules::new(Events::ALL, Phase::Unconnected);
    assert!(rules.connect_started(Ok(()), &mut post).is_ok());
    assert_eq!(post.take(), [(Note::Connect, None), (Note::Send, None)]);
    let mut rules = Rules::new(Events::ALL, Phase::Unconnected);
    let in_progress = Err(io::Error::from_raw_os_error(errno::EINPROGRESS));
    let answer = rules.connect_started(in_progress, &mut post).unwrap_err();
    assert_eq!(answer.kind(), io::ErrorKind::WouldBlock);
    assert_eq!(post.take(), []);
    let refused_now = Err(io::Error::from_raw_os_error(errno::ECONNREFUSED));
    let answer = rules.connect_started(refused_now, &mut post).unwrap_err();
    assert_eq!(answer.kind(), io::ErrorKind::WouldBlock);
    assert_eq!(post.take(), [(Note::Connect, refused)]);
}

#[test]
fn accept_re_enables_and_announces_the_next_connection() {
    let (mut rules, mut k, mut post) = (
        Rules::new(Events::ALL, Phase::Listening),
        Kernel::default(),
        Posted::default(),
    );
    k.connections = 2;
    rules.on_ready(readable(), &mut k, &mut post);
    rules.on_ready(readable(), &mut k, &mut post);
    assert_eq!(post.take(), [(Note::Accept, None)]);
    k.connections = 1;
    let next = rules.after_accept(&Ok(()), &mut k, &mut post);
    assert_eq!(next, AcceptNext::Continue);
    assert_eq!(post.take(), [(Note::Accept, None)]);
}

#[test]
fn an_accept_out_of_descriptors_pauses_on_accept_until_resumed() {
    let (mut rules, mut k, mut post) = (
        Rules::new(Events::ALL, Phase::Listening),
        Kernel::default(),
        Posted::default(),
    );
    k.connections = 1;
    rules.on_ready(readable(), &mut k, &mut post);
    post.take();
    let emfile: io::Result<()> = Err(io::Error::from_raw_os_error(errno::EMFILE));
    assert_eq!(
        rules.after_accept(&emfile, &mut k, &mut post),
        AcceptNext::BackOff
    );
    rules.on_ready(readable(), &mut k, &mut post);
    rules.select(Events::ALL, &mut k, &mut post).unwrap();
    assert!(!rules.before_dispatch(Note::Accept, &mut k, &mut post));
    assert_eq!(
        post.take(),
        [],
        "paused: the same connection is not announced"
    );
    rules.resume_accept(&mut k, &mut post);
    assert_eq!(post.take(), [(Note::Accept, None)]);
}

#[test]
fn receiving_out_of_band_re_enables_both_receives() {
    let (mut rules, mut k, mut post) = (connected(), Kernel::default(), Posted::default());
    k.urgent = true;
    k.queued = 5;
    rules.on_ready(
        edge(|r| {
            r.readable = true;
            r.priority = true;
        }),
        &mut k,
        &mut post,
    );
    assert_eq!(
        post.take(),
        [(Note::Receive, None), (Note::OutOfBand, None)]
    );
    k.urgent = false;
    rules.after_receive_out_of_band(&mut k, &mut post);
    assert_eq!(post.take(), [(Note::Receive, None)], "data still waits");
}
