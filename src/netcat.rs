//! `sockarc send` and `sockarc recv`: a netcat for MFC archives.

use std::net::IpAddr;

use sockarc::archive::{Archive, Options};
use sockarc::{Socket, SocketFile};

use crate::values::{Kind, Value};

/// Connects to `host:port`, stores `values` in one archive, flushes and closes.
pub fn send(host: &str, port: u16, values: &[Value], code_page: u16) -> Result<(), String> {
    let encoding = sockarc::archive::code_page(code_page)
        .ok_or_else(|| format!("unknown code page {code_page}"))?;
    let socket = Socket::create(0).map_err(|e| format!("create: {e}"))?;
    socket
        .connect(host, port)
        .map_err(|e| format!("connect to {host} port {port}: {e}"))?;
    let file = SocketFile::new(socket);
    let mut ar = Archive::store(&file);
    for value in values {
        value
            .write(&mut ar, encoding)
            .map_err(|e| format!("send: {e}"))?;
    }
    ar.close().map_err(|e| format!("send: {e}"))
}

/// Listens on `host:port`, accepts one connection and reads one value per kind,
/// calling `print` with each. `listening` is told the address first.
pub fn recv(
    host: IpAddr,
    port: u16,
    kinds: &[Kind],
    code_page: u16,
    listening: impl FnOnce(std::net::SocketAddr),
    mut print: impl FnMut(&Value),
) -> Result<(), String> {
    let encoding = sockarc::archive::code_page(code_page)
        .ok_or_else(|| format!("unknown code page {code_page}"))?;
    let server = Socket::builder()
        .address(host)
        .port(port)
        .create()
        .map_err(|e| format!("create: {e}"))?;
    server.listen().map_err(|e| format!("listen: {e}"))?;
    listening(server.local_addr().map_err(|e| e.to_string())?);
    let (conn, peer) = server.accept_from().map_err(|e| format!("accept: {e}"))?;
    let file = SocketFile::new(conn);
    let options = Options {
        code_page: encoding,
        ..Options::default()
    };
    let mut ar = Archive::load_with(&file, options);
    for &kind in kinds {
        let value =
            Value::read(kind, &mut ar).map_err(|e| format!("reading {kind} from {peer}: {e}"))?;
        print(&value);
    }
    Ok(())
}
