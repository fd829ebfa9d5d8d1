//! Counts (`WriteCount`) and the limits on what a count may claim: how many
//! elements, how deep, how much memory before the elements' bytes arrive.

use super::*;

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
        let received = self.base + self.end as u64;
        let from = self.offset().max(self.claimed);
        let fits = received.saturating_sub(from) / min_bytes;
        let n = fits.min(count as u64);
        self.claimed = from + n * min_bytes;
        n as usize
    }

    /// Reads `len` bytes into a new vector whose memory grows only as bytes
    /// actually arrive.
    /// `start` is where the value began, for the error.
    pub(crate) fn read_vec(
        &mut self,
        len: usize,
        start: u64,
        what: impl Fn() -> String,
    ) -> Result<Vec<u8>> {
        if self.buffer_whole(len, start, &what)? {
            let out = self.buf[self.pos..self.pos + len].to_vec();
            self.pos += len;
            return Ok(out);
        }
        let begin = self.offset();
        let mut out = Vec::with_capacity(len.min(self.buf.len()));
        while out.len() < len {
            if self.pos == self.end {
                if let Err(e) = self.refill(1, start, &what) {
                    self.wanted = begin.saturating_add(len as u64);
                    return Err(e);
                }
            }
            let n = (self.end - self.pos).min(len - out.len());
            if out.capacity() - out.len() < n {
                // Doubling as bytes arrive, but never past `len`.
                out.reserve_exact((len - out.len()).min(out.capacity().max(n)));
            }
            out.extend_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
        }
        Ok(out)
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
        if self.unit.is_none() {
            return self.unit(Keep::Value, |ar| ar.read_count());
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
            self.options.limits.max_count,
        )?;
        Ok(count as usize)
    }

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
    /// [`Limits::max_depth`](crate::Limits::max_depth).
    pub(crate) fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let limit = self.options.limits.max_depth;
        if self.depth >= limit {
            return Err(Error::LimitExceeded {
                offset: self.offset(),
                what: "nesting depth",
                found: u64::from(self.depth) + 1,
                limit: u64::from(limit),
            });
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }
}
