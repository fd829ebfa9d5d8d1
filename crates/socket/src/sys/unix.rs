//! Unix: `poll(2)` on the socket and the calling thread's wake-up pipe.

use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Instant;

/// Flags for every `send(2)`: a peer that has gone away gives `EPIPE`, never
/// `SIGPIPE`. Apple platforms have no `MSG_NOSIGNAL`; there `SO_NOSIGPIPE` is set
/// on every socket instead ([`prepare`]).
#[cfg(not(target_vendor = "apple"))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(target_vendor = "apple")]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// Per-socket set-up the platform needs: `SO_NOSIGPIPE` on Apple platforms, and
/// non-blocking mode everywhere (waiting is done in [`wait`]).
pub(crate) fn prepare(socket: &socket2::Socket) -> io::Result<()> {
    #[cfg(target_vendor = "apple")]
    socket.set_nosigpipe(true)?;
    socket.set_nonblocking(true)
}

/// What a wait is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interest {
    /// Data, a connection to accept, or end of stream.
    Read,
    /// Room in the send buffer, or a connect's outcome.
    Write,
    /// Out-of-band data.
    Priority,
}

/// Why a wait ended without the socket becoming ready.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Woken {
    /// The socket is ready (or has an error to report on the next call).
    Ready,
    /// The thread's wake-up pipe was written: re-check for cancellation.
    Wake,
    /// The deadline passed.
    TimedOut,
}

/// A thread's wake-up pipe: a cancel from any thread writes a byte to it.
#[derive(Debug)]
pub(crate) struct Waker {
    reader: UnixStream,
    writer: UnixStream,
}

impl Waker {
    fn new() -> io::Result<Self> {
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
    fn drain(&self) {
        let mut sink = [0u8; 64];
        while matches!((&self.reader).read(&mut sink), Ok(n) if n > 0) {}
    }

    /// The calling thread's waker, created on its first wait.
    pub(crate) fn current() -> io::Result<Arc<Waker>> {
        thread_local! {
            static WAKER: std::cell::OnceCell<Arc<Waker>> = const { std::cell::OnceCell::new() };
        }
        WAKER.with(|cell| {
            if let Some(waker) = cell.get() {
                return Ok(Arc::clone(waker));
            }
            let waker = Arc::new(Waker::new()?);
            Ok(Arc::clone(cell.get_or_init(|| waker)))
        })
    }
}

/// Waits until `fd` is ready for `interest`, `waker` is woken, or `deadline`
/// passes (`poll(2)` on both descriptors). `EINTR` is retried with the time that
/// is left.
///
/// `TimedOut` is never answered without a look at the socket after the
/// deadline: a deadline that has already passed (a zero timeout, or one spent
/// before the caller got here) still gets one zero-timeout `poll(2)`, and a poll
/// that ran out of time looked at the socket until the deadline.
#[expect(
    clippy::cast_possible_truncation,
    reason = "the timeout is clamped to i32::MAX first"
)]
pub(crate) fn wait(
    fd: RawFd,
    interest: Interest,
    waker: &Waker,
    deadline: Option<Instant>,
) -> io::Result<Woken> {
    let events = match interest {
        Interest::Read => libc::POLLIN,
        Interest::Write => libc::POLLOUT,
        Interest::Priority => libc::POLLPRI,
    };
    loop {
        let timeout_ms = match deadline {
            None => -1,
            Some(deadline) => {
                // Once the deadline has passed this is 0: one last look.
                let left = deadline.saturating_duration_since(Instant::now());
                // Round up, so a wait never ends just before its deadline.
                left.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int
            }
        };
        let mut fds = [
            libc::pollfd {
                fd,
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
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if fds[1].revents != 0 {
            waker.drain();
            return Ok(Woken::Wake);
        }
        if fds[0].revents != 0 {
            return Ok(Woken::Ready);
        }
        // n == 0: the poll ran until its timeout, which was rounded up to reach
        // the deadline (or was the zero-timeout last look). Only a poll that
        // ended early (a coarse clock) goes round again.
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Ok(Woken::TimedOut);
        }
    }
}

/// `&mut [u8]` as the `&mut [MaybeUninit<u8>]` socket2's receive calls take.
pub(crate) fn as_uninit(buf: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: MaybeUninit<u8> has the layout of u8, and the receive calls we pass
    // this to only write initialised bytes (socket2's documented promise), so the
    // slice stays fully initialised.
    unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) }
}

