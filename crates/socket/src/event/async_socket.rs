//! `CAsyncSocket`'s identity: a small copyable id of a socket owned by an
//! [`EventLoop`](crate::EventLoop). Its calls are the loop's methods
//! (`socket_calls.rs`).

/// A socket on an [`EventLoop`](crate::EventLoop) (`CAsyncSocket`): a small copyable id. The loop
/// owns the socket and its [`Handler`](crate::Handler); calls go through the loop, from inside a
/// handler or from the thread that runs the loop.
///
/// An id outlives its socket harmlessly: once closed, calls with it answer
/// `NotFound`, and a new socket never reuses it.
///
/// ```
/// use std::io;
/// use std::net::Ipv4Addr;
/// use sockarc::{AsyncSocket, EventLoop, Events, Handler, Socket};
///
/// /// Accepts one connection and echoes what it receives once.
/// struct Listener;
/// struct Echo;
///
/// impl Handler for Listener {
///     fn on_accept(&mut self, ev: &mut EventLoop, me: AsyncSocket, _: Option<io::Error>) {
///         let _ = ev.accept(me, Echo);                                  // Accept(…) in OnAccept
///     }
/// }
///
/// impl Handler for Echo {
///     fn on_receive(&mut self, ev: &mut EventLoop, me: AsyncSocket, _: Option<io::Error>) {
///         let mut buf = [0u8; 64];
///         if let Ok(n) = ev.receive(me, &mut buf) {                    // Receive(…) in OnReceive
///             let _ = ev.send(me, &buf[..n]);
///             ev.stop();
///         }
///     }
/// }
///
/// # fn main() -> io::Result<()> {
/// let mut ev = EventLoop::new()?;
/// let builder = Socket::builder().address(Ipv4Addr::LOCALHOST.into());
/// let listener = ev.create_with(builder, Events::ALL, Listener)?;      // Create(0, SOCK_STREAM, lEvent)
/// ev.listen(listener)?;
/// let port = ev.local_addr(listener)?.port();
///
/// let client = std::thread::spawn(move || -> io::Result<Vec<u8>> {
///     use std::io::{Read, Write};
///     let mut peer = std::net::TcpStream::connect(("127.0.0.1", port))?;
///     peer.write_all(b"hi")?;
///     let mut echo = [0u8; 2];
///     peer.read_exact(&mut echo)?;
///     Ok(echo.to_vec())
/// });
/// ev.run()?;
/// assert_eq!(client.join().unwrap()?, b"hi");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AsyncSocket {
    index: u32,
    generation: u32,
}

impl AsyncSocket {
    /// The id of slot `index`; slots number far fewer than `u32::MAX` (each
    /// is an open descriptor).
    #[expect(clippy::cast_possible_truncation, reason = "a slot index fits a u32")]
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
