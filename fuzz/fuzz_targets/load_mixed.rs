//! Mixed reads from hostile bytes: the first bytes choose what to read (up to
//! 16 values), the rest is the archive. Any input must give values or a clean
//! error: no panic, no hang, memory within the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mfc_archive::collections::{
    ByteArray, DWordArray, MapStringToOb, MapStringToString, MapWordToOb, ObArray, ObList,
    StringArray, WordArray,
};
use mfc_archive::{Archive, Bool, MfcString, ObjectRef, Serialize, Time};

/// A program's class, registered by name, holding a back-reference.
#[derive(Debug, Serialize)]
#[mfc(class = "CNode", schema = 1)]
struct Node {
    value: u32,
    next: Option<ObjectRef>,
}

fuzz_target!(|data: &[u8]| {
    let split = data
        .first()
        .map_or(0, |&n| usize::from(n % 17))
        .min(data.len().saturating_sub(1));
    let (ops, bytes) = data.get(1..).unwrap_or_default().split_at(split);
    let mut ar = Archive::load(bytes);
    ar.register::<Node>();
    for &op in ops {
        let ok = match op % 20 {
            0 => ar.read::<u8>().is_ok(),
            1 => ar.read::<u16>().is_ok(),
            2 => ar.read::<u32>().is_ok(),
            3 => ar.read::<i64>().is_ok(),
            4 => ar.read::<f64>().is_ok(),
            5 => ar.read::<MfcString>().is_ok(),
            6 => ar.read_count().is_ok(),
            7 => ar.read::<Vec<MfcString>>().is_ok(),
            8 => ar.read::<Vec<u32>>().is_ok(),
            9 => ar.read_object().is_ok(),
            10 => ar.read::<Vec<Option<ObjectRef>>>().is_ok(),
            11 => ar.read::<ObArray>().is_ok(),
            12 => ar.read::<ObList>().is_ok(),
            13 => ar.read::<StringArray>().is_ok(),
            14 => ar.read::<ByteArray>().is_ok(),
            15 => ar.read::<WordArray>().is_ok() && ar.read::<DWordArray>().is_ok(),
            16 => ar.read::<MapStringToString>().is_ok(),
            17 => ar.read::<MapStringToOb>().is_ok() && ar.read::<MapWordToOb>().is_ok(),
            18 => ar.read::<Bool>().is_ok() && ar.read::<Time>().is_ok(),
            _ => ar.read_object_as::<Node>().is_ok(),
        };
        if !ok {
            break;
        }
    }
});
