//! `WSAAsyncSelect`'s notification rules, as one state machine per socket.
//!
//! Every rule of when a notification is posted, held back or re-enabled lives
//! here and nowhere else. The loop feeds [`Rules`] what the kernel reported (a
//! [`Ready`] edge) and what the program called (`receive`, `send`, `accept`,
//! `connect`, `async_select`); the rules ask the kernel what they need through a
//! [`Probe`] and answer with notifications through [`Post`]. The tests drive
//! them with a fake kernel, one row per rule and per interleaving
//! (`rules/tests.rs`).
//!
//! The rules:
//! - **`on_receive`** is posted when unread data waits and none is outstanding;
//!   any receive re-enables it, and data still unread is announced again at
//!   once.
//! - **`on_close`** comes once, and only after every received byte was read.
//!   End of stream is proved by `recv(2)` itself (a one-byte peek that returns
//!   0, or the connection's error), never inferred from a readiness report:
//!   data that arrives between two system calls of a check is announced, not
//!   taken for a close.
//! - **Last words**: bytes that arrived before a reset come as `on_receive`;
//!   `on_close(ConnectionReset)` follows once they are read.
//! - **`on_send`** comes when the socket connects or is accepted, when
//!   `async_select` enables it on a writable socket, after a send that would
//!   block once it can go on, and when the connection breaks while a send is
//!   blocked, even after `on_close`, so a blocked sender always learns.
//! - **`on_accept`** is re-enabled by `accept`; an accept that fails for lack
//!   of descriptors or memory pauses it for [`ACCEPT_BACKOFF`] instead of
//!   announcing the same waiting connection again at once.
//! - **`on_out_of_band_data`** is re-enabled by either receive.
//! - **`on_connect`** comes once, with the connect's outcome.
//! - **The mask** is applied at dispatch: a notification whose event was
//!   deselected after it was posted is dropped and re-enabled.

use std::io;
use std::time::Duration;

use crate::event::events::{Events, Note};
use crate::sys::{self, Readiness};

#[cfg(test)]
mod tests;

/// How long `on_accept` pauses after an accept failed for lack of resources
/// (too many open files, no buffer space): long enough that a loop at its
/// descriptor limit does not spin, short enough that it serves again soon
/// after descriptors free up.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What the rules may ask the kernel about one socket. Each method is one
/// system call.
pub(crate) trait Probe {
    /// The socket's readiness now (`poll(2)` with a zero timeout).
    fn readiness(&mut self) -> io::Result<Readiness>;
    /// A one-byte `recv(2)` with `MSG_PEEK`: `Ok(0)` at end of stream, `Ok(1)`
    /// when data waits, `WouldBlock` when none does, and the connection's
    /// error (which it takes).
    fn peek(&mut self) -> io::Result<usize>;
    /// Whether the next byte is at the urgent mark (`sockatmark(3)`).
    fn at_mark(&mut self) -> io::Result<bool>;
    /// The pending error, taken (`getsockopt(SO_ERROR)`); a failure of the
    /// call itself is returned as the error.
    fn take_error(&mut self) -> Option<io::Error>;
}

/// Where the rules put the notifications they post.
pub(crate) trait Post {
    /// Queues `note` with MFC's `nErrorCode`.
    fn post(&mut self, note: Note, error: Option<io::Error>);
}

/// What one readiness edge from the kernel said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Ready {
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    pub(crate) priority: bool,
    pub(crate) read_closed: bool,
    pub(crate) error: bool,
}

/// What an `accept` leaves the listener to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AcceptNext {
    /// Nothing: `on_accept` follows the usual rule.
    Continue,
    /// Call [`Rules::resume_accept`] after [`ACCEPT_BACKOFF`].
    BackOff,
}

/// Where the socket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Created, neither connected nor listening (or a connect failed): an
    /// unconnected socket polls as hung up, which is no peer's close.
    Unconnected,
    /// A non-blocking connect is under way.
    Connecting,
    /// Connected or accepted.
    Connected,
    /// Listening.
    Listening,
}

/// Where the peer stands, as far as the rules know.
#[derive(Debug)]
enum Peer {
    /// No end of stream or error seen.
    Open,
    /// It closed or reset (with the error, if one was seen); `on_close` is
    /// due once every byte is read.
    Gone(Option<io::Error>),
    /// `on_close` was posted.
    Told,
}

/// What a level check found in the receive queue.
enum Level {
    Data,
    End(Option<io::Error>),
    Nothing,
}

