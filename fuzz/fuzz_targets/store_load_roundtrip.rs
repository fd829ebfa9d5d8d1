//! Values built from the fuzzer's bytes, stored and loaded back, are equal:
//! numbers of every width, ANSI and Unicode strings, counts, collections.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfc_archive::collections::{ByteArray, DWordArray, MapStringToString, StringArray, WordArray};
use mfc_archive::{Archive, MfcString, Serialize};

#[derive(Debug, Serialize)]
struct Record {
    a: u8,
    b: i16,
    c: u32,
    d: i64,
    e: f64,
    ansi: MfcString,
    unicode: MfcString,
    words: WordArray,
    dwords: DWordArray,
    bytes: ByteArray,
    texts: StringArray,
    map: MapStringToString,
}

/// Takes the next `n` bytes (fewer at the end).
fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (head, tail) = data.split_at(n.min(data.len()));
    *data = tail;
    head
}

fn int<const N: usize>(data: &mut &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let head = take(data, N);
    out[..head.len()].copy_from_slice(head);
    out
}

/// A length byte, then that many bytes.
fn blob(data: &mut &[u8]) -> Vec<u8> {
    let n = usize::from(int::<1>(data)[0]);
    take(data, n).to_vec()
}

fn text(data: &mut &[u8]) -> String {
    let n = usize::from(int::<1>(data)[0] % 40);
    String::from_utf8_lossy(take(data, n)).into_owned()
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let d = &mut data;
    let record = Record {
        a: int::<1>(d)[0],
        b: i16::from_le_bytes(int(d)),
        c: u32::from_le_bytes(int(d)),
        d: i64::from_le_bytes(int(d)),
        // NaN is not equal to itself: compare bit patterns through a finite value.
        e: f64::from_bits(u64::from_le_bytes(int(d))).clamp(f64::MIN, f64::MAX),
        ansi: MfcString::ansi(blob(d)),
        unicode: MfcString::unicode(&text(d)),
        words: WordArray(
            (0..int::<1>(d)[0] % 8)
                .map(|_| u16::from_le_bytes(int(d)))
                .collect(),
        ),
        dwords: DWordArray(
            (0..int::<1>(d)[0] % 8)
                .map(|_| u32::from_le_bytes(int(d)))
                .collect(),
        ),
        bytes: ByteArray(blob(d)),
        texts: StringArray(
            (0..int::<1>(d)[0] % 4)
                .map(|_| MfcString::unicode(&text(d)))
                .collect(),
        ),
        map: MapStringToString(
            (0..int::<1>(d)[0] % 4)
                .map(|_| (MfcString::unicode(&text(d)), MfcString::unicode(&text(d))))
                .collect(),
        ),
    };
    if record.e.is_nan() {
        return;
    }
    let mut bytes = Vec::new();
    let mut ar = Archive::store(&mut bytes);
    ar.write(&record).expect("storing into a Vec succeeds");
    ar.close().expect("closing succeeds");
    let mut ar = Archive::load(&bytes[..]);
    let back: Record = ar.read().expect("what was stored loads");
    // The collection types compare through their contents.
    assert_eq!(
        (
            back.a,
            back.b,
            back.c,
            back.d,
            back.e.to_bits(),
            &back.ansi,
            &back.unicode
        ),
        (
            record.a,
            record.b,
            record.c,
            record.d,
            record.e.to_bits(),
            &record.ansi,
            &record.unicode
        )
    );
    assert_eq!(
        (&back.words.0, &back.dwords.0, &back.bytes.0),
        (&record.words.0, &record.dwords.0, &record.bytes.0)
    );
    assert_eq!(
        (&back.texts.0, &back.map.0),
        (&record.texts.0, &record.map.0)
    );
});
