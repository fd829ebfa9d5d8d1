//! Spec section 2: CString length forms, the Unicode marker, code pages.

use crate::common::{assert_vector, hex};
use mfc_archive::{code_page, Archive, Cause, Limits, MfcString, Options, StringForm};

fn ansi(len: usize) -> MfcString {
    MfcString::ansi(vec![b'x'; len])
}

fn unicode(len: usize) -> MfcString {
    MfcString::from_utf16(vec![u16::from(b'y'); len])
}

/// The prefix, then the payload the string carries.
fn with_payload(prefix: &str, payload: &[u8]) -> Vec<u8> {
    let mut bytes = hex(prefix);
    bytes.extend_from_slice(payload);
    bytes
}

#[test]
fn spec_table_2_3_short_forms() {
    assert_vector(MfcString::ansi(Vec::new()), &hex("00"));
    assert_vector(MfcString::unicode(""), &hex("FF FE FF 00"));
    assert_vector(MfcString::ansi(*b"abc"), &hex("03 61 62 63"));
    assert_vector(
        MfcString::unicode("abc"),
        &hex("FF FE FF 03 61 00 62 00 63 00"),
    );
}

#[test]
fn spec_table_2_3_every_length_boundary_ansi() {
    for (len, prefix) in [
        (254, "FE"),
        (255, "FF FF 00"),
        (300, "FF 2C 01"),
        (0xFFFD, "FF FD FF"),
        (0xFFFE, "FF FF FF FE FF 00 00"),
        (0xFFFF, "FF FF FF FF FF 00 00"),
        (70000, "FF FF FF 70 11 01 00"),
    ] {
        assert_vector(ansi(len), &with_payload(prefix, &vec![b'x'; len]));
    }
}

#[test]
fn spec_table_2_3_every_length_boundary_unicode() {
    for (len, prefix) in [
        (254, "FF FE FF FE"),
        (255, "FF FE FF FF FF 00"),
        (300, "FF FE FF FF 2C 01"),
        (0xFFFD, "FF FE FF FF FD FF"),
        (0xFFFE, "FF FE FF FF FF FF FE FF 00 00"),
        (70000, "FF FE FF FF FF FF 70 11 01 00"),
    ] {
        assert_vector(unicode(len), &with_payload(prefix, &b"y\0".repeat(len)));
    }
}

#[test]
fn real_strings_from_the_samples() {
    // person.t and mfcclass.hie.
    assert_vector(MfcString::unicode("张三"), &hex("FF FE FF 02 20 5F 09 4E"));
    assert_vector(MfcString::ansi(*b"Arial"), &hex("05 41 72 69 61 6C"));
}

#[test]
fn the_reader_accepts_fffe_after_the_marker_as_a_length() {
    // Writers never produce it, but AfxReadStringLength takes WORD 0xFFFE after
    // the marker as 65534 characters.
    let bytes = with_payload("FF FE FF FF FE FF", &b"z\0".repeat(0xFFFE));
    let s: MfcString = Archive::load(&bytes[..]).read().unwrap();
    assert_eq!(s, MfcString::from_utf16(vec![u16::from(b'z'); 0xFFFE]));
}

#[test]
fn the_64_bit_length_form_is_read_and_checked_against_the_limit() {
    // 2^32 characters (Win64 only): no data follows, so nothing may be allocated.
    let bytes = hex("FF FF FF FF FF FF FF 00 00 00 00 01 00 00 00");
    let err = Archive::load(&bytes[..]).read::<MfcString>().unwrap_err();
    assert!(
        matches!(
            err,
            mfc_archive::Error::LimitExceeded {
                found: 0x1_0000_0000,
                offset: 0,
                ..
            }
        ),
        "{err}"
    );
    let options = Options {
        limits: Limits::unlimited(),
        ..Options::default()
    };
    let err = Archive::load_with(&bytes[..], options)
        .read::<MfcString>()
        .unwrap_err();
    assert_eq!(err.cause(), Cause::EndOfFile, "{err}");
}

