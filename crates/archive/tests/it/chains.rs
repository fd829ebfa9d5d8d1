//! Object graphs of any length (issue 10, item 1): a chain built from
//! back-references loads, is undone and is dropped without recursing once per
//! link. Each test runs on a thread with a small stack, so a stack overflow
//! aborts the test binary: a failure, never a silent pass.
// Test vectors build lengths and counts that are small by construction.
#![allow(clippy::cast_possible_truncation)]

use std::io;
use std::sync::Arc;

use crate::common::{hex, Script};
use mfc_archive::collections::{MapStringToOb, MapWordToOb, ObArray, ObList};
use mfc_archive::{Archive, ObjectRef, Serialize};

/// The stack every test here runs on: a tenth of a 2 MiB thread's.
const SMALL_STACK: usize = 256 << 10;

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the test thread finished");
}

/// An object tag for a back-reference to object `index` (spec 4.4): a `WORD`
/// below 0x7FFF, else `FF 7F` and the `DWORD`.
fn object_tag(index: u32) -> Vec<u8> {
    if index < 0x7FFF {
        (index as u16).to_le_bytes().to_vec()
    } else {
        let mut tag = vec![0xFF, 0x7F];
        tag.extend_from_slice(&index.to_le_bytes());
        tag
    }
}

/// A `Vec<Option<ObjectRef>>` (a `CObArray` body, spec 5) of `n` `CObArray`s,
/// each holding one back-reference to the one before it:
/// `FF FF <n>` (`WriteCount`, spec 3), then `FF FF 00 00 08 00 "CObArray" 00 00`
/// (class 1, object 2, empty), then `01 80 01 00 <index of the previous>` per
/// object (class reference 1, count 1, back-reference; object k is index k + 2).
fn chain(n: u32) -> Vec<u8> {
    assert!(n >= 0xFFFF, "the count prefix below is the FF FF form");
    let mut bytes = vec![0xFF, 0xFF];
    bytes.extend_from_slice(&n.to_le_bytes());
    bytes.extend_from_slice(&hex(r#"FF FF 00 00 08 00 "CObArray" 00 00"#));
    for k in 1..n {
        bytes.extend_from_slice(&hex("01 80 01 00"));
        bytes.extend_from_slice(&object_tag(k + 1));
    }
    bytes
}

const LINKS: u32 = 100_000;

/// Checks the loaded chain: `n` arrays, the first empty, every other one
/// holding exactly the array before it.
fn check_chain(items: &[Option<ObjectRef>], n: u32) {
    assert_eq!(items.len(), n as usize);
    let array = |i: usize| {
        items[i]
            .as_ref()
            .and_then(|object| object.downcast_ref::<ObArray>())
            .expect("a CObArray")
    };
    assert!(array(0).0.is_empty());
    for i in [1, 2, 0x7FFD, 0x7FFE, n as usize - 1] {
        let inner = &array(i).0;
        assert_eq!(inner.len(), 1);
        let previous = inner[0].as_ref().expect("a back-reference");
        assert!(Arc::ptr_eq(previous, items[i - 1].as_ref().unwrap()));
    }
}

#[test]
fn a_back_reference_chain_of_100_000_objects_loads_and_drops() {
    on_small_stack(|| {
        let bytes = chain(LINKS);
        let mut ar = Archive::load(&bytes[..]);
        let items: Vec<Option<ObjectRef>> = ar.read().unwrap();
        check_chain(&items, LINKS);
        assert!(ar.is_buffer_empty());
        // The archive's load array goes first, then the result: each alone
        // holds the whole chain at its end.
        drop(ar);
        drop(items);
    });
}

#[test]
fn a_back_reference_chain_outliving_its_archive_drops_from_any_end() {
    on_small_stack(|| {
        let bytes = chain(LINKS);
        let mut items: Vec<Option<ObjectRef>> = Archive::load(&bytes[..]).read().unwrap();
        // Only the last object is held: dropping it frees the whole chain.
        let last = items.pop().unwrap();
        drop(items);
        drop(last);
    });
}

#[test]
fn a_back_reference_chain_cut_short_by_one_byte_is_undone_then_read() {
    on_small_stack(|| {
        let bytes = chain(LINKS);
        let (most, last) = bytes.split_at(bytes.len() - 1);
        let pieces = Script::new(io::ErrorKind::WouldBlock, &[most]);
        let mut ar = Archive::load(pieces);
        // The whole chain is built, then undone: its objects are forgotten.
        let read = |ar: &mut mfc_archive::Loading<'_>| ar.read::<Vec<Option<ObjectRef>>>();
        assert!(ar.read_message(read).unwrap().is_none());
        assert_eq!(ar.offset(), 0);
        ar.get_mut().pieces.push_back(last.to_vec());
        let items = ar.read_message(read).unwrap().expect("the whole message");
        check_chain(&items, LINKS);
        drop(items);
    });
}

#[test]
fn a_back_reference_chain_cut_by_a_time_out_is_undone_then_read() {
    on_small_stack(|| {
        let bytes = chain(LINKS);
        let (most, last) = bytes.split_at(bytes.len() - 1);
        let pieces = Script::new(io::ErrorKind::TimedOut, &[most]);
        let mut ar = Archive::load(pieces);
        let err = ar.read::<Vec<Option<ObjectRef>>>().unwrap_err();
        assert_eq!(err.cause(), mfc_archive::Cause::Io);
        assert_eq!(ar.offset(), 0);
        ar.get_mut().pieces.push_back(last.to_vec());
        let items: Vec<Option<ObjectRef>> = ar.read().unwrap();
        check_chain(&items, LINKS);
    });
}

/// The same chain through the other built-in classes that hold objects:
/// `CObList` (`01 80 01 00 <prev>`), `CMapStringToOb` (`01 80 01 00 00
/// <prev>`: one entry, key "") and `CMapWordToOb` (`01 80 01 00 07 00 <prev>`:
/// one entry, key 7). Spec section 5.
#[test]
fn chains_of_every_built_in_object_collection_drop() {
    on_small_stack(|| {
        let cases: [(&str, &str); 3] = [
            ("CObList", ""),
            ("CMapStringToOb", "00"),
            ("CMapWordToOb", "07 00"),
        ];
        for (class, key) in cases {
            let mut bytes = vec![0xFF, 0xFF];
            bytes.extend_from_slice(&LINKS.to_le_bytes());
            bytes.extend_from_slice(&hex(&format!(
                r#"FF FF 00 00 {:02X} 00 "{class}" 00 00"#,
                class.len()
            )));
            for k in 1..LINKS {
                bytes.extend_from_slice(&hex("01 80 01 00"));
                bytes.extend_from_slice(&hex(key));
                bytes.extend_from_slice(&object_tag(k + 1));
            }
            let items: Vec<Option<ObjectRef>> = Archive::load(&bytes[..]).read().unwrap();
            assert_eq!(items.len(), LINKS as usize);
            let last = items[LINKS as usize - 1].as_ref().unwrap();
            let held = match class {
                "CObList" => last.downcast_ref::<ObList>().unwrap().0.len(),
                "CMapStringToOb" => last.downcast_ref::<MapStringToOb>().unwrap().0.len(),
                _ => last.downcast_ref::<MapWordToOb>().unwrap().0.len(),
            };
            assert_eq!(held, 1, "{class}");
            drop(items);
        }
    });
}

/// A program's own class that holds an object pointer, and hands it to
/// `drop_objects` when dropped, as the crate docs ask.
#[derive(Debug, Serialize)]
#[mfc(class = "CLink", schema = 1)]
struct Link {
    next: Option<Arc<Link>>,
}

impl Drop for Link {
    fn drop(&mut self) {
        mfc_archive::drop_objects(self.next.take().map(|next| next as ObjectRef));
    }
}

#[test]
fn a_10_000_node_linked_list_of_a_program_class_loads_by_default() {
    on_small_stack(|| {
        // `FF FF 01 00 05 00 "CLink" 00 00` (class 1, node 2, next = NULL), then
        // `01 80 <prev>` per node, after the 10,000 count (`10 27`).
        let n = 10_000u32;
        let mut bytes = hex(r#"10 27 FF FF 01 00 05 00 "CLink" 00 00"#);
        for k in 1..n {
            bytes.extend_from_slice(&hex("01 80"));
            bytes.extend_from_slice(&object_tag(k + 1));
        }
        let mut ar = Archive::load(&bytes[..]);
        ar.register::<Link>();
        let items: Vec<Option<Arc<Link>>> = ar.read().unwrap();
        assert_eq!(items.len(), n as usize);
        let mut length = 0;
        let mut node = items.last().unwrap().as_deref();
        while let Some(link) = node {
            length += 1;
            node = link.next.as_deref();
        }
        assert_eq!(length, n);
        drop(ar);
        drop(items);
    });
}

/// A program class without a `Drop` of its own: the archive still undoes and
/// drops a chain through it one link at a time (its load array goes newest
/// first); only the program's own copy is its to drop in a safe order.
#[derive(Debug, Serialize)]
#[mfc(class = "CPlain", schema = 1)]
struct Plain {
    next: Option<Arc<Plain>>,
}

/// `n` `CPlain`s in a `Vec`, each holding the one before: `WriteCount(n)`,
/// `FF FF 01 00 06 00 "CPlain" 00 00`, then `01 80 <prev>` per node.
fn plain_chain(n: u32) -> Vec<u8> {
    let mut bytes = if n < 0xFFFF {
        (n as u16).to_le_bytes().to_vec()
    } else {
        let mut count = vec![0xFF, 0xFF];
        count.extend_from_slice(&n.to_le_bytes());
        count
    };
    bytes.extend_from_slice(&hex(r#"FF FF 01 00 06 00 "CPlain" 00 00"#));
    for k in 1..n {
        bytes.extend_from_slice(&hex("01 80"));
        bytes.extend_from_slice(&object_tag(k + 1));
    }
    bytes
}

#[test]
fn a_chain_through_a_class_that_does_not_drop_flat_is_refused_past_the_limit() {
    on_small_stack(|| {
        let bytes = plain_chain(16 * 1024 + 1);
        let mut ar = Archive::load(&bytes[..]);
        ar.register::<Plain>();
        let err = ar.read::<Vec<Option<Arc<Plain>>>>().unwrap_err();
        match err {
            mfc_archive::Error::LimitExceeded {
                what, found, limit, ..
            } => {
                assert!(what.starts_with("a chain of objects"), "{what}");
                assert_eq!((found, limit), (16 * 1024 + 1, 16 * 1024));
            }
            other => panic!("expected the chain limit, got {other}"),
        }
        // The 16,384 objects loaded before are dropped by the archive, newest
        // first.
        drop(ar);
    });
}

#[test]
fn a_chain_through_a_class_without_drop_is_undone_and_dropped_by_the_archive() {
    on_small_stack(|| {
        let bytes = plain_chain(LINKS);
        let (most, last) = bytes.split_at(bytes.len() - 1);
        let pieces = Script::new(io::ErrorKind::WouldBlock, &[most]);
        // Past the chain limit, which the program lifts: it drops its copy
        // newest first below.
        let options = mfc_archive::Options {
            limits: mfc_archive::Limits {
                max_chain: u64::MAX,
                ..mfc_archive::Limits::default()
            },
            ..mfc_archive::Options::default()
        };
        let mut ar = Archive::load_with(pieces, options);
        ar.register::<Plain>();
        let read = |ar: &mut mfc_archive::Loading<'_>| ar.read::<Vec<Option<Arc<Plain>>>>();
        assert!(ar.read_message(read).unwrap().is_none());
        ar.get_mut().pieces.push_back(last.to_vec());
        let mut items = ar.read_message(read).unwrap().expect("the whole message");
        assert_eq!(items.len(), LINKS as usize);
        drop(ar);
        // Newest first: each node then holds the last reference to none.
        while items.pop().is_some() {}
    });
}

/// A node of a list linked by `ar << m_pNext`: each node's body stores the
/// next node, so the list nests as deep as it is long. Its `Drop` lets the
/// next node go through `drop_objects`, as a careful port of such a class does.
#[derive(Debug, Serialize)]
#[mfc(class = "CNext", schema = 1)]
struct Next {
    value: i32,
    next: Option<Arc<Next>>,
}

impl Drop for Next {
    fn drop(&mut self) {
        mfc_archive::drop_objects(self.next.take().map(|next| next as ObjectRef));
    }
}

/// `n` `CNext` nodes, each nesting the next: `FF FF 01 00 05 00 "CNext"`,
/// then `01 80` for every later node, each followed by its value, and `00 00`
/// (NULL) for the last one's `m_pNext`.
fn forward_list(n: u32) -> Vec<u8> {
    let mut bytes = hex(r#"FF FF 01 00 05 00 "CNext""#);
    for k in 0..n {
        if k > 0 {
            bytes.extend_from_slice(&hex("01 80"));
        }
        bytes.extend_from_slice(&(k as i32).to_le_bytes());
    }
    bytes.extend_from_slice(&hex("00 00"));
    bytes
}

#[test]
fn a_4000_node_list_linked_by_m_pnext_loads_by_default_on_a_small_stack() {
    // Issue 14: MFC loads such lists; the old default (128 levels) refused
    // a 200-node one, and recursing 4,000 levels needs more stack than this
    // thread has (about 1.2 KiB a level in a release build, 7 KiB in a debug
    // build), so the load must grow its stack on the heap.
    on_small_stack(|| {
        let bytes = forward_list(4000);
        let mut ar = Archive::load(&bytes[..]);
        ar.register::<Next>();
        let head: Option<Arc<Next>> = ar.read().unwrap();
        ar.expect_end().unwrap();
        let (mut length, mut node) = (0, head.as_deref());
        while let Some(next) = node {
            assert_eq!(next.value, length);
            length += 1;
            node = next.next.as_deref();
        }
        assert_eq!(length, 4000);
        drop(ar);
        drop(head);
    });
}

#[test]
fn hostile_nesting_a_million_deep_fails_at_the_limit_without_overflowing() {
    on_small_stack(|| {
        let bytes = forward_list(1_000_000);
        let mut ar = Archive::load(&bytes[..]);
        ar.register::<Next>();
        match ar.read::<Option<Arc<Next>>>().unwrap_err() {
            mfc_archive::Error::LimitExceeded {
                what, found, limit, ..
            } => assert_eq!((what, found, limit), ("nesting depth", 4097, 4096)),
            other => panic!("expected the depth limit, got {other}"),
        }
    });
}
