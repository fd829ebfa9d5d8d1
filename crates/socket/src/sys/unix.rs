//! Unix: `poll(2)` on the socket and the calling thread's wake-up pipe.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use super::{Interest, Polled, Readiness};

/// Flags for every `send(2)`: a peer that has gone away gives `EPIPE`, never
/// `SIGPIPE`. Apple platforms have no `MSG_NOSIGNAL`; there `SO_NOSIGPIPE` is set
/// on every socket instead ([`prepare`]).
#[cfg(not(target_vendor = "apple"))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(target_vendor = "apple")]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// Whether a stream socket gets `SO_REUSEADDR` unless asked otherwise: yes,
/// so a restarted server binds at once (as Rust's `TcpListener`).
pub(crate) const STREAM_REUSE_ADDRESS: bool = true;

/// Per-socket set-up the platform needs: `SO_NOSIGPIPE` on Apple platforms, and
/// non-blocking mode everywhere (waiting is done in [`wait`]).
pub(crate) fn prepare(socket: &socket2::Socket) -> io::Result<()> {
    #[cfg(target_vendor = "apple")]
    socket.set_nosigpipe(true)?;
    socket.set_nonblocking(true)
}

/// A thread's wake-up pipe: a cancel from any thread writes a byte to it.
#[derive(Debug)]
pub(crate) struct Waker {
    reader: UnixStream,
    writer: UnixStream,
}

impl Waker {
    /// A new pipe, both ends non-blocking.
    pub(crate) fn new() -> io::Result<Self> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(Waker { reader, writer })
    }

    /// Wakes the thread if it waits. A full pipe already wakes it.
    pub(crate) fn wake(&self) {
        let _ = (&self.writer).write(&[1]);
    }

    /// Empties the pipe after a wake-up.
    pub(crate) fn drain(&self) {
        let mut sink = [0u8; 64];
        while matches!((&self.reader).read(&mut sink), Ok(n) if n > 0) {}
    }
}

/// One `poll(2)` of `socket` for `interest` and of `waker`'s pipe, for up to
/// `timeout_ms`. Interrupted by a signal, it found nothing.
pub(crate) fn poll_with_waker(
    socket: &socket2::Socket,
    interest: Interest,
    waker: &Waker,
    timeout_ms: i32,
) -> io::Result<Polled> {
    let events = match interest {
        Interest::Read => libc::POLLIN,
        Interest::Write => libc::POLLOUT,
        Interest::Priority => libc::POLLPRI,
    };
    let mut fds = [
        libc::pollfd {
            fd: socket.as_raw_fd(),
            events,
            revents: 0,
        },
        libc::pollfd {
            fd: waker.reader.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // SAFETY: `fds` is a valid array of two pollfd for the duration of the call.
    if unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout_ms) } < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(Polled::default());
        }
        return Err(err);
    }
    Ok(Polled {
        ready: fds[0].revents != 0,
        woken: fds[1].revents != 0,
    })
}

/// `true` for the error a non-blocking `connect(2)` gives while the connection
/// is being made (`EINPROGRESS` on Linux; MFC's `WSAEWOULDBLOCK`).
pub(crate) fn is_in_progress(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EINPROGRESS) || err.kind() == io::ErrorKind::WouldBlock
}

/// Bytes that can be read without blocking (`ioctl(FIONREAD)`; MFC's
/// `IOCtl(FIONREAD)`). For a datagram socket, the size of the first datagram on
/// Linux.
pub(crate) fn bytes_available(socket: &socket2::Socket) -> io::Result<usize> {
    let mut available: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int to the pointer, which is valid for the call.
    if unsafe { libc::ioctl(socket.as_raw_fd(), libc::FIONREAD, &mut available) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(available).unwrap_or(0))
}

/// `true` when the next byte to read is at the urgent mark (`sockatmark(3)`,
/// which is `ioctl(SIOCATMARK)`). Linux's `tcp_recvmsg` stops a read at the mark,
/// with or without `SO_OOBINLINE`, so a read that came back short may have left
/// normal data behind it; and while out-of-band data is not inline, `FIONREAD`
/// counts only the bytes before the mark ([`bytes_available`] is 0 there).
pub(crate) fn at_urgent_mark(socket: &socket2::Socket) -> io::Result<bool> {
    extern "C" {
        // POSIX.1-2001; the libc crate does not declare it.
        fn sockatmark(fd: libc::c_int) -> libc::c_int;
    }
    // SAFETY: sockatmark only reads the descriptor's state; an invalid or
    // non-socket descriptor gives -1 with errno set.
    match unsafe { sockatmark(socket.as_raw_fd()) } {
        -1 => Err(io::Error::last_os_error()),
        at => Ok(at == 1),
    }
}

