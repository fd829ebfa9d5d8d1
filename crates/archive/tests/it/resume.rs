//! A value cut short by an error from the reader (a socket's time-out, a
//! non-blocking `WouldBlock`) is undone whole, so reading it again resumes at its
//! start; and `read_message` retries only once the bytes it stopped for are there.
// Test vectors build lengths and counts that are small by construction.
#![allow(clippy::cast_possible_truncation)]

use std::cell::Cell;
use std::io;
use std::sync::Arc;

use crate::common::{hex, Script};
use mfc_archive::{Archive, Error, Limits, MfcString, Options, Serialize};

/// The spec's `CAge` (section 4.7): `IMPLEMENT_SERIAL(CAge, CObject, 1)`.
#[derive(Debug, PartialEq, Serialize)]
#[mfc(class = "CAge", schema = 1)]
struct Age {
    years: i32,
}

fn is_kind(result: Result<impl std::fmt::Debug, Error>, kind: io::ErrorKind) -> bool {
    matches!(result, Err(Error::Io { ref source, .. }) if source.kind() == kind)
}

#[test]
fn a_string_cut_after_its_length_is_read_again_from_its_length() {
    // Section 2.3: CStringW "hello" is FF FE FF, the length 05, then UTF-16LE.
    let bytes = hex(r#"FF FE FF 05 68 00 65 00 6C 00 6C 00 6F 00 01 00"#);
    let mut ar = Archive::load(Script::new(
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
    let mut ar = Archive::load(Script::new(
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
    let mut ar = Archive::load(Script::new(
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
    let reader = Script::new(io::ErrorKind::TimedOut, &[&bytes[..6000], &bytes[6000..]]);
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
    let reader = Script::new(io::ErrorKind::TimedOut, &[&bytes[..600], &bytes[600..]]);
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
    let mut ar = Archive::load(Script::chunks(io::ErrorKind::WouldBlock, &bytes, 100));
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
        Script::chunks(io::ErrorKind::WouldBlock, &bytes, 64),
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
        Script::new(io::ErrorKind::WouldBlock, &[b"\x03abc"]),
        options,
    );
    ar.get_mut().fail_next = Some(io::ErrorKind::WouldBlock);
    assert!(is_kind(ar.read::<MfcString>(), io::ErrorKind::WouldBlock));
    assert_eq!(ar.read::<MfcString>().unwrap().as_ansi(), Some(&b"abc"[..]));
}

/// CPU time this thread has used: the scheduler's nanosecond count on Linux
/// (`/proc/thread-self/schedstat`), else wall-clock time as an upper bound.
fn thread_cpu_time() -> std::time::Duration {
    #[cfg(target_os = "linux")]
    if let Ok(stat) = std::fs::read_to_string("/proc/thread-self/schedstat") {
        if let Some(Ok(ns)) = stat.split_whitespace().next().map(str::parse::<u64>) {
            return std::time::Duration::from_nanos(ns);
        }
    }
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// Feeds `bytes` to `read_message` one byte per call, reading a
/// `Vec<MfcString>`; returns the strings, the parse attempts and the CPU time.
fn drip_strings(bytes: &[u8], max_parses: u32) -> (Vec<MfcString>, u32, std::time::Duration) {
    let mut ar = Archive::load(Script::chunks(io::ErrorKind::WouldBlock, bytes, 1));
    let (parses, calls) = (Cell::new(0u32), Cell::new(0usize));
    let read = |ar: &mut mfc_archive::Loading<'_>| {
        parses.set(parses.get() + 1);
        let arrived = calls.get();
        assert!(
            parses.get() <= max_parses,
            "parse {} with {arrived} of {} bytes arrived",
            parses.get(),
            bytes.len()
        );
        ar.read::<Vec<MfcString>>()
    };
    let cpu = thread_cpu_time();
    let strings = loop {
        calls.set(calls.get() + 1);
        assert!(calls.get() <= bytes.len(), "the message never completed");
        if let Some(strings) = ar.read_message(read).unwrap() {
            break strings;
        }
    };
    let cpu = thread_cpu_time() - cpu;
    assert_eq!(calls.get(), bytes.len(), "one call per byte");
    assert!(ar.is_buffer_empty());
    (strings, parses.get(), cpu)
}

#[test]
fn a_64_kib_message_dripped_one_byte_at_a_time_is_parsed_a_few_times() {
    // A CStringArray body (spec 5): the count 32768 (`00 80`, spec 3), then
    // 32768 ANSI strings "a" (`01 61`, spec 2.3): 65,538 bytes.
    let mut bytes = hex("00 80");
    for _ in 0..32768 {
        bytes.extend_from_slice(&hex("01 61"));
    }
    assert_eq!(bytes.len(), 65_538);
    // Each parse that runs out of bytes knows the rest of the array needs at
    // least a byte per string, so it waits for that many: the strings left
    // halve at each parse (it was one parse per byte).
    let (strings, parses, cpu) = drip_strings(&bytes, 20);
    assert_eq!(strings.len(), 32768);
    assert!(strings.iter().all(|s| s.as_ansi() == Some(&b"a"[..])));
    assert_cpu_under_a_second(cpu);
    eprintln!("{parses} parses, {cpu:?} of CPU");
}

/// A `CStringArray` body of 648 ANSI strings of 100 'x' (spec 2.3 and 5: the
/// count `88 02`, then `64` and the bytes of each): 65,450 bytes.
fn hundred_byte_strings() -> Vec<u8> {
    let mut bytes = hex("88 02");
    for _ in 0..648 {
        bytes.push(0x64);
        bytes.extend_from_slice(&[b'x'; 100]);
    }
    bytes
}

#[test]
fn a_64_kib_message_of_longer_strings_dripped_is_parsed_a_few_hundred_times() {
    // 648 ANSI strings of 100 'x' (`64` then the bytes): 65,450 bytes. A
    // string's length prefix says how long it is, but the strings after it
    // are only known to need a byte each, so parses advance more slowly here:
    // the worst case of the rule (strings of about a hundred bytes).
    let bytes = hundred_byte_strings();
    assert_eq!(bytes.len(), 65_450);
    let (strings, parses, cpu) = drip_strings(&bytes, 300);
    assert_eq!(strings.len(), 648);
    assert!(strings
        .iter()
        .all(|s| s.as_ansi() == Some(&[b'x'; 100][..])));
    assert_cpu_under_a_second(cpu);
    eprintln!("{parses} parses, {cpu:?} of CPU");
}

/// Feeds `bytes` to `read_message` one byte per call and returns what `f`
/// read and after how many calls.
fn drip<T>(
    bytes: &[u8],
    options: Options,
    f: impl Fn(&mut mfc_archive::Loading<'_>) -> mfc_archive::Result<T> + Copy,
) -> (mfc_archive::Result<T>, usize) {
    let mut ar = Archive::load_with(Script::chunks(io::ErrorKind::WouldBlock, bytes, 1), options);
    for calls in 1..=bytes.len() + 1 {
        match ar.read_message(f) {
            Ok(None) => {}
            Ok(Some(value)) => return (Ok(value), calls),
            Err(e) => return (Err(e), calls),
        }
    }
    panic!("no outcome after every byte arrived");
}

#[test]
fn a_minimal_message_dripped_is_read_as_its_last_byte_arrives() {
    // Three empty strings (`03 00`, then `00` each): every byte is the least
    // its value can take, so the message completes exactly at its last byte.
    let bytes = hex("03 00 00 00 00");
    let (strings, calls) = drip(&bytes, Options::default(), |ar| ar.read::<Vec<MfcString>>());
    assert_eq!(strings.unwrap().len(), 3);
    assert_eq!(calls, bytes.len());
    // Nested collections: [[0x1234], []] is `02 00`, `01 00 34 12`, `00 00`.
    let bytes = hex("02 00 01 00 34 12 00 00");
    let (lists, calls) = drip(&bytes, Options::default(), |ar| ar.read::<Vec<Vec<u16>>>());
    assert_eq!(lists.unwrap(), vec![vec![0x1234], vec![]]);
    assert_eq!(calls, bytes.len());
}

#[test]
fn a_count_past_the_message_limit_still_fails_at_the_limit() {
    // 2000 bytes as a `CArray<BYTE>` (`D0 07`, then the bytes) under a
    // 512-byte message limit: the wait is capped at the limit, then the
    // parse meets it.
    let mut bytes = hex("D0 07");
    bytes.extend_from_slice(&[7; 2000]);
    let options = Options {
        limits: Limits {
            max_message_bytes: 512,
            ..Limits::default()
        },
        ..Options::default()
    };
    let (outcome, calls) = drip(&bytes, options, |ar| ar.read::<Vec<u8>>());
    match outcome {
        Err(Error::LimitExceeded { what, limit, .. }) => {
            assert_eq!((what, limit), ("the bytes of one message", 512));
        }
        other => panic!("expected the message limit, got {other:?}"),
    }
    assert!(calls <= 514, "failed after {calls} bytes");
}

/// `read_or_end`: `None` only when the input ends where a value would begin;
/// a value cut short, or a reset at the boundary, is an error.
#[test]
fn read_or_end_tells_a_clean_end_from_a_cut_value_and_a_reset() {
    // archive-format.md: a WORD is two little-endian bytes.
    let whole = hex("34 12 78 56");
    let mut ar = Archive::load(&whole[..]);
    assert_eq!(ar.read_or_end::<u16>().unwrap(), Some(0x1234));
    assert_eq!(ar.read_or_end::<u16>().unwrap(), Some(0x5678));
    assert_eq!(ar.read_or_end::<u16>().unwrap(), None);

    let cut_bytes = hex("34 12 78");
    let mut ar = Archive::load(&cut_bytes[..]);
    assert_eq!(ar.read_or_end::<u16>().unwrap(), Some(0x1234));
    let cut = ar.read_or_end::<u16>().unwrap_err();
    assert!(matches!(cut, Error::EndOfFile { offset: 2, .. }), "{cut:?}");

    // The peer resets where the next value would begin.
    let mut ar = Archive::load(Script::new(
        io::ErrorKind::ConnectionReset,
        &[&hex("34 12")],
    ));
    assert_eq!(ar.read_or_end::<u16>().unwrap(), Some(0x1234));
    let reset = ar.read_or_end::<u16>().unwrap_err();
    assert!(matches!(reset, Error::EndOfFile { .. }), "{reset:?}");
}

/// A `read_message` inside another waits with it: the inner one's "not yet"
/// undoes the outer message too, rather than letting the outer go on with
/// the bytes the inner value should have taken.
#[test]
fn a_nested_read_message_that_must_wait_makes_the_outer_one_wait() {
    // A DWORD 0x12345678 and a WORD 0xABCD, the first two bytes first.
    let mut ar = Archive::load(Script::new(
        io::ErrorKind::WouldBlock,
        &[&hex("78 56"), &hex("34 12 cd ab")],
    ));
    let message = |ar: &mut mfc_archive::Loading<'_>| {
        let inner = ar.read_message(|ar| ar.read::<u32>())?;
        Ok((inner, ar.read::<u16>()?))
    };
    assert_eq!(ar.read_message(message).unwrap(), None, "not yet");
    assert_eq!(
        ar.read_message(message).unwrap(),
        Some((Some(0x1234_5678), 0xABCD)),
        "as a clean read gives"
    );
}

/// `read_raw` past the end fails the same way, and leaves the position in the
/// same place, however the bytes arrived.
#[test]
fn read_raw_at_the_end_fails_alike_for_one_chunk_and_many() {
    // Five bytes for ten, and 90,000 for 100,000 (past the archive's buffer).
    for (have, want) in [(5, 10), (90_000, 100_000)] {
        let bytes: Vec<u8> = (0..have).map(|i| i as u8).collect();
        let outcome = |step: usize| {
            let mut ar = Archive::load(Script::trickle(&bytes, step));
            ar.read::<u8>().unwrap();
            let mut buf = vec![0u8; want];
            let err = ar.read_raw(&mut buf).unwrap_err();
            (err.to_string(), ar.offset())
        };
        let whole = outcome(have);
        for step in [1, 2, 3, 4096, 65536] {
            assert_eq!(outcome(step), whole, "{have} bytes, {step} per read");
        }
    }
}

/// The CPU bound of the drip tests. The Windows run (under Wine, with
/// `-Zbuild-std`) builds the standard library without optimisation, so its
/// CPU time measures that, not this crate; the parse counts, which are the
/// property, are checked everywhere.
fn assert_cpu_under_a_second(cpu: std::time::Duration) {
    if cfg!(not(windows)) {
        assert!(cpu.as_secs_f64() < 1.0, "{cpu:?} of CPU");
    }
}

/// A value read alone from the buffer (a string, a primitive), after a
/// message ran out, makes the next message forget what the last one waited
/// for: the next message here needs one byte, which has arrived, not the
/// four the last one needed.
#[test]
fn a_value_read_alone_clears_what_a_message_waits_for() {
    let mut ar = Archive::load(Script::arrivals());
    // ANSI "hi", then the first byte of a DWORD.
    ar.get_mut().push(&hex(r#"02 "hi" 00"#));
    let message = |ar: &mut mfc_archive::Loading<'_>| Ok((ar.read::<String>()?, ar.read::<u32>()?));
    assert_eq!(ar.read_message(message).unwrap(), None, "the DWORD is cut");
    assert_eq!(ar.read::<String>().unwrap(), "hi");
    assert_eq!(ar.read_message(|ar| ar.read::<u8>()).unwrap(), Some(0));

    let mut ar = Archive::load(Script::arrivals());
    ar.get_mut().push(&hex("01 00 02"));
    let message = |ar: &mut mfc_archive::Loading<'_>| Ok((ar.read::<u16>()?, ar.read::<u32>()?));
    assert_eq!(ar.read_message(message).unwrap(), None, "the DWORD is cut");
    assert_eq!(ar.read::<u16>().unwrap(), 1);
    assert_eq!(ar.read_message(|ar| ar.read::<u8>()).unwrap(), Some(2));
}

thread_local! {
    /// How many `Counted` strings this thread has loaded.
    static LOADS: Cell<u64> = const { Cell::new(0) };
}

/// An ANSI string that counts its loads.
#[derive(Debug)]
struct Counted(MfcString);

impl mfc_archive::Load for Counted {
    fn load(ar: &mut mfc_archive::Loading<'_>) -> mfc_archive::Result<Self> {
        LOADS.with(|n| n.set(n.get() + 1));
        Ok(Counted(ar.read()?))
    }
    const MIN_BYTES: usize = 1;
}

#[test]
fn a_dripped_message_goes_on_from_the_elements_it_had_read() {
    // Issue 10: each retry of read_message parsed the message from its
    // start, so 648 strings of 100 bytes dripped a byte at a time cost
    // ~84,000 string loads (every retry loading every string before the
    // one it stopped in). A retry now goes on from the elements it had
    // read: each string is loaded once, plus once per retry for the string
    // a retry stops in.
    let bytes = hundred_byte_strings();
    LOADS.with(|n| n.set(0));
    let (strings, calls) = drip(&bytes, Options::default(), |ar| ar.read::<Vec<Counted>>());
    let strings = strings.unwrap();
    assert_eq!((strings.len(), calls), (648, bytes.len()));
    assert!(strings
        .iter()
        .all(|s| s.0.as_ansi() == Some(&[b'x'; 100][..])));
    let loads = LOADS.with(Cell::get);
    assert!(loads <= 2 * 648, "{loads} string loads for 648 strings");

    // After an object in the same message (a CObArray by pointer, spec 4.7:
    // `FF FF 00 00 08 00 "CObArray"`, empty), the retry takes that object
    // back as it was, so the strings after it are kept too.
    let mut with_object = hex(r#"FF FF 00 00 08 00 "CObArray" 00 00"#);
    with_object.extend_from_slice(&bytes);
    LOADS.with(|n| n.set(0));
    let (read, calls) = drip(&with_object, Options::default(), |ar| {
        Ok((ar.read_object()?, ar.read::<Vec<Counted>>()?))
    });
    let (array, strings) = read.unwrap();
    assert_eq!(
        (array.map(|a| a.class_name().to_owned()), strings.len()),
        (Some("CObArray".into()), 648)
    );
    assert_eq!(calls, with_object.len());
    let loads = LOADS.with(Cell::get);
    assert!(loads <= 2 * 648, "{loads} string loads after an object");
}

thread_local! {
    /// How many `CCounts` objects this thread has loaded.
    static OBJECT_LOADS: Cell<u64> = const { Cell::new(0) };
}

/// A class that counts its loads: an `int` body.
#[derive(Debug)]
struct Counts(i32);

impl mfc_archive::SerialClass for Counts {
    const CLASS_NAME: &'static str = "CCounts";
    const SCHEMA: u32 = 1;
}

impl mfc_archive::Store for Counts {
    fn store(&self, ar: &mut mfc_archive::Storing<'_>) -> mfc_archive::Result<()> {
        ar.write(&self.0)
    }
}

impl mfc_archive::Load for Counts {
    fn load(ar: &mut mfc_archive::Loading<'_>) -> mfc_archive::Result<Self> {
        OBJECT_LOADS.with(|n| n.set(n.get() + 1));
        Ok(Counts(ar.read()?))
    }
}

#[test]
fn a_dripped_list_of_objects_goes_on_from_the_objects_it_had_read() {
    // A CObList body (spec 4.7): count 600, then objects of class CCounts
    // (`FF FF 01 00 07 00 "CCounts"` once, `01 80` after), each with its
    // int; every third element is a back-reference to the object before it.
    // The retry keeps the objects read and their load-array entries, so the
    // back-references after them still point where they did.
    let mut bytes = hex("58 02");
    let mut objects = 0u16;
    for i in 0..600 {
        if i % 3 == 2 {
            bytes.extend_from_slice(&(objects + 1).to_le_bytes());
            continue;
        }
        if objects == 0 {
            bytes.extend_from_slice(&hex(r#"FF FF 01 00 07 00 "CCounts""#));
        } else {
            bytes.extend_from_slice(&hex("01 80"));
        }
        objects += 1;
        bytes.extend_from_slice(&(1000 + i32::from(objects)).to_le_bytes());
    }
    let read = |ar: &mut mfc_archive::Loading<'_>| {
        ar.register::<Counts>();
        ar.read::<Vec<Option<Arc<Counts>>>>()
    };
    let whole = read(&mut Archive::load(&bytes[..])).unwrap();
    OBJECT_LOADS.with(|n| n.set(0));
    let (dripped, calls) = drip(&bytes, Options::default(), read);
    let dripped = dripped.unwrap();
    assert_eq!(calls, bytes.len());
    let loads = OBJECT_LOADS.with(Cell::get);
    assert!(
        loads <= 2 * u64::from(objects),
        "{loads} loads of {objects} objects"
    );
    // The same values, and the same sharing: element 3k+2 is element 3k+1.
    let values = |list: &[Option<Arc<Counts>>]| {
        list.iter()
            .map(|o| o.as_ref().unwrap().0)
            .collect::<Vec<_>>()
    };
    assert_eq!(values(&dripped), values(&whole));
    for (i, item) in dripped.iter().enumerate().filter(|(i, _)| i % 3 == 2) {
        assert!(
            Arc::ptr_eq(item.as_ref().unwrap(), dripped[i - 1].as_ref().unwrap()),
            "element {i}"
        );
    }
}

/// An object holding a child and a list that refers back to it.
#[derive(Debug, Serialize)]
#[mfc(class = "CHolder", schema = 1)]
struct Holder {
    first: Option<Arc<Counts>>,
    items: Vec<Option<Arc<Counts>>>,
}

#[test]
fn a_dripped_object_holding_a_list_goes_on_inside_its_body() {
    // `FF FF 01 00 07 00 "CHolder"` (class 1, object 2), its first child
    // `FF FF 01 00 07 00 "CCounts"` (class 3, object 4) and int, then a list
    // of 300: new CCounts (`03 80` + int) and, every other one, a
    // back-reference to the first child (`04 00`). The read of the holder
    // itself runs out at every retry; the child and the list go on.
    let mut bytes =
        hex(r#"FF FF 01 00 07 00 "CHolder" FF FF 01 00 07 00 "CCounts" 07 00 00 00 2C 01"#);
    for i in 0..300i32 {
        if i % 2 == 1 {
            bytes.extend_from_slice(&hex("04 00"));
        } else {
            bytes.extend_from_slice(&hex("03 80"));
            bytes.extend_from_slice(&i.to_le_bytes());
        }
    }
    let read = |ar: &mut mfc_archive::Loading<'_>| {
        ar.register::<Counts>();
        ar.register::<Holder>();
        ar.read::<Option<Arc<Holder>>>()
    };
    let whole = read(&mut Archive::load(&bytes[..])).unwrap().unwrap();
    OBJECT_LOADS.with(|n| n.set(0));
    let (dripped, calls) = drip(&bytes, Options::default(), read);
    let dripped = dripped.unwrap().unwrap();
    assert_eq!(calls, bytes.len());
    let loads = OBJECT_LOADS.with(Cell::get);
    assert!(loads <= 2 * 151, "{loads} loads of 151 CCounts");
    let first = dripped.first.as_ref().unwrap();
    let values = |h: &Holder| {
        h.items
            .iter()
            .map(|o| o.as_ref().unwrap().0)
            .collect::<Vec<_>>()
    };
    assert_eq!(values(&dripped), values(&whole));
    for item in dripped.items.iter().skip(1).step_by(2) {
        assert!(
            Arc::ptr_eq(item.as_ref().unwrap(), first),
            "a back-reference to the first child"
        );
    }
}
