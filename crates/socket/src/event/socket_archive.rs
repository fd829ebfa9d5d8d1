//! Archives on an [`AsyncSocket`]: MFC's "in `OnReceive`, read messages while
//! the archive's buffer is not empty", without blocking the loop or losing bytes
//! when a message is split across segments.

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use crate::archive::{Archive, LoadArchive, Loading, Options, StoreArchive};
use crate::event::async_socket::AsyncSocket;
use crate::event::event_loop::EventLoop;

/// Capacity an inbox or outbox keeps once it is empty again: a burst's larger
/// buffer is given back, so an idle connection costs at most this much.
const KEPT_CAPACITY: usize = 64 * 1024;

/// Bytes received and not yet loaded. Reading it answers `WouldBlock` when it is
/// empty, which tells [`LoadArchive::read_message`] to wait for more.
#[derive(Debug, Default)]
pub struct Inbox {
    bytes: VecDeque<u8>,
}

impl Inbox {
    /// Bytes waiting to be loaded.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// `true` when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl Read for Inbox {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.bytes.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.bytes.len());
        for (slot, byte) in buf.iter_mut().zip(self.bytes.drain(..n)) {
            *slot = byte;
        }
        if self.bytes.is_empty() && self.bytes.capacity() > KEPT_CAPACITY {
            self.bytes.shrink_to(KEPT_CAPACITY);
        }
        Ok(n)
    }
}

/// Bytes stored and not yet sent.
#[derive(Debug, Default)]
pub struct Outbox {
    bytes: Vec<u8>,
}

impl Outbox {
    /// Bytes waiting to be sent.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// `true` when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl Write for Outbox {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A loading and a storing archive for one [`AsyncSocket`] connection: what
/// `CSocketFile` + two `CArchive`s are to a `CSocket`, for the event loop.
///
/// In `on_receive`, call [`receive`](Self::receive) once, then
/// [`read_message`](Self::read_message) until it answers `None`: complete
/// messages load, a partial one waits for the next `on_receive` with its bytes
/// kept. Write replies with [`storing`](Self::storing) and hand them to the
/// socket with [`send`](Self::send); what the socket cannot take yet goes when
/// `on_send` calls `send` again. One archive pair lives as long as the
/// connection, so object references may span messages, as between MFC peers.
///
/// ```
/// use std::io;
/// use std::net::Ipv4Addr;
/// use sockarc::archive::MfcString;
/// use sockarc::{AsyncSocket, EventLoop, Events, Handler, Socket, SocketArchive};
///
/// /// Loads each whole `(u32, CString)` message and answers with the number.
/// #[derive(Default)]
/// struct Conn(SocketArchive);
///
/// impl Handler for Conn {
///     fn on_receive(&mut self, ev: &mut EventLoop, me: AsyncSocket, _: Option<io::Error>) {
///         let _ = self.0.receive(ev, me);
///         while let Ok(Some((n, text))) =
///             self.0.read_message(|ar| Ok((ar.read::<u32>()?, ar.read::<MfcString>()?)))
///         {
///             assert_eq!(text.to_string_lossy(), "hello");
///             let _ = self.0.storing().write(&n);
///             let _ = self.0.send(ev, me);
///             ev.stop();
///         }
///     }
/// }
///
/// struct Listener;
/// impl Handler for Listener {
///     fn on_accept(&mut self, ev: &mut EventLoop, me: AsyncSocket, _: Option<io::Error>) {
///         let _ = ev.accept(me, Conn::default());
///     }
/// }
///
/// # fn main() -> io::Result<()> {
/// let mut ev = EventLoop::new()?;
/// let builder = Socket::builder().address(Ipv4Addr::LOCALHOST.into());
/// let listener = ev.create_with(builder, Events::ALL, Listener)?;
/// ev.listen(listener)?;
/// let port = ev.local_addr(listener)?.port();
/// let client = std::thread::spawn(move || -> io::Result<Vec<u8>> {
///     use std::io::{Read, Write};
///     let mut peer = std::net::TcpStream::connect(("127.0.0.1", port))?;
///     // archive-format.md: DWORD 7, then the CString "hello", split in two.
///     peer.write_all(&[7, 0, 0, 0, 5, b'h'])?;
///     peer.write_all(b"ello")?;
///     let mut answer = [0u8; 4];
///     peer.read_exact(&mut answer)?;
///     Ok(answer.to_vec())
/// });
/// ev.run()?;
/// assert_eq!(client.join().unwrap()?, [7, 0, 0, 0]);
/// # Ok(())
/// # }
/// ```
///
/// Memory: the inbox holds what was received and not yet loaded, the outbox
/// what was stored and not yet sent; neither is bounded here (a server bounds
/// them by what it stores and by dropping peers that send too much). Each
/// gives back all but 64 KiB of its capacity when it empties after a burst.
pub struct SocketArchive {
    load: LoadArchive<Inbox>,
    store: StoreArchive<Outbox>,
}

impl std::fmt::Debug for SocketArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketArchive")
            .field("received", &self.load.get_ref().len())
            .field("unsent", &self.store.get_ref().len())
            .finish()
    }
}

