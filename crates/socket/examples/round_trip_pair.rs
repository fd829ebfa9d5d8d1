//! 12-byte round trips on loopback, `Archive` over `SocketFile` against std's
//! `TcpStream`, paired in one process: blocks of round trips alternate between
//! the two, so both see the same machine load, and the median of each is
//! printed with their ratio.
//!
//! ```sh
//! cargo run --release -p sockarc-socket --example round_trip_pair            # 8 blocks of 2,000 each
//! cargo run --release -p sockarc-socket --example round_trip_pair -- 12 2000 # 12 blocks
//! strace -f -c target/release/examples/round_trip_pair 6 2000 archive       # one side only: 12,000 round trips
//! ```
//!
//! Arguments: blocks (default 8), round trips per block (default 2,000), and
//! `archive` or `std` to run one side only (for `strace -c`).

use std::error::Error;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use sockarc::archive::{Archive, LoadArchive, StoreArchive};
use sockarc::{Socket, SocketFile};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// The message: three `u32`s, 12 bytes on the wire.
const MESSAGE: [u32; 3] = [1, 2, 3];

/// Which side a run measures.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Both,
    Archive,
    Std,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let blocks: usize = args.first().map_or(Ok(8), |a| a.parse())?;
    let per_block: u32 = args.get(1).map_or(Ok(2_000), |a| a.parse())?;
    let side = match args.get(2).map(String::as_str) {
        None => Side::Both,
        Some("archive") => Side::Archive,
        Some("std") => Side::Std,
        Some(other) => return Err(format!("side {other}: archive or std").into()),
    };

    let (client, server) = socket_pair()?;
    let echo_archive = std::thread::spawn(move || {
        let file = SocketFile::new(server);
        let (mut ar_in, mut ar_out) = (Archive::load(&file), Archive::store(&file));
        while let Ok(message) = ar_in.read::<[u32; 3]>() {
            if ar_out
                .write(&message)
                .and_then(|()| ar_out.flush())
                .is_err()
            {
                break;
            }
        }
    });
    let file = SocketFile::new(client);
    let (mut ar_out, mut ar_in) = (Archive::store(&file), Archive::load(&file));

    let (mut std_client, mut std_server) = std_pair()?;
    let echo_std = std::thread::spawn(move || {
        let mut message = [0u8; 12];
        while std_server.read_exact(&mut message).is_ok() {
            if std_server.write_all(&message).is_err() {
                break;
            }
        }
    });

    // Warm-up when both run: one short block each, not counted.
    if side == Side::Both {
        archive_block(&mut ar_out, &mut ar_in, per_block / 10 + 1)?;
        std_block(&mut std_client, per_block / 10 + 1)?;
    }
    let (mut archive, mut std) = (Vec::new(), Vec::new());
    for block in 0..blocks {
        // Alternate which goes first, so neither always follows the other.
        let archive_first = block % 2 == 0;
        if archive_first && side != Side::Std {
            archive.push(archive_block(&mut ar_out, &mut ar_in, per_block)?);
        }
        if side != Side::Archive {
            std.push(std_block(&mut std_client, per_block)?);
        }
        if !archive_first && side != Side::Std {
            archive.push(archive_block(&mut ar_out, &mut ar_in, per_block)?);
        }
    }
    drop((ar_out, ar_in, std_client));
    drop(file);
    echo_archive
        .join()
        .map_err(|_| "archive echo thread panicked")?;
    echo_std.join().map_err(|_| "std echo thread panicked")?;

    let show = |name: &str, blocks: &[f64]| {
        let list: Vec<String> = blocks.iter().map(|us| format!("{us:.2}")).collect();
        println!("{name:8} µs per round trip by block: {}", list.join(" "));
    };
    show("archive", &archive);
    show("std", &std);
    match (median(&archive), median(&std)) {
        (Some(a), Some(s)) => println!(
            "median: archive {a:.2} µs, std {s:.2} µs, archive/std = {:.3}x ({blocks} blocks of {per_block})",
            a / s
        ),
        (Some(a), None) => println!("median: archive {a:.2} µs"),
        (None, Some(s)) => println!("median: std {s:.2} µs"),
        (None, None) => println!("no blocks"),
    }
    Ok(())
}

/// `n` round trips through the archives; µs per round trip.
fn archive_block(
    ar_out: &mut StoreArchive<&SocketFile>,
    ar_in: &mut LoadArchive<&SocketFile>,
    n: u32,
) -> Result<f64> {
    let start = Instant::now();
    for _ in 0..n {
        ar_out.write(&MESSAGE)?;
        ar_out.flush()?;
        black_box(ar_in.read::<[u32; 3]>()?);
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(n))
}

/// `n` round trips through std's `TcpStream`; µs per round trip.
fn std_block(stream: &mut TcpStream, n: u32) -> Result<f64> {
    let mut reply = [0u8; 12];
    let start = Instant::now();
    for _ in 0..n {
        stream.write_all(&[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])?;
        stream.read_exact(&mut reply)?;
        black_box(reply);
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(n))
}

/// The median of `values`; `None` for none.
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[mid]),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2.0),
    }
}

fn socket_pair() -> Result<(Socket, Socket)> {
    let server = Socket::builder().address([127, 0, 0, 1].into()).create()?;
    server.listen()?;
    let client = Socket::create(0)?;
    client.connect("127.0.0.1", server.local_addr()?.port())?;
    let accepted = server.accept()?;
    client.set_nodelay(true)?;
    accepted.set_nodelay(true)?;
    Ok((client, accepted))
}

fn std_pair() -> Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (accepted, _) = listener.accept()?;
    client.set_nodelay(true)?;
    accepted.set_nodelay(true)?;
    Ok((client, accepted))
}
