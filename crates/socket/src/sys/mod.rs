//! Platform code, behind one contract. Everything outside `sys/` is written
//! against the items below and names no `libc` (or Winsock) item itself.
//!
//! What a platform module must provide (Unix's is `unix.rs`: Linux, macOS, the
//! BSDs; Windows is not written yet):
//!
//! | item | what |
//! |---|---|
//! | `prepare(&Socket)` | a new socket made non-blocking (and `SIGPIPE`-free where a socket option does that) |
//! | `SEND_FLAGS`, `MSG_OOB` | flags for `send`: no `SIGPIPE`; urgent data |
//! | `Interest`, `Woken`, `Waker`, `wait(fd, interest, &Waker, deadline)` | one blocked call's wait: ready, woken by another thread (a cancel), or timed out |
//! | `Readiness`, `readiness_now(fd)` | a socket's readiness at this instant (a zero-timeout `poll`) |
//! | `bytes_available(fd)` | `FIONREAD` |
//! | `at_urgent_mark(fd)` | `SIOCATMARK` |
//! | `replace(&target, fresh)` | a fresh socket put in the place of an old one (a connect retry) |
//! | `is_in_progress`, `is_resource_exhaustion`, `is_family_unsupported` | the platform's error codes for a connect under way, an accept out of descriptors or memory, a missing address family |
//! | `as_uninit(&mut [u8])` | a byte buffer as socket2's receive buffer |
//! | `INTEREST` | what the event loop registers every socket for with mio |
//!
//! The descriptor type (`RawFd` here) appears in these signatures; a Windows
//! module would take `RawSocket` and the types that use them would implement
//! `AsRawSocket`/`AsSocket` where Unix implements `AsRawFd`/`AsFd`.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(not(unix))]
compile_error!("sockarc supports unix platforms only for now");
