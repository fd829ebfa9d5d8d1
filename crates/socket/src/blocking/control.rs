//! The state a socket shares with its [`CancelHandle`](crate::CancelHandle)s
//! and with the threads blocked in its calls: the cancel flag, the threads
//! that a cancel wakes or interrupts, the four timeouts, the non-blocking flag.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::sys::{Interrupter, Waker};

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

/// How long a cancel first waits for an interrupted receive to leave before
/// interrupting it again; each further wait is twice as long, up to
/// [`LAST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(1);
/// The longest wait between two interruptions of the same receive.
const LAST_PAUSE: Duration = Duration::from_millis(50);
/// How long a cancel goes on interrupting a receive that does not leave.
const PATIENCE: Duration = Duration::from_secs(1);

/// What a socket shares with its cancel handles and with the threads blocked
/// in its calls: the one owner of its cancellation state and timeouts.
#[derive(Debug)]
pub(crate) struct Control {
    pub(crate) cancelled: AtomicBool,
    pub(crate) nonblocking: AtomicBool,
    /// The last receive came back short of its buffer: the next one will likely
    /// find nothing there yet, so it waits before asking.
    pub(crate) read_drained: AtomicBool,
    /// The descriptor is in blocking mode, so that a receive waits in
    /// `recv(2)` itself; every other call passes its own no-wait flag, or puts
    /// the descriptor back in non-blocking mode first. Written only under
    /// [`mode`](Self::mode).
    pub(crate) kernel_waits: AtomicBool,
    /// Held while the descriptor's mode changes, and while a call that has no
    /// no-wait flag (`accept(2)`, `connect(2)`) runs: no receive puts the
    /// descriptor in blocking mode under such a call.
    mode: Mutex<()>,
    waiters: Mutex<Waiters>,
    /// Notified when a receive leaves while a cancel waits for it.
    left: Condvar,
    /// Timeouts in nanoseconds, indexed by [`Op`].
    timeouts: [AtomicU64; 4],
}

/// The threads in a blocking call of the socket, by how a cancel reaches them.
#[derive(Debug, Default)]
struct Waiters {
    /// The wakers of the threads waiting in `poll`, one entry per waiting call.
    polling: Vec<Arc<Waker>>,
    /// The threads receiving in `recv(2)` itself, one entry per call, each
    /// under a ticket of its own.
    receiving: Vec<(u64, Interrupter)>,
    next_ticket: u64,
    /// Cancels waiting for receives to leave.
    cancels_waiting: usize,
}

/// A receive registered with [`Control::enter_receive`]. Dropping it ends
/// the registration, also when the receive unwinds, so a cancel never
/// interrupts a thread that has left the receive (or exited).
#[derive(Debug)]
#[must_use]
pub(crate) struct Receiving<'c> {
    control: &'c Control,
    ticket: u64,
}

impl Drop for Receiving<'_> {
    fn drop(&mut self) {
        self.control.leave_receive(self.ticket);
    }
}

impl Control {
    pub(crate) fn new() -> Self {
        Control {
            cancelled: AtomicBool::new(false),
            nonblocking: AtomicBool::new(false),
            read_drained: AtomicBool::new(false),
            kernel_waits: AtomicBool::new(false),
            mode: Mutex::new(()),
            waiters: Mutex::new(Waiters::default()),
            left: Condvar::new(),
            timeouts: std::array::from_fn(|_| AtomicU64::new(NO_TIMEOUT)),
        }
    }

    /// The lock on the descriptor's mode (see [`mode`](Self::mode)).
    pub(crate) fn mode(&self) -> MutexGuard<'_, ()> {
        self.mode.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `true` while a thread waits in a call of the socket.
    pub(crate) fn is_waited_on(&self) -> bool {
        let waiters = self.waiters();
        !waiters.polling.is_empty() || !waiters.receiving.is_empty()
    }

    /// How many threads receive in `recv(2)` itself now.
    #[cfg(all(test, unix))]
    pub(crate) fn receiving_in_kernel(&self) -> usize {
        self.waiters().receiving.len()
    }

    /// Registers a thread about to wait in `poll`, so a cancel wakes it.
    pub(crate) fn enter_wait(&self, waker: &Arc<Waker>) {
        self.waiters().polling.push(Arc::clone(waker));
    }

    /// Ends what [`enter_wait`](Self::enter_wait) registered.
    pub(crate) fn leave_wait(&self, waker: &Arc<Waker>) {
        let mut waiters = self.waiters();
        if let Some(at) = waiters.polling.iter().position(|w| Arc::ptr_eq(w, waker)) {
            waiters.polling.swap_remove(at);
        }
    }

    /// Registers a thread about to receive in `recv(2)` itself, so a cancel
    /// interrupts it.
    pub(crate) fn enter_receive(&self, interrupter: Interrupter) -> Receiving<'_> {
        let mut waiters = self.waiters();
        let ticket = waiters.next_ticket;
        waiters.next_ticket += 1;
        waiters.receiving.push((ticket, interrupter));
        Receiving {
            control: self,
            ticket,
        }
    }

    /// Ends what [`enter_receive`](Self::enter_receive) registered under
    /// `ticket`, and tells a cancel waiting for it.
    fn leave_receive(&self, ticket: u64) {
        let mut waiters = self.waiters();
        if let Some(at) = waiters.receiving.iter().position(|r| r.0 == ticket) {
            waiters.receiving.swap_remove(at);
        }
        if waiters.cancels_waiting > 0 {
            self.left.notify_all();
        }
    }

    /// A cancel's work, after the flag is set: wakes the threads waiting in
    /// `poll`, and interrupts those receiving in `recv(2)` until each has left
    /// its call.
    ///
    /// One interruption may not be enough: it may land just after the thread
    /// looked at the flag and before it entered `recv(2)`, which then waits
    /// on. So a receive still registered after a pause is interrupted again,
    /// with pauses of 1 ms doubling up to 50 ms, until it leaves, the cancel
    /// is cleared, the signal can no longer interrupt (see
    /// [`Interrupter::interrupt`]), or a second has passed (a thread that
    /// blocks the signal never leaves): then the receive ends only with data,
    /// and the cancel holds for the socket's next call.
    pub(crate) fn wake_waiters(&self) {
        let mut waiters = self.waiters();
        for waker in &waiters.polling {
            waker.wake();
        }
        let mut pending: Vec<u64> = waiters.receiving.iter().map(|r| r.0).collect();
        if pending.is_empty() {
            return;
        }
        waiters.cancels_waiting += 1;
        let mut pause = FIRST_PAUSE;
        let give_up = Instant::now() + PATIENCE;
        loop {
            pending.retain(|ticket| waiters.receiving.iter().any(|r| r.0 == *ticket));
            if pending.is_empty()
                || !self.cancelled.load(Ordering::SeqCst)
                || Instant::now() >= give_up
            {
                break;
            }
            let mut interrupted = true;
            for (_, interrupter) in waiters.receiving.iter().filter(|r| pending.contains(&r.0)) {
                interrupted &= interrupter.interrupt();
            }
            if !interrupted {
                break;
            }
            waiters = self
                .left
                .wait_timeout(waiters, pause)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            pause = (pause * 2).min(LAST_PAUSE);
        }
        waiters.cancels_waiting -= 1;
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
