//! Loopback throughput and latency of archives over a `SocketFile`, against the
//! same bytes sent raw, in the same run; prints the ratios at the end.
//!
//! `cargo bench -p sockarc-socket`
//!
//! - `stream/archive`: 4 Mi `u32`s written one by one through `Archive::store`
//!   and read one by one through `Archive::load` on the other side.
//! - `stream/dword-arrays-64k`: the same 16 MiB as 256 `CDWordArray` bodies of
//!   16 Ki values, written and read a body at a time.
//! - `stream/raw-64k`: the same 16 MiB written with 64 KiB `write_all`s and read
//!   with 64 KiB reads.
//! - `stream/std-bufio-4k`: the same values one by one through std's `BufWriter`
//!   and `BufReader` with 4 KiB buffers (MFC's archive buffer size), for
//!   reference.
//! - `round-trip/archive` and `round-trip/std-net`: a 12-byte message to an echo
//!   thread and back, through archives or through raw `std::net::TcpStream`s.
// Test vectors build lengths and counts that are small by construction.
#![allow(clippy::cast_possible_truncation)]

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use criterion::{Criterion, Throughput};
use sockarc::archive::Archive;
use sockarc::{Socket, SocketFile};

const VALUES: usize = 4 << 20;
const BYTES: usize = VALUES * 4;

fn socket_pair() -> (Socket, Socket) {
    let server = Socket::builder()
        .address([127, 0, 0, 1].into())
        .create()
        .expect("server");
    server.listen().expect("listen");
    let client = Socket::create(0).expect("client");
    client
        .connect("127.0.0.1", server.local_addr().expect("addr").port())
        .expect("connect");
    let accepted = server.accept().expect("accept");
    client.set_nodelay(true).expect("nodelay");
    accepted.set_nodelay(true).expect("nodelay");
    (client, accepted)
}

fn std_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (accepted, _) = listener.accept().expect("accept");
    client.set_nodelay(true).expect("nodelay");
    accepted.set_nodelay(true).expect("nodelay");
    (client, accepted)
}

fn stream(c: &mut Criterion) {
    let (sender, receiver) = socket_pair();
    let (sender, receiver) = (SocketFile::new(sender), SocketFile::new(receiver));
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Bytes(BYTES as u64));
    group.sample_size(20);
    group.bench_function("archive", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut ar = Archive::store(&sender);
                    for i in 0..VALUES as u32 {
                        ar.write(&i).expect("write");
                    }
                    ar.close().expect("close");
                });
                let mut ar = Archive::load(&receiver);
                let mut sum = 0u32;
                for _ in 0..VALUES {
                    sum = sum.wrapping_add(ar.read::<u32>().expect("read"));
                }
                black_box(sum)
            })
        });
    });
    group.bench_function("dword-arrays-64k", |b| {
        // CArray<DWORD>/CDWordArray bodies of 16 Ki values (64 KiB each), as
        // MFC writes them: WriteCount then one Write of the values.
        let values: Vec<u32> = (0..16 * 1024).collect();
        b.iter(|| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut ar = Archive::store(&sender);
                    for _ in 0..BYTES / (64 << 10) {
                        ar.write(&values).expect("write");
                    }
                    ar.close().expect("close");
                });
                let mut ar = Archive::load(&receiver);
                let mut sum = 0u32;
                for _ in 0..BYTES / (64 << 10) {
                    let array: Vec<u32> = ar.read().expect("read");
                    sum = array.iter().fold(sum, |sum, v| sum.wrapping_add(*v));
                }
                black_box(sum)
            })
        });
    });
    group.bench_function("raw-64k", |b| {
        let chunk = vec![7u8; 64 << 10];
        b.iter(|| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    for _ in 0..BYTES / chunk.len() {
                        (&sender).write_all(&chunk).expect("write");
                    }
                });
                let mut buf = vec![0u8; 64 << 10];
                let mut got = 0;
                while got < BYTES {
                    got += (&receiver).read(&mut buf).expect("read");
                }
                black_box(got)
            })
        });
    });
    group.bench_function("std-bufio-4k", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut out = std::io::BufWriter::with_capacity(4096, &sender);
                    for i in 0..VALUES as u32 {
                        out.write_all(&i.to_le_bytes()).expect("write");
                    }
                    out.flush().expect("flush");
                });
                let mut input = std::io::BufReader::with_capacity(4096, &receiver);
                let mut sum = 0u32;
                let mut value = [0u8; 4];
                for _ in 0..VALUES {
                    input.read_exact(&mut value).expect("read");
                    sum = sum.wrapping_add(u32::from_le_bytes(value));
                }
                black_box(sum)
            })
        });
    });
    group.finish();
}

fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("round-trip");

    let (client, server) = socket_pair();
    let echo = std::thread::spawn(move || {
        let file = SocketFile::new(server);
        let (mut ar_in, mut ar_out) = (Archive::load(&file), Archive::store(&file));
        while let Ok(message) = ar_in.read::<[u32; 3]>() {
            ar_out.write(&message).expect("echo");
            ar_out.flush().expect("flush");
        }
    });
    let file = SocketFile::new(client);
    let (mut ar_out, mut ar_in) = (Archive::store(&file), Archive::load(&file));
    group.bench_function("archive", |b| {
        b.iter(|| {
            ar_out.write(&[1u32, 2, 3]).expect("write");
            ar_out.flush().expect("flush");
            black_box(ar_in.read::<[u32; 3]>().expect("read"))
        });
    });
    drop((ar_out, ar_in));
    drop(file);
    echo.join().expect("echo thread");

    let (mut client, mut server) = std_pair();
    let echo = std::thread::spawn(move || {
        let mut message = [0u8; 12];
        while server.read_exact(&mut message).is_ok() {
            server.write_all(&message).expect("echo");
        }
    });
    group.bench_function("std-net", |b| {
        let mut reply = [0u8; 12];
        b.iter(|| {
            client
                .write_all(&[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])
                .expect("write");
            client.read_exact(&mut reply).expect("read");
            black_box(reply)
        });
    });
    drop(client);
    echo.join().expect("echo thread");
    group.finish();
}

/// The median criterion recorded for `group/name` in this run, in nanoseconds.
fn median_ns(group: &str, name: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let text = std::fs::read_to_string(
        dir.join("criterion")
            .join(group)
            .join(name)
            .join("new/estimates.json"),
    )
    .ok()?;
    // {"confidence_interval":…,"median":{…,"point_estimate":N,…},…}
    let median = &text[text.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    value[..value.find([',', '}'])?].trim().parse().ok()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    stream(&mut c);
    round_trip(&mut c);
    c.final_summary();
    if let (Some(archive), Some(raw)) = (
        median_ns("stream", "archive"),
        median_ns("stream", "raw-64k"),
    ) {
        let gib = |ns: f64| BYTES as f64 / ns / 1.073_741_824;
        println!(
            "stream: archive {:.2} GiB/s, raw 64 KiB {:.2} GiB/s, archive/raw = {:.2}",
            gib(archive),
            gib(raw),
            raw / archive
        );
        if let Some(arrays) = median_ns("stream", "dword-arrays-64k") {
            println!(
                "stream: CDWordArray bodies of 64 KiB {:.2} GiB/s, arrays/raw = {:.2}",
                gib(arrays),
                raw / arrays
            );
        }
        if let Some(bufio) = median_ns("stream", "std-bufio-4k") {
            println!(
                "stream: std BufWriter/BufReader 4 KiB {:.2} GiB/s, bufio/raw = {:.2}",
                gib(bufio),
                raw / bufio
            );
        }
    }
    if let (Some(archive), Some(std)) = (
        median_ns("round-trip", "archive"),
        median_ns("round-trip", "std-net"),
    ) {
        println!(
            "round-trip: archive {:.1} µs, std::net {:.1} µs, archive/std = {:.2}x",
            archive / 1e3,
            std / 1e3,
            archive / std
        );
    }
}
