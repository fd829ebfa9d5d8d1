//! `CAsyncSocket`'s member functions (`Create`, `Listen`, `Accept`, `Connect`,
//! `Receive`, `Send`, `AsyncSelect`, `ShutDown`, `Close`, `Detach`, …) as calls
//! on the [`EventLoop`] that owns the socket. Each makes its system call and
//! tells the socket's [`Rules`] what it answered.

use std::io;
use std::net::{Shutdown, SocketAddr};

use crate::addr::canonical;
use crate::addr::resolve;
use crate::blocking::builder::SocketBuilder;
use crate::blocking::stream::Socket;
use crate::event::event_loop::Handler;
use crate::event::event_loop::{closed, EventLoop};
use crate::event::events::Events;
use crate::event::rules::{AcceptNext, Phase, Rules, ACCEPT_BACKOFF};
use crate::sys;

use crate::event::async_socket::AsyncSocket;

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
        let rules = Rules::new(mask, Phase::Unconnected);
        self.insert(socket, rules, Box::new(handler))
    }

    /// Listens for connections (`Listen`); each one is announced by
    /// `on_accept`.
    ///
    /// # Errors
    /// The error of `listen(2)`; `NotFound` for a closed socket.
    pub fn listen(&mut self, socket: AsyncSocket) -> io::Result<()> {
        self.listen_backlog(socket, crate::addr::DEFAULT_BACKLOG)
    }

    /// Listens with an explicit backlog (`Listen(nConnectionBacklog)`).
    ///
    /// # Errors
    /// As [`listen`](Self::listen).
    pub fn listen_backlog(&mut self, socket: AsyncSocket, backlog: i32) -> io::Result<()> {
        let entry = self.entry(socket)?;
        entry.socket.listen(backlog)?;
        entry.rules.listening();
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
        let mask = entry.rules.mask();
        let accepted = entry.socket.accept();
        let next = self.apply(listener, |rules, probe, post| {
            rules.after_accept(&accepted, probe, post)
        })?;
        if next == AcceptNext::BackOff {
            self.set_timer(ACCEPT_BACKOFF, move |ev, id| {
                ev.kill_timer(id);
                let _ = ev.apply(listener, |rules, probe, post| {
                    rules.resume_accept(probe, post);
                });
            });
        }
        let (socket, peer) = accepted?;
        let socket = self.insert(
            socket,
            Rules::new(mask, Phase::Unconnected),
            Box::new(handler),
        )?;
        self.apply(socket, |rules, _, post| rules.accepted(post))?;
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
        let result = entry.socket.connect(&target);
        self.apply(socket, |rules, _, post| rules.connect_started(result, post))?
    }

    /// Receives what has arrived (`Receive`); 0 means the peer closed. Any call,
    /// even one that fails, re-enables `on_receive` and `on_out_of_band_data`:
    /// data still unread is announced again at once.
    ///
    /// # Errors
    /// `WouldBlock` when nothing is there (an ordinary answer); the error of
    /// `recv(2)`.
    pub fn receive(&mut self, socket: AsyncSocket, buf: &mut [u8]) -> io::Result<usize> {
        let len = buf.len();
        self.apply(socket, |rules, probe, post| {
            let result = probe.0.recv(sys::as_uninit(buf));
            rules.after_receive(&result, len, probe, post);
            result
        })?
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
        self.apply(socket, |rules, probe, post| {
            let result = probe.0.recv_out_of_band(sys::as_uninit(buf));
            rules.after_receive_out_of_band(probe, post);
            result
        })?
    }

    /// Sends what fits now (`Send`): 1 to `buf.len()` bytes. A send that would
    /// block, or that took only part of `buf`, arms `on_send` for when it can go
    /// on.
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer is full (an ordinary answer);
    /// `BrokenPipe`/`ConnectionReset` when the peer is gone (never `SIGPIPE`).
    pub fn send(&mut self, socket: AsyncSocket, buf: &[u8]) -> io::Result<usize> {
        self.apply(socket, |rules, probe, post| {
            let result = probe.0.send_with_flags(buf, sys::SEND_FLAGS);
            rules.after_send(&result, buf.len(), probe, post);
            result
        })?
    }

    /// Replaces the socket's mask (`AsyncSelect`) and re-enables every
    /// notification: any whose condition holds now is posted at once (so
    /// enabling `WRITE` on a writable socket brings `on_send`); `WRITE` on a
    /// socket that is not writable yet brings `on_send` when it becomes so.
    ///
    /// # Errors
    /// `NotFound` for a closed socket; the error of `poll(2)`.
    pub fn async_select(&mut self, socket: AsyncSocket, mask: Events) -> io::Result<()> {
        self.apply(socket, |rules, probe, post| rules.select(mask, probe, post))?
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
        let entry = self.remove(socket).ok_or_else(closed)?;
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
        Ok(self.entry(socket)?.rules.mask())
    }
}
