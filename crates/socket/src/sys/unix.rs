//! Unix: `poll(2)` on the socket and the calling thread's wake-up pipe.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use super::{Interest, Polled, Readiness};

/// Flags for every `send(2)`: a peer that has gone away gives `EPIPE`, never
/// `SIGPIPE` (Apple platforms have no `MSG_NOSIGNAL`; there `SO_NOSIGPIPE` is
/// set on every socket instead, in [`prepare`]); and `MSG_DONTWAIT`, so a send
/// never waits in the kernel, even while a receive has the descriptor in
/// blocking mode.
#[cfg(not(target_vendor = "apple"))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT;
#[cfg(target_vendor = "apple")]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_DONTWAIT;

/// Flags for every `recv(2)` that must not wait in the kernel: `MSG_DONTWAIT`,
/// since a receive that waits there ([`Interrupter`]) leaves the descriptor in
/// blocking mode.
pub(crate) const RECV_FLAGS: libc::c_int = libc::MSG_DONTWAIT;

/// Whether a stream socket gets `SO_REUSEADDR` unless asked otherwise: yes,
/// so a restarted server binds at once (as Rust's `TcpListener`).
pub(crate) const STREAM_REUSE_ADDRESS: bool = true;

/// Per-socket set-up the platform needs: `SO_NOSIGPIPE` on Apple platforms, and
/// non-blocking mode everywhere (waiting is done in [`wait`](super::wait)).
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

/// The signal that interrupts a thread receiving in `recv(2)` for a cancel:
/// `SIGURG`, which is ignored by default and raised by the kernel only for a
/// socket the program gave `fcntl(F_SETOWN)` (Go's runtime interrupts its
/// threads with it for the same reasons). sockarc handles it with a function
/// that does nothing, installed without `SA_RESTART`, so the `recv(2)` it
/// lands in fails with `EINTR`.
const INTERRUPT: libc::c_int = libc::SIGURG;

/// A thread that a cancel can interrupt in `recv(2)`, by sending it
/// [`INTERRUPT`] (`pthread_kill(3)`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Interrupter {
    thread: libc::pthread_t,
}

// SAFETY: a `pthread_t` only names a thread (on Apple platforms it is a
// pointer); any thread may pass it to `pthread_kill`.
unsafe impl Send for Interrupter {}
// SAFETY: as for `Send`; an `Interrupter` is never written through.
unsafe impl Sync for Interrupter {}

impl Interrupter {
    /// The calling thread, if a signal can interrupt its `recv(2)`: sockarc's
    /// handler of [`INTERRUPT`] is in place (installed on first use, if the
    /// process had none of its own) and the thread does not block the signal.
    /// Found out once per thread (`sigaction(2)`, `pthread_sigmask(3)`).
    pub(crate) fn current() -> Option<Interrupter> {
        thread_local! {
            static CURRENT: std::cell::OnceCell<Option<Interrupter>> =
                const { std::cell::OnceCell::new() };
        }
        CURRENT.with(|current| {
            *current.get_or_init(|| {
                if !handler_installed() || signal_blocked() {
                    return None;
                }
                // SAFETY: pthread_self has no preconditions.
                Some(Interrupter {
                    thread: unsafe { libc::pthread_self() },
                })
            })
        })
    }

    /// Sends [`INTERRUPT`] to the thread, which must be alive: its `recv(2)`,
    /// if it is in one, fails with `EINTR`. `false` if the signal can no
    /// longer do that, because the process has since put a handler of its own
    /// in sockarc's place.
    pub(crate) fn interrupt(&self) -> bool {
        if current_handler() != Some(on_interrupt as extern "C" fn(libc::c_int) as usize) {
            return false;
        }
        // SAFETY: the caller keeps the thread alive (it is registered in a
        // call, which it leaves only under the lock the caller holds).
        unsafe { libc::pthread_kill(self.thread, INTERRUPT) == 0 }
    }
}

/// The handler of [`INTERRUPT`]: its arrival is all that counts.
extern "C" fn on_interrupt(_: libc::c_int) {
    #[cfg(test)]
    tests::INTERRUPTS.with(|n| n.set(n.get() + 1));
}

/// The handler of [`INTERRUPT`] now (`sigaction(2)`), as an address; `None`
/// if it cannot be read.
fn current_handler() -> Option<usize> {
    // SAFETY: a zeroed sigaction is a valid out-parameter; a null new action
    // only reads the current one.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(INTERRUPT, std::ptr::null(), &mut old) != 0 {
            return None;
        }
        Some(old.sa_sigaction)
    }
}

/// Installs sockarc's handler of [`INTERRUPT`] (`sigaction(2)`, no
/// `SA_RESTART`) the first time it is asked, unless the process has chosen
/// what the signal does itself (a handler, or `SIG_IGN`); whether it is
/// installed. The handler is put in place and the one it replaced read back
/// in the same call; if that one was not the default, it goes back, so a
/// handler the program installed meanwhile is never lost.
fn handler_installed() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| {
        // SAFETY: `action` is fully initialised (zeroed, an empty mask, the
        // handler) before the calls, which only read it; a zeroed sigaction
        // is a valid out-parameter for the action replaced, which the second
        // call only reads.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            action.sa_flags = 0;
            let mut replaced: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(INTERRUPT, &action, &mut replaced) != 0 {
                return false;
            }
            if replaced.sa_sigaction != libc::SIG_DFL {
                libc::sigaction(INTERRUPT, &replaced, std::ptr::null_mut());
                return false;
            }
            true
        }
    })
}

/// Whether the calling thread blocks [`INTERRUPT`] (`pthread_sigmask(3)`).
fn signal_blocked() -> bool {
    // SAFETY: a null new set only reads the thread's mask into `mask`, which
    // sigemptyset initialised.
    unsafe {
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut mask);
        libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask) != 0
            || libc::sigismember(&mask, INTERRUPT) == 1
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

/// What the tests of a cancel that lands before `recv(2)` look at.
#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    thread_local! {
        /// How many [`INTERRUPT`](super::INTERRUPT)s this thread has handled
        /// (a `const` thread-local without destructor: plain TLS, safe to
        /// touch in a signal handler).
        pub(crate) static INTERRUPTS: Cell<usize> = const { Cell::new(0) };
    }

    /// How many interrupts the calling thread has handled.
    pub(crate) fn interrupts_handled() -> usize {
        INTERRUPTS.with(Cell::get)
    }
}

/// The platform's error numbers the rules' table tests feed their fake kernel.
#[cfg(test)]
pub(crate) mod errno {
    pub(crate) const ECONNRESET: i32 = libc::ECONNRESET;
    pub(crate) const ECONNREFUSED: i32 = libc::ECONNREFUSED;
    pub(crate) const EINPROGRESS: i32 = libc::EINPROGRESS;
    pub(crate) const EMFILE: i32 = libc::EMFILE;
}
