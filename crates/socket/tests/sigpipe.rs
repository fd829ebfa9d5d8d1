//! A send to a peer that has gone is an error, never a SIGPIPE. Alone in its
//! binary: it restores the default SIGPIPE action for the whole process.
//! Unix only: Windows has no SIGPIPE.
#![cfg(unix)]

use std::io::ErrorKind;
use std::time::Duration;

#[test]
fn sending_to_a_closed_peer_is_broken_pipe_not_a_signal() {
    // Rust ignores SIGPIPE at start-up; restore the default (terminate), so a
    // send without MSG_NOSIGNAL would kill this test binary.
    // SAFETY: setting a signal disposition to SIG_DFL is always sound.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let server = sockarc::Socket::builder()
        .address([127, 0, 0, 1].into())
        .create()
        .unwrap();
    server.listen().unwrap();
    let client = sockarc::Socket::create(0).unwrap();
    client
        .connect("127.0.0.1", server.local_addr().unwrap().port())
        .unwrap();
    let accepted = server.accept().unwrap();
    drop(accepted);
    client.set_write_timeout(Some(Duration::from_secs(5)));
    let chunk = [0u8; 64 * 1024];
    let err = (0..1000)
        .find_map(|_| client.send(&chunk).err())
        .expect("a send to a closed peer fails within 64 MB");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
        ),
        "{err}"
    );
}
