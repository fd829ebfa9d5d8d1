//! `CSocketFile`: a connected stream socket as a byte stream an archive can sit
//! on.

use std::io::{self, Read, Write};

use crate::blocking::stream::Socket;

/// How [`SocketFile`] reads (`CSocketFile`'s `bArchiveCompatible`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadMode {
    /// One receive per read: waits for at least one byte and returns what has
    /// arrived (`bArchiveCompatible = TRUE`, MFC's default). A short read is not
    /// end of stream; 0 is. An archive on top fills each value across as many
    /// reads as it takes, and never waits for bytes it does not need.
    #[default]
    ArchiveCompatible,
    /// Each read fills the whole buffer, stopping early only at end of stream
    /// (`bArchiveCompatible = FALSE`), for stand-alone use. Under an archive this
    /// waits for a full buffer the peer may never send.
    Fill,
}

/// A connected stream socket as a file (`CSocketFile`): `Read` and `Write` on
/// `&SocketFile`, so one load and one store archive can share it.
///
/// ```no_run
/// use sockarc::{Socket, SocketFile};
/// use sockarc::archive::Archive;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Socket::create(0)?;
/// client.connect("localhost", 7000)?;
/// let file = SocketFile::new(client);
/// let mut ar_out = Archive::store(&file);
/// let mut ar_in = Archive::load(&file);
/// ar_out.write(&42u32)?;
/// ar_out.flush()?;
/// let answer: u32 = ar_in.read()?;
/// # Ok(())
/// # }
/// ```
///
/// It has no `Seek`: a socket has no position (MFC's throws or silently does
/// nothing). It takes a stream [`Socket`] only, so an archive over a
/// [`DatagramSocket`](crate::DatagramSocket) does not compile.
///
/// Errors are the socket's own `io::Error`s. Dropping the file closes the socket;
/// [`into_socket`](Self::into_socket) keeps it (`CSocketFile::Close`).
#[derive(Debug)]
pub struct SocketFile {
    socket: Socket,
    mode: ReadMode,
}

impl SocketFile {
    /// A file over `socket` in [`ReadMode::ArchiveCompatible`].
    pub fn new(socket: Socket) -> SocketFile {
        SocketFile::with_read_mode(socket, ReadMode::ArchiveCompatible)
    }

    /// A file over `socket` reading in `mode`.
    pub fn with_read_mode(socket: Socket, mode: ReadMode) -> SocketFile {
        SocketFile { socket, mode }
    }

    /// The socket, for its options, timeouts or cancel handle.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The read mode.
    pub fn read_mode(&self) -> ReadMode {
        self.mode
    }

    /// Gives the socket back without closing it (`CSocketFile::Close`).
    pub fn into_socket(self) -> Socket {
        self.socket
    }
}

impl Read for &SocketFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.mode {
            ReadMode::ArchiveCompatible => self.socket.receive(buf),
            ReadMode::Fill => {
                let mut filled = 0;
                while filled < buf.len() {
                    match self.socket.receive(&mut buf[filled..])? {
                        0 => break,
                        n => filled += n,
                    }
                }
                Ok(filled)
            }
        }
    }
}

impl Read for SocketFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

/// Writes send everything (`CSocketFile::Write` is `CSocket::Send`); `flush` has
/// nothing to do.
impl Write for &SocketFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.socket.send(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for SocketFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
