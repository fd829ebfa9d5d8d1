//! A peer that goes away in the middle of an archived value: the reader gets an
//! end-of-file error at once, never a hang.

use std::net::Shutdown;
use std::time::Duration;

use crate::common::connected_pair;
use sockarc::archive::{Archive, Cause, MfcString};
use sockarc::SocketFile;

/// The half of a u32 then (1) a graceful close or (2) a reset.
fn half_a_value_then(reset: bool) -> sockarc::archive::Error {
    let (client, accepted) = connected_pair();
    accepted.set_read_timeout(Some(Duration::from_secs(5)));
    client.send(&[0x78, 0x56]).unwrap();
    if reset {
        // SO_LINGER 0: close sends RST.
        client.set_linger(Some(Duration::ZERO)).unwrap();
    }
    drop(client);
    let file = SocketFile::new(accepted);
    Archive::load(&file).read::<u32>().unwrap_err()
}

#[test]
fn a_close_inside_a_value_is_end_of_file() {
    let err = half_a_value_then(false);
    assert_eq!((err.cause(), err.offset()), (Cause::EndOfFile, 0), "{err}");
    assert!(
        err.to_string()
            .contains("the input ended after 2 of its bytes"),
        "{err}"
    );
}

#[test]
fn a_reset_inside_a_value_is_end_of_file() {
    let err = half_a_value_then(true);
    assert_eq!(err.cause(), Cause::EndOfFile, "{err}");
    assert_eq!(err.offset(), 0);
}

#[test]
fn a_close_inside_a_string_is_end_of_file_at_the_string() {
    let (client, accepted) = connected_pair();
    let file = SocketFile::new(client);
    let mut ar = Archive::store(&file);
    ar.write(&7u16).unwrap();
    ar.flush().unwrap();
    // A 5-byte ANSI string announced, 2 bytes sent, then the write side shut.
    file.socket().send(&[5, b'a', b'b']).unwrap();
    file.socket().shutdown(Shutdown::Write).unwrap();
    let file = SocketFile::new(accepted);
    let mut ar = Archive::load(&file);
    assert_eq!(ar.read::<u16>().unwrap(), 7);
    let err = ar.read::<MfcString>().unwrap_err();
    assert_eq!((err.cause(), err.offset()), (Cause::EndOfFile, 2), "{err}");
}
