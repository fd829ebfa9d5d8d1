//! Cancelling a blocking call from another thread (`CSocket::CancelBlockingCall`,
//! made thread-safe), and the error it produces.

use std::fmt;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::blocking::control::Control;

/// A cloneable, thread-safe handle that cancels the blocking calls of one socket.
///
/// [`cancel`](Self::cancel) makes the call blocked on the socket return at once
/// with a [`Cancelled`] error, and so does every later blocking call until the
/// socket's `clear_cancel` is called. (MFC guarantees only `Close` after a cancel;
/// here the socket stays usable once cleared.)
///
/// ```
/// use sockarc::{is_cancelled, Socket};
/// # fn main() -> std::io::Result<()> {
/// let server = Socket::builder().address([127, 0, 0, 1].into()).create()?;
/// server.listen()?;
/// let cancel = server.cancel_handle();
/// let waiter = std::thread::spawn(move || server.accept().map(drop));
/// cancel.cancel();
/// assert!(is_cancelled(&waiter.join().unwrap().unwrap_err()));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct CancelHandle {
    control: Arc<Control>,
}

impl CancelHandle {
    pub(crate) fn new(control: Arc<Control>) -> Self {
        CancelHandle { control }
    }

    /// Cancels the socket's blocking call in progress, if any, and every later
    /// one until cleared.
    ///
    /// A call waiting in `poll(2)` (`WSAPoll`) is woken through its thread's
    /// wake-up pipe (socket). On Unix a receive with no read timeout waits in
    /// `recv(2)` itself; that thread is sent `SIGURG` (`pthread_kill(3)`),
    /// which ends the `recv(2)` with `EINTR` and nothing read, and this call
    /// returns once the receive has left (in the rare case that the signal
    /// arrived just before the `recv(2)` started, it is sent again, after 1
    /// ms, then after pauses doubling up to 50 ms, for at most a second).
    /// See [`Socket`]'s Portability section for what that asks of the
    /// program.
    ///
    /// [`Socket`]: crate::Socket
    pub fn cancel(&self) {
        self.control.cancelled.store(true, Ordering::SeqCst);
        self.control.wake_waiters();
    }

    /// Whether the socket is cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.control.cancelled.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// The error inside the `io::Error` of a cancelled call (`WSAEINTR` after
/// `CancelBlockingCall` in MFC).
///
/// Its kind is `ErrorKind::Other`, deliberately not `Interrupted`, which
/// `read_exact` and `write_all` would silently retry. Test for it with
/// [`is_cancelled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the blocking socket call was cancelled")
    }
}

impl std::error::Error for Cancelled {}

impl Cancelled {
    pub(crate) fn error() -> io::Error {
        io::Error::other(Cancelled)
    }
}

/// `true` if `err` comes from a cancelled call, however it was wrapped: directly,
/// or as the source of an archive error converted to `io::Error`.
pub fn is_cancelled(err: &io::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = err.get_ref().map(|e| e as _);
    while let Some(e) = source {
        if e.is::<Cancelled>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return is_cancelled(io);
        }
        source = e.source();
    }
    false
}
