//! `sockarc chat-server`: a CHATSRVR-compatible server on `AsyncSocket`.
//!
//! Every message read is appended to the history; then every client is sent the
//! lines it has not received yet (a new client gets the whole history after its
//! join message). A client's close message closes that client. A client that
//! vanishes or sends what the archive rejects is dropped and logged; the others
//! go on. On SIGINT or SIGTERM the server appends "The discussion server has
//! shutdown", sends every client its unsent lines with close flag 1, shuts down
//! its sending side, drains, and exits.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use sockarc::archive::Load;
use sockarc::{AsyncSocket, EventLoop, Events, Handler, Socket, SocketArchive};

use super::{CMsg, Encoding};

/// The line the server adds when it shuts down (CHATSRVR's `IDS_SERVERSHUTDOWN`).
pub const SHUTDOWN_LINE: &str = "The discussion server has shutdown";

/// How long a shutdown waits for clients to close before exiting anyway.
const DRAIN: Duration = Duration::from_secs(5);

struct Client {
    archive: SocketArchive,
    /// History lines this client has been sent (`m_nMsgCount`).
    sent: usize,
    peer: SocketAddr,
    /// A send failed: nothing more is sent, but what the client sent before
    /// is still read (its last words) until `on_close` drops it.
    broken: bool,
}

struct Chat {
    encoding: Encoding,
    history: Vec<String>,
    clients: HashMap<AsyncSocket, Client>,
    shutting_down: bool,
    /// Accepts failed in a row (out of descriptors, say): logged once, then
    /// counted until one succeeds.
    accept_failures: u64,
}

type Shared = Rc<RefCell<Chat>>;

impl Chat {
    /// Sends every client the history it lacks, with `close` set.
    fn update_clients(&mut self, ev: &mut EventLoop, close: u16) {
        let sockets: Vec<AsyncSocket> = self.clients.keys().copied().collect();
        for socket in sockets {
            self.update(ev, socket, close);
        }
    }

    fn update(&mut self, ev: &mut EventLoop, socket: AsyncSocket, close: u16) {
        let Some(client) = self.clients.get_mut(&socket) else {
            return;
        };
        if client.broken || (client.sent == self.history.len() && close == 0) {
            return;
        }
        let message = CMsg {
            close,
            text: self.encoding.string(""),
            history: self.history[client.sent..]
                .iter()
                .map(|line| self.encoding.string(line))
                .collect(),
        };
        client.sent = self.history.len();
        let written = client.archive.storing().write(&message);
        if written.is_err() {
            return self.drop_client(ev, socket, "its message could not be stored");
        }
        self.send(ev, socket);
    }

    /// Sends what the client's archive holds; after a shutdown, shuts down the
    /// sending side once all of it went.
    fn send(&mut self, ev: &mut EventLoop, socket: AsyncSocket) {
        let Some(client) = self.clients.get_mut(&socket) else {
            return;
        };
        match client.archive.send(ev, socket) {
            Ok(true) if self.shutting_down => {
                let _ = ev.shutdown(socket, Shutdown::Write);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::info!(peer = %client.peer, "send failed: {e}; reading what it sent");
                client.broken = true;
            }
        }
    }

    fn drop_client(&mut self, ev: &mut EventLoop, socket: AsyncSocket, why: &str) {
        if let Some(client) = self.clients.remove(&socket) {
            tracing::warn!(peer = %client.peer, "dropped: {why}");
        }
        ev.close(socket);
    }

