//! Memory against hostile counts (issue 10, item 3): what a load holds is a
//! small multiple of the bytes received, measured with a counting allocator
//! (this test binary's own, so other tests do not disturb it). Tests run one
//! at a time through a lock, since the counters are process-wide.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mfc_archive::{Archive, Error, MfcString, ObjectRef, Serialize};

/// The system allocator, counting live bytes and their peak. A `realloc`
/// counts as an allocation of the new size followed by freeing the old one,
/// as an allocator that must copy sees it: the honest upper bound.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Allocations and reallocations made.
static CALLS: AtomicUsize = AtomicUsize::new(0);

fn grow(bytes: usize) {
    CALLS.fetch_add(1, Ordering::SeqCst);
    let live = LIVE.fetch_add(bytes, Ordering::SeqCst) + bytes;
    PEAK.fetch_max(live, Ordering::SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            grow(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `f` and returns its result with the peak of live heap bytes above
/// what was live when it started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - base)
}

const MIB: usize = 1 << 20;

/// `WriteCount(16 Mi − 1)` (spec 3: `FF FF` then the `DWORD` `FF FF FF 00`),
/// then 16 MiB of `00`: 16 Mi − 1 empty ANSI strings (spec 2.3), or null
/// object tags (`00 00`, spec 4.1) for half as many.
fn count_then_zeros() -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
    bytes.resize(bytes.len() + 16 * MIB, 0);
    bytes
}

#[test]
fn sixteen_mi_empty_strings_take_24_bytes_each() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = count_then_zeros();
    let (strings, peak) = peak_during(|| {
        let mut ar = Archive::load(&bytes[..]);
        let strings: Vec<MfcString> = ar.read().unwrap();
        strings
    });
    assert_eq!(strings.len(), (16 * MIB) - 1);
    assert!(strings.iter().take(1000).all(MfcString::is_empty));
    let per_byte = peak as f64 / bytes.len() as f64;
    eprintln!(
        "Vec<MfcString>: peak {} MiB, {per_byte:.1} bytes per byte",
        peak / MIB
    );
    // The bound the crate docs state: a collection of n elements holds
    // n × size_of::<T>() (24 for MfcString) once loaded, and while it grows
    // at most twice that (the old block and the new one); an empty string
    // allocates nothing.
    assert_eq!(std::mem::size_of::<MfcString>(), 24);
    let bound = strings.len() * 24 * 2 + MIB;
    assert!(peak <= bound, "peak {peak} > bound {bound}");
}

#[test]
fn sixteen_mi_empty_rust_strings_take_24_bytes_each() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = count_then_zeros();
    let (strings, peak) = peak_during(|| {
        let strings: Vec<String> = Archive::load(&bytes[..]).read().unwrap();
        strings
    });
    assert_eq!(strings.len(), (16 * MIB) - 1);
    eprintln!("Vec<String>: peak {} MiB", peak / MIB);
    let bound = strings.len() * 24 * 2 + MIB;
    assert!(peak <= bound, "peak {peak} > bound {bound}");
}

#[test]
fn eight_mi_null_object_tags_then_the_end_take_16_bytes_each() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // The count claims 16 Mi − 1 pointers; 8 Mi null tags arrive, then the
    // input ends: an error. The docs' bound for a collection cut short after
    // L elements: 3 × L × size_of::<T>() (capacity at most 2L, and the old
    // block while it grows).
    let bytes = count_then_zeros();
    let (result, peak) = peak_during(|| {
        Archive::load(&bytes[..])
            .read::<Vec<Option<ObjectRef>>>()
            .map(|items| items.len())
    });
    assert!(matches!(result, Err(Error::EndOfFile { .. })), "{result:?}");
    eprintln!("Vec<Option<ObjectRef>>: peak {} MiB", peak / MIB);
    let bound = 3 * 8 * MIB * 16 + MIB;
    assert!(peak <= bound, "peak {peak} > bound {bound}");
}

#[derive(Debug, Serialize)]
#[mfc(class = "CNode", schema = 1)]
struct Node {
    children: Vec<Option<Arc<Node>>>,
}

