//! `sockarc chat-server`: a CHATSRVR-compatible server on `AsyncSocket`.
//!
//! Every message read is appended to the history; then every client is sent the
//! lines it has not received yet (a new client gets the history after its join
//! message). A client's close message closes that client. A client that
//! vanishes or sends what the archive rejects is dropped and logged; the others
//! go on. On SIGINT or SIGTERM the server appends "The discussion server has
//! shutdown", sends every client its unsent lines with close flag 1, shuts down
//! its sending side, drains, and exits.
//!
//! What one client can cost is bounded ([`Config`]): the history is shared and
//! kept within [`Bounds`]; a client is sent it in messages of at most
//! [`CHUNK_BYTES`], the next only once the last went out, so a client that does
//! not read holds at most one chunk here; one that falls so far behind that
//! lines it was not sent leave the history is dropped, with a log line saying
//! so. Partial messages and silent connections time out, and the number of
//! clients is capped.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, ErrorKind};
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use sockarc::archive::Load;
use sockarc::{AsyncSocket, EventLoop, Events, Handler, Socket, SocketArchive};

use super::history::{Bounds, History};
use super::{CMsg, Encoding};

/// The line the server adds when it shuts down (CHATSRVR's `IDS_SERVERSHUTDOWN`).
pub const SHUTDOWN_LINE: &str = "The discussion server has shutdown";

/// The most history text one update carries (one line more if a single line
/// is longer).
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Connections the kernel queues for the server before it drops handshakes
/// (capped by `net.core.somaxconn`).
const BACKLOG: i32 = 1024;

/// Connections accepted per `on_accept` at most.
const ACCEPT_BATCH: usize = 16;

/// How long a shutdown waits for clients to close before exiting anyway.
const DRAIN: Duration = Duration::from_secs(5);

/// The server's settings.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// How text is sent and read.
    pub encoding: Encoding,
    /// How much history is kept.
    pub history: Bounds,
    /// A client whose message has been partly received for this long is
    /// dropped (slow-drip senders).
    pub partial_timeout: Option<Duration>,
    /// A client that sent nothing for this long is dropped.
    pub idle_timeout: Option<Duration>,
    /// Connections over this many are closed as soon as they are accepted.
    pub max_clients: usize,
}

struct Client {
    archive: SocketArchive,
    /// The number of the next history line to send (`m_nMsgCount`); `None`
    /// until its first update, which starts at the oldest line kept then.
    next: Option<u64>,
    peer: SocketAddr,
    /// A send failed: nothing more is sent, but what the client sent before
    /// is still read (its last words) until `on_close` drops it.
    broken: bool,
    /// When bytes last came from it.
    last_heard: Instant,
    /// Since when part of a message waits for the rest.
    partial_since: Option<Instant>,
    /// The update with close flag 1 was stored (after a shutdown).
    told_close: bool,
}

struct Chat {
    config: Config,
    history: History,
    clients: HashMap<AsyncSocket, Client>,
    shutting_down: bool,
    /// Accepts failed in a row (out of descriptors, say): logged once, then
    /// counted until one succeeds.
    accept_failures: u64,
}

type Shared = Rc<RefCell<Chat>>;

impl Chat {
    /// Sends every client the history it lacks; with `close` set after a
    /// shutdown.
    fn update_clients(&mut self, ev: &mut EventLoop) {
        let sockets: Vec<AsyncSocket> = self.clients.keys().copied().collect();
        for socket in sockets {
            self.update(ev, socket);
        }
    }

    /// Sends `socket` the next chunks of history it lacks, while its socket
    /// takes them; the rest goes from `on_send`.
    fn update(&mut self, ev: &mut EventLoop, socket: AsyncSocket) {
        loop {
            let Some(client) = self.clients.get_mut(&socket) else {
                return;
            };
            if client.broken || client.archive.unsent() > 0 {
                return;
            }
            let end = self.history.end();
            let closing = self.shutting_down;
            let from = client.next.unwrap_or(self.history.first());
            if from == end && (!closing || client.told_close) {
                return;
            }
            let chunk = match self.history.chunk(from, CHUNK_BYTES) {
                Ok(chunk) => chunk,
                Err(behind) => {
                    let why = format!(
                        "it fell behind: {} lines it had not been sent left the history",
                        behind.missed
                    );
                    return self.drop_client(ev, socket, &why);
                }
            };
            let last = from + chunk.len() as u64 == end;
            let encoding = self.config.encoding;
            let message = CMsg {
                close: u16::from(closing && last),
                text: encoding.string(""),
                history: chunk.iter().map(|line| encoding.string(line)).collect(),
            };
            client.next = Some(from + chunk.len() as u64);
            client.told_close = closing && last;
            if client.archive.storing().write(&message).is_err() {
                return self.drop_client(ev, socket, "its message could not be stored");
            }
            if !self.send(ev, socket) || last {
                return;
            }
        }
    }

