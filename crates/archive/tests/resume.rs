//! A value cut short by an error from the reader (a socket's time-out, a
//! non-blocking `WouldBlock`) is undone whole, so reading it again resumes at its
//! start; and `read_message` retries only once the bytes it stopped for are there.

mod common;

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::Arc;

use common::hex;
use mfc_archive::{Archive, Error, Limits, MfcString, Options, Serialize};

/// The spec's `CAge` (section 4.7): `IMPLEMENT_SERIAL(CAge, CObject, 1)`.
#[derive(Debug, PartialEq, Serialize)]
#[mfc(class = "CAge", schema = 1)]
struct Age {
    years: i32,
}

/// Hands out its pieces one read at a time, failing with `kind` between two
/// pieces and once they are all gone; counts the reads.
struct Pieces {
    pieces: VecDeque<Vec<u8>>,
    kind: io::ErrorKind,
    fail_next: bool,
    reads: usize,
}

impl Pieces {
    fn new(kind: io::ErrorKind, pieces: &[&[u8]]) -> Self {
        Pieces {
            pieces: pieces.iter().map(|piece| piece.to_vec()).collect(),
            kind,
            fail_next: false,
            reads: 0,
        }
    }

    /// `bytes` cut into pieces of `size`.
    fn chunks(kind: io::ErrorKind, bytes: &[u8], size: usize) -> Self {
        Pieces::new(kind, &bytes.chunks(size).collect::<Vec<_>>())
    }
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if std::mem::take(&mut self.fail_next) {
            return Err(self.kind.into());
        }
        let Some(piece) = self.pieces.front_mut() else {
            return Err(self.kind.into());
        };
        let n = buf.len().min(piece.len());
        buf[..n].copy_from_slice(&piece[..n]);
        piece.drain(..n);
        if piece.is_empty() {
            self.pieces.pop_front();
            self.fail_next = true;
        }
        Ok(n)
    }
}

fn is_kind(result: Result<impl std::fmt::Debug, Error>, kind: io::ErrorKind) -> bool {
    matches!(result, Err(Error::Io { ref source, .. }) if source.kind() == kind)
}

