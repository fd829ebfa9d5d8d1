//! What stream and datagram sockets share: the socket2 handle, per-socket
//! timeouts, cancellation, and the loop that turns a non-blocking system call into
//! a blocking one (MFC's `PumpMessages`, without a message pump); and the
//! receive that, with nothing to time it out, waits in `recv(2)` itself.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr};

use crate::blocking::cancel::{CancelHandle, Cancelled};
use crate::blocking::control::{Control, Op};
use crate::sys::{self, Interest, Interrupter, Waker, Woken};

/// A socket2 socket plus the state that makes its calls blocking, with
/// deadlines and cancellation. The socket is in non-blocking mode, but for a
/// stream socket whose receives wait in `recv(2)` ([`receive`](Self::receive)):
/// there its other calls pass `MSG_DONTWAIT` ([`sys::SEND_FLAGS`],
/// [`sys::RECV_FLAGS`]), or run in non-blocking mode
/// ([`without_waiting`](Self::without_waiting)).
#[derive(Debug)]
pub(crate) struct Base {
    pub(crate) socket: socket2::Socket,
    control: Arc<Control>,
    /// The local address the socket was created with, port 0 included; a
    /// renewed socket is bound to it again.
    requested_local: Option<SockAddr>,
}

impl Base {
    /// Wraps `socket`, putting it in non-blocking mode.
    pub(crate) fn new(socket: socket2::Socket) -> io::Result<Self> {
        sys::prepare(&socket)?;
        Ok(Base::from_prepared(socket))
    }

    /// Wraps a socket already in non-blocking mode.
    pub(crate) fn from_prepared(socket: socket2::Socket) -> Self {
        Base {
            socket,
            control: Arc::new(Control::new()),
            requested_local: None,
        }
    }

    /// Records the local address a new socket was bound to on request.
    pub(crate) fn with_requested_local(mut self, local: SockAddr) -> Self {
        self.requested_local = Some(local);
        self
    }

    /// Replaces the socket under the same descriptor by a fresh one of the same
    /// kind, with the same options and requested local address: a connect that
    /// failed leaves a socket that must not be connected again.
    pub(crate) fn renew(&self) -> io::Result<()> {
        let _mode = self.control.mode();
        if !sys::renew(&self.socket, || self.fresh_socket())? {
            return Ok(());
        }
        // The fresh socket is in non-blocking mode.
        self.control.kernel_waits.store(false, Ordering::Relaxed);
        match &self.requested_local {
            Some(local) => self.socket.bind(local),
            None => Ok(()),
        }
    }

    /// A new socket of the same kind as this one, with the same options.
    fn fresh_socket(&self) -> io::Result<socket2::Socket> {
        let old = &self.socket;
        let domain = self.domain()?;
        let fresh = socket2::Socket::new(domain, old.r#type()?, None)?;
        if domain == Domain::IPV6 {
            fresh.set_only_v6(old.only_v6()?)?;
        }
        fresh.set_reuse_address(old.reuse_address()?)?;
        fresh.set_keepalive(old.keepalive()?)?;
        fresh.set_linger(old.linger()?)?;
        fresh.set_out_of_band_inline(old.out_of_band_inline()?)?;
        if old.r#type()? == socket2::Type::STREAM {
            fresh.set_tcp_nodelay(old.tcp_nodelay()?)?;
        }
        sys::prepare(&fresh)?;
        Ok(fresh)
    }

    pub(crate) fn timeout(&self, op: Op) -> Option<Duration> {
        self.control.timeout(op)
    }

    pub(crate) fn set_timeout(&self, op: Op, timeout: Option<Duration>) {
        self.control.set_timeout(op, timeout);
    }

    pub(crate) fn cancel_handle(&self) -> CancelHandle {
        CancelHandle::new(Arc::clone(&self.control))
    }

    pub(crate) fn clear_cancel(&self) {
        self.control.cancelled.store(false, Ordering::SeqCst);
    }

    pub(crate) fn is_blocking(&self) -> bool {
        self.control.is_waited_on()
    }

    pub(crate) fn set_nonblocking(&self, nonblocking: bool) {
        self.control
            .nonblocking
            .store(nonblocking, Ordering::Relaxed);
    }

    pub(crate) fn is_nonblocking(&self) -> bool {
        self.control.nonblocking.load(Ordering::Relaxed)
    }

    fn check_cancelled(&self) -> io::Result<()> {
        if self.control.cancelled.load(Ordering::SeqCst) {
            return Err(Cancelled::error());
        }
        Ok(())
    }

    /// Runs `op` until it does not answer `WouldBlock`, waiting for `interest`
    /// between attempts, within the timeout of `kind`. In non-blocking mode the
    /// first `WouldBlock` is returned as it is.
    pub(crate) fn blocking<T>(
        &self,
        kind: Op,
        interest: Interest,
        op: impl FnMut(&socket2::Socket) -> io::Result<T>,
    ) -> io::Result<T> {
        self.run(kind, interest, self.deadline(kind), false, op)
    }

