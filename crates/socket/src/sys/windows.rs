//! Windows: `WSAPoll` on the socket and the calling thread's wake-up socket,
//! `ioctlsocket` for the byte count, and mio's registration re-armed after
//! every call.
//!
//! Where Winsock differs from Unix, and what this module does about it:
//! - There is no pipe to poll beside a socket: a thread's [`Waker`] is a UDP
//!   socket on the loopback interface connected to itself.
//! - `WSAPoll` takes only `POLLRDNORM`, `POLLWRNORM` and `POLLRDBAND` as
//!   events; urgent data is `POLLRDBAND` (there is no `POLLPRI`).
//! - A socket whose connect failed may connect again ([`renew`] keeps it).
//! - `SIOCATMARK` answers whether urgent data is still to be read, not
//!   whether the next byte is at the mark (and Wine always answers `TRUE`),
//!   so [`at_urgent_mark`] answers "perhaps": `true`, and the event loop
//!   looks again after a short read of a socket that had urgent data.
//! - mio reports a readiness once, then re-arms only when I/O through mio
//!   itself would block; sockarc calls the system through socket2, so the
//!   loop re-arms the registration after each call the application makes
//!   ([`Registration::rearm`]).

use std::io;
use std::mem::ManuallyDrop;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::windows::io::{AsRawSocket, FromRawSocket};

use windows_sys::Win32::Networking::WinSock;

use super::{as_uninit, Interest, Polled, Readiness};

/// Flags for every `send`: Windows raises no signal for a peer gone away.
pub(crate) const SEND_FLAGS: i32 = 0;

/// `MSG_OOB`, for sending urgent data.
pub(crate) const MSG_OOB: i32 = WinSock::MSG_OOB;

/// Whether a stream socket gets `SO_REUSEADDR` unless asked otherwise: no
/// (as Rust's `TcpListener`): Windows lets a restarted server bind at once
/// without it, and with it another socket may bind a port in use.
pub(crate) const STREAM_REUSE_ADDRESS: bool = false;

/// Per-socket set-up: non-blocking mode (`ioctlsocket(FIONBIO)`); waiting is
/// done in [`wait`].
pub(crate) fn prepare(socket: &socket2::Socket) -> io::Result<()> {
    socket.set_nonblocking(true)
}

/// A thread's wake-up socket: a UDP socket on the loopback interface,
/// connected to itself, that a cancel from any thread sends a datagram to.
#[derive(Debug)]
pub(crate) struct Waker {
    socket: socket2::Socket,
}

impl Waker {
    /// A new wake-up socket, on 127.0.0.1, or on ::1 where there is no IPv4.
    pub(crate) fn new() -> io::Result<Self> {
        let loopback = |address: SocketAddr| -> io::Result<socket2::Socket> {
            let socket = socket2::Socket::new(
                socket2::Domain::for_address(address),
                socket2::Type::DGRAM,
                None,
            )?;
            socket.bind(&address.into())?;
            socket.connect(&socket.local_addr()?)?;
            socket.set_nonblocking(true)?;
            Ok(socket)
        };
        let socket = loopback((Ipv4Addr::LOCALHOST, 0).into())
            .or_else(|_| loopback((Ipv6Addr::LOCALHOST, 0).into()))?;
        Ok(Waker { socket })
    }

    /// Wakes the thread if it waits. A full receive buffer already wakes it.
    pub(crate) fn wake(&self) {
        let _ = self.socket.send(&[1]);
    }

    /// Empties the socket after a wake-up.
    pub(crate) fn drain(&self) {
        let mut sink = [0u8; 64];
        while matches!(self.socket.recv(as_uninit(&mut sink)), Ok(n) if n > 0) {}
    }
}

fn poll_fd(socket: &socket2::Socket, events: i16) -> WinSock::WSAPOLLFD {
    WinSock::WSAPOLLFD {
        fd: socket.as_raw_socket() as WinSock::SOCKET,
        events,
        revents: 0,
    }
}

/// `WSAPoll` on `fds` for up to `timeout` ms.
fn poll(fds: &mut [WinSock::WSAPOLLFD], timeout: i32) -> io::Result<usize> {
    let count = u32::try_from(fds.len()).unwrap_or(u32::MAX);
    // SAFETY: `fds` is a valid array of `count` WSAPOLLFD for the call.
    let n = unsafe { WinSock::WSAPoll(fds.as_mut_ptr(), count, timeout) };
    if n == WinSock::SOCKET_ERROR {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(n).unwrap_or(0))
}

/// One `WSAPoll` of `socket` for `interest` and of `waker`'s socket, for up
/// to `timeout_ms`.
pub(crate) fn poll_with_waker(
    socket: &socket2::Socket,
    interest: Interest,
    waker: &Waker,
    timeout_ms: i32,
) -> io::Result<Polled> {
    let events = match interest {
        Interest::Read => WinSock::POLLRDNORM,
        Interest::Write => WinSock::POLLWRNORM,
        Interest::Priority => WinSock::POLLRDBAND,
    };
    let mut fds = [
        poll_fd(socket, events),
        poll_fd(&waker.socket, WinSock::POLLRDNORM),
    ];
    poll(&mut fds, timeout_ms)?;
    Ok(Polled {
        ready: fds[0].revents != 0,
        woken: fds[1].revents != 0,
    })
}