#[test]
fn a_string_cut_after_its_length_is_read_again_from_its_length() {
    // Section 2.3: CStringW "hello" is FF FE FF, the length 05, then UTF-16LE.
    let bytes = hex(r#"FF FE FF 05 68 00 65 00 6C 00 6C 00 6F 00 01 00"#);
    let mut ar = Archive::load(Pieces::new(
        io::ErrorKind::TimedOut,
        &[&bytes[..6], &bytes[6..]],
    ));
    assert!(is_kind(ar.read::<MfcString>(), io::ErrorKind::TimedOut));
    assert_eq!(ar.offset(), 0, "nothing of the string is consumed");
    assert_eq!(ar.read::<MfcString>().unwrap().to_string_lossy(), "hello");
    assert_eq!(ar.read::<u16>().unwrap(), 1);
}

#[test]
fn a_count_cut_after_its_ff_ff_escape_is_read_again_whole() {
    // Section 3: 70000 is FF FF then the DWORD 70 11 01 00.
    let bytes = hex("FF FF 70 11 01 00");
    let mut ar = Archive::load(Pieces::new(
        io::ErrorKind::WouldBlock,
        &[&bytes[..2], &bytes[2..]],
    ));
    assert!(is_kind(ar.read_count(), io::ErrorKind::WouldBlock));
    assert_eq!(ar.read_count().unwrap(), 70000);
}

#[test]
fn an_object_cut_in_its_body_is_loaded_again_with_the_same_indexes() {
    // Section 4.7, "same object twice": class = 1, the object = 2, then `02 00`.
    let bytes = hex(r#"FF FF 01 00 04 00 "CAge" 15 00 00 00 02 00"#);
    let mut ar = Archive::load(Pieces::new(
        io::ErrorKind::TimedOut,
        &[&bytes[..12], &bytes[12..]],
    ));
    assert!(is_kind(ar.read_object_as::<Age>(), io::ErrorKind::TimedOut));
    let first = ar.read_object_as::<Age>().unwrap().unwrap();
    assert_eq!(*first, Age { years: 21 });
    let again = ar.read_object_as::<Age>().unwrap().unwrap();
    assert!(
        Arc::ptr_eq(&first, &again),
        "02 00 is the object read again"
    );
}

#[test]
fn raw_bytes_longer_than_the_buffer_are_read_again_whole() {
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let options = Options {
        buffer_size: 4096,
        max_buffer_size: 4096,
        ..Options::default()
    };
    let reader = Pieces::new(io::ErrorKind::TimedOut, &[&bytes[..6000], &bytes[6000..]]);
    let mut ar = Archive::load_with(reader, options);
    let mut out = vec![0; bytes.len()];
    assert!(is_kind(ar.read_raw(&mut out), io::ErrorKind::TimedOut));
    assert_eq!(ar.offset(), 0);
    ar.read_raw(&mut out).unwrap();
    assert_eq!(out, bytes);
}

#[test]
fn a_value_too_long_to_undo_leaves_an_error_not_bytes_from_its_middle() {
    // Section 2.3: an ANSI CString of 1000 bytes is FF E8 03 then the bytes.
    let mut bytes = hex("FF E8 03");
    bytes.extend(std::iter::repeat_n(b'x', 1000));
    let options = Options {
        limits: Limits {
            max_message_bytes: 256,
            ..Limits::default()
        },
        ..Options::default()
    };
    let reader = Pieces::new(io::ErrorKind::TimedOut, &[&bytes[..600], &bytes[600..]]);
    let mut ar = Archive::load_with(reader, options);
    assert!(is_kind(ar.read::<MfcString>(), io::ErrorKind::TimedOut));
    let err = ar.read::<MfcString>().unwrap_err();
    assert!(
        matches!(err, Error::Generic { .. })
            && err.to_string().contains("position in the stream is lost"),
        "{err}"
    );
}

#[test]
fn read_message_parses_again_only_when_the_bytes_it_stopped_for_are_there() {
    // One message: an ANSI CString of 3000 bytes (FF B8 0B), arriving 100 bytes
    // at a time with WouldBlock in between.
    let mut bytes = hex("FF B8 0B");
    bytes.extend(std::iter::repeat_n(b'y', 3000));
    let mut ar = Archive::load(Pieces::chunks(io::ErrorKind::WouldBlock, &bytes, 100));
    let parses = Cell::new(0);
    let read = |ar: &mut mfc_archive::Loading<'_>| {
        parses.set(parses.get() + 1);
        ar.read::<MfcString>()
    };
    let mut attempts = 0;
    let message = loop {
        attempts += 1;
        assert!(attempts < 100, "the message never completed");
        if let Some(message) = ar.read_message(read).unwrap() {
            break message;
        }
    };
    assert_eq!(message.as_ansi(), Some(&[b'y'; 3000][..]));
    assert!(attempts > 20, "the pieces arrived over {attempts} attempts");
    assert_eq!(parses.get(), 2, "parsed at the first piece and at the last");
}

#[test]
fn a_message_longer_than_the_limit_is_an_error() {
    let mut bytes = hex("FF E8 03");
    bytes.extend(std::iter::repeat_n(b'z', 1000));
    let options = Options {
        buffer_size: 128,
        limits: Limits {
            max_message_bytes: 512,
            ..Limits::default()
        },
        ..Options::default()
    };
    let mut ar = Archive::load_with(
        Pieces::chunks(io::ErrorKind::WouldBlock, &bytes, 64),
        options,
    );
    let mut outcome = Ok(None);
    for _ in 0..100 {
        outcome = ar.read_message(|ar| ar.read::<MfcString>());
        if !matches!(outcome, Ok(None)) {
            break;
        }
    }
    match outcome {
        Err(Error::LimitExceeded { what, limit, .. }) => {
            assert_eq!((what, limit), ("the bytes of one message", 512));
        }
        other => panic!("expected the message limit, got {other:?}"),
    }
}

#[test]
fn a_time_out_before_any_byte_is_undone_even_with_no_room_to_keep_bytes() {
    let options = Options {
        limits: Limits {
            max_message_bytes: 0,
            ..Limits::default()
        },
        ..Options::default()
    };
    // Section 2.3: ANSI "abc" is 03 then the bytes; nothing has come yet.
    let mut ar = Archive::load_with(
        Pieces::new(io::ErrorKind::WouldBlock, &[b"\x03abc"]),
        options,
    );
    ar.get_mut().fail_next = true;
    assert!(is_kind(ar.read::<MfcString>(), io::ErrorKind::WouldBlock));
    assert_eq!(ar.read::<MfcString>().unwrap().as_ansi(), Some(&b"abc"[..]));
}