    /// When a call of `kind` starting now must end, by its timeout.
    pub(crate) fn deadline(&self, kind: Op) -> Option<Instant> {
        self.timeout(kind).map(|t| Instant::now() + t)
    }

    /// A receive of stream data into `buf`.
    ///
    /// With no read timeout, in blocking mode, on a platform where a cancel
    /// can interrupt the calling thread ([`Interrupter::current`]), it is one
    /// `recv(2)` that waits in the kernel, as std's `TcpStream::read` is
    /// ([`receive_in_kernel`](Self::receive_in_kernel)).
    ///
    /// Otherwise, or when that `recv(2)` answers `WouldBlock` after all, it
    /// goes through [`run`](Self::run), waiting first when the last one
    /// drained the socket: a request/response exchange then costs `poll` +
    /// `recv` rather than a failed `recv` + `poll` + `recv`, while a bulk
    /// stream (whose reads fill their buffer) goes straight to `recv`.
    pub(crate) fn receive(&self, buf: &mut [u8]) -> io::Result<usize> {
        if self.timeout(Op::Read).is_none() && !self.is_nonblocking() {
            if let Some(interrupter) = Interrupter::current() {
                match self.receive_in_kernel(buf, interrupter) {
                    // `recv(2)` did not wait after all (the program set
                    // `SO_RCVTIMEO` on the descriptor, say): wait in `poll`.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    other => return other,
                }
            }
        }
        let wait_first = self.control.read_drained.load(Ordering::Relaxed);
        let deadline = self.deadline(Op::Read);
        let n = self.run(Op::Read, Interest::Read, deadline, wait_first, |s| {
            s.recv_with_flags(sys::as_uninit(buf), sys::RECV_FLAGS)
        })?;
        self.control
            .read_drained
            .store(n < buf.len(), Ordering::Relaxed);
        Ok(n)
    }

