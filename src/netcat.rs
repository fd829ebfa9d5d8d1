//! `sockarc send` and `sockarc recv`: a netcat for MFC archives; and the
//! connecting, listening and error wording every network command shares.
//!
//! Every network error names the operation, the host and the port, in one
//! form: `connect to 127.0.0.1 port 1: Connection refused`,
//! `listen on 127.0.0.1 port 7000: Address already in use`,
//! `connect to nonexistent.invalid port 7000: name lookup failed: …`.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use sockarc::archive::encoding_rs::Encoding;
use sockarc::archive::{Archive, Error as ArchiveError, LoadArchive, Options};
use sockarc::{Socket, SocketFile};

use crate::values::{Kind, Value};

/// Words for `e`: for the network errors a user meets most, the same on
/// every platform (Unix's), so a message reads alike on Linux and Windows;
/// otherwise the system's, without Rust's " (os error N)" suffix.
pub fn reason(e: &io::Error) -> String {
    use io::ErrorKind as K;
    let common = match e.kind() {
        K::ConnectionRefused => Some("Connection refused"),
        K::ConnectionReset => Some("Connection reset by peer"),
        K::ConnectionAborted => Some("Software caused connection abort"),
        K::AddrInUse => Some("Address already in use"),
        K::AddrNotAvailable => Some("Cannot assign requested address"),
        K::NetworkUnreachable => Some("Network is unreachable"),
        K::HostUnreachable => Some("No route to host"),
        K::TimedOut => Some("Connection timed out"),
        _ => None,
    };
    if let (Some(words), Some(_)) = (common, e.raw_os_error()) {
        return words.to_owned();
    }
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .map_or_else(|| text.clone(), str::to_owned),
        None => text,
    }
}

/// `e` with `what` (an operation and where) in front, its kind kept.
pub fn context(e: &io::Error, what: impl fmt::Display) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {}", reason(e)))
}

/// An address and port as messages name them: `127.0.0.1 port 700`.
pub struct At<'a, H: fmt::Display + ?Sized>(pub &'a H, pub u16);

impl<H: fmt::Display + ?Sized> fmt::Display for At<'_, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} port {}", self.0, self.1)
    }
}

/// A socket address as messages name it: `::1 port 700`.
pub fn at(addr: SocketAddr) -> String {
    At(&addr.ip(), addr.port()).to_string()
}

/// The addresses of `host`: an IPv4 or IPv6 literal (`[::1]` too) as it is, a
/// name through the system's resolver. The error is the reason alone.
fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    if host.is_empty() {
        return Err("empty host name".into());
    }
    sockarc::resolve(host, port).map_err(|e| {
        let why = reason(&e);
        let why = why
            .strip_prefix("failed to lookup address information: ")
            .unwrap_or(&why);
        format!("name lookup failed: {why}")
    })
}

/// A new socket connected to `host` (a name or an address) at `port`, every
/// address of the name tried in turn.
///
/// # Errors
/// `connect to HOST port PORT: REASON`, the lookup's failure included.
pub fn connect(host: &str, port: u16) -> io::Result<Socket> {
    let what = || format!("connect to {}", At(host, port));
    let addrs =
        resolve(host, port).map_err(|why| io::Error::other(format!("{}: {why}", what())))?;
    let socket = Socket::create(0).map_err(|e| context(&e, what()))?;
    socket
        .connect_addrs(&addrs)
        .map_err(|e| context(&e, what()))?;
    Ok(socket)
}

/// The local address `host` names, to listen on: the first of a name's.
///
/// # Errors
/// `listen on HOST port PORT: name lookup failed: …`.
pub fn listen_address(host: &str, port: u16) -> io::Result<IpAddr> {
    resolve(host, port)
        .map(|addrs| addrs[0].ip())
        .map_err(|why| io::Error::other(format!("listen on {}: {why}", At(host, port))))
}

/// `listen on HOST port PORT: REASON`, with a hint when the port is privileged.
pub fn listen_error(e: &io::Error, host: &str, port: u16) -> io::Error {
    let e = context(e, format!("listen on {}", At(host, port)));
    if e.kind() == io::ErrorKind::PermissionDenied && port < 1024 {
        io::Error::new(
            e.kind(),
            format!("{e} (ports below 1024 need privileges; choose another with --port)"),
        )
    } else {
        e
    }
}

/// A duration as the command line wrote it: `500ms`, `5s`, `1.5s`, `2m`.
pub fn show_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d.subsec_nanos().is_multiple_of(1_000_000) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{d:?}")
    }
}

