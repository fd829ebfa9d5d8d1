//! Spec section 5: the serializable collections, as bodies and as objects.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::common::{assert_vector, hex, stored};
use mfc_archive::collections::{
    ByteArray, DWordArray, MapStringToOb, MapStringToString, MapWordToOb, StringArray, StringList,
    WordArray,
};
use mfc_archive::{Archive, MfcString, ObjectRef};

fn ansi(text: &str) -> MfcString {
    MfcString::ansi(text.as_bytes().to_vec())
}

#[test]
fn string_arrays_and_lists_are_a_count_then_cstrings() {
    assert_vector(
        vec![ansi("a: x"), ansi("b: y")],
        &hex(r#"02 00 04 "a: x" 04 "b: y""#),
    );
    let list = StringList(vec![ansi("a"), MfcString::unicode("b")]);
    assert_eq!(
        stored(|ar| ar.write(&list)),
        hex(r#"02 00 01 "a" FF FE FF 01 62 00"#)
    );
}

#[test]
fn byte_word_and_dword_arrays_are_raw_elements() {
    assert_eq!(
        stored(|ar| ar.write(&ByteArray(vec![1, 2, 3]))),
        hex("03 00 01 02 03")
    );
    assert_eq!(
        stored(|ar| ar.write(&WordArray(vec![0x1234]))),
        hex("01 00 34 12")
    );
    assert_eq!(
        stored(|ar| ar.write(&DWordArray(vec![7]))),
        hex("01 00 07 00 00 00")
    );
    let back: ByteArray = Archive::load(&hex("03 00 01 02 03")[..]).read().unwrap();
    assert_eq!(back.0, [1, 2, 3]);
}

#[test]
fn maps_are_a_count_then_key_value_pairs() {
    let map = MapStringToString(vec![(ansi("k"), ansi("v")), (ansi("x"), ansi("yz"))]);
    let bytes = hex(r#"02 00 01 "k" 01 "v" 01 "x" 02 "yz""#);
    assert_eq!(stored(|ar| ar.write(&map)), bytes);
    let back: MapStringToString = Archive::load(&bytes[..]).read().unwrap();
    assert_eq!(back.0, map.0, "loaded in stored order");
    // An empty CMap is its count alone (Test.wsp ends with one).
    assert_eq!(
        stored(|ar| ar.write(&MapWordToOb(Vec::new()))),
        hex("00 00")
    );
    let mut sorted = BTreeMap::new();
    sorted.insert(2u16, 20u32);
    sorted.insert(1, 10);
    assert_vector(sorted, &hex("02 00 01 00 0A 00 00 00 02 00 14 00 00 00"));
}

#[test]
fn collections_written_by_pointer_carry_their_class() {
    let array: ObjectRef = Arc::new(StringArray(vec![ansi("s")]));
    let bytes = hex(r#"FF FF 00 00 0C 00 "CStringArray" 01 00 01 "s""#);
    assert_eq!(stored(|ar| ar.write_object(Some(&array))), bytes);
    let back = Archive::load(&bytes[..])
        .read_object_as::<StringArray>()
        .unwrap()
        .unwrap();
    assert_eq!(back.0, [ansi("s")]);
    let map: ObjectRef = Arc::new(MapStringToOb(vec![(ansi("none"), None)]));
    assert_eq!(
        stored(|ar| ar.write_object(Some(&map))),
        hex(r#"FF FF 00 00 0E 00 "CMapStringToOb" 01 00 04 "none" 00 00"#)
    );
}

/// An array body of numbers (spec 5: the count, then the elements, as MFC
/// writes it with one `Write`) gives the same bytes whether it fits in the
/// buffer or not: after a byte that leaves the buffer part full, at the
/// smallest buffer, MFC's, and one that it overruns several times.
#[test]
fn number_array_bodies_store_alike_in_the_buffer_or_past_it() {
    for buffer_size in [0, 16, 4096] {
        for len in [0u32, 3, 1024, 1500, 5000] {
            let values: Vec<u32> = (0..len).map(|i| i.wrapping_mul(0x0101_0103)).collect();
            let out = crate::common::stored_after_a_byte(&values, buffer_size);
            let mut expected = vec![7];
            expected.extend_from_slice(&u16::try_from(len).unwrap().to_le_bytes());
            expected.extend(values.iter().flat_map(|v| v.to_le_bytes()));
            assert_eq!(out, expected, "{len} DWORDs, buffer {buffer_size}");
        }
    }
}
