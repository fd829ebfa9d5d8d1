//! The storing archive's buffer: the bytes written and not yet sent, and the
//! room after them, behind a cursor that one comparison moves.
//!
//! A `Box<[u8]>` and a length would do, and did: but every value's write then
//! reloads the box's pointer and length from the archive (the store into the
//! buffer may, for all the compiler knows, have changed them) and checks the
//! slice twice, 14 instructions per `u32` against 10 for a loop over a local
//! array. Here the hot path compares the cursor with `end`, stores the value
//! and moves the cursor: 11.2 (`benches/paired.rs`).
//!
//! All of the crate's raw-pointer code for the output is in this file, behind
//! one invariant (see [`OutBuffer`]); its unit tests run under Miri in CI.

use std::ptr::NonNull;

/// An owned, fixed-size byte buffer filled from the front.
///
/// # Invariant
/// `start..end` is the whole of one live allocation made by `Box<[u8]>`
/// (every byte initialised), owned by this value alone, and
/// `start <= at <= end`: the bytes `start..at` are the ones written. Every
/// method below keeps this; each `unsafe` block relies on it and on nothing
/// else.
pub(crate) struct OutBuffer {
    start: NonNull<u8>,
    at: *mut u8,
    end: *mut u8,
}

// SAFETY: an `OutBuffer` owns its allocation as a `Box<[u8]>` does, and is
// shared or sent exactly as one is: `&self` methods only read.
unsafe impl Send for OutBuffer {}
// SAFETY: as above.
unsafe impl Sync for OutBuffer {}

impl OutBuffer {
    /// An empty buffer with room for `size` bytes.
    pub(crate) fn new(size: usize) -> OutBuffer {
        let bytes = Box::into_raw(vec![0u8; size].into_boxed_slice());
        let start = bytes.cast::<u8>();
        OutBuffer {
            // SAFETY: `Box::into_raw` never returns null.
            start: unsafe { NonNull::new_unchecked(start) },
            at: start,
            // SAFETY: one past the end of the allocation just made.
            end: unsafe { start.add(size) },
        }
    }

    /// The bytes written.
    pub(crate) fn filled(&self) -> &[u8] {
        // SAFETY: `start..at` is initialised and inside the allocation.
        unsafe { std::slice::from_raw_parts(self.start.as_ptr(), self.len()) }
    }

    /// How many bytes are written.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.at.addr() - self.start.as_ptr().addr()
    }

    /// How many bytes the buffer holds when full.
    pub(crate) fn capacity(&self) -> usize {
        self.end.addr() - self.start.as_ptr().addr()
    }

    /// Forgets the bytes written.
    pub(crate) fn clear(&mut self) {
        self.at = self.start.as_ptr();
    }

    /// Appends `bytes` if they fit; `false` (and nothing written) otherwise.
    /// The hot path of every fixed-size value.
    #[inline]
    pub(crate) fn put<const N: usize>(&mut self, bytes: [u8; N]) -> bool {
        if self.end.addr() - self.at.addr() < N {
            return false;
        }
        // SAFETY: the `N` bytes from `at` are inside the allocation (checked
        // just above), and `at + N <= end` keeps the invariant.
        unsafe {
            self.at.cast::<[u8; N]>().write_unaligned(bytes);
            self.at = self.at.add(N);
        }
        true
    }

    /// Lets `fill` write the next `len` bytes and keeps them if they fit and
    /// `fill` returns true; `false` (and nothing kept) otherwise.
    #[inline]
    pub(crate) fn put_with(&mut self, len: usize, fill: impl FnOnce(&mut [u8]) -> bool) -> bool {
        if self.end.addr() - self.at.addr() < len {
            return false;
        }
        // SAFETY: the `len` bytes from `at` are initialised and inside the
        // allocation (checked just above); `self` is borrowed mutably for the
        // call, and `fill` takes the slice for any lifetime, so it cannot
        // keep it past the call.
        let room = unsafe { std::slice::from_raw_parts_mut(self.at, len) };
        if !fill(room) {
            return false;
        }
        // SAFETY: `at + len <= end`, checked above.
        self.at = unsafe { self.at.add(len) };
        true
    }

    /// Appends `bytes` if they fit; `false` (and nothing written) otherwise.
    #[inline]
    pub(crate) fn append(&mut self, bytes: &[u8]) -> bool {
        self.put_with(bytes.len(), |room| {
            room.copy_from_slice(bytes);
            true
        })
    }

    /// Moves the cursor to `len` bytes from the start: after a call that
    /// changed the buffer, from the length it returned, which the compiler
    /// can then keep in a register (see `StoreArchive::put`).
    ///
    /// # Panics
    /// If `len` is more than the capacity.
    #[inline]
    pub(crate) fn set_len(&mut self, len: usize) {
        assert!(len <= self.capacity(), "a length past the buffer");
        // SAFETY: inside the allocation, checked just above.
        self.at = unsafe { self.start.as_ptr().add(len) };
    }

    /// Replaces an empty buffer with an empty one of `size` bytes.
    pub(crate) fn resize_empty(&mut self, size: usize) {
        assert_eq!(self.len(), 0, "only an empty buffer is resized");
        *self = OutBuffer::new(size);
    }
}

impl Drop for OutBuffer {
    fn drop(&mut self) {
        let bytes = std::ptr::slice_from_raw_parts_mut(self.start.as_ptr(), self.capacity());
        // SAFETY: `start..end` came from `Box::into_raw` of a `Box<[u8]>` of
        // this length, and is given back once.
        drop(unsafe { Box::from_raw(bytes) });
    }
}

#[cfg(test)]
mod tests {
    use super::OutBuffer;

    #[test]
    fn values_fill_it_to_the_last_byte_and_no_further() {
        let mut buf = OutBuffer::new(10);
        assert!(buf.put([1, 2, 3, 4]));
        assert!(buf.put([5, 6, 7, 8]));
        assert!(!buf.put([9, 10, 11, 12]));
        assert!(buf.put([9, 10]));
        assert!(!buf.put([11]));
        assert!(buf.put([]));
        assert_eq!(buf.filled(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!((buf.len(), buf.capacity()), (10, 10));
    }

    #[test]
    fn a_refused_fill_keeps_nothing() {
        let mut buf = OutBuffer::new(4);
        assert!(buf.append(b"a"));
        assert!(!buf.put_with(2, |room| {
            room.copy_from_slice(b"xy");
            false
        }));
        assert!(!buf.put_with(4, |_| true));
        assert!(buf.put_with(3, |room| {
            room.copy_from_slice(b"bcd");
            true
        }));
        assert_eq!(buf.filled(), b"abcd");
    }

    #[test]
    fn cleared_and_resized_it_starts_again() {
        let mut buf = OutBuffer::new(2);
        assert!(buf.append(b"ab"));
        buf.clear();
        assert_eq!(buf.filled(), b"");
        buf.resize_empty(5);
        assert!(buf.append(b"cdefg"));
        assert!(!buf.append(b"h"));
        assert_eq!(buf.filled(), b"cdefg");
    }

    #[test]
    fn an_empty_buffer_has_no_room() {
        let mut buf = OutBuffer::new(0);
        assert!(!buf.put([1]));
        assert!(buf.append(b""));
        assert_eq!(buf.filled(), b"");
    }
}
