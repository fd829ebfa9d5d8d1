//! CAsyncSocket's notifications: the event mask of `AsyncSelect` (`FD_READ |
//! FD_WRITE | …`) and the notification each event brings (`OnReceive`, …).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

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
    /// `FD_READ`: data to receive, [`Handler::on_receive`](crate::Handler::on_receive).
    pub const READ: Events = Events(1);
    /// `FD_WRITE`: a send can go through, [`Handler::on_send`](crate::Handler::on_send).
    pub const WRITE: Events = Events(2);
    /// `FD_OOB`: out-of-band data, [`Handler::on_out_of_band_data`](crate::Handler::on_out_of_band_data).
    pub const OOB: Events = Events(4);
    /// `FD_ACCEPT`: a connection to accept, [`Handler::on_accept`](crate::Handler::on_accept).
    pub const ACCEPT: Events = Events(8);
    /// `FD_CONNECT`: a connect finished, [`Handler::on_connect`](crate::Handler::on_connect).
    pub const CONNECT: Events = Events(16);
    /// `FD_CLOSE`: the peer closed or reset, [`Handler::on_close`](crate::Handler::on_close).
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
