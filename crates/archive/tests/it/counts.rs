//! Spec section 3: WriteCount / ReadCount at every boundary.

use crate::common::{hex, stored};
use mfc_archive::Archive;

#[test]
fn spec_table_3() {
    for (count, bytes) in [
        (0u64, "00 00"),
        (3, "03 00"),
        (0xFFFE, "FE FF"),
        (0xFFFF, "FF FF FF FF 00 00"),
        (70000, "FF FF 70 11 01 00"),
        (0xFFFF_FFFE, "FF FF FE FF FF FF"),
        (1 << 32, "FF FF FF FF FF FF 00 00 00 00 01 00 00 00"),
    ] {
        let bytes = hex(bytes);
        assert_eq!(
            stored(|ar| ar.write_count(count)),
            bytes,
            "count {count:#x}"
        );
        let mut ar = Archive::load(&bytes[..]);
        assert_eq!(ar.read_count().unwrap(), count, "bytes {bytes:02X?}");
        crate::common::assert_at_end(&mut ar);
    }
}

#[test]
fn a_collection_body_is_the_count_then_the_elements() {
    // CDWordArray / CArray<DWORD> with three elements.
    crate::common::assert_vector(
        vec![1u32, 2, 3],
        &hex("03 00 01 00 00 00 02 00 00 00 03 00 00 00"),
    );
    crate::common::assert_vector(Vec::<u16>::new(), &hex("00 00"));
}
