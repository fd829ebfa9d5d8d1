//! The HTTPSVR example against real clients no one here wrote: curl fetches a
//! file byte-identical and gets 404 and 400 where due; Python's urllib runs
//! 2,000 requests from 50 threads without an error (`tests/load/urllib_get.py`).

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Child;
#[cfg(unix)]
use std::process::Command;

/// A running server, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    root: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[cfg(unix)]
fn start(tag: &str, files: &[(&str, &[u8])]) -> Server {
    start_with(tag, files, &[])
}

/// [`start`] with more arguments for the server.
fn start_with(tag: &str, files: &[(&str, &[u8])], more: &[&str]) -> Server {
    let root = std::env::temp_dir().join(format!("sockarc-httpsvr-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(root.join("sub")).unwrap();
    for (name, bytes) in files {
        std::fs::write(root.join(name), bytes).unwrap();
    }
    let args = [
        OsStr::new("--host"),
        OsStr::new("127.0.0.1"),
        OsStr::new("--port"),
        OsStr::new("0"),
        OsStr::new("--root"),
        root.as_os_str(),
    ];
    let args: Vec<&OsStr> = args
        .into_iter()
        .chain(more.iter().map(OsStr::new))
        .collect();
    let (child, port) = crate::common::spawn_example("httpsvr", &args);
    Server { child, port, root }
}

#[cfg(unix)]
fn curl(server: &Server, path: &str) -> (u16, Vec<u8>) {
    let out = Command::new("curl")
        .args([
            "-s",
            "--path-as-is",
            "--max-time",
            "10",
            "-w",
            "\n%{http_code}",
        ])
        .arg(format!("http://127.0.0.1:{}{path}", server.port))
        .output()
        .expect("curl runs");
    let split = out
        .stdout
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("status line");
    let status = std::str::from_utf8(&out.stdout[split + 1..])
        .unwrap()
        .parse()
        .unwrap();
    (status, out.stdout[..split].to_vec())
}

// Unix only: it runs Linux's curl, which a Windows process under Wine cannot start.
#[cfg(unix)]
#[test]
fn curl_fetches_files_identical_and_gets_the_right_errors() {
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let server = start("curl", &[("big.bin", &big), ("hello.txt", b"hello\n")]);
    let (status, body) = curl(&server, "/big.bin");
    assert_eq!(
        (status, body.len()),
        (200, big.len()),
        "status and length of /big.bin"
    );
    assert!(
        body == big,
        "/big.bin differs first at byte {:?}",
        body.iter().zip(&big).position(|(a, b)| a != b)
    );
    assert_eq!(curl(&server, "/hello.txt"), (200, b"hello\n".to_vec()));
    assert_eq!(curl(&server, "/missing.txt").0, 404);
    assert_eq!(curl(&server, "/../../etc/passwd").0, 400);
    let (status, listing) = curl(&server, "/");
    let listing = String::from_utf8(listing).unwrap();
    assert_eq!(status, 200);
    assert!(
        listing.contains("href=\"/hello.txt\"") && listing.contains("href=\"/sub/\""),
        "{listing}"
    );
}

/// Python's urllib: 2,000 GETs from 50 threads, each on a connection of its
/// own, all answered. Before the event loop's read rule was one state machine,
/// a request arriving between its FIONREAD and poll calls was taken for end of
/// stream and reset unread, failing one run in three.
// Unix only: it runs Linux's python3, which a Windows process under Wine cannot start.
#[cfg(unix)]
#[test]
fn urllib_gets_2000_requests_over_50_threads_without_an_error() {
    let server = start("urllib", &[("hello.txt", b"hello\n")]);
    let out = urllib_load(&server, 2000, 50);
    assert!(out.0, "{}", out.1);
}

/// The same load twenty times over: the figure issue 9 asks for. Run with
/// `cargo test --release -p sockarc-socket --test it -- --ignored httpsvr::`.
#[cfg(unix)]
#[test]
#[ignore = "load: 20 runs of 2,000 requests"]
fn urllib_twenty_runs_of_2000_requests_without_an_error() {
    let server = start("urllib20", &[("hello.txt", b"hello\n")]);
    for run in 0..20 {
        let out = urllib_load(&server, 2000, 50);
        assert!(out.0, "run {run}: {}", out.1);
    }
}

/// Runs `tests/load/urllib_get.py` against `server`'s /hello.txt; whether every
/// request succeeded, and the script's report.
#[cfg(unix)]
fn urllib_load(server: &Server, requests: u32, threads: u32) -> (bool, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/load/urllib_get.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(format!("http://127.0.0.1:{}/hello.txt", server.port))
        .arg(requests.to_string())
        .arg(threads.to_string())
        .arg("hello\n")
        .output()
        .expect("python3 runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), report)
}

/// A client that connects and says nothing is closed after the idle timeout.
#[test]
fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let server = start_with("idle", &[], &["--idle-timeout", "0.2"]);
    let mut silent = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    silent
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut silent, &mut rest).expect("closed, not timed out");
    let waited = started.elapsed();
    assert!(rest.is_empty());
    assert!(
        waited >= std::time::Duration::from_millis(150),
        "closed after {waited:?}"
    );
}