/// One socket's notification state.
#[derive(Debug)]
pub(crate) struct Rules {
    mask: Events,
    phase: Phase,
    peer: Peer,
    /// `on_receive`, `on_accept` and `on_out_of_band_data` posted and not yet
    /// re-enabled by the call that re-enables them.
    outstanding: Events,
    /// A send would have blocked: `on_send` when it can go on.
    send_blocked: bool,
    /// Urgent data has come in at some point: reads may stop at the urgent
    /// mark, so a short read is no proof that the queue is empty. Never
    /// cleared; other sockets pay nothing for it.
    urgent: bool,
    /// An accept failed for lack of resources: no `on_accept` until
    /// [`Rules::resume_accept`].
    accept_paused: bool,
}

impl Rules {
    /// A socket in `phase` reporting `mask`.
    pub(crate) fn new(mask: Events, phase: Phase) -> Rules {
        Rules {
            mask,
            phase,
            peer: Peer::Open,
            outstanding: Events::NONE,
            send_blocked: false,
            urgent: false,
            accept_paused: false,
        }
    }

    /// The mask (`lEvent`).
    pub(crate) fn mask(&self) -> Events {
        self.mask
    }

    /// The socket listens now.
    pub(crate) fn listening(&mut self) {
        self.phase = Phase::Listening;
    }

    /// An accepted socket starts: `on_send`, as it can send at once.
    pub(crate) fn accepted(&mut self, post: &mut dyn Post) {
        self.phase = Phase::Connected;
        if self.mask.contains(Events::WRITE) {
            post.post(Note::Send, None);
        }
    }

    /// What `connect(2)` answered on the non-blocking socket becomes the
    /// caller's answer: `WouldBlock` while under way, and a refusal or other
    /// failure to connect reported through `on_connect`, as Winsock does.
    pub(crate) fn connect_started(
        &mut self,
        result: io::Result<()>,
        post: &mut dyn Post,
    ) -> io::Result<()> {
        match result {
            Ok(()) => {
                self.connected(None, post);
                Ok(())
            }
            Err(e) if sys::is_in_progress(&e) => {
                self.phase = Phase::Connecting;
                Err(io::ErrorKind::WouldBlock.into())
            }
            Err(e) if is_connect_outcome(&e) => {
                self.connected(Some(e), post);
                Err(io::ErrorKind::WouldBlock.into())
            }
            Err(e) => Err(e),
        }
    }

    /// A connect finished with `error`: `on_connect`, then `on_send` if it
    /// succeeded.
    fn connected(&mut self, error: Option<io::Error>, post: &mut dyn Post) {
        let ok = error.is_none();
        self.phase = if ok {
            Phase::Connected
        } else {
            Phase::Unconnected
        };
        if self.mask.contains(Events::CONNECT) {
            post.post(Note::Connect, error);
        }
        if ok && self.mask.contains(Events::WRITE) {
            post.post(Note::Send, None);
        }
    }

    /// A readiness edge from the kernel.
    pub(crate) fn on_ready(&mut self, ready: Ready, probe: &mut dyn Probe, post: &mut dyn Post) {
        match self.phase {
            Phase::Unconnected => return,
            Phase::Listening => {
                if ready.readable {
                    self.post_accept(post);
                }
                return;
            }
            Phase::Connecting => {
                if !(ready.writable || ready.error || ready.read_closed) {
                    return;
                }
                let error = probe.take_error();
                self.connected(error, post);
                if self.phase != Phase::Connected {
                    return;
                }
                // Data or a FIN that came with the connect's completion raises
                // no further edge: it is handled with this one.
            }
            Phase::Connected => {}
        }
        if ready.error || ready.read_closed {
            self.gone(None);
        }
        if ready.readable && !ready.read_closed && !ready.error {
            // Readable without end of stream or error: data is there.
            self.post_receive(post);
        } else if ready.readable || ready.read_closed || ready.error {
            self.check_read(probe, post);
        }
        if ready.priority {
            self.urgent = true;
            self.post_out_of_band(post);
        }
        if ready.writable || ready.error {
            self.wake_sender(post);
        }
    }

