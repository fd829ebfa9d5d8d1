//! The blocking stream socket (`CSocket` with `SOCK_STREAM`).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use socket2::SockAddr;

use crate::addr::canonical;
use crate::addr::resolve;
use crate::blocking::base::Base;
use crate::blocking::builder::SocketBuilder;
use crate::blocking::control::Op;
use crate::blocking::shared_methods::shared_socket_methods;
use crate::sys::{self, Interest};

impl SocketBuilder {
    /// Creates and binds a stream socket (`CSocket::Create`).
    ///
    /// # Errors
    /// The system's error: `AddrInUse` for a port taken, `AddrNotAvailable` for an
    /// address not on this host, an address that contradicts the family.
    pub fn create(self) -> io::Result<Socket> {
        let (socket, local) = self.open_blocking_stream()?;
        Socket::created(socket, local)
    }
}

/// A blocking TCP socket: `CSocket` with `SOCK_STREAM`.
///
/// Calls block until they can complete, like `CSocket`'s, but without a message
/// pump: per-operation timeouts ([`set_read_timeout`](Self::set_read_timeout) and
/// friends) end a wait with `ErrorKind::TimedOut`, and a
/// [`CancelHandle`](crate::CancelHandle) ends it from another thread. Every send passes `MSG_NOSIGNAL`,
/// so a vanished peer is an `EPIPE` error, never a `SIGPIPE`.
///
/// `&Socket` is `Read` and `Write`, so one thread may receive while another
/// sends.
///
/// # Timeouts
/// Four, each `None` (wait for ever) by default, each ending a blocked call
/// with `ErrorKind::TimedOut`: [`set_connect_timeout`](Self::set_connect_timeout)
/// (for all the addresses of one `connect` together),
/// [`set_accept_timeout`](Self::set_accept_timeout),
/// [`set_read_timeout`](Self::set_read_timeout) and
/// [`set_write_timeout`](Self::set_write_timeout) (for the whole of one
/// `send`).
///
/// # Methods shared with `DatagramSocket`
/// One macro (`blocking/shared_methods.rs`) writes these for both types:
/// `local_addr`, `peer_addr`, `set_read_timeout`, `set_write_timeout`,
/// `read_timeout`, `write_timeout`, `cancel_handle`, `clear_cancel`,
/// `is_blocking`, `set_nonblocking`, `set_send_buffer_size`,
/// `send_buffer_size`, `set_recv_buffer_size`, `recv_buffer_size`,
/// `take_error`, and the `AsRawFd`, `AsFd` and `Into<OwnedFd>` traits.
///
/// ```
/// use std::net::Ipv4Addr;
/// use sockarc::Socket;
///
/// # fn main() -> std::io::Result<()> {
/// let server = Socket::builder().address(Ipv4Addr::LOCALHOST.into()).create()?; // Create(0, …, "127.0.0.1")
/// server.listen()?;                                                      // Listen()
/// let port = server.local_addr()?.port();
///
/// let client = Socket::create(0)?;                                       // Create()
/// client.connect("127.0.0.1", port)?;                                    // Connect(…)
/// let conn = server.accept()?;                                           // Accept(conn)
/// client.send(b"hello")?;                                                // Send(…)
/// let mut buf = [0u8; 16];
/// let n = conn.receive(&mut buf)?;                                       // Receive(…)
/// assert_eq!(&buf[..n], b"hello");
/// # Ok(())
/// # }
/// ```
///
/// # Drop
/// Dropping closes the socket (`CSocket::Close`); the peer sees end of stream.
/// Dropping never blocks, unless [`set_linger`](Self::set_linger) asked for it.
///
/// # Portability
/// Unix only for now. When a connect tries several addresses, each retry happens
/// on a fresh socket put in place of the old one under the same descriptor, with
/// its options copied (buffer sizes excepted) and its requested local address.
///
/// On Unix, a [`receive`](Self::receive) with no read timeout, in blocking
/// mode, is one `recv(2)` that waits in the kernel, as std's
/// `TcpStream::read` is (the descriptor is then in blocking mode, and every
/// other call passes `MSG_DONTWAIT`); a cancel interrupts it with `SIGURG`.
/// For that, the first such receive installs a handler of `SIGURG` that does
/// nothing (`sigaction(2)`, without `SA_RESTART`), unless the program has one
/// of its own or ignores the signal (`SIG_IGN`), and a thread that blocks `SIGURG` is left out. Where the
/// signal is not available so, receives wait in `poll(2)` beside a wake-up
/// pipe, as every call with a timeout does, and as every call does on
/// Windows. A program that sets a `SIGURG` handler of its own after that
/// first receive, or blocks `SIGURG` in a thread after its first receive,
/// takes away the way a cancel interrupts such a receive: it then ends only
/// when data arrives, and the cancel holds for the socket's next call. A
/// socket given `fcntl(F_SETOWN)` by the program raises `SIGURG` for urgent
/// data, which the handler ignores (a system call it interrupts fails with
/// `EINTR`).
#[derive(Debug)]
pub struct Socket {
    pub(crate) base: Base,
}

