//! The sockets as the platform's handles: `Socket::attach`, and the handle
//! traits of `std::os` that `Socket` and `DatagramSocket` implement (`Attach`
//! and `Detach` in MFC's terms).
//!
//! | | Unix | Windows |
//! |---|---|---|
//! | borrow the raw handle | `AsRawFd` | `AsRawSocket` |
//! | borrow the handle | `AsFd` | `AsSocket` |
//! | detach (`Detach`) | `From<_> for OwnedFd`, `IntoRawFd` (`Socket`) | `From<_> for OwnedSocket`, `IntoRawSocket` (`Socket`) |
//! | attach (`Attach`) | [`Socket::attach`]`(OwnedFd)`, `FromRawFd` (`Socket`) | [`Socket::attach`]`(OwnedSocket)`, `FromRawSocket` (`Socket`) |
//!
//! A detached socket is still in non-blocking mode.

use std::io;

use crate::blocking::base::Base;
use crate::blocking::datagram::DatagramSocket;
use crate::blocking::stream::Socket;
use crate::sys;

#[cfg(unix)]
use std::os::fd::{
    AsFd as AsHandle, AsRawFd as AsRawHandle, BorrowedFd as BorrowedHandle,
    FromRawFd as FromRawHandle, IntoRawFd as IntoRawHandle, OwnedFd as OwnedHandle,
    RawFd as RawHandle,
};
#[cfg(windows)]
use std::os::windows::io::{
    AsRawSocket as AsRawHandle, AsSocket as AsHandle, BorrowedSocket as BorrowedHandle,
    FromRawSocket as FromRawHandle, IntoRawSocket as IntoRawHandle, OwnedSocket as OwnedHandle,
    RawSocket as RawHandle,
};

impl Socket {
    /// Takes over a connected or listening stream socket from another owner
    /// (`CSocket::Attach`): an `OwnedFd` on Unix, an `OwnedSocket` on
    /// Windows. It is put in non-blocking mode internally.
    ///
    /// # Errors
    /// The error of `fcntl(2)` (`ioctlsocket(FIONBIO)` on Windows) when the
    /// handle is not usable.
    pub fn attach(handle: OwnedHandle) -> io::Result<Socket> {
        Socket::from_socket2(socket2::Socket::from(handle))
    }
}

/// The handle traits of one socket type, each a one-line delegation to its
/// socket2 socket.
macro_rules! handle_traits {
    ($socket:ty) => {
        impl AsRawHandle for $socket {
            #[cfg(unix)]
            fn as_raw_fd(&self) -> RawHandle {
                self.base.socket.as_raw_fd()
            }
            #[cfg(windows)]
            fn as_raw_socket(&self) -> RawHandle {
                self.base.socket.as_raw_socket()
            }
        }

        impl AsHandle for $socket {
            #[cfg(unix)]
            fn as_fd(&self) -> BorrowedHandle<'_> {
                self.base.socket.as_fd()
            }
            #[cfg(windows)]
            fn as_socket(&self) -> BorrowedHandle<'_> {
                self.base.socket.as_socket()
            }
        }

        /// `Detach`: the handle leaves the socket, still in non-blocking mode.
        impl From<$socket> for OwnedHandle {
            fn from(socket: $socket) -> OwnedHandle {
                socket.base.into_socket2().into()
            }
        }
    };
}

handle_traits!(Socket);
handle_traits!(DatagramSocket);

/// `Detach`: the handle leaves the socket, still in non-blocking mode.
impl IntoRawHandle for Socket {
    #[cfg(unix)]
    fn into_raw_fd(self) -> RawHandle {
        self.base.into_socket2().into_raw_fd()
    }
    #[cfg(windows)]
    fn into_raw_socket(self) -> RawHandle {
        self.base.into_socket2().into_raw_socket()
    }
}

/// `Attach` without error reporting; prefer [`Socket::attach`].
impl FromRawHandle for Socket {
    /// # Safety
    /// `handle` must be an open stream socket that nothing else owns.
    #[cfg(unix)]
    unsafe fn from_raw_fd(handle: RawHandle) -> Socket {
        // SAFETY: the caller's promise, passed on.
        from_socket2_unchecked(unsafe { socket2::Socket::from_raw_fd(handle) })
    }

    /// # Safety
    /// `handle` must be an open stream socket that nothing else owns.
    #[cfg(windows)]
    unsafe fn from_raw_socket(handle: RawHandle) -> Socket {
        // SAFETY: the caller's promise, passed on.
        from_socket2_unchecked(unsafe { socket2::Socket::from_raw_socket(handle) })
    }
}

fn from_socket2_unchecked(socket: socket2::Socket) -> Socket {
    // Setting non-blocking mode on an open socket cannot fail; if it ever did,
    // calls would block in the kernel and only timeouts would stop working.
    let _ = sys::prepare(&socket);
    Socket {
        base: Base::from_prepared(socket),
    }
}
