//! The chat server's history: the lines every client is sent, kept within
//! bounds of lines and bytes, each line numbered so that a client's place in it
//! survives the oldest lines being dropped.

use std::collections::VecDeque;

/// How much history the server keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// At most this many lines.
    pub lines: usize,
    /// At most this many bytes of text (a single longer line is still kept).
    pub bytes: usize,
}

/// A client asked for lines that were dropped before it was sent them: it
/// fell behind by more than the history holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FellBehind {
    /// Lines it missed.
    pub missed: u64,
}

/// The lines kept, oldest first; line numbers count from 0 for the first line
/// ever added.
#[derive(Debug)]
pub struct History {
    lines: VecDeque<String>,
    /// The number of `lines[0]`.
    first: u64,
    bytes: usize,
    bounds: Bounds,
}

impl History {
    /// An empty history within `bounds`.
    pub fn new(bounds: Bounds) -> History {
        History {
            lines: VecDeque::new(),
            first: 0,
            bytes: 0,
            bounds,
        }
    }

    /// Adds `line`, dropping the oldest lines while over a bound.
    pub fn push(&mut self, line: String) {
        self.bytes += line.len();
        self.lines.push_back(line);
        while self.lines.len() > 1
            && (self.lines.len() > self.bounds.lines || self.bytes > self.bounds.bytes)
        {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.len();
                self.first += 1;
            }
        }
    }

    /// The number of the oldest line kept: where a new client starts.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// The number the next line will get.
    pub fn end(&self) -> u64 {
        self.first + self.lines.len() as u64
    }

    /// Lines from number `from` on, as many as fit in `max_bytes` but at least
    /// one (when there is one).
    ///
    /// # Errors
    /// [`FellBehind`] when line `from` was already dropped.
    pub fn chunk(&self, from: u64, max_bytes: usize) -> Result<Vec<&str>, FellBehind> {
        if from < self.first {
            return Err(FellBehind {
                missed: self.first - from,
            });
        }
        let start = usize::try_from(from - self.first).unwrap_or(usize::MAX);
        let mut size = 0;
        let mut chunk = Vec::new();
        for line in self.lines.iter().skip(start) {
            if !chunk.is_empty() && size + line.len() > max_bytes {
                break;
            }
            size += line.len();
            chunk.push(line.as_str());
        }
        Ok(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(lines: usize, bytes: usize, added: &[&str]) -> History {
        let mut history = History::new(Bounds { lines, bytes });
        for line in added {
            history.push((*line).to_owned());
        }
        history
    }

    /// (bounds in lines and bytes, lines added) -> (first kept, end, kept).
    type Case = (
        (usize, usize),
        &'static [&'static str],
        (u64, u64, &'static [&'static str]),
    );

    #[test]
    fn bounds_drop_the_oldest_lines() {
        let cases: &[Case] = &[
            ((3, 100), &["a", "b"], (0, 2, &["a", "b"])),
            (
                (3, 100),
                &["a", "b", "c", "d", "e"],
                (2, 5, &["c", "d", "e"]),
            ),
            ((10, 5), &["aa", "bb", "cc"], (1, 3, &["bb", "cc"])),
            ((10, 5), &["aa", "toolongline"], (1, 2, &["toolongline"])),
            ((1, 100), &["a", "b"], (1, 2, &["b"])),
        ];
        for ((lines, bytes), added, (first, end, kept)) in cases {
            let h = history(*lines, *bytes, added);
            assert_eq!((h.first(), h.end()), (*first, *end), "{added:?}");
            assert_eq!(h.chunk(*first, usize::MAX).unwrap(), *kept, "{added:?}");
        }
    }

    #[test]
    fn chunks_hold_at_least_one_line_and_at_most_max_bytes() {
        let h = history(100, 1000, &["aaaa", "bbbb", "cccc", "dddddddddd"]);
        assert_eq!(h.chunk(0, 8).unwrap(), ["aaaa", "bbbb"]);
        assert_eq!(h.chunk(2, 8).unwrap(), ["cccc"]);
        assert_eq!(h.chunk(3, 8).unwrap(), ["dddddddddd"], "one line always");
        assert!(h.chunk(4, 8).unwrap().is_empty());
    }

    #[test]
    fn a_client_behind_the_oldest_kept_line_fell_behind() {
        let h = history(2, 1000, &["a", "b", "c", "d"]);
        assert_eq!(h.chunk(0, 100), Err(FellBehind { missed: 2 }));
        assert_eq!(h.chunk(2, 100).unwrap(), ["c", "d"]);
    }
}
