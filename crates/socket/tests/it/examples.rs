//! The self-contained examples run to the end: each plays both sides on
//! loopback and checks what it got.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs example `name` (at most ten seconds) and returns its standard output.
fn run(name: &str) -> String {
    let mut child = Command::new(crate::common::example(name))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("example {name}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "example {name}: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("example {name} did not finish in 10 s");
        }
        std::thread::park_timeout(Duration::from_millis(20));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    out
}

#[test]
fn tally_adds_what_three_clients_send() {
    let out = run("tally");
    assert!(out.contains("every client left; total 136"), "{out}");
}

#[test]
fn the_sequence_of_operations_and_the_datagram_example_finish() {
    run("sequence");
    run("datagram");
}
