//! `CAsyncSocket`: non-blocking sockets owned by an [`EventLoop`], whose
//! [`Handler`] is told when to accept, receive and send.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;

use crate::base::canonical;
use crate::builder::SocketBuilder;
use crate::event_loop::{EventLoop, Note, State};
use crate::notify::{Events, Handler};
use crate::resolve::resolve;
use crate::stream::Socket;
use crate::sys;

/// A socket on an [`EventLoop`] (`CAsyncSocket`): a small copyable id. The loop
/// owns the socket and its [`Handler`]; calls go through the loop, from inside a
/// handler or from the thread that runs the loop.
///
/// An id outlives its socket harmlessly: once closed, calls with it answer
/// `NotFound`, and a new socket never reuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AsyncSocket {
    index: u32,
    generation: u32,
}

impl AsyncSocket {
    pub(crate) fn new(index: usize, generation: u32) -> Self {
        AsyncSocket {
            index: index as u32,
            generation,
        }
    }

    pub(crate) fn index(self) -> usize {
        self.index as usize
    }

    pub(crate) fn generation(self) -> u32 {
        self.generation
    }
}

/// Connection errors a non-blocking connect reports through `on_connect`
/// rather than from `connect` itself (Winsock never fails them at once).
fn is_connect_outcome(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::TimedOut
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::ConnectionReset
    )
}

impl EventLoop {
    /// Creates a stream socket bound to `port` on every interface, dual-stack,
    /// that reports `mask` to `handler` (`CAsyncSocket::Create(nPort,
    /// SOCK_STREAM, lEvent)`).
    ///
    /// # Errors
    /// The errors of `socket(2)`, `bind(2)` and of registering with the loop.
    pub fn create(
        &mut self,
        port: u16,
        mask: Events,
        handler: impl Handler,
    ) -> io::Result<AsyncSocket> {
        self.create_with(SocketBuilder::new().port(port), mask, handler)
    }

    /// As [`create`](Self::create), with a builder's address, family and port.
    ///
    /// # Errors
    /// As [`create`](Self::create).
    pub fn create_with(
        &mut self,
        builder: SocketBuilder,
        mask: Events,
        handler: impl Handler,
    ) -> io::Result<AsyncSocket> {
        let socket = builder.open_stream()?;
        self.insert(socket, mask, State::default(), Box::new(handler))
    }

    /// Listens for connections (`Listen`); each one is announced by
    /// `on_accept`.
    ///
    /// # Errors
    /// The error of `listen(2)`; `NotFound` for a closed socket.
    pub fn listen(&mut self, socket: AsyncSocket) -> io::Result<()> {
        self.listen_backlog(socket, 128)
    }

    /// Listens with an explicit backlog (`Listen(nConnectionBacklog)`).
    ///
    /// # Errors
    /// As [`listen`](Self::listen).
    pub fn listen_backlog(&mut self, socket: AsyncSocket, backlog: i32) -> io::Result<()> {
        let entry = self.entry(socket)?;
        entry.socket.listen(backlog)?;
        entry.state.listening = true;
        Ok(())
    }

    /// Accepts a waiting connection into a new socket on this loop, with the
    /// listener's mask and `handler` (`Accept`). Re-enables `on_accept`: if
    /// another connection waits, it is announced at once.
    ///
    /// # Errors
    /// `WouldBlock` when none waits (an ordinary answer); the error of
    /// `accept(2)`.
    pub fn accept(
        &mut self,
        listener: AsyncSocket,
        handler: impl Handler,
    ) -> io::Result<(AsyncSocket, SocketAddr)> {
        let entry = self.entry(listener)?;
        entry.state.accept_posted = false;
        let mask = entry.mask;
        let accepted = entry.socket.accept();
        if let Ok(now) = sys::readiness_now(entry.socket.as_raw_fd()) {
            if now.readable {
                self.post_accept(listener);
            }
        }
        let (socket, peer) = accepted?;
        let state = State {
            connected: true,
            ..State::default()
        };
        let socket = self.insert(socket, mask, state, Box::new(handler))?;
        if mask.contains(Events::WRITE) {
            self.post(socket, Note::Send, None);
        }
        Ok((socket, canonical(peer)?))
    }