/// Makes `socket`, whose connect failed, fit to connect again: a Unix socket
/// whose connect failed must not be connected again, so a fresh one from
/// `fresh` takes its place under the same descriptor (`dup2(2)`: the old
/// socket is closed, close-on-exec as before). Returns `true`: the socket is
/// new, and unbound.
pub(crate) fn renew(
    socket: &socket2::Socket,
    fresh: impl FnOnce() -> io::Result<socket2::Socket>,
) -> io::Result<bool> {
    let fresh = fresh()?;
    // SAFETY: both descriptors are open for the duration of the call; `dup2`
    // closes the old socket behind `socket`'s number atomically.
    if unsafe { libc::dup2(fresh.as_raw_fd(), socket.as_raw_fd()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    socket.set_cloexec(true)?;
    Ok(true)
}

/// The socket's readiness now (`poll(2)` with a zero timeout): how the event loop
/// re-checks a level after a call re-enables a notification.
pub(crate) fn readiness_now(socket: &socket2::Socket) -> io::Result<Readiness> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const RDHUP: libc::c_short = libc::POLLRDHUP;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const RDHUP: libc::c_short = 0;
    let mut fds = [libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLIN | libc::POLLOUT | libc::POLLPRI | RDHUP,
        revents: 0,
    }];
    loop {
        // SAFETY: `fds` is a valid array of one pollfd for the duration of the call.
        if unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) } >= 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let r = fds[0].revents;
    Ok(Readiness {
        readable: r & libc::POLLIN != 0,
        writable: r & libc::POLLOUT != 0,
        priority: r & libc::POLLPRI != 0,
        hang_up: r & (libc::POLLHUP | libc::POLLERR | RDHUP) != 0,
    })
}

/// `true` for the errors of `accept(2)` that mean the process or system ran out
/// of descriptors or memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`): the
/// connection still waits, and accepting it again at once fails again.
pub(crate) fn is_resource_exhaustion(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// The loop's additions to its `mio::Poll`: none on Unix, where epoll and
/// kqueue report everything the rules need (urgent data included, where mio
/// has `PRIORITY`).
#[derive(Debug)]
pub(crate) struct Selector;

impl Selector {
    /// Nothing to start here; the loop's waker is not needed.
    pub(crate) fn new(_: std::sync::Arc<mio::Waker>) -> io::Result<Self> {
        Ok(Selector)
    }

    /// Registers `socket` under `token` by descriptor (`SourceFd`:
    /// `epoll_ctl(EPOLL_CTL_ADD)`, `kevent`), for edges of [`INTEREST`].
    pub(crate) fn register(
        &self,
        registry: &mio::Registry,
        socket: &socket2::Socket,
        token: mio::Token,
    ) -> io::Result<Registration> {
        let fd = socket.as_raw_fd();
        registry.register(&mut mio::unix::SourceFd(&fd), token, INTEREST)?;
        Ok(Registration)
    }

    /// Sockets found with urgent data apart from mio's events: none here.
    pub(crate) fn urgent(&self) -> Vec<mio::Token> {
        Vec::new()
    }
}

/// A socket's registration with the event loop's `mio::Poll`, armed for as
/// long as it lasts.
#[derive(Debug)]
pub(crate) struct Registration;

impl Registration {
    /// After a call on the socket: nothing to do here, where edges stay armed.
    pub(crate) fn rearm(
        &mut self,
        _: &mio::Registry,
        _: &socket2::Socket,
        _: mio::Token,
    ) -> io::Result<()> {
        Ok(())
    }

    /// Ends the registration while the socket is still open.
    pub(crate) fn deregister(
        &mut self,
        registry: &mio::Registry,
        socket: &socket2::Socket,
        _: mio::Token,
    ) -> io::Result<()> {
        registry.deregister(&mut mio::unix::SourceFd(&socket.as_raw_fd()))
    }
}

/// What the event loop registers every socket for. Urgent data raises an edge
/// of its own (`EPOLLPRI`) only on Linux and Android, where mio has
/// `Interest::PRIORITY`; elsewhere `on_out_of_band_data` comes only from the
/// level checks that follow a receive or `async_select`.
#[cfg(any(target_os = "linux", target_os = "android"))]
const INTEREST: mio::Interest = mio::Interest::READABLE
    .add(mio::Interest::WRITABLE)
    .add(mio::Interest::PRIORITY);
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const INTEREST: mio::Interest = mio::Interest::READABLE.add(mio::Interest::WRITABLE);

/// `MSG_OOB`, for sending urgent data.
pub(crate) const MSG_OOB: libc::c_int = libc::MSG_OOB;

/// `true` for the error of creating a socket of an address family the system
/// does not have (`EAFNOSUPPORT`: no IPv6, say).
pub(crate) fn is_family_unsupported(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EAFNOSUPPORT)
}

/// The platform's error numbers the rules' table tests feed their fake kernel.
#[cfg(test)]
pub(crate) mod errno {
    pub(crate) const ECONNRESET: i32 = libc::ECONNRESET;
    pub(crate) const ECONNREFUSED: i32 = libc::ECONNREFUSED;
    pub(crate) const EINPROGRESS: i32 = libc::EINPROGRESS;
    pub(crate) const EMFILE: i32 = libc::EMFILE;
}