/// Connects to `host:port`, stores `values` in one archive, flushes and closes.
/// `str` values are encoded in `code_page`, characters it cannot hold as `?`:
/// the caller checks first.
///
/// # Errors
/// `connect to …` or `send to …`, naming host and port.
pub fn send(
    host: &str,
    port: u16,
    values: &[Value],
    code_page: &'static Encoding,
) -> io::Result<()> {
    let socket = connect(host, port)?;
    let file = SocketFile::new(socket);
    let mut ar = Archive::store(&file);
    let failed = |e: ArchiveError| io::Error::other(format!("send to {}: {e}", At(host, port)));
    for value in values {
        value.write(&mut ar, code_page).map_err(failed)?;
    }
    ar.close().map_err(failed)
}

/// What `recv` found after the values it was asked for.
#[derive(Debug, Default)]
pub struct Unread {
    /// The first [`Unread::KEPT`] bytes left over.
    pub bytes: Vec<u8>,
    /// How many bytes were left over in all, up to [`Unread::COUNTED`].
    pub total: u64,
    /// Counting stopped at [`Unread::COUNTED`] with the peer still sending.
    pub more: bool,
}

impl Unread {
    /// Left-over bytes kept to be shown; the rest are counted.
    pub const KEPT: usize = 64 * 1024;
    /// Left-over bytes counted at most: a peer that keeps sending does not
    /// keep `recv` running.
    pub const COUNTED: u64 = 1 << 20;
}

/// Where `recv` listens and what it reads.
pub struct Recv<'a> {
    /// A local address or name; `::` for every interface.
    pub host: &'a str,
    /// 0 lets the system choose.
    pub port: u16,
    /// Types to read, in order.
    pub kinds: &'a [Kind],
    /// The ANSI code page of `str` values.
    pub code_page: &'static Encoding,
    /// The longest wait for the connection, then for each value's bytes.
    pub timeout: Option<Duration>,
}

/// Listens, accepts one connection and reads one value per kind, calling
/// `print` with each; `listening` is told the address first. Returns the bytes
/// that had arrived after the last value (without waiting for more).
///
/// # Errors
/// `listen on …`, `accept timed out …`, `receive timed out …`, or the
/// archive's error naming the value and the peer.
pub fn recv(
    args: &Recv<'_>,
    listening: impl FnOnce(SocketAddr),
    mut print: impl FnMut(&Value),
) -> io::Result<Unread> {
    let Recv {
        host,
        port,
        kinds,
        code_page,
        timeout,
    } = *args;
    let address = listen_address(host, port)?;
    let listen_failed = |e: io::Error| listen_error(&e, host, port);
    let server = Socket::builder()
        .address(address)
        .port(port)
        .create()
        .map_err(listen_failed)?;
    server.listen().map_err(listen_failed)?;
    let local = server.local_addr().map_err(listen_failed)?;
    listening(local);
    server.set_accept_timeout(timeout);
    let (conn, peer) = server
        .accept_from()
        .map_err(|e| match (e.kind(), timeout) {
            (io::ErrorKind::TimedOut, Some(t)) => io::Error::new(
                e.kind(),
                format!(
                    "accept timed out after {}: no connection on {}",
                    show_duration(t),
                    at(local)
                ),
            ),
            _ => context(&e, format!("accept on {}", at(local))),
        })?;
    drop(server);
    conn.set_read_timeout(timeout);
    let file = SocketFile::new(conn);
    let options = Options {
        code_page,
        ..Options::default()
    };
    let mut ar = Archive::load_with(&file, options);
    for (i, &kind) in kinds.iter().enumerate() {
        let which = format!("{kind} (value {} of {})", i + 1, kinds.len());
        let value = Value::read(kind, &mut ar).map_err(|e| match (&e, timeout) {
            (ArchiveError::Io { source, .. }, Some(t))
                if source.kind() == io::ErrorKind::TimedOut =>
            {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "receive timed out after {} reading {which} from {}",
                        show_duration(t),
                        at(peer)
                    ),
                )
            }
            _ => io::Error::other(format!("receive {which} from {}: {e}", at(peer))),
        })?;
        print(&value);
    }
    Ok(unread(&mut ar, &file))
}

/// Takes what has already arrived after the last value, without waiting: the
/// archive's buffer, then the socket's, until it would block or ends, or
/// [`Unread::COUNTED`] bytes have been counted.
fn unread(ar: &mut LoadArchive<&SocketFile>, file: &SocketFile) -> Unread {
    let mut left = Unread::default();
    if file.socket().set_nonblocking(true).is_err() {
        return left;
    }
    let mut byte = [0u8];
    while ar.read_raw(&mut byte).is_ok() {
        if left.total == Unread::COUNTED {
            left.more = true;
            break;
        }
        if left.bytes.len() < Unread::KEPT {
            left.bytes.push(byte[0]);
        }
        left.total += 1;
    }
    left
}