#[test]
fn a_chain_of_nodes_claiming_16_mi_children_each_reserves_nothing_for_them() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // 128 nested nodes (the default depth limit), each claiming 16 Mi − 1
    // children: `FF FF 01 00 05 00 "CNode"` then `FF FF FF FF FF 00` and a
    // class reference `01 80` for the next, then the input ends (spec 4.7, 3).
    let mut bytes = [
        &[0xFF, 0xFF, 0x01, 0x00, 0x05, 0x00][..],
        b"CNode",
        &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00],
    ]
    .concat();
    for _ in 1..128 {
        bytes.extend_from_slice(&[0x01, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]);
    }
    let (result, peak) = peak_during(|| {
        let mut ar = Archive::load(&bytes[..]);
        ar.register::<Node>();
        ar.read_object_as::<Node>().map(|node| node.is_some())
    });
    assert!(result.is_err());
    eprintln!("{} bytes of nodes: peak {} KiB", bytes.len(), peak >> 10);
    // Each level's vector may reserve only for bytes received that no outer
    // level claimed: a 1 KiB input costs well under 1 MiB.
    assert!(peak < MIB, "peak {peak}");
}

#[test]
fn a_count_of_dwords_reserves_only_what_arrived() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // WriteCount(16 Mi − 1) then 64 KiB of DWORDs: the count claims 64 MiB,
    // the input holds 16 Ki values; the bulk path reads a buffer-full at a
    // time and grows with what arrived.
    let mut bytes = vec![0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
    bytes.extend((0..16 * 1024u32).flat_map(u32::to_le_bytes));
    let (result, peak) = peak_during(|| Archive::load(&bytes[..]).read::<Vec<u32>>());
    assert!(matches!(result, Err(mfc_archive::Error::EndOfFile { .. })));
    eprintln!(
        "Vec<u32> claiming 16 Mi values, 16 Ki sent: peak {} KiB",
        peak >> 10
    );
    assert!(peak <= 4 * 64 * 1024 + MIB, "peak {peak}");
    // And whole, it is every value in order.
    let mut whole = vec![0x00, 0x40];
    whole.extend((0..16 * 1024u32).flat_map(u32::to_le_bytes));
    let values: Vec<u32> = Archive::load(&whole[..]).read().unwrap();
    assert!(values.iter().copied().eq(0..16 * 1024u32));
}

#[test]
fn strings_read_into_one_string_allocate_only_to_grow_it() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // 10,000 strings, ANSI and Unicode in turn (spec 2.3): "abc" as `03 61
    // 62 63` and `FF FE FF 03 61 00 62 00 63 00`, then one of 40 'x'.
    let mut bytes = Vec::new();
    for _ in 0..5_000 {
        bytes.extend_from_slice(b"\x03abc\xFF\xFE\xFF\x03a\x00b\x00c\x00");
    }
    bytes.push(40);
    bytes.extend_from_slice(&[b'x'; 40]);
    // MFC's fixed buffer, so that only strings allocate.
    let fixed = mfc_archive::Options {
        max_buffer_size: mfc_archive::DEFAULT_BUFFER_SIZE,
        ..mfc_archive::Options::default()
    };
    let mut ar = Archive::load_with(&bytes[..], fixed);
    let mut text = String::new();
    let before = CALLS.load(Ordering::SeqCst);
    for _ in 0..10_000 {
        ar.read_string_into(&mut text).unwrap();
        assert_eq!(text, "abc");
    }
    ar.read_string_into(&mut text).unwrap();
    let calls = CALLS.load(Ordering::SeqCst) - before;
    assert_eq!(text.len(), 40);
    // The first string and the long one grow it (2 allocations on Linux; the
    // counter is process-wide, and under Wine the test harness's own thread
    // adds a few); reading a String each time allocates 10,001 times.
    assert!(calls <= 32, "{calls} allocations");
    let mut ar = Archive::load_with(&bytes[..], fixed);
    let before = CALLS.load(Ordering::SeqCst);
    for _ in 0..10_001 {
        drop(ar.read::<String>().unwrap());
    }
    assert!(CALLS.load(Ordering::SeqCst) - before >= 10_001);
}