#[test]
fn a_string_cut_short_is_end_of_file_with_its_offset() {
    let bytes = hex("01 00 05 61 62");
    let mut ar = Archive::load(&bytes[..]);
    assert_eq!(ar.read::<u16>().unwrap(), 1);
    let err = ar.read::<MfcString>().unwrap_err();
    assert_eq!(err.cause(), Cause::EndOfFile);
    assert_eq!(err.offset(), 2);
    assert!(err.to_string().contains("ANSI string of 5 bytes"), "{err}");
}

#[test]
fn ansi_text_decodes_with_the_archive_code_page() {
    // "张三" in GBK (code page 936) as an MBCS build of MFCexp1's authors wrote it.
    let bytes = hex("04 D5 C5 C8 FD");
    let gbk = Options {
        code_page: code_page(936).unwrap(),
        ..Options::default()
    };
    let s: MfcString = Archive::load_with(&bytes[..], gbk).read().unwrap();
    assert_eq!(s.to_string_lossy(), "张三");
    let text: String = Archive::load_with(&bytes[..], gbk).read().unwrap();
    assert_eq!(text, "张三");
    // Korean (949) and Japanese (932).
    let korean = hex("04 C7 D1 B1 DB");
    let cp949 = Options {
        code_page: code_page(949).unwrap(),
        ..Options::default()
    };
    assert_eq!(
        Archive::load_with(&korean[..], cp949)
            .read::<String>()
            .unwrap(),
        "한글"
    );
    let japanese = hex("04 93 FA 96 7B");
    let cp932 = Options {
        code_page: code_page(932).unwrap(),
        ..Options::default()
    };
    assert_eq!(
        Archive::load_with(&japanese[..], cp932)
            .read::<String>()
            .unwrap(),
        "日本"
    );
    // Windows-1252 by default: 0x80 is the euro sign.
    assert_eq!(
        Archive::load(&hex("01 80")[..]).read::<String>().unwrap(),
        "€"
    );
}

#[test]
fn rust_strings_store_in_the_archive_string_form() {
    assert_eq!(
        crate::common::stored(|ar| ar.write("abc")),
        hex("FF FE FF 03 61 00 62 00 63 00")
    );
    assert_eq!(
        crate::common::stored(|ar| ar.write("张三")),
        hex("FF FE FF 02 20 5F 09 4E")
    );
    let mut out = Vec::new();
    let gbk = Options {
        string_form: StringForm::Ansi,
        code_page: code_page(936).unwrap(),
        ..Options::default()
    };
    let mut ar = Archive::store_with(&mut out, gbk);
    ar.write("张三").unwrap();
    ar.write(&String::from("a")).unwrap();
    ar.close().unwrap();
    assert_eq!(out, hex("04 D5 C5 C8 FD 01 61"));
}

#[test]
fn either_width_loads_into_a_rust_string() {
    let bytes = hex("03 61 62 63 FF FE FF 03 61 00 62 00 63 00");
    let mut ar = Archive::load(&bytes[..]);
    assert_eq!(ar.read::<String>().unwrap(), "abc");
    assert_eq!(ar.read::<String>().unwrap(), "abc");
}

#[test]
fn embedded_nul_and_surrogate_pairs_count_as_stored_characters() {
    assert_vector(MfcString::ansi(*b"a\0b"), &hex("03 61 00 62"));
    // U+1F600 is a surrogate pair: two UTF-16 units.
    assert_vector(MfcString::unicode("😀"), &hex("FF FE FF 02 3D D8 00 DE"));
}

/// Rust text stored as Unicode (widened in the buffer when it fits there, in
/// chunks when not) gives the spec's bytes at every length boundary, with
/// the buffer already part full and at its smallest size.
#[test]
fn rust_text_stores_as_unicode_alike_in_the_buffer_or_past_it() {
    for buffer_size in [0, 4096] {
        for (len, prefix) in [
            (0, "FF FE FF 00"),
            (1, "FF FE FF 01"),
            (61, "FF FE FF 3D"),
            (254, "FF FE FF FE"),
            (255, "FF FE FF FF FF 00"),
            (300, "FF FE FF FF 2C 01"),
            (5000, "FF FE FF FF 88 13"),
        ] {
            for (text, unit) in [
                ("q".repeat(len), &b"q\0"[..]),
                ("é".repeat(len), &b"\xE9\0"[..]),
            ] {
                let out = crate::common::stored_after_a_byte(text.as_str(), buffer_size);
                let mut expected = vec![7];
                expected.extend(with_payload(prefix, &unit.repeat(len)));
                assert_eq!(out, expected, "{len} of {unit:02X?}, buffer {buffer_size}");
            }
        }
    }
}

