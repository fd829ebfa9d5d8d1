//! What [`Socket`](crate::Socket) and [`DatagramSocket`](crate::DatagramSocket)
//! share: addresses, deadlines, cancellation, blocking mode, buffer sizes and
//! the descriptor. One macro writes them for both, over their `base` field.

/// Writes the shared methods and descriptor traits for a type with a
/// `base: Base` field.
macro_rules! shared_socket_methods {
    ($socket:ident) => {
        impl $socket {
            /// The local address (`GetSockName`), the way to learn the port the
            /// system chose. An IPv4 address of a dual-stack socket shows as IPv4.
            ///
            /// # Errors
            /// The error of `getsockname(2)`.
            pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
                crate::addr::canonical(self.base.socket.local_addr()?)
            }

            /// The connected peer's address (`GetPeerName`). An IPv4 peer of a
            /// dual-stack socket shows as IPv4.
            ///
            /// # Errors
            /// `NotConnected`, or another error of `getpeername(2)`.
            pub fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
                crate::addr::canonical(self.base.socket.peer_addr()?)
            }

            /// Limits how long a receive waits for data; `None` (the default)
            /// waits forever. A receive that waited that long fails with
            /// `ErrorKind::TimedOut`.
            pub fn set_read_timeout(&self, timeout: Option<std::time::Duration>) {
                self.base
                    .set_timeout(crate::blocking::control::Op::Read, timeout);
            }

            /// Limits how long a send may wait for buffer space; `None` (the
            /// default) waits forever.
            pub fn set_write_timeout(&self, timeout: Option<std::time::Duration>) {
                self.base
                    .set_timeout(crate::blocking::control::Op::Write, timeout);
            }

            /// The read timeout.
            pub fn read_timeout(&self) -> Option<std::time::Duration> {
                self.base.timeout(crate::blocking::control::Op::Read)
            }

            /// The write timeout.
            pub fn write_timeout(&self) -> Option<std::time::Duration> {
                self.base.timeout(crate::blocking::control::Op::Write)
            }

            /// A handle that cancels this socket's blocking calls from any thread
            /// (`CancelBlockingCall`).
            pub fn cancel_handle(&self) -> crate::CancelHandle {
                self.base.cancel_handle()
            }

            /// Makes blocking calls possible again after a cancel.
            pub fn clear_cancel(&self) {
                self.base.clear_cancel();
            }

            /// `true` while a call on this socket is waiting (`CSocket::IsBlocking`).
            pub fn is_blocking(&self) -> bool {
                self.base.is_blocking()
            }

            /// In non-blocking mode calls return `WouldBlock` instead of waiting
            /// (`CAsyncSocket` behaviour).
            ///
            /// # Errors
            /// None today; the `Result` keeps the signature of std's sockets.
            pub fn set_nonblocking(&self, nonblocking: bool) -> std::io::Result<()> {
                self.base.set_nonblocking(nonblocking);
                Ok(())
            }

            /// `SO_SNDBUF`.
            ///
            /// # Errors
            /// The error of `setsockopt(2)`.
            pub fn set_send_buffer_size(&self, size: usize) -> std::io::Result<()> {
                self.base.socket.set_send_buffer_size(size)
            }

            /// `SO_SNDBUF` (Linux reports twice the size set).
            ///
            /// # Errors
            /// The error of `getsockopt(2)`.
            pub fn send_buffer_size(&self) -> std::io::Result<usize> {
                self.base.socket.send_buffer_size()
            }

            /// `SO_RCVBUF`.
            ///
            /// # Errors
            /// The error of `setsockopt(2)`.
            pub fn set_recv_buffer_size(&self, size: usize) -> std::io::Result<()> {
                self.base.socket.set_recv_buffer_size(size)
            }

            /// `SO_RCVBUF` (Linux reports twice the size set).
            ///
            /// # Errors
            /// The error of `getsockopt(2)`.
            pub fn recv_buffer_size(&self) -> std::io::Result<usize> {
                self.base.socket.recv_buffer_size()
            }

            /// `SO_ERROR`: the pending error, cleared by reading it.
            ///
            /// # Errors
            /// The error of `getsockopt(2)`.
            pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
                self.base.socket.take_error()
            }
        }
    };
}

pub(crate) use shared_socket_methods;