    /// A receive that waits in `recv(2)` itself, the descriptor in blocking
    /// mode: one system call, where [`run`](Self::run) makes two (`poll(2)`,
    /// `recv(2)`).
    ///
    /// The thread registers first, so a cancel finds it and interrupts it
    /// ([`Control::wake_waiters`]): the `recv(2)` fails with `EINTR`, and the
    /// loop sees the cancel. The flag is looked at after registering, so a
    /// cancel is either seen here or finds the thread registered. Nothing is
    /// read when `recv(2)` is interrupted, so the socket stays usable.
    fn receive_in_kernel(&self, buf: &mut [u8], interrupter: Interrupter) -> io::Result<usize> {
        self.blocking_descriptor()?;
        let _receiving = self.control.enter_receive(interrupter);
        loop {
            self.check_cancelled()?;
            seam::before_recv();
            match self.socket.recv(sys::as_uninit(buf)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }

    /// Puts the descriptor in blocking mode for a receive that waits in
    /// `recv(2)`, unless it is already: under the mode lock, so never while
    /// a call that cannot say "do not wait" runs
    /// ([`without_waiting`](Self::without_waiting)). A receive that sees the
    /// flag set while such a call has just cleared it finds the descriptor in
    /// non-blocking mode: its `recv(2)` answers `WouldBlock`, and it waits in
    /// `poll(2)` instead.
    fn blocking_descriptor(&self) -> io::Result<()> {
        if self.control.kernel_waits.load(Ordering::Relaxed) {
            return Ok(());
        }
        let _mode = self.control.mode();
        if !self.control.kernel_waits.load(Ordering::Relaxed) {
            self.socket.set_nonblocking(false)?;
            self.control.kernel_waits.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Runs `call` with the descriptor in non-blocking mode, putting it back
    /// there if a receive left it in blocking mode: for the calls that have
    /// no flag to say "do not wait" (`accept(2)`, `connect(2)`), and for a
    /// socket leaving sockarc. The mode lock is held throughout, so no
    /// receive puts the descriptor in blocking mode while `call` runs.
    pub(crate) fn without_waiting<T>(
        &self,
        call: impl FnOnce(&socket2::Socket) -> io::Result<T>,
    ) -> io::Result<T> {
        let _mode = self.control.mode();
        if self.control.kernel_waits.load(Ordering::Relaxed) {
            self.socket.set_nonblocking(true)?;
            self.control.kernel_waits.store(false, Ordering::Relaxed);
        }
        call(&self.socket)
    }

    /// The socket, leaving sockarc (`Detach`): in non-blocking mode, as it
    /// was when it came.
    pub(crate) fn into_socket2(self) -> socket2::Socket {
        // Setting the mode of an open socket does not fail; if it ever did,
        // the new owner would find it in blocking mode, which it can change.
        let _ = self.without_waiting(|_| Ok(()));
        self.socket
    }

    /// The one loop every blocking call goes through: runs `op` until it does
    /// not answer `WouldBlock`, waiting for `interest` between attempts (and
    /// once before the first if `wait_first`), until `deadline`, failing with
    /// `TimedOut` (naming `kind`) or a cancel. `op` may keep state between
    /// attempts (a send's progress). In non-blocking mode the first
    /// `WouldBlock` is returned as it is.
    ///
    /// A deadline never ends the call unseen: the wait looks at the socket once
    /// more after the deadline (see [`sys::wait`]), and if it answers ready, `op`
    /// is tried once more. Only when that attempt too would block does the call
    /// fail with `TimedOut`, so a socket that polls ready while its operation
    /// would block cannot hold the call past its deadline.
    pub(crate) fn run<T>(
        &self,
        kind: Op,
        interest: Interest,
        deadline: Option<Instant>,
        wait_first: bool,
        mut op: impl FnMut(&socket2::Socket) -> io::Result<T>,
    ) -> io::Result<T> {
        // The last wait ended after the deadline: the attempt that follows is
        // the last one.
        let mut late = false;
        if wait_first && !self.is_nonblocking() {
            self.check_cancelled()?;
            self.wait(interest, deadline, kind)?;
            late = is_past(deadline);
        }
        loop {
            self.check_cancelled()?;
            match op(&self.socket) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && !self.is_nonblocking() => {
                    if late {
                        return Err(timed_out(kind));
                    }
                    self.wait(interest, deadline, kind)?;
                    late = is_past(deadline);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }

    /// Waits once for `interest`, or fails with `TimedOut` or `Cancelled`. A
    /// deadline that has already passed still gets one zero-timeout `poll(2)`:
    /// `TimedOut` only if the socket is not ready then either.
    fn wait(&self, interest: Interest, deadline: Option<Instant>, kind: Op) -> io::Result<()> {
        let waker = Waker::current()?;
        self.control.enter_wait(&waker);
        let result = self.wait_registered(interest, deadline, &waker, kind);
        self.control.leave_wait(&waker);
        result
    }

    fn wait_registered(
        &self,
        interest: Interest,
        deadline: Option<Instant>,
        waker: &Waker,
        kind: Op,
    ) -> io::Result<()> {
        loop {
            // Checked after registering, so a cancel cannot slip in unseen.
            self.check_cancelled()?;
            match sys::wait(&self.socket, interest, waker, deadline)? {
                Woken::Ready => return Ok(()),
                Woken::Wake => {}
                Woken::TimedOut => return Err(timed_out(kind)),
            }
        }
    }

    /// The socket's address family.
    pub(crate) fn domain(&self) -> io::Result<Domain> {
        Ok(self.socket.local_addr()?.domain())
    }

    /// `addr` in the form this socket can use: IPv4 becomes IPv4-mapped IPv6 on
    /// an IPv6 socket; `None` if the family cannot reach it.
    pub(crate) fn target(&self, addr: SocketAddr) -> io::Result<Option<SockAddr>> {
        let domain = self.domain()?;
        Ok(match addr {
            SocketAddr::V4(v4) if domain == Domain::IPV6 => {
                if self.socket.only_v6()? {
                    None
                } else {
                    let mapped = SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port());
                    Some(mapped.into())
                }
            }
            SocketAddr::V6(_) if domain == Domain::IPV4 => None,
            addr => Some(addr.into()),
        })
    }
}

/// `true` once `deadline` has passed; never without one.
fn is_past(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|deadline| Instant::now() >= deadline)
}

/// The error of an operation whose timeout ran out.
fn timed_out(kind: Op) -> io::Error {
    let what = match kind {
        Op::Connect => "connect",
        Op::Accept => "accept",
        Op::Read => "read",
        Op::Write => "write",
    };
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
}

#[cfg(all(test, unix))]
mod tests;

/// A test seam just before a receive's `recv(2)` that waits in the kernel: a
/// test installs a hook that runs there, to land a cancel between the look at
/// the flag and the system call.
#[cfg(test)]
pub(crate) mod seam {
    use std::cell::RefCell;

    type Hook = Box<dyn FnOnce()>;

    thread_local! {
        static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    /// Runs `hook` before the next such `recv(2)` on this thread, once.
    #[cfg(unix)]
    pub(crate) fn install(hook: Hook) {
        HOOK.with(|h| *h.borrow_mut() = Some(hook));
    }

    pub(super) fn before_recv() {
        if let Some(hook) = HOOK.with(|h| h.borrow_mut().take()) {
            hook();
        }
    }
}

#[cfg(not(test))]
mod seam {
    #[inline(always)]
    pub(super) fn before_recv() {}
}
