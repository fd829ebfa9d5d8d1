//! A tally server on `SocketArchive`, with state shared by every connection's
//! handler: each client sends `DWORD`s, one archive message each, and is
//! answered with the running total of everything every client sent, as a
//! `ULONGLONG`.
//!
//! `cargo run -p sockarc-socket --example tally`
//!
//! The server and three clients run in one program: the server on this
//! thread's `EventLoop`, each client on a thread of its own with a blocking
//! `Socket`, `SocketFile` and `Archive`, as an MFC client would.

use std::cell::RefCell;
use std::io;
use std::net::Ipv4Addr;
use std::rc::Rc;

use sockarc::archive::Archive;
use sockarc::{AsyncSocket, EventLoop, Events, Handler, Socket, SocketArchive, SocketFile};

/// The clients this program starts; the server stops once all have left.
const CLIENTS: usize = 3;

/// What every connection's handler shares: the total, and how many clients
/// have left.
#[derive(Default)]
struct Tally {
    total: u64,
    left: usize,
}

struct Listener(Rc<RefCell<Tally>>);

impl Handler for Listener {
    fn on_accept(&mut self, ev: &mut EventLoop, me: AsyncSocket, _: Option<io::Error>) {
        let conn = Conn {
            tally: Rc::clone(&self.0),
            archive: SocketArchive::default(),
        };
        let _ = ev.accept(me, conn);
    }
}

struct Conn {
    tally: Rc<RefCell<Tally>>,
    archive: SocketArchive,
}

impl Handler for Conn {
    fn on_receive(&mut self, ev: &mut EventLoop, me: AsyncSocket, _: Option<io::Error>) {
        if self.archive.receive(ev, me).is_err() {
            return;
        }
        // Every whole message; a partial one waits for the next on_receive.
        while let Ok(Some(value)) = self.archive.read_message(|ar| ar.read::<u32>()) {
            let total = {
                let mut tally = self.tally.borrow_mut();
                tally.total += u64::from(value);
                tally.total
            };
            if self.archive.storing().write(&total).is_err() {
                return ev.close(me);
            }
        }
        if self.archive.send(ev, me).is_err() {
            ev.close(me);
        }
    }

    fn on_send(&mut self, ev: &mut EventLoop, me: AsyncSocket, _: Option<io::Error>) {
        if self.archive.send(ev, me).is_err() {
            ev.close(me);
        }
    }

    fn on_close(&mut self, ev: &mut EventLoop, me: AsyncSocket, _: Option<io::Error>) {
        ev.close(me);
        let mut tally = self.tally.borrow_mut();
        tally.left += 1;
        if tally.left == CLIENTS {
            println!("server: every client left; total {}", tally.total);
            ev.stop();
        }
    }
}

/// A client: sends `values`, reads a running total after each.
fn client(port: u16, name: &'static str, values: &'static [u32]) -> io::Result<()> {
    let socket = Socket::create(0)?;
    socket.connect("127.0.0.1", port)?;
    let file = SocketFile::new(socket);
    let mut ar_out = Archive::store(&file);
    let mut ar_in = Archive::load(&file);
    for value in values {
        ar_out.write(value)?;
        ar_out.flush()?;
        let total: u64 = ar_in.read()?;
        println!("{name}: sent {value}, total now {total}");
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let mut ev = EventLoop::new()?;
    let tally = Rc::new(RefCell::new(Tally::default()));
    let builder = Socket::builder().address(Ipv4Addr::LOCALHOST.into());
    let listener = ev.create_with(builder, Events::ALL, Listener(Rc::clone(&tally)))?;
    ev.listen(listener)?;
    let port = ev.local_addr(listener)?.port();
    let clients = [
        ("ann", &[1, 2, 3][..]),
        ("bob", &[10, 20][..]),
        ("cy", &[100][..]),
    ]
    .map(|(name, values)| std::thread::spawn(move || client(port, name, values)));
    ev.run()?;
    for client in clients {
        client.join().expect("client thread")?;
    }
    assert_eq!(tally.borrow().total, 136);
    Ok(())
}