/// One character outside ASCII anywhere in a Unicode string (a low byte with
/// its high bit set, a high byte alone, both) is decoded as itself, not
/// taken for ASCII, wherever it falls; likewise read into a reused `String`.
#[test]
fn a_non_ascii_unit_anywhere_in_a_unicode_string_is_decoded() {
    let mut reused = String::from("left over from an earlier read");
    for odd in ['é', 'Ā', '三', '\u{7F}', '\u{80}'] {
        for at in 0..40 {
            let text = format!("{}{odd}{}", "a".repeat(at), "b".repeat(39 - at));
            let mut bytes = hex("FF FE FF 28");
            bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            let loaded: String = Archive::load(&bytes[..]).read().unwrap();
            assert_eq!(loaded, text, "{odd:?} at {at}");
            Archive::load(&bytes[..])
                .read_string_into(&mut reused)
                .unwrap();
            assert_eq!(reused, text, "{odd:?} at {at}, read into a String");
        }
    }
}

/// One character outside ASCII anywhere in short Rust text stored as Unicode
/// is stored as itself (the check that takes the text for ASCII is the pass
/// that widens it), at every length up to the spec's one-byte limit.
#[test]
fn a_non_ascii_character_anywhere_in_rust_text_stores_as_itself() {
    for len in [1, 2, 7, 8, 9, 16, 17, 40, 254] {
        for odd in ['é', '\u{80}', '三', '😀'] {
            for at in 0..len {
                let text = format!("{}{odd}{}", "a".repeat(at), "b".repeat(len - 1 - at));
                let units: Vec<u16> = text.encode_utf16().collect();
                let mut expected = hex("FF FE FF");
                let [low, high] = u16::try_from(units.len()).unwrap().to_le_bytes();
                if units.len() < 0xFF {
                    expected.push(low);
                } else {
                    expected.extend([0xFF, low, high]);
                }
                expected.extend(units.iter().flat_map(|unit| unit.to_le_bytes()));
                assert_eq!(
                    crate::common::stored(|ar| ar.write(text.as_str())),
                    expected,
                    "{odd:?} at {at} of {len}"
                );
            }
        }
    }
}

/// An ANSI byte above 0x7F anywhere is decoded in the code page, and ASCII
/// bytes are taken as ASCII only in a code page that maps them to ASCII: in
/// ISO-2022-JP they are escape sequences (spec section 2.3, ANSI strings are
/// in the writer's code page).
#[test]
fn ansi_text_is_taken_for_ascii_only_where_the_code_page_says_so() {
    let mut reused = String::from("left over");
    for at in 0..20 {
        let mut bytes = vec![20];
        bytes.extend(std::iter::repeat_n(b'a', 20));
        bytes[1 + at] = 0x80;
        let text = format!("{}€{}", "a".repeat(at), "a".repeat(19 - at));
        assert_eq!(Archive::load(&bytes[..]).read::<String>().unwrap(), text);
        Archive::load(&bytes[..])
            .read_string_into(&mut reused)
            .unwrap();
        assert_eq!(reused, text, "0x80 at {at}, read into a String");
    }
    // "こ" in ISO-2022-JP: every byte below 0x80.
    let jis = hex("08 1B 24 42 24 33 1B 28 42");
    let iso_2022_jp = Options {
        code_page: encoding_rs::ISO_2022_JP,
        ..Options::default()
    };
    assert_eq!(
        Archive::load_with(&jis[..], iso_2022_jp)
            .read::<String>()
            .unwrap(),
        "こ"
    );
    Archive::load_with(&jis[..], iso_2022_jp)
        .read_string_into(&mut reused)
        .unwrap();
    assert_eq!(reused, "こ");
}
