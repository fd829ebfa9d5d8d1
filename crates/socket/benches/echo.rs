//! Echo throughput with 1,000 connections: the `echo` example (one thread, one
//! `EventLoop`) against a tokio echo server (current-thread and 2-worker
//! runtimes), driven by the same load generator in the same run.
//!
//! ```sh
//! cargo build --release -p sockarc-socket --example echo
//! cargo bench -p sockarc-socket --bench echo
//! ```
//!
//! The generator is an `EventLoop` client: every connection sends a 64-byte
//! message, waits for its echo, and sends the next, for a fixed time.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, ErrorKind};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use sockarc::{AsyncSocket, EventLoop, Events, Handler};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CONNECTIONS: usize = 1000;
const MESSAGE: usize = 64;
const RUN: Duration = Duration::from_secs(3);

/// One client connection: send a message, wait for all of its echo, again.
struct PingPong {
    received: usize,
    round_trips: Rc<Cell<u64>>,
}

impl Handler for PingPong {
    fn on_connect(&mut self, ev: &mut EventLoop, s: AsyncSocket, error: Option<io::Error>) {
        if let Some(e) = error {
            panic!("connect: {e}");
        }
        let _ = ev.send(s, &[7u8; MESSAGE]);
    }

    fn on_receive(&mut self, ev: &mut EventLoop, s: AsyncSocket, _: Option<io::Error>) {
        let mut buf = [0u8; 4096];
        match ev.receive(s, &mut buf) {
            Ok(n) if n > 0 => self.received += n,
            Ok(_) => return ev.close(s),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(_) => return ev.close(s),
        }
        while self.received >= MESSAGE {
            self.received -= MESSAGE;
            self.round_trips.set(self.round_trips.get() + 1);
            let _ = ev.send(s, &[7u8; MESSAGE]);
        }
    }
}

/// Round trips per second against the server on `port`.
fn drive(port: u16) -> f64 {
    let mut ev = EventLoop::new().expect("loop");
    let round_trips = Rc::new(Cell::new(0));
    let mut sockets = Vec::new();
    for _ in 0..CONNECTIONS {
        let handler = PingPong {
            received: 0,
            round_trips: Rc::clone(&round_trips),
        };
        let s = ev
            .create(0, Events::CONNECT | Events::READ | Events::CLOSE, handler)
            .expect("create");
        match ev.connect(s, "127.0.0.1", port) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("connect: {e}"),
        }
        sockets.push(s);
    }
    // Warm up, then measure.
    let warm = Instant::now() + Duration::from_millis(500);
    while Instant::now() < warm {
        ev.run_once(Some(Duration::from_millis(10))).expect("run");
    }
    let start_count = round_trips.get();
    let start = Instant::now();
    while start.elapsed() < RUN {
        ev.run_once(Some(Duration::from_millis(10))).expect("run");
    }
    let rate = (round_trips.get() - start_count) as f64 / start.elapsed().as_secs_f64();
    for s in sockets {
        ev.close(s);
    }
    rate
}

/// A tokio echo server on a runtime of `workers` threads (0: current-thread),
/// on a thread of its own for the rest of the run; returns its port.
fn tokio_server(workers: usize) -> u16 {
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = if workers == 0 {
            tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_io()
                .build()
        }
        .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            port_tx
                .send(listener.local_addr().expect("addr").port())
                .expect("port");
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let mut buf = [0u8; 16 * 1024];
                    loop {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => {
                                if conn.write_all(&buf[..n]).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
    });
    port_rx.recv().expect("the tokio server started")
}

fn main() {
    let exe = std::env::current_exe().expect("bench path");
    let echo = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target")
        .join("examples/echo");
    let Ok(mut child) = Command::new(&echo)
        .args(["--host", "127.0.0.1", "--port", "0"])
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!(
            "{} is missing: run `cargo build --release -p sockarc-socket --example echo` first",
            echo.display()
        );
        std::process::exit(2);
    };
    let mut line = String::new();
    BufReader::new(child.stderr.take().expect("stderr"))
        .read_line(&mut line)
        .expect("listening line");
    let port: u16 = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let ours = drive(port);
    let _ = child.kill();
    let _ = child.wait();

    let tokio_single = drive(tokio_server(0));
    let tokio_multi = drive(tokio_server(2));

    println!("echo, {CONNECTIONS} connections, {MESSAGE}-byte messages, {RUN:?} each:");
    println!("  sockarc EventLoop (1 thread)      {ours:>10.0} round trips/s");
    println!("  tokio current-thread              {tokio_single:>10.0} round trips/s  (sockarc/tokio = {:.2})", ours / tokio_single);
    println!("  tokio multi-thread (2 workers)    {tokio_multi:>10.0} round trips/s  (sockarc/tokio = {:.2})", ours / tokio_multi);
}
