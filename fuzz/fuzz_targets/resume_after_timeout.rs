//! A reader that fails with `TimedOut` at fuzzer-chosen reads, as a socket
//! with a read time-out does: each value cut short is undone whole and read
//! again, and the values must equal those of a clean read of the same bytes.
#![no_main]

use std::io::{self, Read};

use libfuzzer_sys::fuzz_target;
use mfc_archive::{Archive, LoadArchive, MfcString, Result};

/// Gives at most `step` bytes per read; fails the reads whose bit is set in
/// `faults` (one bit per read, cycling), at most `MAX_FAULTS` times in all.
/// Each fault makes the archive read its value again from the start, so
/// unbounded faults would cost (faults × value size): real time-outs are
/// seconds apart, and the bound keeps a run about the loader, not the harness.
struct Flaky<'a> {
    bytes: &'a [u8],
    step: usize,
    faults: u64,
    reads: u32,
    faulted: u32,
}

const MAX_FAULTS: u32 = 256;

impl Read for Flaky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let bit = self.reads % 64;
        self.reads = self.reads.wrapping_add(1);
        if self.faults >> bit & 1 == 1 && self.faulted < MAX_FAULTS {
            self.faulted += 1;
            return Err(io::ErrorKind::TimedOut.into());
        }
        let n = buf.len().min(self.step).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

#[derive(Debug, PartialEq)]
enum Value {
    Word(u16),
    Text(MfcString),
    Words(Vec<u32>),
    Texts(Vec<MfcString>),
}

fn read_one<R: Read>(ar: &mut LoadArchive<R>, kind: u8) -> Result<Value> {
    Ok(match kind % 4 {
        0 => Value::Word(ar.read()?),
        1 => Value::Text(ar.read()?),
        2 => Value::Words(ar.read()?),
        _ => Value::Texts(ar.read()?),
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 10 {
        return;
    }
    let faults = u64::from_le_bytes(data[..8].try_into().unwrap_or_default()) & !1;
    let step = 1 + usize::from(data[8] % 16);
    let kinds = [data[9], data[9] >> 2, data[9] >> 4, data[9] >> 6];
    let bytes = &data[10..];
    let mut clean = Archive::load(bytes);
    let mut expected = Vec::new();
    for &kind in &kinds {
        match read_one(&mut clean, kind) {
            Ok(v) => expected.push(v),
            Err(_) => break,
        }
    }
    let mut ar = Archive::load(Flaky {
        bytes,
        step,
        faults,
        reads: 0,
        faulted: 0,
    });
    let mut got = Vec::new();
    // Each failed try consumes one of the reader's faults.
    let tries = MAX_FAULTS as usize + 8;
    'values: for &kind in &kinds {
        for _ in 0..tries {
            match read_one(&mut ar, kind) {
                Ok(v) => {
                    got.push(v);
                    continue 'values;
                }
                Err(e) if e.cause() == mfc_archive::Cause::Io => {}
                Err(_) => break 'values,
            }
        }
        break;
    }
    assert_eq!(got, expected, "resumed reads differ from a clean read");
});
