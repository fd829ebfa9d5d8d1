//! An echo server on `AsyncSocket`: every byte a client sends comes back.
//!
//! `cargo run --release -p sockarc-socket --example echo -- --port 7007 [--host 127.0.0.1]`
//!
//! One thread, one event loop, any number of clients. A client whose echo cannot
//! be sent yet stops being read (its `READ` notifications are switched off) until
//! `on_send` says the backlog went out, so a slow reader cannot make the server
//! buffer without bound. A client that half-closes gets its whole echo before
//! the server closes: `on_close` comes once everything it sent was read, and
//! the server then finishes sending what is pending.

use std::io::{self, ErrorKind};
use std::net::IpAddr;

use sockarc::{AsyncSocket, EventLoop, Events, Handler, Socket};

/// Unsent bytes at which a client stops being read.
const BACKLOG: usize = 256 * 1024;

struct Listener;

impl Handler for Listener {
    fn on_accept(&mut self, ev: &mut EventLoop, listener: AsyncSocket, _: Option<io::Error>) {
        match ev.accept(listener, Echo::default()) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => eprintln!("accept: {e}"),
        }
    }
}

#[derive(Default)]
struct Echo {
    unsent: Vec<u8>,
    /// The client closed its side: close once `unsent` is sent.
    peer_done: bool,
}

impl Echo {
    /// Sends what is pending; false if the connection failed and was closed.
    fn flush(&mut self, ev: &mut EventLoop, socket: AsyncSocket) -> bool {
        while !self.unsent.is_empty() {
            match ev.send(socket, &self.unsent) {
                Ok(n) => drop(self.unsent.drain(..n)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(_) => {
                    ev.close(socket);
                    return false;
                }
            }
        }
        true
    }
}

impl Handler for Echo {
    fn on_receive(&mut self, ev: &mut EventLoop, socket: AsyncSocket, _: Option<io::Error>) {
        let mut buf = [0u8; 16 * 1024];
        match ev.receive(socket, &mut buf) {
            Ok(0) => {}
            Ok(n) => {
                self.unsent.extend_from_slice(&buf[..n]);
                if self.flush(ev, socket) && self.unsent.len() >= BACKLOG {
                    let _ = ev.async_select(socket, Events::WRITE | Events::CLOSE);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => ev.close(socket),
        }
    }

    fn on_send(&mut self, ev: &mut EventLoop, socket: AsyncSocket, _: Option<io::Error>) {
        if !self.flush(ev, socket) || !self.unsent.is_empty() {
            return;
        }
        if self.peer_done {
            ev.close(socket);
        } else if !ev.mask(socket).is_ok_and(|m| m.contains(Events::READ)) {
            let _ = ev.async_select(socket, Events::ALL);
        }
    }

    fn on_close(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {
        // Everything the client sent was read; what is still unsent goes out
        // first, unless the connection is gone.
        if error.is_some() || self.unsent.is_empty() {
            ev.close(socket);
        } else {
            self.peer_done = true;
        }
    }
}

fn main() {
    if let Err(e) = serve() {
        eprintln!("echo: {e}");
        std::process::exit(if e.kind() == ErrorKind::InvalidInput {
            2
        } else {
            1
        });
    }
}

fn serve() -> io::Result<()> {
    let mut port = 7007u16;
    let mut host: IpAddr = [127, 0, 0, 1].into();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        let bad = || {
            io::Error::new(
                ErrorKind::InvalidInput,
                format!("usage: echo [--port P] [--host H] ({arg})"),
            )
        };
        match arg.as_str() {
            "--port" => port = value.and_then(|v| v.parse().ok()).ok_or_else(bad)?,
            "--host" => host = value.and_then(|v| v.parse().ok()).ok_or_else(bad)?,
            _ => return Err(bad()),
        }
    }
    let mut ev = EventLoop::new()?;
    // Accepted sockets inherit the listener's mask, so it asks for everything.
    let listener = ev.create_with(
        Socket::builder().address(host).port(port),
        Events::ALL,
        Listener,
    )?;
    ev.listen_backlog(listener, 4096)?;
    eprintln!("echo: listening on {}", ev.local_addr(listener)?);
    ev.run()
}
