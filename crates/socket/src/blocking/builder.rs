//! Creating a socket: `Create(nPort, nSocketType, lpszSocketAddress)` with the
//! address family, address and options MFC left out.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, Type};

use crate::sys;

/// The address family of a new socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Family {
    /// IPv6 that also reaches IPv4 peers (through IPv4-mapped addresses); plain
    /// IPv4 where the host has no IPv6. The default.
    #[default]
    DualStack,
    /// IPv4 only, as MFC's `Create`.
    V4,
    /// IPv6 only (`IPV6_V6ONLY`).
    V6,
}

/// Options for a new socket; made by [`Socket::builder`](crate::Socket::builder).
///
/// ```
/// use sockarc::{Family, Socket};
/// # fn main() -> std::io::Result<()> {
/// let server = Socket::builder().address([127, 0, 0, 1].into()).port(0).create()?;
/// assert!(server.local_addr()?.ip().is_loopback());
/// let v6 = Socket::builder().family(Family::V6).address("::1".parse().unwrap()).create()?;
/// assert!(v6.local_addr()?.is_ipv6());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SocketBuilder {
    port: u16,
    address: Option<IpAddr>,
    family: Family,
    reuse_address: Option<bool>,
}

impl SocketBuilder {
    pub(crate) fn new() -> Self {
        SocketBuilder {
            port: 0,
            address: None,
            family: Family::DualStack,
            reuse_address: None,
        }
    }

    /// The local port; 0 (the default) lets the system choose.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The local address; by default every interface (`INADDR_ANY`, `::`). An IPv4
    /// address makes an IPv4 socket; an IPv6 one other than `::` an IPv6-only one.
    pub fn address(mut self, address: IpAddr) -> Self {
        self.address = Some(address);
        self
    }

    /// The address family when no address decides it.
    pub fn family(mut self, family: Family) -> Self {
        self.family = family;
        self
    }

    /// `SO_REUSEADDR`: on by default for stream sockets on Unix (as Rust's
    /// `TcpListener` does, so a restarted server can bind at once), off for
    /// datagram sockets.
    ///
    /// # Portability
    /// Off by default on Windows, as Rust's `TcpListener` leaves it: there
    /// a restarted server binds at once without it, and with it a second
    /// socket may bind a port that another is listening on.
    pub fn reuse_address(mut self, reuse: bool) -> Self {
        self.reuse_address = Some(reuse);
        self
    }

    /// Creates and binds a stream socket for an event loop.
    pub(crate) fn open_stream(self) -> io::Result<socket2::Socket> {
        self.open(Type::STREAM, Protocol::TCP, sys::STREAM_REUSE_ADDRESS)
            .map(|(socket, _)| socket)
    }

    /// Creates and binds a stream socket for a blocking [`Socket`]; returns
    /// it and the address asked for.
    ///
    /// [`Socket`]: crate::Socket
    pub(crate) fn open_blocking_stream(self) -> io::Result<(socket2::Socket, SockAddr)> {
        self.open(Type::STREAM, Protocol::TCP, sys::STREAM_REUSE_ADDRESS)
    }

    /// Creates and binds a datagram socket.
    pub(crate) fn open_datagram(self) -> io::Result<socket2::Socket> {
        self.open(Type::DGRAM, Protocol::UDP, false)
            .map(|(socket, _)| socket)
    }

    /// Creates and binds; returns the socket and the address asked for.
    fn open(
        &self,
        ty: Type,
        protocol: Protocol,
        reuse_default: bool,
    ) -> io::Result<(socket2::Socket, SockAddr)> {
        let reuse = self.reuse_address.unwrap_or(reuse_default);
        let (address, only_v6) = match (self.address, self.family) {
            (Some(IpAddr::V4(_)), Family::V6) | (Some(IpAddr::V6(_)), Family::V4) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the local address contradicts the address family",
                ));
            }
            (Some(address @ IpAddr::V4(_)), _) => (address, false),
            (Some(address @ IpAddr::V6(v6)), family) => {
                (address, family == Family::V6 || !v6.is_unspecified())
            }
            (None, Family::V4) => (Ipv4Addr::UNSPECIFIED.into(), false),
            (None, Family::V6) => (Ipv6Addr::UNSPECIFIED.into(), true),
            (None, Family::DualStack) => (Ipv6Addr::UNSPECIFIED.into(), false),
        };
        let bind = |address: IpAddr, only_v6: bool| -> io::Result<(socket2::Socket, SockAddr)> {
            let local = SocketAddr::new(address, self.port);
            let socket = socket2::Socket::new(Domain::for_address(local), ty, Some(protocol))?;
            if local.is_ipv6() {
                socket.set_only_v6(only_v6)?;
            }
            socket.set_reuse_address(reuse)?;
            let local = SockAddr::from(local);
            socket.bind(&local)?;
            Ok((socket, local))
        };
        match bind(address, only_v6) {
            // A host without IPv6: dual-stack falls back to IPv4.
            Err(e)
                if self.address.is_none()
                    && self.family == Family::DualStack
                    && sys::is_family_unsupported(&e) =>
            {
                bind(Ipv4Addr::UNSPECIFIED.into(), false)
            }
            other => other,
        }
    }
}
