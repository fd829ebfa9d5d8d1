//! An archive over a `SocketFile` with a read time-out: a value whose bytes
//! stop arriving fails with `TimedOut`, and reading it again once they have
//! arrived gives the whole value (archive-over-socket caveats, spec section 4).

use std::io::{ErrorKind, Write};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::connected_pair;
use sockarc::archive::{Archive, Error, MfcString};
use sockarc::SocketFile;

#[test]
fn a_string_cut_by_a_read_time_out_is_read_whole_when_tried_again() {
    let (client, server) = connected_pair();
    server.set_read_timeout(Some(Duration::from_millis(50)));
    // Archive format section 2.3: CStringW "hello" is FF FE FF 05 then UTF-16LE;
    // then a WORD 7.
    let first = [0xFF, 0xFE, 0xFF, 0x05, b'h', 0x00, b'e'];
    let rest = [0x00, b'l', 0x00, b'l', 0x00, b'o', 0x00, 0x07, 0x00];
    let (timed_out, go_on) = mpsc::channel();
    let sender = std::thread::spawn(move || {
        (&client).write_all(&first).expect("send the first bytes");
        go_on.recv().expect("the reader timed out");
        (&client).write_all(&rest).expect("send the rest");
        client
    });

    let file = SocketFile::new(server);
    let mut ar = Archive::load(&file);
    match ar.read::<MfcString>() {
        Err(Error::Io { source, .. }) if source.kind() == ErrorKind::TimedOut => {}
        other => panic!("expected a time-out, got {other:?}"),
    }
    timed_out.send(()).expect("sender waits");
    assert_eq!(
        ar.read::<MfcString>()
            .expect("the string")
            .to_string_lossy(),
        "hello"
    );
    assert_eq!(ar.read::<u16>().expect("the WORD after it"), 7);
    drop(sender.join().expect("sender"));
}