impl Socket {
    pub(crate) fn from_socket2(socket: socket2::Socket) -> io::Result<Socket> {
        Ok(Socket {
            base: Base::new(socket)?,
        })
    }

    /// A socket the builder created and bound to `local`.
    pub(crate) fn created(socket: socket2::Socket, local: SockAddr) -> io::Result<Socket> {
        Ok(Socket {
            base: Base::new(socket)?.with_requested_local(local),
        })
    }

    /// Creates a stream socket bound to `port` on every interface
    /// (`CSocket::Create(nSocketPort)`); port 0 lets the system choose, which is
    /// what a client wants. The socket is dual-stack, so it can connect to IPv4
    /// and IPv6 peers alike.
    ///
    /// # Errors
    /// `AddrInUse` when the port is taken; any other error of `socket(2)` or
    /// `bind(2)`.
    pub fn create(port: u16) -> io::Result<Socket> {
        SocketBuilder::new().port(port).create()
    }

    /// Options for a new socket: local address, family, port.
    pub fn builder() -> SocketBuilder {
        SocketBuilder::new()
    }

    /// Listens for connections (`CSocket::Listen`) with a backlog of 128.
    ///
    /// # Errors
    /// The error of `listen(2)`.
    pub fn listen(&self) -> io::Result<()> {
        self.listen_backlog(crate::addr::DEFAULT_BACKLOG)
    }

    /// Listens with an explicit backlog (`CSocket::Listen(nConnectionBacklog)`).
    ///
    /// # Errors
    /// The error of `listen(2)`.
    pub fn listen_backlog(&self, backlog: i32) -> io::Result<()> {
        self.base.socket.listen(backlog)
    }

    /// Waits for a connection and returns it as a new socket (`CSocket::Accept`).
    /// The new socket needs no `create`, as MFC requires; dropping it closes that
    /// connection.
    ///
    /// # Errors
    /// `TimedOut` after the [accept timeout](Self::set_accept_timeout), a
    /// [`Cancelled`](crate::Cancelled) error after a cancel, `WouldBlock` in
    /// non-blocking mode, or the error of `accept(2)`.
    pub fn accept(&self) -> io::Result<Socket> {
        self.accept_from().map(|(socket, _)| socket)
    }

    /// As [`accept`](Self::accept), also returning the peer's address.
    ///
    /// # Errors
    /// As [`accept`](Self::accept).
    pub fn accept_from(&self) -> io::Result<(Socket, SocketAddr)> {
        let (socket, peer) = self.base.blocking(Op::Accept, Interest::Read, |_| {
            self.base.without_waiting(socket2::Socket::accept)
        })?;
        Ok((Socket::from_socket2(socket)?, canonical(peer)?))
    }