/// `true` for the errors a non-blocking `connect` gives while the connection
/// is being made (`WSAEWOULDBLOCK`, `WSAEINPROGRESS`).
pub(crate) fn is_in_progress(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock || err.raw_os_error() == Some(WinSock::WSAEINPROGRESS)
}

/// Bytes that can be read without blocking (`ioctlsocket(FIONREAD)`; MFC's
/// `IOCtl(FIONREAD)`).
pub(crate) fn bytes_available(socket: &socket2::Socket) -> io::Result<usize> {
    let mut available: u32 = 0;
    // SAFETY: FIONREAD writes one u_long to the pointer, valid for the call.
    let result = unsafe {
        WinSock::ioctlsocket(
            socket.as_raw_socket() as WinSock::SOCKET,
            WinSock::FIONREAD,
            &mut available,
        )
    };
    if result == WinSock::SOCKET_ERROR {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(available).unwrap_or(usize::MAX))
}

/// Whether a short read may have stopped at the urgent mark: always `true`
/// here (see the module's notes), so the caller looks again.
pub(crate) fn at_urgent_mark(_: &socket2::Socket) -> io::Result<bool> {
    Ok(true)
}

/// Makes `socket`, whose connect failed, fit to connect again: Winsock lets
/// such a socket call `connect` again, so it stays as it is (there is no
/// `dup2` to put another in its place). Returns `false`.
pub(crate) fn renew(
    _: &socket2::Socket,
    _: impl FnOnce() -> io::Result<socket2::Socket>,
) -> io::Result<bool> {
    Ok(false)
}

/// The socket's readiness now (`WSAPoll` with a zero timeout).
pub(crate) fn readiness_now(socket: &socket2::Socket) -> io::Result<Readiness> {
    let mut fds = [poll_fd(
        socket,
        WinSock::POLLRDNORM | WinSock::POLLWRNORM | WinSock::POLLRDBAND,
    )];
    poll(&mut fds, 0)?;
    let r = fds[0].revents;
    Ok(Readiness {
        readable: r & WinSock::POLLRDNORM != 0,
        writable: r & WinSock::POLLWRNORM != 0,
        priority: r & WinSock::POLLRDBAND != 0,
        hang_up: r & (WinSock::POLLHUP | WinSock::POLLERR) != 0,
    })
}

/// `true` for the errors of `accept` that mean the process or system ran out
/// of sockets or memory (`WSAEMFILE`, `WSAENOBUFS`).
pub(crate) fn is_resource_exhaustion(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(WinSock::WSAEMFILE | WinSock::WSAENOBUFS)
    )
}

/// `true` for the error of creating a socket of an address family the system
/// does not have (`WSAEAFNOSUPPORT`).
pub(crate) fn is_family_unsupported(err: &io::Error) -> bool {
    err.raw_os_error() == Some(WinSock::WSAEAFNOSUPPORT)
}

/// What the event loop registers every socket for: mio reports no urgent
/// data on Windows, so `on_out_of_band_data` comes from the level checks.
const INTEREST: mio::Interest = mio::Interest::READABLE.add(mio::Interest::WRITABLE);

/// A socket's registration with the event loop's `mio::Poll`. mio registers
/// only its own socket types on Windows, so the registration is a
/// `mio::net::TcpStream` over the same socket handle that never closes it;
/// any socket type registers alike through it (mio polls the handle with
/// AFD, whatever the type).
#[derive(Debug)]
pub(crate) struct Registration {
    source: ManuallyDrop<mio::net::TcpStream>,
}

impl Registration {
    /// Registers `socket` under `token`.
    pub(crate) fn new(
        registry: &mio::Registry,
        socket: &socket2::Socket,
        token: mio::Token,
    ) -> io::Result<Self> {
        // SAFETY: the handle is open; `ManuallyDrop` keeps the stream from
        // closing it, and the registration is ended before the socket's
        // owner closes it (`EventLoop::remove`).
        let stream = unsafe { mio::net::TcpStream::from_raw_socket(socket.as_raw_socket()) };
        let mut source = ManuallyDrop::new(stream);
        registry.register(&mut *source, token, INTEREST)?;
        Ok(Registration { source })
    }

    /// Arms the registration again after a call on the socket: mio reports a
    /// readiness once, until re-registered.
    pub(crate) fn rearm(
        &mut self,
        registry: &mio::Registry,
        _: &socket2::Socket,
        token: mio::Token,
    ) -> io::Result<()> {
        registry.reregister(&mut *self.source, token, INTEREST)
    }

    /// Ends the registration while the socket is still open.
    pub(crate) fn deregister(
        &mut self,
        registry: &mio::Registry,
        _: &socket2::Socket,
    ) -> io::Result<()> {
        registry.deregister(&mut *self.source)
    }
}

/// The platform's error numbers the rules' table tests feed their fake kernel.
#[cfg(test)]
pub(crate) mod errno {
    use windows_sys::Win32::Networking::WinSock;

    pub(crate) const ECONNRESET: i32 = WinSock::WSAECONNRESET;
    pub(crate) const ECONNREFUSED: i32 = WinSock::WSAECONNREFUSED;
    pub(crate) const EINPROGRESS: i32 = WinSock::WSAEWOULDBLOCK;
    pub(crate) const EMFILE: i32 = WinSock::WSAEMFILE;
}