    /// A `receive` into a buffer of `len` bytes answered `result`.
    pub(crate) fn after_receive(
        &mut self,
        result: &io::Result<usize>,
        len: usize,
        probe: &mut dyn Probe,
        post: &mut dyn Post,
    ) {
        self.outstanding.remove(Events::READ);
        let out_of_band_was_outstanding = self.outstanding.contains(Events::OOB);
        self.outstanding.remove(Events::OOB);
        let peer_open = matches!(self.peer, Peer::Open);
        // A read that did not fill the buffer took all there was, and what
        // arrives later raises a new edge; so does one that found nothing.
        // Except at the urgent mark, where Linux stops a read short with data
        // behind it and no edge to come: only a socket that has had urgent data
        // asks `sockatmark(3)`.
        let check = match result {
            Ok(n) if *n > 0 && *n < len => {
                !peer_open || (self.urgent && probe.at_mark().unwrap_or(true))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => !peer_open,
            Err(e) => {
                if is_reset(e) {
                    self.gone(Some(copy_error(e)));
                }
                true
            }
            Ok(_) => true,
        };
        if check {
            self.check_read(probe, post);
        }
        if out_of_band_was_outstanding {
            self.recheck_out_of_band(probe, post);
        }
    }

    /// A `receive` of out-of-band data was made, whatever its result.
    pub(crate) fn after_receive_out_of_band(&mut self, probe: &mut dyn Probe, post: &mut dyn Post) {
        self.outstanding.remove(Events::READ | Events::OOB);
        self.check_read(probe, post);
        self.recheck_out_of_band(probe, post);
    }

    /// A `send` of `len` bytes answered `result`.
    pub(crate) fn after_send(
        &mut self,
        result: &io::Result<usize>,
        len: usize,
        probe: &mut dyn Probe,
        post: &mut dyn Post,
    ) {
        match result {
            Ok(n) if *n < len => self.send_blocked = true,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.send_blocked = true,
            Err(e) => {
                // The connection broke: what the peer sent before is still
                // announced, then `on_close` with the error the send took.
                if is_reset(e) {
                    self.gone(Some(copy_error(e)));
                }
                self.check_read(probe, post);
            }
        }
    }

    /// An `accept` answered `result`: re-enables `on_accept`, or pauses it if
    /// the accept failed for lack of resources (the connection still waits, so
    /// announcing it again at once would spin).
    pub(crate) fn after_accept<T>(
        &mut self,
        result: &io::Result<T>,
        probe: &mut dyn Probe,
        post: &mut dyn Post,
    ) -> AcceptNext {
        self.outstanding.remove(Events::ACCEPT);
        if let Err(e) = result {
            if sys::is_resource_exhaustion(e) {
                self.accept_paused = true;
                return AcceptNext::BackOff;
            }
        }
        if probe.readiness().is_ok_and(|now| now.readable) {
            self.post_accept(post);
        }
        AcceptNext::Continue
    }

    /// The pause after a failed accept is over: `on_accept` if a connection
    /// waits.
    pub(crate) fn resume_accept(&mut self, probe: &mut dyn Probe, post: &mut dyn Post) {
        self.accept_paused = false;
        if probe.readiness().is_ok_and(|now| now.readable) {
            self.post_accept(post);
        }
    }

    /// `async_select(mask)`: the new mask, every notification re-enabled, and
    /// any whose condition holds now posted at once (`WRITE` on a socket that
    /// is not writable yet brings `on_send` when it becomes so).
    ///
    /// # Errors
    /// The error of asking the socket's readiness.
    pub(crate) fn select(
        &mut self,
        mask: Events,
        probe: &mut dyn Probe,
        post: &mut dyn Post,
    ) -> io::Result<()> {
        self.mask = mask;
        self.outstanding = Events::NONE;
        let now = probe.readiness()?;
        self.urgent |= now.priority;
        match self.phase {
            Phase::Listening if now.readable => self.post_accept(post),
            Phase::Connected => {
                self.check_read_knowing(Some(now), probe, post);
                if now.priority {
                    self.post_out_of_band(post);
                }
                if mask.contains(Events::WRITE) {
                    self.send_blocked = !now.writable;
                    if now.writable {
                        post.post(Note::Send, None);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether a queued `note` is delivered now. A notification whose event
    /// was deselected since is dropped and re-enabled; an `on_receive` or
    /// `on_accept` re-enabled since it was posted (a receive or accept was
    /// made in between) is delivered only if data or a connection still waits,
    /// as MFC's filter does.
    pub(crate) fn before_dispatch(
        &mut self,
        note: Note,
        probe: &mut dyn Probe,
        post: &mut dyn Post,
    ) -> bool {
        let event = note.event();
        if !self.mask.contains(event) {
            match note {
                Note::Close => {
                    if matches!(self.peer, Peer::Told) {
                        self.peer = Peer::Gone(None);
                    }
                }
                _ => self.outstanding.remove(event),
            }
            return false;
        }
        match note {
            Note::Receive if !self.outstanding.contains(Events::READ) => match self.level(probe) {
                Level::Data => {
                    self.outstanding.insert(Events::READ);
                    true
                }
                Level::End(error) => {
                    self.gone(error);
                    self.post_close(probe, post);
                    false
                }
                Level::Nothing => false,
            },
            Note::Accept if !self.outstanding.contains(Events::ACCEPT) => {
                let waiting =
                    !self.accept_paused && probe.readiness().is_ok_and(|now| now.readable);
                if waiting {
                    self.outstanding.insert(Events::ACCEPT);
                }
                waiting
            }
            _ => true,
        }
    }

    /// The level check of `FD_READ` and `FD_CLOSE`: unread data means
    /// `on_receive` (unless one is outstanding); proof of end of stream with
    /// nothing left means `on_close`.
    fn check_read(&mut self, probe: &mut dyn Probe, post: &mut dyn Post) {
        self.check_read_knowing(None, probe, post);
    }

    /// [`check_read`](Self::check_read) with the readiness already asked, if
    /// it was.
    fn check_read_knowing(
        &mut self,
        known: Option<Readiness>,
        probe: &mut dyn Probe,
        post: &mut dyn Post,
    ) {
        if self.phase != Phase::Connected || matches!(self.peer, Peer::Told) {
            return;
        }
        if matches!(self.peer, Peer::Open) {
            let now = match known {
                Some(now) => Ok(now),
                None => probe.readiness(),
            };
            match now {
                Ok(now) if now.readable || now.hang_up => {}
                _ => return,
            }
        }
        match self.level(probe) {
            Level::Data => self.post_receive(post),
            Level::End(error) => {
                self.gone(error);
                self.post_close(probe, post);
            }
            Level::Nothing => {}
        }
    }

    /// What waits in the receive queue, asked of `recv(2)` itself: a peek
    /// counts data past the urgent mark (where `FIONREAD` says 0), and tells
    /// end of stream from nothing yet.
    fn level(&mut self, probe: &mut dyn Probe) -> Level {
        match probe.peek() {
            Ok(0) => Level::End(None),
            Ok(_) => Level::Data,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Level::Nothing,
            Err(e) => Level::End(Some(e)),
        }
    }

    /// The peer is gone; keeps the first error seen.
    fn gone(&mut self, error: Option<io::Error>) {
        match &mut self.peer {
            Peer::Open => self.peer = Peer::Gone(error),
            Peer::Gone(kept @ None) => *kept = error,
            Peer::Gone(Some(_)) | Peer::Told => {}
        }
    }

    /// `on_out_of_band_data` again if urgent data still waits.
    fn recheck_out_of_band(&mut self, probe: &mut dyn Probe, post: &mut dyn Post) {
        if probe.readiness().is_ok_and(|now| now.priority) {
            self.urgent = true;
            self.post_out_of_band(post);
        }
    }

    fn post_receive(&mut self, post: &mut dyn Post) {
        self.post_once(Note::Receive, post);
    }

    fn post_accept(&mut self, post: &mut dyn Post) {
        if !self.accept_paused {
            self.post_once(Note::Accept, post);
        }
    }

    fn post_out_of_band(&mut self, post: &mut dyn Post) {
        self.post_once(Note::OutOfBand, post);
    }

    /// Posts `note` unless its event is deselected or one is outstanding.
    fn post_once(&mut self, note: Note, post: &mut dyn Post) {
        let event = note.event();
        if self.mask.contains(event) && !self.outstanding.contains(event) {
            self.outstanding.insert(event);
            post.post(note, None);
        }
    }

    /// `on_close`, once, with the error kept or pending.
    fn post_close(&mut self, probe: &mut dyn Probe, post: &mut dyn Post) {
        if !self.mask.contains(Events::CLOSE) {
            return;
        }
        if let Peer::Gone(kept) = &mut self.peer {
            let error = kept.take().or_else(|| probe.take_error());
            self.peer = Peer::Told;
            post.post(Note::Close, error);
        }
    }

    /// `on_send` for a send that would have blocked.
    fn wake_sender(&mut self, post: &mut dyn Post) {
        if self.send_blocked && self.mask.contains(Events::WRITE) {
            self.send_blocked = false;
            post.post(Note::Send, None);
        }
    }
}

/// Connection errors a non-blocking connect reports through `on_connect`
/// rather than from `connect` itself (Winsock never fails them at once).
fn is_connect_outcome(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::TimedOut
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::ConnectionReset
    )
}

/// Errors that mean the peer reset or aborted the connection.
fn is_reset(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// The same error again, for `on_close` (an `io::Error` is not `Clone`).
fn copy_error(err: &io::Error) -> io::Error {
    match err.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::from(err.kind()),
    }
}
