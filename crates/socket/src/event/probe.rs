//! The event loop's [`Probe`]: the rules' questions about one socket, each one
//! system call on it.

use std::io;
use std::mem::MaybeUninit;

use crate::event::rules::Probe;
use crate::sys::{self, Readiness};

/// Asks the kernel about `socket`.
pub(crate) struct SocketProbe<'a>(pub(crate) &'a socket2::Socket);

impl Probe for SocketProbe<'_> {
    fn readiness(&mut self) -> io::Result<Readiness> {
        seam::before(seam::Call::Readiness);
        sys::readiness_now(self.0)
    }

    fn peek(&mut self) -> io::Result<usize> {
        seam::before(seam::Call::Peek);
        let mut byte = [MaybeUninit::uninit()];
        loop {
            match self.0.peek(&mut byte) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return result,
            }
        }
    }

    fn at_mark(&mut self) -> io::Result<bool> {
        seam::before(seam::Call::AtMark);
        sys::at_urgent_mark(self.0)
    }

    fn take_error(&mut self) -> Option<io::Error> {
        seam::before(seam::Call::TakeError);
        self.0.take_error().unwrap_or_else(Some)
    }
}

/// A test seam between the probe's system calls: a test installs a hook that
/// runs before each, to make the peer act at that exact point.
#[cfg(test)]
pub(crate) mod seam {
    use std::cell::RefCell;

    /// Which probe call is about to be made.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Call {
        Readiness,
        Peek,
        AtMark,
        TakeError,
    }

    type Hook = Box<dyn FnMut(Call)>;

    thread_local! {
        static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    /// Runs `hook` before every probe call on this thread until the next
    /// `install` (or `install(None)`).
    pub(crate) fn install(hook: Option<Hook>) {
        HOOK.with(|h| *h.borrow_mut() = hook);
    }

    pub(super) fn before(call: Call) {
        let hook = HOOK.with(|h| h.borrow_mut().take());
        if let Some(mut hook) = hook {
            hook(call);
            HOOK.with(|h| {
                let mut slot = h.borrow_mut();
                if slot.is_none() {
                    *slot = Some(hook);
                }
            });
        }
    }
}

#[cfg(not(test))]
mod seam {
    pub(super) enum Call {
        Readiness,
        Peek,
        AtMark,
        TakeError,
    }

    #[inline(always)]
    pub(super) fn before(_: Call) {}
}
