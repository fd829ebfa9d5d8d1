//! The state a socket shares with its [`CancelHandle`](crate::CancelHandle)s
//! and with the threads blocked in its calls: the cancel flag and the wakers
//! that a cancel wakes, the four timeouts, the non-blocking flag.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::sys::Waker;

/// Which operation a timeout applies to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    Connect = 0,
    Accept = 1,
    Read = 2,
    Write = 3,
}

/// No timeout, in the atomic encoding.
const NO_TIMEOUT: u64 = u64::MAX;

/// What a socket shares with its cancel handles and with the threads blocked
/// in its calls: the one owner of its cancellation state and timeouts.
#[derive(Debug)]
pub(crate) struct Control {
    pub(crate) cancelled: AtomicBool,
    pub(crate) nonblocking: AtomicBool,
    /// The last receive came back short of its buffer: the next one will likely
    /// find nothing there yet, so it waits before asking.
    pub(crate) read_drained: AtomicBool,
    /// The wakers of the threads waiting, one entry per waiting call.
    pub(crate) waiters: Mutex<Vec<Arc<Waker>>>,
    /// Timeouts in nanoseconds, indexed by [`Op`].
    timeouts: [AtomicU64; 4],
}

impl Control {
    pub(crate) fn new() -> Self {
        Control {
            cancelled: AtomicBool::new(false),
            nonblocking: AtomicBool::new(false),
            read_drained: AtomicBool::new(false),
            waiters: Mutex::new(Vec::new()),
            timeouts: std::array::from_fn(|_| AtomicU64::new(NO_TIMEOUT)),
        }
    }

    pub(crate) fn wake_waiters(&self) {
        for waker in self
            .waiters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            waker.wake();
        }
    }

    /// The timeout of `op`; `None` waits for ever.
    pub(crate) fn timeout(&self, op: Op) -> Option<Duration> {
        match self.timeouts[op as usize].load(Ordering::Relaxed) {
            NO_TIMEOUT => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }

    /// Sets the timeout of `op` (over 584 years counts as none).
    pub(crate) fn set_timeout(&self, op: Op, timeout: Option<Duration>) {
        let nanos = timeout.map_or(NO_TIMEOUT, |t| {
            u64::try_from(t.as_nanos()).unwrap_or(NO_TIMEOUT - 1)
        });
        self.timeouts[op as usize].store(nanos, Ordering::Relaxed);
    }
}
