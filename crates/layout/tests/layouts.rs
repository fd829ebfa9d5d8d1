//! The layout path on bytes from the format spec (`archive-format.md` §2.3,
//! §4.7) and on every JSON form a value can take: each table row is bytes ->
//! JSON -> the same bytes, and each error names the layout line, the byte
//! offset or the JSON path.

use mfc_layout::{Error, Layout};
use serde_json::{json, Value};

fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|pair| u8::from_str_radix(pair, 16).expect("hex"))
        .collect()
}

/// A layout whose document is one field of `ty` (a TOML inline-table body).
fn one_field(strings: &str, ty: &str, classes: &str) -> Layout {
    let text = format!(
        "strings = \"{strings}\"\ncode_page = 932\ndocument = [ {{ name = \"v\", {ty} }} ]\n{classes}"
    );
    Layout::parse(&text, "test.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Decodes `bytes`, checks the JSON, and checks that encoding it gives the
/// bytes back.
fn round_trip(layout: &Layout, bytes: &[u8], expected: &Value) {
    let json = layout
        .decode(bytes)
        .unwrap_or_else(|e| panic!("{bytes:02X?}: {e}"));
    assert_eq!(&json["v"], expected, "{bytes:02X?}");
    assert_eq!(layout.encode(&json).expect("encodes"), bytes, "{json}");
    // The streaming writer gives the same JSON, compact and pretty (what
    // `sockarc decode` prints).
    for pretty in [false, true] {
        let mut text = Vec::new();
        layout
            .decode_to_writer(bytes, &mut text, pretty)
            .expect("writes");
        assert_eq!(serde_json::from_slice::<Value>(&text).unwrap(), json);
    }
}

const CAGE: &str =
    "[classes.CAge]\nschema = 1\nfields = [ { name = \"years\", type = \"LONG\" } ]\n";

#[test]
fn every_value_form_comes_back_as_its_bytes() {
    let rows: &[(&str, &str, &str, Value)] = &[
        // Win32 BOOL: 0 and 1 as JSON booleans, anything else as its int.
        ("ansi", "type = \"BOOL\"", "01 00 00 00", json!(true)),
        ("ansi", "type = \"BOOL\"", "00 00 00 00", json!(false)),
        ("ansi", "type = \"BOOL\"", "02 00 00 00", json!(2)),
        ("ansi", "type = \"bool\"", "02", json!(2)),
        // A char: printable ASCII as a string, anything else as its number.
        ("ansi", "type = \"char\"", "4D", json!("M")),
        ("ansi", "type = \"char\"", "FF", json!(-1)),
        ("ansi", "type = \"WORD\"", "34 12", json!(0x1234)),
        ("ansi", "type = \"short\"", "FF FF", json!(-1)),
        (
            "ansi",
            "type = \"ULONGLONG\"",
            "FF FF FF FF FF FF FF FF",
            json!(u64::MAX),
        ),
        ("ansi", "type = \"float\"", "CD CC CC 3D", json!(0.1)),
        (
            "ansi",
            "type = \"float\"",
            "01 00 C0 7F",
            json!({ "bits": 0x7FC0_0001_u32 }),
        ),
        (
            "ansi",
            "type = \"double\"",
            "00 00 00 00 00 00 F0 7F",
            json!({ "bits": 0x7FF0_0000_0000_0000_u64 }),
        ),
        (
            "ansi",
            "type = \"WriteCount\"",
            "FF FF 70 11 01 00",
            json!(70000),
        ),
        // CTime: the 64-bit form plain, the VC6 form marked, and the other
        // way round for a layout that says CTime32.
        (
            "ansi",
            "type = \"CTime\"",
            "0A 00 00 80 FE 04 9B 5E 00 00 00 00",
            json!(1_587_217_662),
        ),
        (
            "ansi",
            "type = \"CTime\"",
            "FE 04 9B 5E",
            json!({ "time32": 1_587_217_662 }),
        ),
        (
            "ansi",
            "type = \"CTime32\"",
            "FE 04 9B 5E",
            json!(1_587_217_662),
        ),
        (
            "ansi",
            "type = \"CTime32\"",
            "0A 00 00 80 FF FF FF FF FF FF FF FF",
            json!({ "time64": -1 }),
        ),
        // CString (spec 2.3): the layout's width plain, the other width marked,
        // bytes that are not text as their units.
        ("ansi", "type = \"CString\"", "03 61 62 63", json!("abc")),
        ("ansi", "type = \"CString\"", "00", json!("")),
        (
            "ansi",
            "type = \"CString\"",
            "FF FE FF 03 61 00 62 00 63 00",
            json!({ "unicode": "abc" }),
        ),
        (
            "unicode",
            "type = \"CString\"",
            "FF FE FF 02 20 5F 09 4E",
            json!("张三"),
        ),
        (
            "unicode",
            "type = \"CString\"",
            "03 61 62 63",
            json!({ "ansi": "abc" }),
        ),
        (
            "unicode",
            "type = \"CString\"",
            "FF FE FF 01 00 D8",
            json!({ "utf16": [0xD800] }),
        ),
        // Code page 932 (Shift_JIS): 82 A0 is あ; 81 FF is no character.
        ("ansi", "type = \"CString\"", "02 82 A0", json!("あ")),
        (
            "ansi",
            "type = \"CString\"",
            "02 81 FF",
            json!({ "ansi_hex": "81 FF" }),
        ),
        (
            "ansi",
            "type = \"bytes\", size = 3",
            "00 7F FF",
            json!("00 7F FF"),
        ),
        (
            "ansi",
            "type = \"CByteArray\"",
            "02 00 AB CD",
            json!("AB CD"),
        ),
        (
            "ansi",
            "type = \"CDWordArray\"",
            "02 00 01 00 00 00 02 00 00 00",
            json!([1, 2]),
        ),
        (
            "ansi",
            "type = \"array\", count = \"DWORD\", of = \"WORD\"",
            "01 00 00 00 07 00",
            json!([7]),
        ),
        (
            "ansi",
            "type = \"CRect\"",
            "0A 00 00 00 14 00 00 00 6E 00 00 00 DC 00 00 00",
            json!({ "left": 10, "top": 20, "right": 110, "bottom": 220 }),
        ),
        (
            "ansi",
            "type = \"CMapStringToString\"",
            "01 00 01 6B 01 76",
            json!([["k", "v"]]),
        ),
    ];
    for (strings, ty, bytes, expected) in rows {
        round_trip(&one_field(strings, ty, ""), &hex(bytes), expected);
    }
}

#[test]
fn shared_objects_are_references_and_come_back_as_back_references() {
    // Spec 4.7: CObArray {a1, NULL, a1, a2} via arr.Serialize(ar).
    let layout = one_field("ansi", "type = \"CObArray\", of = \"CAge\"", CAGE);
    let bytes =
        hex("04 00 FF FF 01 00 04 00 43 41 67 65 15 00 00 00 00 00 02 00 01 80 28 00 00 00");
    round_trip(
        &layout,
        &bytes,
        &json!([
            { "$class": "CAge", "$schema": 1, "$index": 2, "years": 21 },
            null,
            { "$ref": 2 },
            { "$class": "CAge", "$schema": 1, "$index": 3, "years": 40 },
        ]),
    );
    // Spec 4.7: ar << &arr, the array itself by pointer: CAge = 3, a1 = 4, a2 = 5.
    let layout = one_field("ansi", "type = \"object\", class = \"CObArray\"", CAGE);
    let bytes = hex(
        "FF FF 00 00 08 00 43 4F 62 41 72 72 61 79 04 00 FF FF 01 00 04 00 43 41 67 65 \
         15 00 00 00 00 00 04 00 03 80 28 00 00 00",
    );
    round_trip(
        &layout,
        &bytes,
        &json!({ "$class": "CObArray", "$schema": 0, "$index": 2, "items": [
            { "$class": "CAge", "$schema": 1, "$index": 4, "years": 21 },
            null,
            { "$ref": 4 },
            { "$class": "CAge", "$schema": 1, "$index": 5, "years": 40 },
        ] }),
    );
}

#[test]
fn schemas_select_fields() {
    // Scribble's CStroke: schema 2 added a bounding rectangle before the pen.
    let classes = "[classes.CStroke]\nschema = [2, 1]\nfields = [\n\
        { name = \"bounds\", type = \"CRect\", if = \"schema >= 2\" },\n\
        { name = \"pen\", type = \"WORD\" },\n]\n";
    let layout = one_field("ansi", "type = \"object\", class = \"CStroke\"", classes);
    let step1 = hex("FF FF 01 00 07 00 43 53 74 72 6F 6B 65 02 00");
    round_trip(
        &layout,
        &step1,
        &json!({ "$class": "CStroke", "$schema": 1, "$index": 2, "pen": 2 }),
    );
    let step5 = hex(
        "FF FF 02 00 07 00 43 53 74 72 6F 6B 65 01 00 00 00 02 00 00 00 03 00 00 00 04 00 00 00 02 00",
    );
    round_trip(
        &layout,
        &step5,
        &json!({ "$class": "CStroke", "$schema": 2, "$index": 2,
                 "bounds": { "left": 1, "top": 2, "right": 3, "bottom": 4 }, "pen": 2 }),
    );
    // A class tag alone (WriteClass) with a schema the layout does not list
    // is refused too (found by the layout_round_trip fuzz target: it decoded,
    // and its JSON could not be encoded).
    let tag_then_body = Layout::parse(
        &format!(
            "document = [\n {{ name = \"c\", type = \"class\" }},\n {{ name = \"b\", type = \"body\", class_from = \"c\" }},\n]\n{CAGE}"
        ),
        "test.toml",
    )
    .unwrap();
    let schema_5 = hex("FF FF 05 00 04 00 43 41 67 65 15 00 00 00");
    let error = tag_then_body.decode(&schema_5).unwrap_err().to_string();
    assert!(
        error.contains("bad schema for class CAge at byte 0: expected schema 1, found 5"),
        "{error}"
    );
    let schema_1 = hex("FF FF 01 00 04 00 43 41 67 65 15 00 00 00");
    let json = tag_then_body.decode(&schema_1).unwrap();
    assert_eq!(tag_then_body.encode(&json).unwrap(), schema_1);
    // A schema the layout does not list is refused, naming the class.
    let step9 = hex("FF FF 09 00 07 00 43 53 74 72 6F 6B 65 02 00");
    let error = layout.decode(&step9).unwrap_err().to_string();
    assert!(
        error.contains("bad schema for class CStroke") && error.contains("found 9"),
        "{error}"
    );
}

#[test]
fn a_decode_error_names_the_layout_line_the_field_and_the_byte() {
    let layout = Layout::parse(
        "strings = \"ansi\"\n\
         document = [ { name = \"students\", type = \"CObList\", of = \"CStudent\" } ]\n\
         [classes.CStudent]\n\
         fields = [\n\
           { name = \"name\", type = \"CString\" },\n\
           { name = \"grade\", type = \"int\" },\n\
         ]\n",
        "students.toml",
    )
    .unwrap();
    // test.16a's first student with the grade cut to two bytes.
    let mut bytes = hex("01 00 FF FF 00 00 08 00 43 53 74 75 64 65 6E 74 03 4C 6F 6E");
    bytes.extend([0x43, 0x00]);
    let error = layout.decode(&bytes).unwrap_err();
    assert!(
        matches!(&error, Error::Decode { line: 6, field, .. } if field == "CStudent.grade"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with("students.toml:6: field CStudent.grade: end of file at byte 20"),
        "{message}"
    );
    // A field of a struct is named by the struct.
    let layout = Layout::parse(
        "document = [ { name = \"p\", type = \"Pair\" } ]\n\
         [structs.Pair]\nfields = [\n { name = \"x\", type = \"int\" },\n]\n",
        "pair.toml",
    )
    .unwrap();
    let error = layout.decode(&hex("01 00")).unwrap_err().to_string();
    assert!(
        error.starts_with("pair.toml:4: field Pair.x: end of file at byte 0"),
        "{error}"
    );
    // Bytes after the last field.
    let mut longer = bytes.clone();
    longer.extend([0, 0, 0xEE]);
    let error = layout.decode(&longer).unwrap_err().to_string();
    assert!(error.contains("expected the end of the input"), "{error}");
}

#[test]
fn layout_errors_name_their_line() {
    let cases: &[(&str, &str)] = &[
        ("document = [\n { name = \"a\", type = \"DWROD\" },\n]", "test.toml:2: unknown type \"DWROD\""),
        (
            "document = [\n { name = \"a\", type = \"array\", count = \"n\", of = \"WORD\" },\n { name = \"n\", type = \"WORD\" },\n]",
            "test.toml:2: count: expected WORD, DWORD, WriteCount or an earlier field",
        ),
        ("document = [\n { name = \"a\", type = \"WORD\", if = \"schema == 1\" },\n]", "test.toml:2: if: schema exists only in a class"),
        ("document = [\n { name = \"a\", type = \"WORD\" },\n { name = \"a\", type = \"WORD\" },\n]", "test.toml:3: field a is declared twice"),
        ("document = [\n { name = \"a\", type = \"CAge\" },\n]\n[classes.CAge]\nfields = []", "test.toml:2: CAge is a class"),
        ("document = [\n { name = \"a\", type = \"object\", class = \"CNope\" },\n]", "test.toml:2: class CNope is not in the layout"),
        ("document = [\n { name = \"a\", type = \"array\", count = \"DWORD\", of = { type = \"bytes\", size = 0 } },\n]", "test.toml:2: of: an element type that can take no bytes"),
        ("document = [\n { name = \"a\", typ = \"WORD\" },\n]", "test.toml:2: unknown field `typ`"),
        ("strings = \"utf8\"\ndocument = []", "test.toml:1: expected strings = \"ansi\" or \"unicode\""),
        (
            "document = [\n { name = \"a\", type = \"array\", count = \"DWORD\", of = { type = \"body\", class = \"CEmpty\" } },\n]\n\
             [classes.CEmpty]\nfields = [ { name = \"x\", type = \"WORD\", if = \"schema > 5\" } ]",
            "test.toml:2: of: an element type that can take no bytes (a class body",
        ),
    ];
    for (text, expected) in cases {
        let error = Layout::parse(text, "test.toml").unwrap_err().to_string();
        assert!(error.starts_with(expected), "{text}\n{error}");
    }
}

#[test]
fn json_that_does_not_fit_is_refused_with_its_path() {
    let layout = Layout::parse(
        "document = [\n\
           { name = \"n\", type = \"int\" },\n\
           { name = \"items\", type = \"array\", count = \"n\", of = \"WORD\" },\n\
           { name = \"who\", type = \"object\", class = \"CAge\" },\n\
         ]\n[classes.CAge]\nschema = 1\nfields = [ { name = \"years\", type = \"LONG\" } ]\n",
        "test.toml",
    )
    .unwrap();
    let cases = [
        (
            json!({ "n": 2, "items": [1], "who": null }),
            "$.items: expected 2 elements (field n), found 1",
        ),
        (
            json!({ "n": 1, "items": [70000], "who": null }),
            "$.items[0]: expected a WORD (0 to 65535), found 70000",
        ),
        (
            json!({ "n": 0, "items": [], "who": { "$ref": 2 } }),
            "$.who: $ref 2 is no object given whole before it",
        ),
        (
            json!({ "n": 0, "items": [], "who": { "$class": "CAge", "$schema": 3, "years": 1 } }),
            "$.who: class CAge has no schema 3",
        ),
        (
            json!({ "n": 0, "items": [], "who": { "$class": "CAge" } }),
            "$.who.years: expected this field",
        ),
        (
            json!({ "n": 0, "items": [], "who": null, "extra": 1 }),
            "$: field \"extra\" is not in the layout here",
        ),
    ];
    for (json, expected) in cases {
        let error = layout.encode(&json).unwrap_err().to_string();
        assert!(error.starts_with(expected), "{json}\n{error}");
    }
    // What fits is written: a count field and its array, a null pointer.
    let bytes = layout
        .encode(&json!({ "n": 1, "items": [7], "who": null }))
        .unwrap();
    assert_eq!(bytes, hex("01 00 00 00 07 00 00 00"));
}

#[test]
fn hostile_counts_cost_an_error_not_memory() {
    // A WriteCount of 2^32 - 2 (FF FF then FF FF FF FF is the 64-bit form's
    // marker; FE FF FF FF is the DWORD form) before a handful of bytes.
    let layout = one_field("ansi", "type = \"CDWordArray\"", "");
    let error = layout
        .decode(&hex("FF FF FE FF FF FF 01 00"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("limit exceeded at byte 0"), "{error}");
    // Raw bytes under the count limit but past the input: read in steps, so
    // the claim costs nothing before the bytes come, and ends at end of file.
    let layout = one_field("ansi", "type = \"bytes\", count = \"DWORD\"", "");
    let error = layout
        .decode(&hex("FF FF FF 00 01 02 03"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("end of file"), "{error}");
}

#[test]
fn a_decode_error_keeps_the_archive_error_as_its_source() {
    use std::error::Error as _;
    let layout = one_field("ansi", "type = \"DWORD\"", "");
    let error = layout.decode(&hex("01 02")).unwrap_err();
    let source = error.source().expect("a cause");
    let archive = source
        .downcast_ref::<mfc_archive::Error>()
        .expect("the archive's error");
    assert_eq!(
        (archive.cause(), archive.offset()),
        (mfc_archive::Cause::EndOfFile, 0)
    );
}

#[test]
fn a_body_that_holds_its_own_class_nests_no_deeper_than_the_limit() {
    // A linked list written as bodies: a WORD, then, unless it is 0, the
    // next node's body. 100,000 nodes is past max_depth (4,096 by default):
    // the decode stops there with an error instead of exhausting the stack.
    let classes = "[classes.CNode]\nfields = [ { name = \"more\", type = \"WORD\" }, \
        { name = \"next\", type = \"body\", class = \"CNode\", if = \"more != 0\" } ]\n";
    let layout = one_field("ansi", "type = \"body\", class = \"CNode\"", classes);
    let mut bytes = hex("01 00").repeat(100_000);
    bytes.extend_from_slice(&hex("00 00"));
    let error = layout.decode(&bytes).unwrap_err().to_string();
    assert!(error.contains("nesting depth"), "{error}");
    // Within the limit, the nodes come back.
    let json = layout.decode(&hex("01 00 01 00 00 00")).unwrap();
    assert_eq!(json["v"]["next"]["next"]["more"], json!(0));
}

#[test]
fn hostile_layouts_are_read_without_overflow() {
    // A class whose array elements are its own bodies: its fewest bytes are
    // the count's, worked out once.
    let classes = "[classes.CA]\nfields = [ { name = \"items\", type = \"array\", \
        count = \"WORD\", of = { type = \"body\", class = \"CA\" } } ]\n";
    let layout = one_field("ansi", "type = \"body\", class = \"CA\"", classes);
    assert_eq!(
        layout.decode(&hex("00 00")).unwrap()["v"]["items"],
        json!([])
    );
    // 20,000 classes, each an array of the next one's bodies: deeper than
    // the stack holds frame by frame.
    let mut chain = String::new();
    for i in 0..20_000 {
        chain.push_str(&format!(
            "[classes.C{i}]\nfields = [ {{ name = \"items\", type = \"array\", count = \"WORD\", \
             of = {{ type = \"body\", class = \"C{}\" }} }} ]\n",
            i + 1
        ));
    }
    chain.push_str("[classes.C20000]\nfields = [ { name = \"x\", type = \"BYTE\" } ]\n");
    let layout = one_field("ansi", "type = \"body\", class = \"C0\"", &chain);
    assert_eq!(
        layout.decode(&hex("00 00")).unwrap()["v"]["items"],
        json!([])
    );
    // Sizes past u64 saturate rather than overflow: three fields of 2^63 - 1
    // bytes (TOML's largest integer) in an array's element.
    let big = "[structs.Big]\nfields = [ \
        { name = \"a\", type = \"bytes\", size = 9223372036854775807 }, \
        { name = \"b\", type = \"bytes\", size = 9223372036854775807 }, \
        { name = \"c\", type = \"bytes\", size = 9223372036854775807 } ]\n";
    let layout = one_field(
        "ansi",
        "type = \"array\", count = \"WORD\", of = { type = \"Big\" }",
        big,
    );
    assert_eq!(layout.decode(&hex("00 00")).unwrap()["v"], json!([]));
}