    /// Sends what the client's archive holds; `true` when all of it went.
    /// After a shutdown, shuts down the sending side once all of it went.
    fn send(&mut self, ev: &mut EventLoop, socket: AsyncSocket) -> bool {
        let Some(client) = self.clients.get_mut(&socket) else {
            return false;
        };
        match client.archive.send(ev, socket) {
            Ok(true) => {
                if self.shutting_down && client.next == Some(self.history.end()) {
                    let _ = ev.shutdown(socket, Shutdown::Write);
                }
                true
            }
            Ok(false) => false,
            Err(e) => {
                tracing::info!(peer = %client.peer, "send failed: {e}; reading what it sent");
                client.broken = true;
                false
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
            Ok(_) => client.last_heard = Instant::now(),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) => return self.drop_client(ev, socket, &format!("receive failed: {e}")),
        }
        let before = self.history.end();
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
                Ok(None) => {
                    client.partial_since = match client.partial_since {
                        _ if client.archive.is_buffer_empty() => None,
                        Some(since) => Some(since),
                        None => Some(Instant::now()),
                    };
                    break;
                }
                Err(e) => {
                    self.drop_client(
                        ev,
                        socket,
                        &format!("it sent something that is not a CMsg: {e}"),
                    );
                    break;
                }
            }
        }
        if leaving {
            if let Some(client) = self.clients.remove(&socket) {
                tracing::info!(peer = %client.peer, "left");
            }
            ev.close(socket);
        }
        if self.history.end() != before {
            self.update_clients(ev);
        }
    }

    /// Drops clients whose partial message or silence outlasted its timeout.
    fn sweep(&mut self, ev: &mut EventLoop) {
        let now = Instant::now();
        let (partial, idle) = (self.config.partial_timeout, self.config.idle_timeout);
        let expired: Vec<(AsyncSocket, String)> = self
            .clients
            .iter()
            .filter_map(|(&socket, client)| {
                let waited = |since: Instant, limit: Option<Duration>| {
                    limit.filter(|&limit| now.duration_since(since) >= limit)
                };
                if let Some(limit) = client.partial_since.and_then(|s| waited(s, partial)) {
                    return Some((socket, format!("its message stayed partial for {limit:?}")));
                }
                waited(client.last_heard, idle)
                    .map(|limit| (socket, format!("it sent nothing for {limit:?}")))
            })
            .collect();
        for (socket, why) in expired {
            self.drop_client(ev, socket, &why);
        }
    }
}

struct Listener(Shared);

impl Handler for Listener {
    fn on_accept(&mut self, ev: &mut EventLoop, listener: AsyncSocket, _: Option<io::Error>) {
        // Every connection waiting, up to a batch: clients that connect faster
        // than one accept per turn would otherwise fill the backlog, and the
        // kernel would drop the handshakes of the next ones.
        for _ in 0..ACCEPT_BATCH {
            if !self.accept_one(ev, listener) {
                return;
            }
        }
    }
}

impl Listener {
    /// Accepts one connection; `false` when none waits or the accept failed.
    fn accept_one(&mut self, ev: &mut EventLoop, listener: AsyncSocket) -> bool {
        match ev.accept(listener, Connection(Rc::clone(&self.0))) {
            Ok((socket, peer)) => {
                let mut chat = self.0.borrow_mut();
                if chat.accept_failures > 1 {
                    let failures = chat.accept_failures;
                    tracing::info!("accepting again after {failures} failed accepts");
                }
                chat.accept_failures = 0;
                if chat.clients.len() >= chat.config.max_clients {
                    let max = chat.config.max_clients;
                    tracing::warn!(%peer, "refused: already {max} clients");
                    ev.close(socket);
                    return true;
                }
                tracing::info!(%peer, "joined");
                let archive = SocketArchive::new(chat.config.encoding.options());
                let now = Instant::now();
                chat.clients.insert(
                    socket,
                    Client {
                        archive,
                        next: None,
                        peer,
                        broken: false,
                        last_heard: now,
                        partial_since: None,
                        told_close: false,
                    },
                );
                true
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => {
                // The loop pauses on_accept after a failure for lack of
                // descriptors; the log says it once, not once per retry.
                let mut chat = self.0.borrow_mut();
                if chat.accept_failures == 0 {
                    tracing::warn!("accept failed: {e}; retrying quietly");
                }
                chat.accept_failures += 1;
                false
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
        let mut chat = self.0.borrow_mut();
        // Only a client waiting for room gets the rest of its update here; a
        // new one gets the history once its join message is read, as from
        // CHATSRVR.
        let waiting = chat
            .clients
            .get(&socket)
            .is_some_and(|client| client.archive.unsent() > 0);
        if waiting && chat.send(ev, socket) {
            chat.update(ev, socket);
        }
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
    config: Config,
    listening: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    let stop_on_signal = crate::signals::block_termination()?;
    let mut ev = EventLoop::new()?;
    let chat = Rc::new(RefCell::new(Chat {
        config,
        history: History::new(config.history),
        clients: HashMap::new(),
        shutting_down: false,
        accept_failures: 0,
    }));
    let listener = ev.create_with(
        Socket::builder().address(host).port(port),
        Events::ALL,
        Listener(Rc::clone(&chat)),
    )?;
    ev.listen_backlog(listener, BACKLOG)?;
    listening(ev.local_addr(listener)?);
    let timeouts = [config.partial_timeout, config.idle_timeout];
    if let Some(shortest) = timeouts.into_iter().flatten().min() {
        // Checked four times per timeout: a client is dropped at most a
        // quarter late.
        let period = (shortest / 4).max(Duration::from_millis(10));
        let sweeping = Rc::clone(&chat);
        ev.set_timer(period, move |ev, _| sweeping.borrow_mut().sweep(ev));
    }
    stop_on_signal(ev.handle());
    ev.run()?;

    // Shut down as CHATSRVR does, then drain.
    ev.close(listener);
    {
        let mut chat = chat.borrow_mut();
        chat.shutting_down = true;
        chat.history.push(SHUTDOWN_LINE.to_owned());
        chat.update_clients(&mut ev);
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
