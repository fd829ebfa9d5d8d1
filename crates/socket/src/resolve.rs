//! Host names to addresses, as `CAsyncSocket::Connect` takes them: a dotted or
//! IPv6 literal is used as it is, anything else is resolved (`getaddrinfo`).

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// Every address of `host`, in the resolver's order. Literals (`127.0.0.1`,
/// `::1`, `[::1]`) are not looked up. Resolution blocks, as `gethostbyname` did.
pub(crate) fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
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
