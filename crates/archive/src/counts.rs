//! Counts (`WriteCount`/`ReadCount`) in both directions, and the limits on
//! what a count may claim when loading: how many elements, how deep, how much
//! memory before the elements' bytes arrive.

use crate::error::{Error, Result};
use crate::load::{LoadArchive, Source};
use crate::store::{Sink, StoreArchive};

impl<W: Sink + ?Sized> StoreArchive<W> {
    /// Writes a collection's element count (`CArchive::WriteCount`):
    /// a `WORD` below `0xFFFF`, else `FF FF` and a `DWORD`, else (64-bit counts)
    /// `FF FF FF FF FF FF` and a `QWORD`.
    ///
    /// ```
    /// let mut out = Vec::new();
    /// let mut ar = mfc_archive::Archive::store(&mut out);
    /// ar.write_count(3)?;
    /// ar.write_count(70000)?;
    /// ar.close()?;
    /// assert_eq!(out, [0x03, 0x00, 0xFF, 0xFF, 0x70, 0x11, 0x01, 0x00]);
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// An error from the writer, if the buffer had to be flushed.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "each branch casts a count its comparison bounds"
    )]
    pub fn write_count(&mut self, count: u64) -> Result<()> {
        if count < 0xFFFF {
            self.put((count as u16).to_le_bytes())
        } else if count < 0xFFFF_FFFF {
            self.put([0xFF, 0xFF])?;
            self.put((count as u32).to_le_bytes())
        } else {
            self.put([0xFF; 6])?;
            self.put(count.to_le_bytes())
        }
    }
}

/// Below this much stack left, a nesting level runs on a new segment: one
/// level costs about 1.2 KiB in a release build and 7 KiB in a debug build
/// (an object holding the next), and a class of yours may use more.
pub(crate) const STACK_RED_ZONE: usize = 128 << 10;
/// The size of each segment a deep load adds, on the heap.
pub(crate) const STACK_SEGMENT: usize = 1 << 20;

impl<R: Source + ?Sized> LoadArchive<R> {
    /// How many of `count` elements of at least `min_bytes` each (taken as 1
    /// if 0) the bytes received but not yet read can hold, counting each byte
    /// for one collection only: the bytes it counts are claimed, so nested
    /// collections share the buffer rather than each claim all of it.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "n is at most count, a usize"
    )]
    pub(crate) fn reservable(&mut self, count: usize, min_bytes: usize) -> usize {
        let min_bytes = min_bytes.max(1) as u64;
        let from = self.offset().max(self.bounds.claimed);
        let fits = self.received().saturating_sub(from) / min_bytes;
        let n = fits.min(count as u64);
        self.bounds.claimed = from + n * min_bytes;
        n as usize
    }

    /// Reads a collection's element count (`CArchive::ReadCount`), the inverse of
    /// [`StoreArchive::write_count`](crate::StoreArchive::write_count). Not checked
    /// against the limits: it is only a number here.
    ///
    /// ```
    /// let mut ar = mfc_archive::Archive::load(&[0xFF, 0xFF, 0x70, 0x11, 0x01, 0x00][..]);
    /// assert_eq!(ar.read_count()?, 70000);
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::EndOfFile`]; [`Error::Io`] if the reader fails (the count is
    /// undone, as [`read`](Self::read) undoes values).
    pub fn read_count(&mut self) -> Result<u64> {
        if !self.is_reading_whole() {
            return self.read_whole_with(|ar| ar.read_count());
        }
        let word = u16::from_le_bytes(self.take("a count (WORD)")?);
        if word != 0xFFFF {
            return Ok(u64::from(word));
        }
        let dword = u32::from_le_bytes(self.take("a count (DWORD after FF FF)")?);
        if dword != 0xFFFF_FFFF {
            return Ok(u64::from(dword));
        }
        Ok(u64::from_le_bytes(
            self.take("a count (QWORD after FF FF FF FF FF FF)")?,
        ))
    }

    /// A count checked against [`Limits::max_count`](crate::Limits::max_count).
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the count was checked against max_count, a usize"
    )]
    pub(crate) fn read_element_count(&mut self) -> Result<usize> {
        let offset = self.offset();
        let count = self.read_count()?;
        self.check_limit(
            offset,
            "an element count",
            count,
            self.options().limits.max_count,
        )?;
        Ok(count as usize)
    }

    /// Refuses `found` past `limit` (or past what a `usize` holds): the one
    /// place a limit of [`Limits`](crate::Limits) is applied.
    pub(crate) fn check_limit(
        &self,
        offset: u64,
        what: &'static str,
        found: u64,
        limit: u64,
    ) -> Result<()> {
        if found > limit || usize::try_from(found).is_err() {
            return Err(Error::LimitExceeded {
                offset,
                what,
                found,
                limit,
            });
        }
        Ok(())
    }

    /// Runs `f` one nesting level deeper, refusing to pass
    /// [`Limits::max_depth`](crate::Limits::max_depth), on more stack when
    /// little is left: what collections and objects load their contents
    /// in, and what a [`Load`](crate::Load) that reaches itself other than
    /// through an object pointer (a body inside a body) must load in too, so
    /// that a hostile input nests no deeper than the limit and overflows no
    /// stack.
    ///
    /// ```
    /// use mfc_archive::{Archive, Error, Limits, Options};
    ///
    /// // A list as a WORD flag, then the rest of the list if it is not 0.
    /// fn list(ar: &mut mfc_archive::Loading<'_>) -> mfc_archive::Result<usize> {
    ///     if ar.read::<u16>()? == 0 {
    ///         return Ok(0);
    ///     }
    ///     ar.nested(|ar| list(ar).map(|rest| rest + 1))
    /// }
    /// let bytes = [1, 0, 1, 0, 1, 0, 0, 0];
    /// assert_eq!(list(&mut Archive::load(&bytes[..]))?, 3);
    /// let shallow = Options {
    ///     limits: Limits { max_depth: 2, ..Limits::default() },
    ///     ..Options::default()
    /// };
    /// let err = list(&mut Archive::load_with(&bytes[..], shallow)).unwrap_err();
    /// assert!(matches!(err, Error::LimitExceeded { what: "nesting depth", .. }));
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] one level past the limit, or what `f` returns.
    pub fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let depth = self.bounds.depth;
        self.check_limit(
            self.offset(),
            "nesting depth",
            u64::from(depth) + 1,
            u64::from(self.options().limits.max_depth),
        )?;
        self.bounds.depth = depth + 1;
        let result = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || f(self));
        self.bounds.depth = depth;
        result
    }
}