    /// Reads every whole message the client sent.
    fn receive(&mut self, ev: &mut EventLoop, socket: AsyncSocket) {
        let Some(client) = self.clients.get_mut(&socket) else {
            return;
        };
        match client.archive.receive(ev, socket) {
            Ok(0) => return self.drop_client(ev, socket, "it disconnected"),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => return self.drop_client(ev, socket, &format!("receive failed: {e}")),
        }
        let mut leaving = false;
        loop {
            let Some(client) = self.clients.get_mut(&socket) else {
                return;
            };
            match client.archive.read_message(CMsg::load) {
                Ok(Some(message)) => {
                    self.history
                        .push(message.text.to_string_lossy().into_owned());
                    leaving |= message.close == 1;
                    if leaving {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.drop_client(
                        ev,
                        socket,
                        &format!("it sent something that is not a CMsg: {e}"),
                    );
                    return self.update_clients(ev, 0);
                }
            }
        }
        if leaving {
            if let Some(client) = self.clients.remove(&socket) {
                tracing::info!(peer = %client.peer, "left");
            }
            ev.close(socket);
        }
        self.update_clients(ev, 0);
    }
}

struct Listener(Shared);

impl Handler for Listener {
    fn on_accept(&mut self, ev: &mut EventLoop, listener: AsyncSocket, _: Option<io::Error>) {
        match ev.accept(listener, Connection(Rc::clone(&self.0))) {
            Ok((socket, peer)) => {
                tracing::info!(%peer, "joined");
                let mut chat = self.0.borrow_mut();
                if chat.accept_failures > 1 {
                    let failures = chat.accept_failures;
                    tracing::info!("accepting again after {failures} failed accepts");
                }
                chat.accept_failures = 0;
                let archive = SocketArchive::new(chat.encoding.options());
                chat.clients.insert(
                    socket,
                    Client {
                        archive,
                        sent: 0,
                        peer,
                        broken: false,
                    },
                );
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => {
                // The loop pauses on_accept after a failure for lack of
                // descriptors; the log says it once, not once per retry.
                let mut chat = self.0.borrow_mut();
                if chat.accept_failures == 0 {
                    tracing::warn!("accept failed: {e}; retrying quietly");
                }
                chat.accept_failures += 1;
            }
        }
    }
}

struct Connection(Shared);

impl Handler for Connection {
    fn on_receive(&mut self, ev: &mut EventLoop, socket: AsyncSocket, _: Option<io::Error>) {
        self.0.borrow_mut().receive(ev, socket);
    }

    fn on_send(&mut self, ev: &mut EventLoop, socket: AsyncSocket, _: Option<io::Error>) {
        self.0.borrow_mut().send(ev, socket);
    }

    fn on_close(&mut self, ev: &mut EventLoop, socket: AsyncSocket, error: Option<io::Error>) {
        let why = match error {
            Some(e) => format!("the connection failed: {e}"),
            None => "it closed the connection".to_owned(),
        };
        let mut chat = self.0.borrow_mut();
        if chat.shutting_down {
            if let Some(client) = chat.clients.remove(&socket) {
                tracing::info!(peer = %client.peer, "closed");
            }
            ev.close(socket);
        } else {
            chat.drop_client(ev, socket, &why);
        }
    }
}

/// Runs the server on `host:port` until SIGINT or SIGTERM; `listening` is told
/// the address first.
///
/// # Errors
/// The errors of creating, binding and listening, or of the event loop.
pub fn run(
    host: IpAddr,
    port: u16,
    encoding: Encoding,
    listening: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    let stop_on_signal = crate::signals::block_termination()?;
    let mut ev = EventLoop::new()?;
    let chat = Rc::new(RefCell::new(Chat {
        encoding,
        history: Vec::new(),
        clients: HashMap::new(),
        shutting_down: false,
        accept_failures: 0,
    }));
    let listener = ev.create_with(
        Socket::builder().address(host).port(port),
        Events::ALL,
        Listener(Rc::clone(&chat)),
    )?;
    ev.listen(listener)?;
    listening(ev.local_addr(listener)?);
    stop_on_signal(ev.handle());
    ev.run()?;

    // Shut down as CHATSRVR does, then drain.
    ev.close(listener);
    {
        let mut chat = chat.borrow_mut();
        chat.shutting_down = true;
        chat.history.push(SHUTDOWN_LINE.to_owned());
        chat.update_clients(&mut ev, 1);
    }
    let deadline = Instant::now() + DRAIN;
    while !chat.borrow().clients.is_empty() && Instant::now() < deadline {
        ev.run_once(Some(Duration::from_millis(100)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_carries_the_lines_a_client_lacks() {
        let encoding = Encoding {
            unicode: false,
            code_page: sockarc::archive::code_page(1252).unwrap(),
        };
        let mut out = Vec::new();
        let mut ar = sockarc::archive::Archive::store(&mut out);
        ar.write(&CMsg {
            close: 0,
            text: encoding.string(""),
            history: vec![encoding.string("a: x"), encoding.string("b: y")],
        })
        .unwrap();
        ar.close().unwrap();
        // socket-behaviour.md 6.1: a server update carrying two history lines.
        assert_eq!(out, b"\x00\x00\x00\x02\x00\x04a: x\x04b: y");
    }
}
