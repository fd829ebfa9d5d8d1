//! Platform code, behind one contract. Everything outside `sys/` is written
//! against the items below and names no `libc` or Winsock item itself.
//!
//! The types every platform shares are defined here; what a platform module
//! must provide (Unix's is `unix.rs`: Linux, macOS, the BSDs; Windows's is
//! `windows.rs`), each taking the socket as a `socket2::Socket`:
//!
//! | item | what |
//! |---|---|
//! | `prepare(&Socket)` | a new socket made non-blocking (and `SIGPIPE`-free where a socket option does that) |
//! | `SEND_FLAGS`, `RECV_FLAGS`, `MSG_OOB` | flags for `send`: no `SIGPIPE`, no wait in the kernel; for a `recv` that must not wait in the kernel; urgent data |
//! | `STREAM_REUSE_ADDRESS` | whether stream sockets get `SO_REUSEADDR` by default |
//! | `Waker` with `new()`, `wake()`, `drain()` | a thread's wake-up: another thread (a cancel) ends its [`wait`] |
//! | `Interrupter` with `current()`, `interrupt()` | a thread receiving in a `recv` that waits in the kernel, and how another thread (a cancel) makes that `recv` fail with `Interrupted`; `current()` is `None` where a platform cannot (Windows), and then receives wait in [`wait`] |
//! | `poll_with_waker(&Socket, Interest, &Waker, timeout_ms)` | one `poll` of the socket and the waker: [`Polled`] |
//! | `readiness_now(&Socket)` | a socket's [`Readiness`] at this instant (a zero-timeout `poll`/`WSAPoll`) |
//! | `bytes_available(&Socket)` | `FIONREAD` |
//! | `at_urgent_mark(&Socket)` | whether a short read may have stopped at the urgent mark |
//! | `renew(&Socket, fresh)` | makes a socket whose connect failed fit to connect again; `true` if it put a fresh socket in its place |
//! | `is_in_progress`, `is_resource_exhaustion`, `is_family_unsupported` | the platform's error codes for a connect under way, an accept out of descriptors or memory, a missing address family |
//! | `Selector` with `new(loop's waker)`, `register`, `urgent` | the loop's additions to its `mio::Poll`: registering a socket, and (Windows) the sockets found with urgent data, which mio does not report there |
//! | `Registration` with `rearm`, `deregister` | a socket's registration, re-armed after each call on it (Windows needs that) |
//!
//! The public types implement the platform's handle traits: `AsRawFd`,
//! `AsFd`, `FromRawFd`, `IntoRawFd` and `Into<OwnedFd>` on Unix;
//! `AsRawSocket`, `AsSocket`, `FromRawSocket`, `IntoRawSocket` and
//! `Into<OwnedSocket>` on Windows (`blocking/handles.rs`).

use std::io;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::time::Instant;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

#[cfg(not(any(unix, windows)))]
compile_error!("sockarc supports Unix and Windows");

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

/// How a wait ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Woken {
    /// The socket is ready (or has an error to report on the next call).
    Ready,
    /// The thread's waker was woken: re-check for cancellation.
    Wake,
    /// The deadline passed.
    TimedOut,
}

/// What one `poll` of a socket and a waker found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Polled {
    /// The socket is ready for the interest (or has an error to report).
    pub(crate) ready: bool,
    /// The waker was woken.
    pub(crate) woken: bool,
}

/// Waits until `socket` is ready for `interest`, `waker` is woken, or
/// `deadline` passes.
///
/// `TimedOut` is never answered without a look at the socket after the
/// deadline: a deadline that has already passed (a zero timeout, or one spent
/// before the caller got here) still gets one zero-timeout poll, and a poll
/// that ran out of time looked at the socket until the deadline. A poll that
/// ended early (a signal, a coarse clock) goes round again with the time left.
pub(crate) fn wait(
    socket: &socket2::Socket,
    interest: Interest,
    waker: &Waker,
    deadline: Option<Instant>,
) -> io::Result<Woken> {
    loop {
        let polled = poll_with_waker(socket, interest, waker, timeout_ms(deadline))?;
        if polled.woken {
            waker.drain();
            return Ok(Woken::Wake);
        }
        if polled.ready {
            return Ok(Woken::Ready);
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Ok(Woken::TimedOut);
        }
    }
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

impl Waker {
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

/// `&mut [u8]` as the `&mut [MaybeUninit<u8>]` socket2's receive calls take.
pub(crate) fn as_uninit(buf: &mut [u8]) -> &mut [MaybeUninit<u8>] {
    // SAFETY: MaybeUninit<u8> has the layout of u8, and the receive calls we pass
    // this to only write initialised bytes (socket2's documented promise), so the
    // slice stays fully initialised.
    unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) }
}

/// The time left until `deadline` as a poll timeout in milliseconds: `-1`
/// for none, rounded up so a wait never ends just before its deadline, and
/// `0` once it has passed (one last look).
#[expect(
    clippy::cast_possible_truncation,
    reason = "the timeout is clamped to i32::MAX first"
)]
fn timeout_ms(deadline: Option<Instant>) -> i32 {
    match deadline {
        None => -1,
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32
        }
    }
}
