//! When bytes reach the writer: buffer size, growth, flush, close, abort, drop;
//! and what a loading archive's buffer holds.
// Test vectors build lengths and counts that are small by construction.
#![allow(clippy::cast_possible_truncation)]

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use crate::common::Script;
use mfc_archive::{Archive, Options, DEFAULT_BUFFER_SIZE};

/// A writer that records the size of every write it is given.
#[derive(Clone, Default)]
struct Recorder(Rc<RefCell<Vec<usize>>>);

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().push(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn writes_of(options: Options, bytes: usize) -> Vec<usize> {
    let recorder = Recorder::default();
    let mut ar = Archive::store_with(recorder.clone(), options);
    for i in 0..bytes {
        ar.write(&(i as u8)).unwrap();
    }
    ar.close().unwrap();
    let writes = recorder.0.borrow().clone();
    writes
}

#[test]
fn a_fixed_buffer_sends_every_buffer_size_bytes_as_mfc_does() {
    let mfc = Options {
        max_buffer_size: DEFAULT_BUFFER_SIZE,
        ..Options::default()
    };
    assert_eq!(writes_of(mfc, 20_000), [4096, 4096, 4096, 4096, 3616]);
    let small = Options {
        buffer_size: 10,
        max_buffer_size: 0,
        ..Options::default()
    };
    assert_eq!(
        writes_of(small, 300),
        [128, 128, 44],
        "the minimum buffer is 128 bytes"
    );
}

#[test]
fn a_bulk_stream_grows_the_buffer_after_the_first_one_goes_out() {
    assert_eq!(
        writes_of(Options::default(), 200_000),
        [4096, 8192, 16384, 32768, 65536, 65536, 7488]
    );
}

#[test]
fn flush_sends_what_is_buffered_and_does_not_grow() {
    let recorder = Recorder::default();
    let mut ar = Archive::store(recorder.clone());
    ar.write(&1u32).unwrap();
    assert!(
        recorder.0.borrow().is_empty(),
        "nothing is sent before a flush"
    );
    ar.flush().unwrap();
    ar.write(&[0u8; 5000]).unwrap();
    ar.close().unwrap();
    assert_eq!(*recorder.0.borrow(), [4, 4096, 904]);
}

#[test]
fn abort_drops_what_is_buffered() {
    let mut out = Vec::new();
    let mut ar = Archive::store(&mut out);
    ar.write(&1u32).unwrap();
    ar.abort();
    assert!(out.is_empty());
}

#[test]
fn drop_flushes_unless_told_not_to() {
    let mut out = Vec::new();
    {
        let mut ar = Archive::store(&mut out);
        ar.write(&0x0102u16).unwrap();
    }
    assert_eq!(out, [0x02, 0x01]);
    let mut out = Vec::new();
    {
        let options = Options {
            no_flush_on_drop: true,
            ..Options::default()
        };
        let mut ar = Archive::store_with(&mut out, options);
        ar.write(&0x0102u16).unwrap();
    }
    assert!(out.is_empty());
}

#[test]
fn a_failing_writer_is_reported_by_close() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "gone"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut ar = Archive::store(Broken);
    ar.write(&1u8).unwrap();
    let err = ar.close().unwrap_err();
    assert_eq!((err.cause(), err.offset()), (mfc_archive::Cause::Io, 0));
}

#[test]
fn a_loading_archive_asks_only_until_the_value_is_complete() {
    let bytes = crate::common::hex("78 56 34 12 01 00");
    let mut ar = Archive::load(Script::trickle(&bytes, 1));
    assert_eq!(ar.read::<u32>().unwrap(), 0x1234_5678);
    assert_eq!(
        ar.get_ref().reads,
        4,
        "one byte per read: four reads, no more"
    );
    assert!(ar.is_buffer_empty());
    assert_eq!(ar.read::<u16>().unwrap(), 1);
}

#[test]
fn is_buffer_empty_tells_when_buffered_messages_remain() {
    let bytes = crate::common::hex("01 00 02 00 03 00");
    let mut ar = Archive::load(Script::trickle(&bytes, 6));
    assert!(ar.is_buffer_empty(), "nothing read yet");
    assert_eq!(ar.read::<u16>().unwrap(), 1);
    assert!(
        !ar.is_buffer_empty(),
        "two more messages came in the same read"
    );
    assert_eq!(ar.read::<u16>().unwrap(), 2);
    assert_eq!(ar.read::<u16>().unwrap(), 3);
    assert!(ar.is_buffer_empty());
    assert_eq!(ar.get_ref().reads, 1);
}

#[test]
fn archives_part_way_through_move_to_another_thread() {
    // A storing archive with bytes buffered, and a loading one with bytes
    // received and unread, carry on where they were on the thread they move
    // to (the bytes are the spec's: a WORD, then a DWORD, little-endian).
    let mut store = Archive::store(Vec::new());
    store.write(&0x1234u16).unwrap();
    let out = std::thread::spawn(move || {
        store.write(&0xDEAD_BEEFu32).unwrap();
        store.flush().unwrap();
        store.get_ref().clone()
    })
    .join()
    .unwrap();
    assert_eq!(out, [0x34, 0x12, 0xEF, 0xBE, 0xAD, 0xDE]);

    let mut load = Archive::load(io::Cursor::new(out));
    assert_eq!(load.read::<u16>().unwrap(), 0x1234);
    let rest = std::thread::spawn(move || load.read::<u32>().unwrap())
        .join()
        .unwrap();
    assert_eq!(rest, 0xDEAD_BEEF);
}