/// `true` for the error a non-blocking `connect(2)` gives while the connection
/// is being made (`EINPROGRESS` on Linux; MFC's `WSAEWOULDBLOCK`).
pub(crate) fn is_in_progress(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EINPROGRESS) || err.kind() == io::ErrorKind::WouldBlock
}

/// Bytes that can be read without blocking (`ioctl(FIONREAD)`; MFC's
/// `IOCtl(FIONREAD)`). For a datagram socket, the size of the first datagram on
/// Linux.
pub(crate) fn bytes_available(fd: RawFd) -> io::Result<usize> {
    let mut available: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int to the pointer, which is valid for the call.
    if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut available) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(available).unwrap_or(0))
}

/// `true` when the next byte to read is at the urgent mark (`sockatmark(3)`,
/// which is `ioctl(SIOCATMARK)`). Linux's `tcp_recvmsg` stops a read at the mark,
/// with or without `SO_OOBINLINE`, so a read that came back short may have left
/// normal data behind it; and while out-of-band data is not inline, `FIONREAD`
/// counts only the bytes before the mark ([`bytes_available`] is 0 there).
pub(crate) fn at_urgent_mark(fd: RawFd) -> io::Result<bool> {
    extern "C" {
        // POSIX.1-2001; the libc crate does not declare it.
        fn sockatmark(fd: libc::c_int) -> libc::c_int;
    }
    // SAFETY: sockatmark only reads the descriptor's state; an invalid or
    // non-socket descriptor gives -1 with errno set.
    match unsafe { sockatmark(fd) } {
        -1 => Err(io::Error::last_os_error()),
        at => Ok(at == 1),
    }
}

/// Puts `fresh` in the place of `target`'s descriptor (`dup2(2)`): the old socket
/// is closed and `target` now refers to the new one, close-on-exec as before.
pub(crate) fn replace(target: &socket2::Socket, fresh: socket2::Socket) -> io::Result<()> {
    // SAFETY: both descriptors are open for the duration of the call; `dup2`
    // closes the old socket behind `target`'s number atomically.
    if unsafe { libc::dup2(fresh.as_raw_fd(), target.as_raw_fd()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    target.set_cloexec(true)
}

/// What a socket is ready for at this instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Readiness {
    /// Data, a pending connection, or end of stream can be read.
    pub(crate) readable: bool,
    /// A send would not block.
    pub(crate) writable: bool,
    /// Out-of-band data is waiting.
    pub(crate) priority: bool,
    /// The peer closed its side, or the connection is gone.
    pub(crate) hang_up: bool,
}

/// The socket's readiness now (`poll(2)` with a zero timeout): how the event loop
/// re-checks a level after a call re-enables a notification.
pub(crate) fn readiness_now(fd: RawFd) -> io::Result<Readiness> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const RDHUP: libc::c_short = libc::POLLRDHUP;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const RDHUP: libc::c_short = 0;
    let mut fds = [libc::pollfd {
        fd,
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

/// What the event loop registers every socket for. Urgent data raises an edge
/// of its own (`EPOLLPRI`) only on Linux and Android, where mio has
/// `Interest::PRIORITY`; elsewhere `on_out_of_band_data` comes only from the
/// level checks that follow a receive or `async_select`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const INTEREST: mio::Interest = mio::Interest::READABLE
    .add(mio::Interest::WRITABLE)
    .add(mio::Interest::PRIORITY);
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const INTEREST: mio::Interest = mio::Interest::READABLE.add(mio::Interest::WRITABLE);

/// `MSG_OOB`, for sending urgent data.
pub(crate) const MSG_OOB: libc::c_int = libc::MSG_OOB;

/// `true` for the error of creating a socket of an address family the system
/// does not have (`EAFNOSUPPORT`: no IPv6, say).
pub(crate) fn is_family_unsupported(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EAFNOSUPPORT)
}
