//! Bytes off the network: every length is checked before memory is spent on it,
//! recursion is bounded, and errors say what was expected where.

use std::sync::Arc;

use crate::common::{hex, Script};
use mfc_archive::{Archive, Cause, Error, Limits, MfcString, ObjectRef, Options, Serialize};

#[derive(Debug, Serialize)]
#[mfc(class = "CNode", schema = 1)]
struct Node {
    children: Vec<Option<Arc<Node>>>,
}

#[derive(Debug, Serialize)]
struct Empty;

fn limit_error(err: Error) -> (&'static str, u64) {
    match err {
        Error::LimitExceeded { what, found, .. } => (what, found),
        other => panic!("expected a limit error, got {other}"),
    }
}

#[test]
fn huge_length_prefixes_on_a_ten_byte_input_fail_without_allocating() {
    // 2^32 and 2^63 string lengths, and a 2^32 element count.
    let cases = [
        ("FF FF FF FF FF FF FF 00 00 00 00 01 00 00 00", 1u64 << 32),
        ("FF FF FF FF FF FF FF 00 00 00 00 00 00 00 80", 1 << 63),
    ];
    for (bytes, len) in cases {
        let err = Archive::load(&hex(bytes)[..])
            .read::<MfcString>()
            .unwrap_err();
        assert_eq!(limit_error(err), ("a string length", len));
    }
    let count = hex("FF FF FF FF FF FF 00 00 00 00 01 00 00 00");
    let err = Archive::load(&count[..]).read::<Vec<u8>>().unwrap_err();
    assert_eq!(limit_error(err), ("an element count", 1 << 32));
}

#[test]
fn lengths_under_the_limit_allocate_only_what_arrives() {
    // A string claiming 16 Mi characters, followed by 3 bytes: end of file, and the
    // offset of the string.
    let bytes = hex("FF FF FF 00 00 00 01 61 62 63");
    let options = Options {
        limits: Limits::unlimited(),
        ..Options::default()
    };
    let err = Archive::load_with(&bytes[..], options)
        .read::<MfcString>()
        .unwrap_err();
    assert_eq!((err.cause(), err.offset()), (Cause::EndOfFile, 0));
}

#[test]
fn a_count_of_zero_sized_elements_is_bounded_by_the_count_limit() {
    // Elements that occupy no bytes cannot make a loop run 2^64 times.
    let bytes = hex("FF FF FF FF FF FF FF FF FF FF FF FF FF FF");
    let err = Archive::load(&bytes[..]).read::<Vec<Empty>>().unwrap_err();
    assert_eq!(limit_error(err).0, "an element count");
}

#[test]
fn limits_can_be_lowered_and_raised() {
    let bytes = hex("05 68 65 6C 6C 6F");
    let tight = Options {
        limits: Limits {
            max_string_len: 4,
            ..Limits::default()
        },
        ..Options::default()
    };
    let err = Archive::load_with(&bytes[..], tight)
        .read::<MfcString>()
        .unwrap_err();
    assert_eq!(limit_error(err), ("a string length", 5));
    let loose = Options {
        limits: Limits {
            max_string_len: 5,
            ..Limits::default()
        },
        ..Options::default()
    };
    assert_eq!(
        Archive::load_with(&bytes[..], loose)
            .read::<MfcString>()
            .unwrap()
            .to_string_lossy(),
        "hello"
    );
}