    /// Starts connecting to `host` at `port` (`Connect`): the first address of
    /// this socket's family is used. The outcome arrives as `on_connect`, then
    /// `on_send` when it succeeded.
    ///
    /// # Errors
    /// `WouldBlock` while the connection is being made, which is the usual
    /// answer (Linux's `EINPROGRESS`, normalised); a refusal or other failure to
    /// connect comes through `on_connect`, not here. `NotFound` for a name
    /// without addresses; other errors of `connect(2)` (an address of the wrong
    /// family, a socket already connected).
    pub fn connect(&mut self, socket: AsyncSocket, host: &str, port: u16) -> io::Result<()> {
        let addrs = resolve(host, port)?;
        let entry = self.entry(socket)?;
        let domain = entry.socket.local_addr()?.domain();
        let only_v6 = domain == socket2::Domain::IPV6 && entry.socket.only_v6()?;
        let target = addrs.into_iter().find_map(|addr| match addr {
            SocketAddr::V4(v4) if domain == socket2::Domain::IPV6 && !only_v6 => {
                Some(socket2::SockAddr::from(SocketAddr::new(
                    v4.ip().to_ipv6_mapped().into(),
                    v4.port(),
                )))
            }
            SocketAddr::V4(_) if domain == socket2::Domain::IPV6 => None,
            SocketAddr::V6(_) if domain == socket2::Domain::IPV4 => None,
            addr => Some(addr.into()),
        });
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("no address of {host:?} is of this socket's family"),
            )
        })?;
        match entry.socket.connect(&target) {
            Ok(()) => {
                entry.state.connected = true;
                let mask = entry.mask;
                if mask.contains(Events::CONNECT) {
                    self.post(socket, Note::Connect, None);
                }
                if mask.contains(Events::WRITE) {
                    self.post(socket, Note::Send, None);
                }
                Ok(())
            }
            Err(e) if sys::is_in_progress(&e) => {
                entry.state.connecting = true;
                Err(io::ErrorKind::WouldBlock.into())
            }
            Err(e) if is_connect_outcome(&e) => {
                if entry.mask.contains(Events::CONNECT) {
                    self.post(socket, Note::Connect, Some(e));
                }
                Err(io::ErrorKind::WouldBlock.into())
            }
            Err(e) => Err(e),
        }
    }

    /// Receives what has arrived (`Receive`); 0 means the peer closed. Any call,
    /// even one that fails, re-enables `on_receive` and `on_out_of_band_data`:
    /// data still unread is announced again at once.
    ///
    /// # Errors
    /// `WouldBlock` when nothing is there (an ordinary answer); the error of
    /// `recv(2)`.
    pub fn receive(&mut self, socket: AsyncSocket, buf: &mut [u8]) -> io::Result<usize> {
        let entry = self.entry(socket)?;
        entry.state.read_posted = false;
        let oob_was_posted = std::mem::take(&mut entry.state.oob_posted);
        let result = entry.socket.recv(sys::as_uninit(buf));
        // A read that did not fill `buf` took all there was: what arrives later
        // raises a new edge. Only a full read, end of stream, or a peer already
        // known to be gone (its FIN came with the data; no edge will follow)
        // needs the level checked again.
        let short = matches!(&result, Ok(n) if *n > 0 && *n < buf.len());
        let drained = short || matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        // Except at the urgent mark: Linux's `tcp_recvmsg` stops a read there
        // (with or without SO_OOBINLINE), so a short read may leave data that
        // came with it, and no edge will announce that. Only a socket that has
        // had urgent data pays the `sockatmark(3)` asking whether this read
        // stopped there; an ordinary short read costs no extra call. (Only a
        // read that returned data can have stopped at the mark: one that
        // starts there goes past it.)
        let at_mark = short
            && entry.state.urgent
            && sys::at_urgent_mark(entry.socket.as_raw_fd()).unwrap_or(true);
        if !drained || entry.state.peer_closed || at_mark {
            self.check_read(socket);
        }
        if oob_was_posted {
            self.recheck_out_of_band(socket);
        }
        result
    }

    /// Receives out-of-band data (`Receive(…, MSG_OOB)`); re-enables as
    /// [`receive`](Self::receive) does.
    ///
    /// # Errors
    /// `WouldBlock` or `InvalidInput` when none is there; the error of `recv(2)`.
    pub fn receive_out_of_band(
        &mut self,
        socket: AsyncSocket,
        buf: &mut [u8],
    ) -> io::Result<usize> {
        let entry = self.entry(socket)?;
        entry.state.read_posted = false;
        entry.state.oob_posted = false;
        let result = entry.socket.recv_out_of_band(sys::as_uninit(buf));
        self.check_read(socket);
        self.recheck_out_of_band(socket);
        result
    }

    /// `FD_OOB` again if out-of-band data is still waiting.
    fn recheck_out_of_band(&mut self, socket: AsyncSocket) {
        let Ok(entry) = self.entry(socket) else {
            return;
        };
        if let Ok(now) = sys::readiness_now(entry.socket.as_raw_fd()) {
            if now.priority {
                entry.state.urgent = true;
                self.post_out_of_band(socket);
            }
        }
    }

    /// Sends what fits now (`Send`): 1 to `buf.len()` bytes. A send that would
    /// block, or that took only part of `buf`, arms `on_send` for when it can go
    /// on.
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer is full (an ordinary answer);
    /// `BrokenPipe`/`ConnectionReset` when the peer is gone (never `SIGPIPE`).
    pub fn send(&mut self, socket: AsyncSocket, buf: &[u8]) -> io::Result<usize> {
        let entry = self.entry(socket)?;
        let result = entry.socket.send_with_flags(buf, sys::SEND_FLAGS);
        // A send that would block, or took only part of `buf` (the send buffer
        // is now full), arms on_send for when room frees up.
        match &result {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => entry.state.write_blocked = true,
            Ok(n) if *n < buf.len() => entry.state.write_blocked = true,
            _ => {}
        }
        result
    }

    /// Replaces the socket's mask (`AsyncSelect`) and re-enables every
    /// notification: any whose condition holds now is posted at once (so
    /// enabling `WRITE` on a writable socket brings `on_send`); `WRITE` on a
    /// socket that is not writable yet brings `on_send` when it becomes so.
    ///
    /// # Errors
    /// `NotFound` for a closed socket; the error of `poll(2)`.
    pub fn async_select(&mut self, socket: AsyncSocket, mask: Events) -> io::Result<()> {
        let entry = self.entry(socket)?;
        entry.mask = mask;
        let state = &mut entry.state;
        state.read_posted = false;
        state.accept_posted = false;
        state.oob_posted = false;
        let (listening, connected) = (state.listening, state.connected);
        let now = sys::readiness_now(entry.socket.as_raw_fd())?;
        state.urgent |= now.priority;
        if listening {
            if now.readable {
                self.post_accept(socket);
            }
            return Ok(());
        }
        if !connected {
            return Ok(());
        }
        self.check_read(socket);
        if now.priority {
            self.post_out_of_band(socket);
        }
        if mask.contains(Events::WRITE) {
            if let Ok(entry) = self.entry(socket) {
                // Writable now: on_send at once. Not yet: on_send when it is.
                entry.state.write_blocked = !now.writable;
            }
            if now.writable {
                self.post(socket, Note::Send, None);
            }
        }
        Ok(())
    }

    /// Shuts down one or both directions (`ShutDown`).
    ///
    /// # Errors
    /// The error of `shutdown(2)`.
    pub fn shutdown(&mut self, socket: AsyncSocket, how: Shutdown) -> io::Result<()> {
        self.entry(socket)?.socket.shutdown(how)
    }

    /// Closes the socket (`Close`): no notification comes for it after this,
    /// even one already queued. Closing a closed socket does nothing.
    pub fn close(&mut self, socket: AsyncSocket) {
        drop(self.remove(socket));
    }

    /// Takes the socket off the loop (`Detach`) and returns it as a blocking
    /// [`Socket`], to wrap in a [`SocketFile`](crate::SocketFile) for example.
    /// Its queued notifications are dropped; bytes already received stay in the
    /// socket.
    ///
    /// # Errors
    /// `NotFound` for a closed socket; the error of making it a `Socket`.
    pub fn detach(&mut self, socket: AsyncSocket) -> io::Result<Socket> {
        let entry = self
            .remove(socket)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the socket is closed"))?;
        Socket::attach(entry.socket.into())
    }

    /// `true` while the socket is open.
    pub fn is_open(&mut self, socket: AsyncSocket) -> bool {
        self.entry(socket).is_ok()
    }

    /// The local address (`GetSockName`).
    ///
    /// # Errors
    /// `NotFound` for a closed socket; the error of `getsockname(2)`.
    pub fn local_addr(&mut self, socket: AsyncSocket) -> io::Result<SocketAddr> {
        canonical(self.entry(socket)?.socket.local_addr()?)
    }

    /// The peer's address (`GetPeerName`).
    ///
    /// # Errors
    /// `NotFound` for a closed socket; `NotConnected`.
    pub fn peer_addr(&mut self, socket: AsyncSocket) -> io::Result<SocketAddr> {
        canonical(self.entry(socket)?.socket.peer_addr()?)
    }

    /// The socket's current mask.
    ///
    /// # Errors
    /// `NotFound` for a closed socket.
    pub fn mask(&mut self, socket: AsyncSocket) -> io::Result<Events> {
        Ok(self.entry(socket)?.mask)
    }
}
