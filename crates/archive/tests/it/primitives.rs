//! Spec section 1: every primitive, value -> exact bytes -> value.

use crate::common::{assert_vector, hex};
use mfc_archive::{
    Archive, Bool, OleCurrency, OleDateTime, OleDateTimeSpan, Point, Rect, Size, Time, TimeForm,
    TimeSpan,
};

#[test]
fn primitive_table_of_the_spec() {
    assert_vector(0x41u8, &hex("41"));
    assert_vector(b'M', &hex("4D"));
    assert_vector(true, &hex("01"));
    assert_vector(false, &hex("00"));
    assert_vector(0x1234u16, &hex("34 12"));
    assert_vector(-2i16, &hex("FE FF"));
    assert_vector('é' as u16, &hex("E9 00"));
    assert_vector(0x1234_5678u32, &hex("78 56 34 12"));
    assert_vector(-2i32, &hex("FE FF FF FF"));
    assert_vector(Bool::TRUE, &hex("01 00 00 00"));
    assert_vector(-1i64, &hex("FF FF FF FF FF FF FF FF"));
    assert_vector(0x0102_0304_0506_0708u64, &hex("08 07 06 05 04 03 02 01"));
    assert_vector(1.5f32, &hex("00 00 C0 3F"));
    assert_vector(1.5f64, &hex("00 00 00 00 00 00 F8 3F"));
    assert_vector(Point { x: 1, y: -1 }, &hex("01 00 00 00 FF FF FF FF"));
    assert_vector(Size { cx: 800, cy: 900 }, &hex("20 03 00 00 84 03 00 00"));
    assert_vector(
        Rect {
            left: 10,
            top: 20,
            right: 110,
            bottom: 220,
        },
        &hex("0A 00 00 00 14 00 00 00 6E 00 00 00 DC 00 00 00"),
    );
}

#[test]
fn bool_and_bool_load_any_non_zero_as_true() {
    assert!(Archive::load(&[0x02u8][..]).read::<bool>().unwrap());
    // Any non-zero int is true, and stores back as it was read.
    for bytes in ["00 01 00 00", "FF FF FF FF", "02 00 00 00"] {
        let read = Archive::load(&hex(bytes)[..]).read::<Bool>().unwrap();
        assert!(read.is_true(), "{bytes}");
        assert_vector(read, &hex(bytes));
    }
    assert_vector(Bool::FALSE, &hex("00 00 00 00"));
}

#[test]
fn ctime_is_the_marker_and_64_bits_and_loads_the_legacy_form() {
    // Demo.pad's CTime: 2020-04-18 13:47:42 UTC.
    assert_vector(
        Time::new(1_587_217_662),
        &hex("0A 00 00 80 FE 04 9B 5E 00 00 00 00"),
    );
    // VC6 wrote a bare 32-bit time_t, sign-extended on load.
    let legacy = hex("FE 04 9B 5E FF FF FF FF");
    let mut ar = Archive::load(&legacy[..]);
    let first = ar.read::<Time>().unwrap();
    assert_eq!(
        (first.seconds, first.form),
        (1_587_217_662, TimeForm::Time32)
    );
    let second = ar.read::<Time>().unwrap();
    assert_eq!((second.seconds, second.form), (-1, TimeForm::Time32));
    // Stored back in the form it was read in (issue 14: a VC6 document saved
    // again stays readable by VC6).
    assert_vector(first, &hex("FE 04 9B 5E"));
    assert_vector(second, &hex("FF FF FF FF"));
    // A 32-bit time that does not fit, or that would read as the marker, is refused.
    for seconds in [1_i64 << 32, i64::from(0x8000_000A_u32 as i32)] {
        let time = Time {
            seconds,
            form: TimeForm::Time32,
        };
        let mut out = Vec::new();
        let mut ar = Archive::store(&mut out);
        assert!(ar.write(&time).is_err(), "{seconds}");
    }
    assert_eq!(
        Time::new(1_587_217_662).to_system_time(),
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_587_217_662)
    );
}

#[test]
fn ctimespan_is_one_dword_sign_extended() {
    assert_vector(TimeSpan(90), &hex("5A 00 00 00"));
    assert_vector(TimeSpan(-1), &hex("FF FF FF FF"));
    let mut out = Vec::new();
    let err = Archive::store(&mut out)
        .write(&TimeSpan(1 << 32))
        .unwrap_err();
    assert_eq!(err.cause(), mfc_archive::Cause::Generic);
    assert!(err.to_string().contains("fits a DWORD"), "{err}");
}

#[test]
fn ole_types_are_status_then_value() {
    // 2.5 days after 1899-12-30 = 1900-01-01 12:00.
    assert_vector(
        OleDateTime {
            status: 0,
            date: 2.5,
        },
        &hex("00 00 00 00 00 00 00 00 00 00 04 40"),
    );
    assert_vector(
        OleDateTimeSpan {
            status: 2,
            span: -1.0,
        },
        &hex("02 00 00 00 00 00 00 00 00 00 F0 BF"),
    );
    // CY 0x0000000100000002: status, Hi LONG, Lo DWORD.
    assert_vector(
        OleCurrency {
            status: 0,
            value: 0x1_0000_0002,
        },
        &hex("00 00 00 00 01 00 00 00 02 00 00 00"),
    );
}

#[test]
fn raw_bytes_pass_untouched_and_read_raw_requires_all_of_them() {
    let bytes = crate::common::stored(|ar| ar.write_raw(b"JwwData."));
    assert_eq!(bytes, b"JwwData.");
    let mut buf = [0u8; 8];
    Archive::load(&bytes[..]).read_raw(&mut buf).unwrap();
    assert_eq!(&buf, b"JwwData.");
    let err = Archive::load(&bytes[..5]).read_raw(&mut buf).unwrap_err();
    assert_eq!(err.cause(), mfc_archive::Cause::EndOfFile);
    assert_eq!(err.offset(), 0);
}

#[test]
fn raw_blocks_larger_than_the_buffer_keep_their_order() {
    let big: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let bytes = crate::common::stored(|ar| {
        ar.write(&7u8)?;
        ar.write_raw(&big)?;
        ar.write(&9u8)
    });
    assert_eq!(bytes.len(), 10_002);
    assert_eq!(
        (bytes[0], &bytes[1..10_001], bytes[10_001]),
        (7, &big[..], 9)
    );
    let mut ar = Archive::load(&bytes[..]);
    let mut back = vec![0u8; big.len()];
    assert_eq!(ar.read::<u8>().unwrap(), 7);
    ar.read_raw(&mut back).unwrap();
    assert_eq!(ar.read::<u8>().unwrap(), 9);
    assert_eq!(back, big);
}
