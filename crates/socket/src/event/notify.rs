//! CAsyncSocket's notifications: the event mask of `AsyncSelect` and the handler
//! whose methods are `OnAccept`, `OnConnect`, `OnReceive`, `OnSend`,
//! `OnOutOfBandData` and `OnClose`.

use std::fmt;
use std::io;
use std::ops::{BitOr, BitOrAssign};

use crate::event::async_socket::AsyncSocket;
use crate::event::event_loop::EventLoop;

/// A set of notifications (`lEvent`: `FD_READ | FD_WRITE | …`).
///
/// ```
/// use sockarc::Events;
/// let mask = Events::READ | Events::CLOSE;
/// assert!(mask.contains(Events::READ) && !mask.contains(Events::WRITE));
/// assert_eq!(Events::default(), Events::ALL);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Events(u8);

impl Events {
    /// No notification (`AsyncSelect(0)`).
    pub const NONE: Events = Events(0);
    /// `FD_READ`: data to receive, [`Handler::on_receive`].
    pub const READ: Events = Events(1);
    /// `FD_WRITE`: a send can go through, [`Handler::on_send`].
    pub const WRITE: Events = Events(2);
    /// `FD_OOB`: out-of-band data, [`Handler::on_out_of_band_data`].
    pub const OOB: Events = Events(4);
    /// `FD_ACCEPT`: a connection to accept, [`Handler::on_accept`].
    pub const ACCEPT: Events = Events(8);
    /// `FD_CONNECT`: a connect finished, [`Handler::on_connect`].
    pub const CONNECT: Events = Events(16);
    /// `FD_CLOSE`: the peer closed or reset, [`Handler::on_close`].
    pub const CLOSE: Events = Events(32);
    /// All six, `Create`'s default.
    pub const ALL: Events = Events(63);

    /// `true` if every notification of `other` is in `self`.
    pub fn contains(self, other: Events) -> bool {
        self.0 & other.0 == other.0
    }

    /// Adds the notifications of `other`.
    ///
    /// ```
    /// use sockarc::Events;
    /// let mut mask = Events::READ;
    /// mask.insert(Events::CLOSE);
    /// mask.remove(Events::READ);
    /// assert_eq!(mask, Events::CLOSE);
    /// ```
    pub fn insert(&mut self, other: Events) {
        self.0 |= other.0;
    }

    /// Takes out the notifications of `other`.
    pub fn remove(&mut self, other: Events) {
        self.0 &= !other.0;
    }
}

/// One notification on its way to a handler: which `On…` method it calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Note {
    Accept,
    Connect,
    Receive,
    Send,
    OutOfBand,
    Close,
}

impl Note {
    /// The mask bit that enables it (`FD_ACCEPT` for `OnAccept`, …).
    pub(crate) fn event(self) -> Events {
        match self {
            Note::Accept => Events::ACCEPT,
            Note::Connect => Events::CONNECT,
            Note::Receive => Events::READ,
            Note::Send => Events::WRITE,
            Note::OutOfBand => Events::OOB,
            Note::Close => Events::CLOSE,
        }
    }
}

impl Default for Events {
    fn default() -> Self {
        Events::ALL
    }
}

impl BitOr for Events {
    type Output = Events;
    fn bitor(self, other: Events) -> Events {
        Events(self.0 | other.0)
    }
}

impl BitOrAssign for Events {
    fn bitor_assign(&mut self, other: Events) {
        self.0 |= other.0;
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Events::READ, "READ"),
            (Events::WRITE, "WRITE"),
            (Events::OOB, "OOB"),
            (Events::ACCEPT, "ACCEPT"),
            (Events::CONNECT, "CONNECT"),
            (Events::CLOSE, "CLOSE"),
        ];
        let set: Vec<_> = names
            .iter()
            .filter(|(e, _)| self.contains(*e))
            .map(|(_, n)| *n)
            .collect();
        if set.is_empty() {
            f.write_str("NONE")
        } else {
            f.write_str(&set.join(" | "))
        }
    }
}

/// What a socket's owner is told (`CAsyncSocket`'s `On…` overrides). Every method
/// has a default that does nothing, as in MFC.
///
/// Each gets the loop, so it can receive, send, accept, create or close sockets,
/// change masks and set timers, even pump the loop as a modal wait does (see
/// [`EventLoop::run_once`]: the socket's own notifications then wait until the
/// method returns); and the socket it is about. `error` is MFC's
/// `nErrorCode`: `None` for success.
///
/// The rules are `WSAAsyncSelect`'s. After `on_receive`, no other `on_receive`
/// comes until [`EventLoop::receive`] is called on the socket; if data then
/// remains, it comes at once (one receive per notification is the intended use).
/// The same holds for `on_accept` and [`EventLoop::accept`], and for
/// `on_out_of_band_data`. `on_send` comes when the socket connects or is
/// accepted, when [`EventLoop::async_select`] enables it on a writable socket,
/// after a send that would have blocked, once it can go on, and when the
/// connection breaks while a send is blocked (even after `on_close`), so the
/// next send reports the error. `on_connect` and `on_close` come once.
/// `on_close` comes only after every received byte was read, even after a
/// reset: what the peer sent before it comes first as `on_receive`, then
/// `on_close` with `ConnectionReset`. An `accept` that fails for lack of
/// descriptors or memory pauses `on_accept` for 100 ms rather than announcing
/// the same connection again at once. Nothing comes for a socket after it is
/// closed, even if it was queued.
#[allow(unused_variables)]
pub trait Handler: 'static {
    /// A connection waits on a listening socket (`OnAccept`).
    fn on_accept(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {}
    /// A connect finished, successfully or not (`OnConnect`).
    fn on_connect(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {}
    /// Data can be received (`OnReceive`).
    fn on_receive(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {}
    /// Data can be sent (`OnSend`).
    fn on_send(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {}
    /// Out-of-band data can be received (`OnOutOfBandData`).
    fn on_out_of_band_data(
        &mut self,
        ev: &mut EventLoop,
        socket: AsyncSocket,
        error: Option<io::Error>,
    ) {
    }
    /// The peer closed the connection (`None`) or reset it (`ConnectionReset`)
    /// (`OnClose`).
    fn on_close(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {}
}
