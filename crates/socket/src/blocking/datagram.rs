//! The datagram socket (`CSocket`/`CAsyncSocket` with `SOCK_DGRAM`). It has no
//! [`SocketFile`](crate::SocketFile): archives need a reliable, ordered stream.

use std::io;
use std::net::SocketAddr;

use socket2::MaybeUninitSlice;

use crate::addr::canonical;
use crate::addr::resolve;
use crate::blocking::base::Base;
use crate::blocking::builder::SocketBuilder;
use crate::blocking::control::Op;
use crate::blocking::shared_methods::shared_socket_methods;
use crate::sys::{self, Interest};

/// One datagram received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram {
    /// Bytes placed in the buffer.
    pub len: usize,
    /// The sender.
    pub from: SocketAddr,
    /// The datagram was longer than the buffer and its tail is lost
    /// (`WSAEMSGSIZE` in Winsock, `MSG_TRUNC` here).
    pub truncated: bool,
}

impl SocketBuilder {
    /// Creates and binds a datagram socket (`CSocket::Create(nPort, SOCK_DGRAM)`).
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub fn create_datagram(self) -> io::Result<DatagramSocket> {
        DatagramSocket::from_socket2(self.open_datagram()?)
    }
}

/// A blocking UDP socket: `CSocket::Create(nPort, SOCK_DGRAM)`.
///
/// Datagrams keep their boundaries, may be lost, duplicated or reordered.
/// Timeouts and cancellation work as on [`Socket`](crate::Socket), which lists
/// the methods the two share.
///
/// ```
/// use std::net::Ipv4Addr;
/// use sockarc::DatagramSocket;
///
/// # fn main() -> std::io::Result<()> {
/// let a = DatagramSocket::builder().address(Ipv4Addr::LOCALHOST.into()).create_datagram()?;
/// let b = DatagramSocket::builder().address(Ipv4Addr::LOCALHOST.into()).create_datagram()?;
/// a.send_to(b"ping", b.local_addr()?)?;                                 // SendTo(…)
/// let mut buf = [0u8; 64];
/// let got = b.receive_from(&mut buf)?;                                  // ReceiveFrom(…)
/// assert_eq!((&buf[..got.len], got.from, got.truncated), (&b"ping"[..], a.local_addr()?, false));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DatagramSocket {
    pub(crate) base: Base,
}

impl DatagramSocket {
    pub(crate) fn from_socket2(socket: socket2::Socket) -> io::Result<DatagramSocket> {
        Ok(DatagramSocket {
            base: Base::new(socket)?,
        })
    }

    /// Creates a datagram socket bound to `port` on every interface, dual-stack
    /// (`Create(nPort, SOCK_DGRAM)`).
    ///
    /// # Errors
    /// `AddrInUse` when the port is taken; other errors of `socket(2)`/`bind(2)`.
    pub fn create(port: u16) -> io::Result<DatagramSocket> {
        SocketBuilder::new().port(port).create_datagram()
    }

    /// Options for a new socket; finish with
    /// [`create_datagram`](SocketBuilder::create_datagram).
    pub fn builder() -> SocketBuilder {
        SocketBuilder::new()
    }

    /// Sends one datagram to `addr` (`SendTo`); returns the bytes sent.
    ///
    /// # Errors
    /// `AddrNotAvailable` for an address of the wrong family; the error of
    /// `sendto(2)` (a datagram over 64 KiB, a broadcast without
    /// [`set_broadcast`](Self::set_broadcast)); `TimedOut`; a cancel.
    pub fn send_to(&self, buf: &[u8], addr: SocketAddr) -> io::Result<usize> {
        let target = self.base.target(addr)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{addr} is not of this socket's family"),
            )
        })?;
        self.base.blocking(Op::Write, Interest::Write, |s| {
            s.send_to_with_flags(buf, &target, sys::SEND_FLAGS)
        })
    }

    /// Waits for one datagram (`ReceiveFrom`).
    ///
    /// # Errors
    /// `TimedOut` after the [read timeout](Self::set_read_timeout); a cancel;
    /// `WouldBlock` in non-blocking mode.
    pub fn receive_from(&self, buf: &mut [u8]) -> io::Result<Datagram> {
        let (len, flags, from) = self.base.blocking(Op::Read, Interest::Read, |s| {
            let mut bufs = [MaybeUninitSlice::new(sys::as_uninit(buf))];
            s.recv_from_vectored_with_flags(&mut bufs, sys::RECV_FLAGS)
        })?;
        // A truncated datagram filled the buffer. (Winsock reports it as
        // WSAEMSGSIZE, which socket2 turns into the flag, with no count.)
        let truncated = flags.is_truncated();
        Ok(Datagram {
            len: if truncated { buf.len() } else { len },
            from: canonical(from)?,
            truncated,
        })
    }

    /// Sets the default peer (`Connect` on a datagram socket): `send` goes there
    /// and only its datagrams are received. `host` is a literal or a name; the
    /// first address of this socket's family is used.
    ///
    /// # Errors
    /// `NotFound` for a name without addresses, `AddrNotAvailable` when none is
    /// of this socket's family, the error of `connect(2)`.
    pub fn connect(&self, host: &str, port: u16) -> io::Result<()> {
        for addr in resolve(host, port)? {
            if let Some(target) = self.base.target(addr)? {
                return self.base.socket.connect(&target);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("no address of {host:?} is of this socket's family"),
        ))
    }

    /// Sends one datagram to the connected peer (`Send`).
    ///
    /// # Errors
    /// `NotConnected` without [`connect`](Self::connect); otherwise as
    /// [`send_to`](Self::send_to).
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.base.blocking(Op::Write, Interest::Write, |s| {
            s.send_with_flags(buf, sys::SEND_FLAGS)
        })
    }

    /// Waits for one datagram from the connected peer (`Receive`).
    ///
    /// # Errors
    /// As [`receive_from`](Self::receive_from).
    pub fn receive(&self, buf: &mut [u8]) -> io::Result<Datagram> {
        self.receive_from(buf)
    }

    /// `SO_BROADCAST`: allow sending to a broadcast address.
    ///
    /// # Errors
    /// The error of `setsockopt(2)`.
    pub fn set_broadcast(&self, broadcast: bool) -> io::Result<()> {
        self.base.socket.set_broadcast(broadcast)
    }

    /// `SO_BROADCAST`.
    ///
    /// # Errors
    /// The error of `getsockopt(2)`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.base.socket.broadcast()
    }

    /// The size of the next datagram, or 0 (`IOCtl(FIONREAD)`, on Linux).
    ///
    /// # Errors
    /// The error of `ioctl(2)`.
    pub fn bytes_available(&self) -> io::Result<usize> {
        sys::bytes_available(&self.base.socket)
    }
}

shared_socket_methods!(DatagramSocket);
