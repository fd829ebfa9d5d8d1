//! Windows: `WSAPoll` on the socket and the calling thread's wake-up socket,
//! `ioctlsocket` for the byte count, and mio's registration re-armed after
//! every call.
//!
//! Where Winsock differs from Unix, and what this module does about it:
//! - There is no pipe to poll beside a socket: a thread's [`Waker`] is a UDP
//!   socket on the loopback interface connected to itself.
//! - Nothing interrupts a thread blocked in `recv` and surely leaves the
//!   socket usable, so receives wait in `WSAPoll` too (there is no
//!   [`Interrupter`]).
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
//! - mio does not poll for urgent data: a thread of the loop's [`Selector`]
//!   watches for it with `WSAPoll(POLLRDBAND)`.

use std::collections::HashMap;
use std::io;
use std::mem::ManuallyDrop;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::windows::io::{AsRawSocket, FromRawSocket};
use std::sync::{Arc, Mutex, PoisonError};

use windows_sys::Win32::Networking::WinSock;

use super::{as_uninit, Interest, Polled, Readiness};

/// Flags for every `send`: Windows raises no signal for a peer gone away.
pub(crate) const SEND_FLAGS: i32 = 0;

/// Flags for a `recv` that must not wait: none, since sockets stay in
/// non-blocking mode here (there is no [`Interrupter`]).
pub(crate) const RECV_FLAGS: i32 = 0;

/// `MSG_OOB`, for sending urgent data.
pub(crate) const MSG_OOB: i32 = WinSock::MSG_OOB;

/// A thread that a cancel could interrupt in `recv`: there is none on
/// Windows, where nothing interrupts a blocking `recv` and surely leaves the
/// socket usable (Winsock's rule for a cancelled blocking call: only `accept`
/// and `select` leave the socket as it was), so every receive waits in
/// `WSAPoll`, beside the thread's [`Waker`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Interrupter {}

impl Interrupter {
    /// No thread can be interrupted: `None`.
    pub(crate) fn current() -> Option<Interrupter> {
        None
    }

    /// Never called: there is no `Interrupter`.
    pub(crate) fn interrupt(&self) -> bool {
        match *self {}
    }
}

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
    raw_poll_fd(raw(socket), events)
}

