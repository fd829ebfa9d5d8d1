//! `#[derive(Serialize)]` through `sockarc::archive` with no attribute: this
//! package depends on `sockarc` only, not on `mfc-archive`.

use sockarc::archive::{Archive, MfcString, Serialize};

#[derive(Debug, PartialEq, Serialize)]
struct Student {
    name: MfcString,
    grade: i32,
}

#[test]
fn a_struct_derived_through_the_re_export_stores_and_loads_mfcs_bytes() {
    let mut out = Vec::new();
    let mut ar = Archive::store(&mut out);
    let student = Student {
        name: MfcString::ansi(*b"Fisher, Lon"),
        grade: 67,
    };
    ar.write(&student).unwrap();
    ar.close().unwrap();
    // archive-format.md: a CString of 11 bytes, then a little-endian int.
    assert_eq!(out, b"\x0BFisher, Lon\x43\x00\x00\x00");
    let mut ar = Archive::load(&out[..]);
    assert_eq!(ar.read::<Student>().unwrap(), student);
}
