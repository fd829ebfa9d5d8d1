//! MFC's "Windows Sockets: Sequence of Operations" in one program: the server on
//! a thread, the client on the main thread, values through archives both ways.
//!
//! `cargo run -p sockarc-socket --example sequence`

use std::error::Error;

use sockarc::archive::{Archive, MfcString};
use sockarc::{Socket, SocketFile};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

fn main() -> Result<()> {
    // server: Create(nPort) and Listen(); loopback only, port chosen by the system.
    let server = Socket::builder().address([127, 0, 0, 1].into()).create()?;
    server.listen()?;
    let port = server.local_addr()?.port();

    let server_side = std::thread::spawn(move || -> Result<()> {
        let conn: Socket = server.accept()?; // a new Socket: no Create on it
        let file = SocketFile::new(conn);
        let mut ar_in = Archive::load(&file);
        let mut ar_out = Archive::store(&file);
        let v: u32 = ar_in.read()?;
        let name: MfcString = ar_in.read()?;
        println!("server: received {v} and {name}");
        ar_out.write(&(v * 2))?;
        ar_out.flush()?;
        Ok(())
    });

    // client: Create() and Connect().
    let client = Socket::create(0)?;
    client.connect("localhost", port)?;
    let file = SocketFile::new(client);
    let mut ar_out = Archive::store(&file);
    let mut ar_in = Archive::load(&file);
    ar_out.write(&21u32)?;
    ar_out.write(&MfcString::unicode("from the client"))?;
    ar_out.flush()?;
    let doubled: u32 = ar_in.read()?;
    println!("client: the server answered {doubled}");

    server_side
        .join()
        .map_err(|_| "the server thread panicked")??;
    Ok(())
}