fn raw_poll_fd(socket: WinSock::SOCKET, events: i16) -> WinSock::WSAPOLLFD {
    WinSock::WSAPOLLFD {
        fd: socket,
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

/// What the event loop registers every socket for with mio; urgent data is
/// watched apart (see [`Selector`]).
const INTEREST: mio::Interest = mio::Interest::READABLE.add(mio::Interest::WRITABLE);

/// The loop's additions to its `mio::Poll` on Windows: mio does not poll for
/// urgent data there, so a thread of the selector's watches the registered
/// sockets with `WSAPoll(POLLRDBAND)` and hands the loop the tokens of those
/// that have some. A socket it reported is watched again once re-armed (a
/// call on it), so urgent data left unread is announced once.
#[derive(Debug)]
pub(crate) struct Selector {
    watch: Arc<Watch>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What the selector shares with its watching thread.
#[derive(Debug)]
struct Watch {
    state: Mutex<WatchState>,
    /// Interrupts the thread's `WSAPoll` when the set changes.
    wake: Waker,
    /// The loop's waker: the thread wakes the loop when it found something.
    loop_waker: Arc<mio::Waker>,
}

#[derive(Debug, Default)]
struct WatchState {
    /// The sockets to watch, by token.
    watched: HashMap<mio::Token, WinSock::SOCKET>,
    /// Tokens of sockets found with urgent data, not yet taken by the loop.
    found: Vec<mio::Token>,
    stop: bool,
}

impl Watch {
    fn lock(&self) -> std::sync::MutexGuard<'_, WatchState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Watches `socket` under `token` (again); wakes the thread if it was not.
    fn watch(&self, token: mio::Token, socket: WinSock::SOCKET) {
        if self.lock().watched.insert(token, socket) != Some(socket) {
            self.wake.wake();
        }
    }

    fn unwatch(&self, token: mio::Token) {
        if self.lock().watched.remove(&token).is_some() {
            self.wake.wake();
        }
    }

    /// The watching thread: polls every watched socket for urgent data until
    /// stopped. A socket with anything to report (urgent data, or a hang-up
    /// or error, which mio reports itself) leaves the set until re-armed, so
    /// a level that stays is not reported again and again.
    fn run(&self) {
        loop {
            let (mut fds, tokens): (Vec<_>, Vec<_>) = {
                let state = self.lock();
                if state.stop {
                    return;
                }
                state
                    .watched
                    .iter()
                    .map(|(&token, &socket)| (raw_poll_fd(socket, WinSock::POLLRDBAND), token))
                    .unzip()
            };
            fds.push(poll_fd(&self.wake.socket, WinSock::POLLRDNORM));
            if poll(&mut fds, -1).is_err() {
                // Nothing here fails but for lack of memory; try again later
                // rather than spin.
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
            if fds.last().is_some_and(|waker| waker.revents != 0) {
                self.wake.drain();
            }
            let mut state = self.lock();
            let before = state.found.len();
            for (fd, token) in fds.iter().zip(tokens) {
                if fd.revents == 0 || state.watched.get(&token) != Some(&fd.fd) {
                    continue;
                }
                state.watched.remove(&token);
                if fd.revents & WinSock::POLLRDBAND != 0 {
                    state.found.push(token);
                }
            }
            if state.found.len() > before {
                let _ = self.loop_waker.wake();
            }
        }
    }
}

impl Selector {
    /// Starts the watching thread; it wakes the loop through `loop_waker`.
    pub(crate) fn new(loop_waker: Arc<mio::Waker>) -> io::Result<Self> {
        let watch = Arc::new(Watch {
            state: Mutex::new(WatchState::default()),
            wake: Waker::new()?,
            loop_waker,
        });
        let thread = std::thread::Builder::new()
            .name("sockarc urgent-data watch".into())
            .spawn({
                let watch = Arc::clone(&watch);
                move || watch.run()
            })?;
        Ok(Selector {
            watch,
            thread: Some(thread),
        })
    }

    /// Registers `socket` under `token` with mio and with the watch.
    pub(crate) fn register(
        &self,
        registry: &mio::Registry,
        socket: &socket2::Socket,
        token: mio::Token,
    ) -> io::Result<Registration> {
        // SAFETY: the handle is open; `ManuallyDrop` keeps the stream from
        // closing it, and the registration is ended before the socket's
        // owner closes it (`EventLoop::remove`).
        let stream = unsafe { mio::net::TcpStream::from_raw_socket(socket.as_raw_socket()) };
        let mut source = ManuallyDrop::new(stream);
        registry.register(&mut *source, token, INTEREST)?;
        self.watch.watch(token, raw(socket));
        Ok(Registration {
            source,
            watch: Arc::clone(&self.watch),
        })
    }

    /// The tokens of the sockets found with urgent data since the last call;
    /// asked when the loop's waker woke it.
    pub(crate) fn urgent(&self) -> Vec<mio::Token> {
        std::mem::take(&mut self.watch.lock().found)
    }
}

impl Drop for Selector {
    fn drop(&mut self) {
        self.watch.lock().stop = true;
        self.watch.wake.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A socket's registration with the event loop: with mio, as a
/// `mio::net::TcpStream` over the same socket handle that never closes it
/// (mio registers only its own socket types on Windows, and polls any
/// socket alike through them), and with the selector's urgent-data watch.
#[derive(Debug)]
pub(crate) struct Registration {
    source: ManuallyDrop<mio::net::TcpStream>,
    watch: Arc<Watch>,
}

impl Registration {
    /// Arms the registration again after a call on the socket: mio reports a
    /// readiness once, until re-registered, and the watch drops a socket it
    /// reported.
    pub(crate) fn rearm(
        &mut self,
        registry: &mio::Registry,
        socket: &socket2::Socket,
        token: mio::Token,
    ) -> io::Result<()> {
        self.watch.watch(token, raw(socket));
        registry.reregister(&mut *self.source, token, INTEREST)
    }

    /// Ends the registration while the socket is still open.
    pub(crate) fn deregister(
        &mut self,
        registry: &mio::Registry,
        _: &socket2::Socket,
        token: mio::Token,
    ) -> io::Result<()> {
        self.watch.unwatch(token);
        registry.deregister(&mut *self.source)
    }
}

/// The socket's handle as Winsock's `SOCKET`.
fn raw(socket: &socket2::Socket) -> WinSock::SOCKET {
    socket.as_raw_socket() as WinSock::SOCKET
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
