//! `mfc-layout` on hostile bytes: each of the nine sample layouts decodes
//! the input or fails cleanly, and what decodes encodes again and decodes to
//! the same JSON (the bytes themselves may differ only where the input used
//! a longer length or count form than MFC writes).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mfc_layout::Layout;

const LAYOUTS: [(&str, &str); 9] = [
    ("person.t", include_str!("../../layouts/person.t.toml")),
    ("test.16a", include_str!("../../layouts/test.16a.toml")),
    ("MFCexp1", include_str!("../../layouts/MFCexp1.toml")),
    ("ThreeStrokes.SCB", include_str!("../../layouts/ThreeStrokes.SCB.toml")),
    ("Scribb1.SCB", include_str!("../../layouts/Scribb1.SCB.toml")),
    ("mfcclass.hie", include_str!("../../layouts/mfcclass.hie.toml")),
    ("Demo.pad", include_str!("../../layouts/Demo.pad.toml")),
    ("Test.wsp", include_str!("../../layouts/Test.wsp.toml")),
    ("Graph1.gph", include_str!("../../layouts/Graph1.gph.toml")),
];

fn layouts() -> &'static [Layout] {
    static PARSED: OnceLock<Vec<Layout>> = OnceLock::new();
    PARSED.get_or_init(|| {
        LAYOUTS
            .iter()
            .map(|(name, text)| Layout::parse(text, name).expect("the sample layouts parse"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    for layout in layouts() {
        if let Ok(json) = layout.decode(data) {
            let bytes = layout.encode(&json).expect("decoded JSON encodes");
            let again = layout.decode(&bytes).expect("encoded bytes decode");
            assert_eq!(again, json, "JSON changed through encode and decode");
        }
    }
});