/// `depth` nested nodes: each a new-class or class-reference tag, then a count of
/// one child, innermost with no children.
fn nested_nodes(depth: usize) -> Vec<u8> {
    let mut bytes = hex(r#"FF FF 01 00 05 00 "CNode" 01 00"#);
    for _ in 1..depth {
        bytes.extend_from_slice(&hex("01 80 01 00"));
    }
    let last = bytes.len() - 2;
    bytes[last] = 0;
    bytes
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let bytes = nested_nodes(100_000);
    let err = Archive::load(&bytes[..])
        .read_object_as::<Node>()
        .unwrap_err();
    let (what, found) = limit_error(err);
    assert_eq!((what, found), ("nesting depth", 4097));

    // Within the limit it loads.
    let bytes = nested_nodes(40);
    assert!(Archive::load(&bytes[..])
        .read_object_as::<Node>()
        .unwrap()
        .is_some());
}

#[test]
fn the_object_count_limit_bounds_the_load_array() {
    // 3000 objects of one class in a CObList body.
    let mut bytes = hex(r#"B8 0B FF FF 01 00 05 00 "CNode" 00 00"#);
    for _ in 1..3000 {
        bytes.extend_from_slice(&hex("01 80 00 00"));
    }
    let options = Options {
        limits: Limits {
            max_objects: 1000,
            ..Limits::default()
        },
        ..Options::default()
    };
    let mut ar = Archive::load_with(&bytes[..], options);
    ar.register::<Node>();
    let err = ar.read::<Vec<Option<ObjectRef>>>().unwrap_err();
    assert_eq!(limit_error(err).0, "the number of classes and objects");
    let mut ar = Archive::load(&bytes[..]);
    ar.register::<Node>();
    assert_eq!(ar.read::<Vec<Option<ObjectRef>>>().unwrap().len(), 3000);
}

#[test]
fn a_reference_to_an_object_still_loading_is_bad_index() {
    // Node 2's child list refers to node 2 itself.
    let bytes = hex(r#"FF FF 01 00 05 00 "CNode" 01 00 02 00"#);
    let err = Archive::load(&bytes[..])
        .read_object_as::<Node>()
        .unwrap_err();
    assert_eq!(err.cause(), Cause::BadIndex);
    assert!(err.to_string().contains("still being loaded"), "{err}");
}

#[test]
fn io_errors_keep_their_cause_and_offset() {
    let err = Archive::load(Script::fail_after(
        &[1, 0],
        std::io::ErrorKind::PermissionDenied,
    ))
    .read::<u32>()
    .unwrap_err();
    assert_eq!((err.cause(), err.offset()), (Cause::Io, 2));
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
}

#[test]
fn a_reader_claiming_more_bytes_than_its_room_is_an_error() {
    // `Read` promises `n <= buf.len()`; a reader that breaks it gets an
    // error naming both, not a panic or bytes from past the buffer.
    struct Boastful;
    impl std::io::Read for Boastful {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(7);
            Ok(buf.len() + 1)
        }
    }
    let err = Archive::load(Boastful).read::<u32>().unwrap_err();
    assert_eq!((err.cause(), err.offset()), (Cause::Io, 0));
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(
        io.to_string(),
        "the reader said it read 4097 bytes into room for 4096"
    );
}

#[test]
fn a_reset_inside_a_value_is_end_of_file() {
    for kind in [
        std::io::ErrorKind::ConnectionReset,
        std::io::ErrorKind::ConnectionAborted,
    ] {
        let mut ar = Archive::load(Script::fail_after(&[7, 0, 0x34, 0x12], kind));
        assert_eq!(ar.read::<u16>().unwrap(), 7);
        let err = ar.read::<u32>().unwrap_err();
        assert_eq!((err.cause(), err.offset()), (Cause::EndOfFile, 2));
        assert!(
            err.to_string()
                .contains("the peer reset the connection after 2 of its bytes"),
            "{err}"
        );
    }
}

#[test]
fn a_value_interrupted_by_a_timeout_resumes_where_it_stopped() {
    // One byte, a time-out, then the rest.
    let mut ar = Archive::load(Script::pausing(
        std::io::ErrorKind::TimedOut,
        &[&[0x78], &[0x56, 0x34, 0x12]],
    ));
    let err = ar.read::<u32>().unwrap_err();
    assert_eq!((err.cause(), err.offset()), (Cause::Io, 1));
    assert_eq!(ar.read::<u32>().unwrap(), 0x1234_5678);
}

#[test]
fn errors_convert_to_io_errors_by_kind() {
    let eof: std::io::Error = Archive::load(&[1u8][..]).read::<u16>().unwrap_err().into();
    assert_eq!(eof.kind(), std::io::ErrorKind::UnexpectedEof);
    let bad: std::io::Error = Archive::load(&hex("05 00")[..])
        .read_object()
        .unwrap_err()
        .into();
    assert_eq!(bad.kind(), std::io::ErrorKind::InvalidData);
    assert!(bad.to_string().contains("at byte 0"), "{bad}");
}
