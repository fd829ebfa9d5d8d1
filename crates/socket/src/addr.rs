//! Addresses and listening: host names to addresses, as `CAsyncSocket::Connect` takes them (a
//! dotted or IPv6 literal is used as it is, anything else is resolved with
//! `getaddrinfo`), and socket addresses back as the user gave them.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use socket2::SockAddr;

/// The backlog of `Listen()` without one, for both layers. MFC's default of 5
/// was a Winsock 1 limit; this is Linux's `SOMAXCONN` of old.
pub(crate) const DEFAULT_BACKLOG: i32 = 128;

/// Every address of `host` at `port`, in the resolver's order, as `connect`
/// tries them. Literals (`127.0.0.1`, `::1`, `[::1]`) are not looked up.
/// Resolution blocks, as `gethostbyname` did.
///
/// ```
/// let addrs = sockarc::resolve("[::1]", 700)?;
/// assert_eq!(addrs, ["[::1]:700".parse().unwrap()]);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// The resolver's error (`getaddrinfo`); `NotFound` for a name without
/// addresses.
pub fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("host {host:?} has no address"),
        ));
    }
    Ok(addrs)
}

/// A socket address as the user gave it: IPv4-mapped IPv6 shown as IPv4.
pub(crate) fn canonical(addr: SockAddr) -> io::Result<SocketAddr> {
    let addr = addr
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP socket address"))?;
    Ok(SocketAddr::new(addr.ip().to_canonical(), addr.port()))
}
