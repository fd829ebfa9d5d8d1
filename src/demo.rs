//! `sockarc demo`: MFC's "Windows Sockets: Sequence of Operations", live on
//! loopback, server and client side by side.

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::mpsc::{channel, Sender};

use sockarc::archive::{Archive, Cause, MfcString};
use sockarc::{Socket, SocketFile};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Which column a step goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

const COLUMN: usize = 50;

/// Runs the sequence and prints it; returns when both sides are done.
pub fn run() -> Result<()> {
    println!(
        "sockarc {}: CSocket + CSocketFile + CArchive on loopback\n",
        env!("CARGO_PKG_VERSION")
    );
    println!("{:<COLUMN$}client", "server");
    println!("{:<COLUMN$}------", "------");
    let (tx, rx) = channel::<(Side, String)>();

    let server = Socket::builder()
        .address(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .port(0)
        .create()?;
    let port = server.local_addr()?.port();
    tx.send((
        Side::Server,
        format!("Create({port})  [port chosen by the system]"),
    ))?;
    server.listen()?;
    tx.send((Side::Server, "Listen()".into()))?;

    let server_tx = tx.clone();
    let server_side = std::thread::spawn(move || serve(&server, &server_tx));
    let client_tx = tx;
    let client_side = std::thread::spawn(move || talk(port, &client_tx));

    for (side, step) in rx {
        match side {
            Side::Server => println!("{step}"),
            Side::Client => println!("{:<COLUMN$}{step}", ""),
        }
    }
    let joined = |side: std::thread::Result<Result<()>>| side.map_err(|_| "a side panicked")?;
    joined(server_side.join())?;
    joined(client_side.join())?;
    println!("\nboth sides closed; done");
    Ok(())
}

/// The server: accept, read the client's values, answer, see the close.
fn serve(server: &Socket, say: &Sender<(Side, String)>) -> Result<()> {
    let step = |text: String| say.send((Side::Server, text)).map_err(|e| e.to_string());
    let (conn, peer) = server.accept_from()?;
    step(format!("Accept(conn) <- {peer}"))?;
    let file = SocketFile::new(conn);
    let mut ar_in = Archive::load(&file);
    let mut ar_out = Archive::store(&file);
    step("CSocketFile file(&conn); 2 x CArchive".into())?;

    let word: u32 = ar_in.read()?;
    step(format!("ar >> dw        = {word:#X}"))?;
    let ansi: MfcString = ar_in.read()?;
    step(format!("ar >> strA      = {:?}", ansi.to_string_lossy()))?;
    let wide: MfcString = ar_in.read()?;
    step(format!("ar >> strW      = {:?}", wide.to_string_lossy()))?;
    let count = ar_in.read_count()?;
    let mut sum = 0i64;
    for _ in 0..count {
        sum += i64::from(ar_in.read::<i32>()?);
    }
    step(format!("ar >> {count} ints    sum = {sum}"))?;

    ar_out.write(&(word + 1))?;
    ar_out.write(&MfcString::ansi(
        format!("got {count} ints, sum {sum}").into_bytes(),
    ))?;
    ar_out.flush()?;
    step(format!("ar << {:#X}, reply; Flush()", word + 1))?;

    match ar_in.read::<u8>() {
        Err(e) if e.cause() == Cause::EndOfFile => {
            step("ar >> ... end of file: client closed".into())?;
        }
        Err(e) => return Err(e.into()),
        Ok(extra) => {
            return Err(format!("unexpected byte {extra:#04x} after the conversation").into())
        }
    }
    drop((ar_in, ar_out));
    drop(file);
    step("close".into())?;
    Ok(())
}

/// The client: connect, send values, read the answer, close.
fn talk(port: u16, say: &Sender<(Side, String)>) -> Result<()> {
    let step = |text: String| say.send((Side::Client, text)).map_err(|e| e.to_string());
    let client = Socket::create(0)?;
    step(format!("Create()  [port {}]", client.local_addr()?.port()))?;
    client.connect("127.0.0.1", port)?;
    step(format!("Connect(\"127.0.0.1\", {port})"))?;
    let file = SocketFile::new(client);
    let mut ar_out = Archive::store(&file);
    let mut ar_in = Archive::load(&file);
    step("CSocketFile file(&client); 2 x CArchive".into())?;

    let values = [3, 1, 4, 1, 5, 9, 2, 6];
    ar_out.write(&0xC0FFEEu32)?;
    ar_out.write(&MfcString::ansi(*b"Hello, MFC"))?;
    ar_out.write(&MfcString::unicode("张三"))?;
    ar_out.write_count(values.len() as u64)?;
    for v in values {
        ar_out.write(&v)?;
    }
    let sent = ar_out.offset();
    ar_out.flush()?;
    step(format!("ar << dw, strA, strW, {} ints", values.len()))?;
    step(format!("Flush()  [{sent} bytes sent]"))?;

    let answer: u32 = ar_in.read()?;
    let reply: MfcString = ar_in.read()?;
    step(format!("ar >> {answer:#X}, {:?}", reply.to_string_lossy()))?;
    drop((ar_out, ar_in));
    drop(file);
    step("close".into())?;
    Ok(())
}
