//! MFC's Windows Sockets programming model in Rust: the blocking [`Socket`]
//! (`CSocket`), [`DatagramSocket`], and [`SocketFile`] (`CSocketFile`) under a
//! `CArchive` ([`archive`], the `mfc-archive` crate); and the event-driven
//! [`AsyncSocket`] (`CAsyncSocket`) on an [`EventLoop`], whose [`Handler`] gets
//! MFC's notifications by MFC's rules.
//!
//! MFC's "Windows Sockets: Sequence of Operations", side by side (the left column
//! runs on the server, the right on the client):
//!
//! ```rust,ignore
//! // server                                      // client
//! let server = Socket::create(port)?;            let client = Socket::create(0)?;   // Create(nPort) / Create()
//! server.listen()?;
//!                                                client.connect("localhost", port)?; // or "127.0.0.1", "::1"
//! let conn: Socket = server.accept()?;           // a new Socket: no Create on it, as MFC requires
//! let file = SocketFile::new(conn);              let file = SocketFile::new(client);
//! let mut ar_in = Archive::load(&file);          let mut ar_out = Archive::store(&file);
//! let v: u32 = ar_in.read()?;                    ar_out.write(&v)?; ar_out.flush()?;
//! ```
//!
//! The same, running, with the server on a thread:
//!
//! ```
//! use sockarc::archive::Archive;
//! use sockarc::{Socket, SocketFile};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Socket::builder().address([127, 0, 0, 1].into()).create()?; // Create(nPort), loopback only
//! server.listen()?;                                                       // Listen()
//! let port = server.local_addr()?.port();
//! let server_side = std::thread::spawn(move || -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
//!     let conn: Socket = server.accept()?;                                // Accept(conn)
//!     let file = SocketFile::new(conn);                                   // CSocketFile file(&conn)
//!     let mut ar_in = Archive::load(&file);                               // CArchive ar(&file, load)
//!     Ok(ar_in.read()?)                                                   // ar >> v
//! });
//! let client = Socket::create(0)?;                                        // Create()
//! client.connect("127.0.0.1", port)?;                                     // Connect("127.0.0.1", port)
//! let file = SocketFile::new(client);
//! let mut ar_out = Archive::store(&file);
//! ar_out.write(&0xC0FFEEu32)?;                                            // ar << v
//! ar_out.flush()?;                                                        // send
//! assert_eq!(server_side.join().unwrap().unwrap(), 0xC0FFEE);
//! # Ok(())
//! # }
//! ```
//!
//! MFC's faults are not copied: there is no message pump, no "0 means already
//! blocking", no `SIGPIPE`; every blocking call has an optional deadline
//! (`ErrorKind::TimedOut`) and can be cancelled from another thread
//! ([`CancelHandle`]); sockets speak IPv6 as well as IPv4.
//!
//! # Portability
//! Unix (Linux first). Platform code lives behind `sys/`.
#![deny(missing_docs)]

mod addr;
mod blocking;
mod event;
mod sys;

pub use addr::resolve;
pub use blocking::builder::{Family, SocketBuilder};
pub use blocking::cancel::{is_cancelled, CancelHandle, Cancelled};
pub use blocking::datagram::{Datagram, DatagramSocket};
pub use blocking::file::{ReadMode, SocketFile};
pub use blocking::stream::Socket;
pub use event::async_socket::AsyncSocket;
pub use event::event_loop::{EventLoop, Handler, LoopHandle, TimerId};
pub use event::events::Events;
pub use event::socket_archive::{Inbox, Outbox, SocketArchive};

/// The archive format (`CArchive`): the `mfc-archive` crate.
pub use mfc_archive as archive;