impl Default for SocketArchive {
    fn default() -> Self {
        SocketArchive::new(Options::default())
    }
}

impl SocketArchive {
    /// An archive pair with `options` (code page, string form, limits).
    pub fn new(options: Options) -> Self {
        SocketArchive {
            load: Archive::load_with(Inbox::default(), options),
            store: Archive::store_with(Outbox::default(), options),
        }
    }

    /// The loading archive, to register classes or look at its buffer.
    pub fn loading(&mut self) -> &mut LoadArchive<Inbox> {
        &mut self.load
    }

    /// The storing archive: write a message, then [`send`](Self::send).
    pub fn storing(&mut self) -> &mut StoreArchive<Outbox> {
        &mut self.store
    }

    /// Receives once from `socket` into the inbox (call it from `on_receive`;
    /// it re-enables `on_receive`). Returns the bytes received; 0 means the peer
    /// closed.
    ///
    /// # Errors
    /// `WouldBlock` when nothing was there; the socket's error.
    pub fn receive(&mut self, ev: &mut EventLoop, socket: AsyncSocket) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = ev.receive(socket, &mut chunk)?;
        self.load.get_mut().bytes.extend(&chunk[..n]);
        Ok(n)
    }

    /// The next whole message, loaded by `f`, or `None` until more arrives. See
    /// [`LoadArchive::read_message`].
    ///
    /// # Errors
    /// A message the archive rejects (bad tag, unknown class, over a limit).
    pub fn read_message<T>(
        &mut self,
        f: impl FnOnce(&mut Loading<'_>) -> crate::archive::Result<T>,
    ) -> crate::archive::Result<Option<T>> {
        self.load.read_message(f)
    }

    /// `true` when every byte received has been loaded (`IsBufferEmpty`, with
    /// the inbox counted in).
    pub fn is_buffer_empty(&self) -> bool {
        self.load.is_buffer_empty() && self.load.get_ref().is_empty()
    }

    /// Flushes what was stored and sends what `socket` takes now. Returns `true`
    /// when nothing is left; otherwise call it again from `on_send`.
    ///
    /// # Errors
    /// The socket's error other than `WouldBlock` (the peer is gone, …).
    pub fn send(&mut self, ev: &mut EventLoop, socket: AsyncSocket) -> io::Result<bool> {
        self.store.flush().map_err(io::Error::from)?;
        let outbox = self.store.get_mut();
        let mut sent = 0;
        while sent < outbox.bytes.len() {
            match ev.send(socket, &outbox.bytes[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        outbox.bytes.drain(..sent);
        if outbox.bytes.is_empty() && outbox.bytes.capacity() > KEPT_CAPACITY {
            outbox.bytes.shrink_to(KEPT_CAPACITY);
        }
        Ok(outbox.bytes.is_empty())
    }

    /// Bytes stored and not yet sent.
    pub fn unsent(&self) -> usize {
        self.store.get_ref().len()
    }
}