    /// Connects to `host` at `port` (`CSocket::Connect(lpszHostAddress, nHostPort)`).
    ///
    /// A dotted IPv4 or an IPv6 literal (`"127.0.0.1"`, `"::1"`) is used as it is;
    /// anything else is resolved, and every address is tried in turn until one
    /// accepts, within one [connect timeout](Self::set_connect_timeout) for all.
    ///
    /// # Errors
    /// The last address's error (`ConnectionRefused`, …); `NotFound` for a name
    /// without addresses; `TimedOut`; a cancel; `WouldBlock` in non-blocking mode,
    /// where the connection goes on in the background (Linux's `EINPROGRESS`,
    /// normalised).
    pub fn connect(&self, host: &str, port: u16) -> io::Result<()> {
        self.connect_addrs(&resolve(host, port)?)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AddrNotAvailable => io::Error::new(
                    e.kind(),
                    format!("no address of {host:?} is of this socket's family"),
                ),
                _ => e,
            })
    }

    /// Connects to the first of `addrs` that accepts, trying them in order within
    /// one [connect timeout](Self::set_connect_timeout) for all; addresses of a
    /// family this socket cannot reach are skipped.
    ///
    /// # Errors
    /// As [`connect`](Self::connect); `AddrNotAvailable` when no address is of
    /// this socket's family.
    ///
    /// # Portability
    /// After a failed attempt, Unix needs a fresh socket, which takes the old
    /// one's place under the same descriptor (`dup2`), bound to the same
    /// requested address. Winsock lets the same socket connect again, so on
    /// Windows it is kept. Wine 8 does not allow that: there the next
    /// address fails with `ConnectionAborted`.
    pub fn connect_addrs(&self, addrs: &[SocketAddr]) -> io::Result<()> {
        let deadline = self.base.deadline(Op::Connect);
        let mut last_error = None;
        for &addr in addrs {
            let Some(target) = self.base.target(addr)? else {
                continue;
            };
            if last_error.is_some() {
                self.base.renew()?;
            }
            match self.connect_to(&target, deadline) {
                Ok(()) => return Ok(()),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
                {
                    return Err(e)
                }
                Err(e) if crate::is_cancelled(&e) => return Err(e),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                "no address is of this socket's family",
            )
        }))
    }

    /// Connects to one address (`CAsyncSocket::Connect(const SOCKADDR*, int)`).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub fn connect_addr(&self, addr: SocketAddr) -> io::Result<()> {
        self.connect_addrs(&[addr])
    }

    fn connect_to(&self, target: &SockAddr, deadline: Option<Instant>) -> io::Result<()> {
        match self.base.without_waiting(|s| s.connect(target)) {
            Ok(()) => Ok(()),
            Err(e) if sys::is_in_progress(&e) => {
                if self.base.is_nonblocking() {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                // Writable once the connect finished, either way.
                self.base
                    .run(Op::Connect, Interest::Write, deadline, true, |s| {
                        match s.take_error()? {
                            Some(e) => Err(e),
                            None => Ok(()),
                        }
                    })
            }
            Err(e) => Err(e),
        }
    }

    /// Sends all of `buf` (`CSocket::Send`, which loops until everything is
    /// written) and returns its length.
    ///
    /// # Errors
    /// `BrokenPipe`/`ConnectionReset` when the peer is gone; `TimedOut` after the
    /// [write timeout](Self::set_write_timeout), counted for the whole call; a
    /// cancel. Bytes sent before the error are not reported, as in MFC.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let mut sent = 0;
        let deadline = self.base.deadline(Op::Write);
        self.base
            .run(Op::Write, Interest::Write, deadline, false, |s| {
                while sent < buf.len() {
                    sent += s.send_with_flags(&buf[sent..], sys::SEND_FLAGS)?;
                }
                Ok(sent)
            })
    }

    /// Receives what has arrived, waiting for at least one byte
    /// (`CSocket::Receive`); 0 means the peer closed its side.
    ///
    /// With no read timeout, one `recv(2)` that waits in the kernel on Unix
    /// (see Portability); otherwise, and on Windows, `poll(2)` (`WSAPoll`)
    /// then `recv(2)`.
    ///
    /// # Errors
    /// `ConnectionReset` and other errors of `recv(2)`; `TimedOut` after the
    /// [read timeout](Self::set_read_timeout); a cancel; `WouldBlock` in
    /// non-blocking mode.
    pub fn receive(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.base.receive(buf)
    }

    /// Sends `buf` as out-of-band data (`Send(…, MSG_OOB)`): TCP urgent data, of
    /// which the peer keeps only the last byte.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_out_of_band(&self, buf: &[u8]) -> io::Result<usize> {
        self.base.blocking(Op::Write, Interest::Write, |s| {
            s.send_with_flags(buf, sys::MSG_OOB | sys::SEND_FLAGS)
        })
    }

    /// Receives out-of-band data (`Receive(…, MSG_OOB)`), waiting until some is
    /// there.
    ///
    /// # Errors
    /// `InvalidInput` when out-of-band data is received inline
    /// ([`set_out_of_band_inline`](Self::set_out_of_band_inline)); `TimedOut`
    /// after the read timeout; a cancel.
    pub fn receive_out_of_band(&self, buf: &mut [u8]) -> io::Result<usize> {
        let deadline = self.base.deadline(Op::Read);
        // Waits first: with no urgent data, `recv(MSG_OOB)` fails at once
        // (`EINVAL`) rather than answering `WouldBlock`.
        self.base
            .run(Op::Read, Interest::Priority, deadline, true, |s| {
                s.recv_with_flags(sys::as_uninit(buf), sys::MSG_OOB | sys::RECV_FLAGS)
            })
    }

    /// Bytes that can be received without waiting (`IOCtl(FIONREAD)`).
    ///
    /// # Errors
    /// The error of `ioctl(2)`.
    pub fn bytes_available(&self) -> io::Result<usize> {
        sys::bytes_available(&self.base.socket)
    }

    /// Shuts down one or both directions (`CAsyncSocket::ShutDown`). After
    /// `Write`, the peer reads end of stream.
    ///
    /// # Errors
    /// `NotConnected`, or another error of `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.base.socket.shutdown(how)
    }

    /// Limits how long [`connect`](Self::connect) waits; `None` waits forever.
    pub fn set_connect_timeout(&self, timeout: Option<Duration>) {
        self.base.set_timeout(Op::Connect, timeout);
    }

    /// Limits how long [`accept`](Self::accept) waits.
    pub fn set_accept_timeout(&self, timeout: Option<Duration>) {
        self.base.set_timeout(Op::Accept, timeout);
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.base.timeout(Op::Connect)
    }

    /// The accept timeout.
    pub fn accept_timeout(&self) -> Option<Duration> {
        self.base.timeout(Op::Accept)
    }

    /// `TCP_NODELAY`: send small writes at once instead of coalescing them.
    ///
    /// # Errors
    /// The error of `setsockopt(2)`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.base.socket.set_tcp_nodelay(nodelay)
    }

    /// `TCP_NODELAY`.
    ///
    /// # Errors
    /// The error of `getsockopt(2)`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.base.socket.tcp_nodelay()
    }

    /// `SO_KEEPALIVE`.
    ///
    /// # Errors
    /// The error of `setsockopt(2)`.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.base.socket.set_keepalive(keepalive)
    }

    /// `SO_KEEPALIVE`.
    ///
    /// # Errors
    /// The error of `getsockopt(2)`.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.base.socket.keepalive()
    }

    /// `SO_LINGER`: `Some(d)` makes closing wait up to `d` for unsent data
    /// (so dropping may block); `Some(0)` resets the connection on close.
    ///
    /// # Errors
    /// The error of `setsockopt(2)`.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.base.socket.set_linger(linger)
    }

    /// `SO_LINGER`.
    ///
    /// # Errors
    /// The error of `getsockopt(2)`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.base.socket.linger()
    }

    /// `SO_REUSEADDR`; see [`SocketBuilder::reuse_address`] to set it before the
    /// bind, where it matters.
    ///
    /// # Errors
    /// The error of `getsockopt(2)`.
    pub fn reuse_address(&self) -> io::Result<bool> {
        self.base.socket.reuse_address()
    }

    /// `SO_OOBINLINE`: out-of-band data arrives in the normal stream.
    ///
    /// # Errors
    /// The error of `setsockopt(2)`.
    pub fn set_out_of_band_inline(&self, inline: bool) -> io::Result<()> {
        self.base.socket.set_out_of_band_inline(inline)
    }
}

impl Read for &Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.receive(buf)
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.receive(buf)
    }
}

/// `write` sends what fits at once (at least one byte), as `Write` expects;
/// [`Socket::send`] sends everything.
impl Write for &Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.base.blocking(Op::Write, Interest::Write, |s| {
            s.send_with_flags(buf, sys::SEND_FLAGS)
        })
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.send(buf).map(drop)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.send(buf).map(drop)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

shared_socket_methods!(Socket);
