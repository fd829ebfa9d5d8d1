//! `read_message` over input that arrives in fuzzer-chosen chunks, with
//! `WouldBlock` between them, as from a non-blocking socket: the messages
//! read must be the ones a reader given all the bytes at once reads.
#![no_main]

use std::collections::VecDeque;
use std::io::{self, Read};

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mfc_archive::{Archive, Loading, MfcString, ObjectRef, Result};

/// An object list as compared: each element's class and contents, and the
/// position of the first element that is the same object (back-references
/// must come out shared exactly as in a whole read).
type Objects = Vec<Option<(String, usize)>>;

/// A message of mixed values, as a protocol might define one: numbers,
/// strings, and a list of objects of MFC's collection classes, with
/// back-references (kept across retries with their load-array entries).
fn message(ar: &mut Loading<'_>) -> Result<(u16, MfcString, Vec<u32>, Vec<MfcString>, Objects)> {
    let (word, text, numbers, strings) = (ar.read()?, ar.read()?, ar.read()?, ar.read()?);
    let objects: Vec<Option<ObjectRef>> = ar.read()?;
    let described = objects
        .iter()
        .map(|object| {
            object.as_ref().map(|object| {
                let first = objects
                    .iter()
                    .position(|o| o.as_ref().is_some_and(|o| Arc::ptr_eq(o, object)))
                    .unwrap_or(usize::MAX);
                (format!("{object:?}"), first)
            })
        })
        .collect();
    Ok((word, text, numbers, strings, described))
}

/// Hands out one chunk per read, `WouldBlock` between chunks, then the end.
struct Chunks {
    chunks: VecDeque<Vec<u8>>,
    pause: bool,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if std::mem::take(&mut self.pause) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let Some(chunk) = self.chunks.front_mut() else {
            return Ok(0);
        };
        let n = buf.len().min(chunk.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        chunk.drain(..n);
        if chunk.is_empty() {
            self.chunks.pop_front();
            self.pause = true;
        }
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, bytes)) = data.split_first() else {
        return;
    };
    // Chunk sizes from 1 to 32, varied by position.
    let mut chunks = VecDeque::new();
    let mut rest = bytes;
    let mut i = 0usize;
    while !rest.is_empty() {
        let size = 1 + (usize::from(seed) * 7 + i * 13) % 32;
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        chunks.push_back(chunk.to_vec());
        rest = tail;
        i += 1;
    }
    let mut whole = Archive::load(bytes);
    let mut expected = Vec::new();
    while let Ok(Some(m)) = whole.read_message(message) {
        expected.push(m);
    }
    let mut ar = Archive::load(Chunks {
        chunks,
        pause: false,
    });
    let mut got = Vec::new();
    // Each chunk needs at most two calls (one to take it, one to see the
    // pause); bounded so a bug shows as a finding, not a hang.
    for _ in 0..2 * bytes.len() + 8 {
        match ar.read_message(message) {
            Ok(Some(m)) => got.push(m),
            Ok(None) => {}
            Err(_) => break,
        }
    }
    assert_eq!(got, expected, "chunked reads differ from a whole read");
});
