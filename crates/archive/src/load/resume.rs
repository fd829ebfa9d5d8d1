//! Going on where a message stopped: what a message that ran out had read
//! (the elements of its collections, the objects it finished), kept for its
//! retry, so that `read_message` reads a message dripped in a byte at a time
//! in time linear in its length rather than parsing it again from its start.

use std::any::Any;
use std::collections::HashMap;

use super::*;

/// What the message that ran out had read, by stream offset.
///
/// A retry runs the message's function again from the message's start; each
/// collection and object it reaches at an offset kept here takes what was
/// read there instead of reading it again, as long as the load array then
/// holds exactly as many entries as when it was kept (so the retry has
/// registered the same classes and objects before it: the objects restored
/// from here, the same classes read again). The load-array entries a kept
/// part registered are kept with it and go back in when it is taken.
#[derive(Default)]
pub(super) struct Resume {
    /// The parts kept, by stream offset: of the message `read_message` is
    /// reading (a new message starts with none; only while the archive reads
    /// a message are parts kept).
    parts: HashMap<u64, Part>,
    /// The objects this attempt has finished, to keep if it runs out.
    finished: Vec<Finished>,
}

/// A collection's elements read so far, or a finished object.
struct Part {
    /// Where reading goes on: the first element not read, or the end of the
    /// object.
    next: u64,
    /// The load array's length where the part began.
    slots_at_start: usize,
    /// What the part registered in the load array.
    entries: Slots,
    /// The elements (a `Vec<T>`), or the object (an `ObjectRef` and the
    /// chain through it).
    items: Box<dyn Any + Send>,
}

/// An object the current attempt finished.
struct Finished {
    /// Its tag's offset, and the end of its body.
    at: u64,
    next: u64,
    /// The load array's length before its tag, and after its body.
    slots: (usize, usize),
    object: ObjectRef,
    chain: u64,
}

impl std::fmt::Debug for Resume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resume")
            .field("parts", &self.parts.len())
            .finish_non_exhaustive()
    }
}

impl Resume {
    /// A new attempt at the message: what an earlier attempt finished but
    /// did not keep is no longer in the load array.
    pub(super) fn attempt_begins(&mut self) {
        self.finished.clear();
    }
}

impl<R: Source + ?Sized> LoadArchive<R> {
    /// Whether the message being read keeps what it reads for a retry.
    pub(super) fn keeps_for_retry(&self) -> bool {
        matches!(self.unit, Unit::Message(_))
    }

    /// Takes a kept part at `at` of type `T`, restoring its load-array
    /// entries and moving past it; `None` (and the part dropped) if there is
    /// none or the load array is not where it was.
    fn take_part<T: Any>(&mut self, at: u64) -> Option<(Box<T>, u64)> {
        let part = self.resume.parts.remove(&at)?;
        let items = part.items.downcast::<T>().ok()?;
        if part.next < self.offset()
            || part.next > self.received()
            || self.objects.loaded_slots() != part.slots_at_start
        {
            return None;
        }
        self.objects.restore(part.entries);
        self.buf.seek(part.next);
        Some((items, part.next))
    }

    /// The elements a collection whose count is at `at` had read when its
    /// message last ran out, with the read position moved past them.
    pub(crate) fn resumed<T: Send + 'static>(&mut self, at: u64) -> Option<Vec<T>> {
        self.take_part::<Vec<T>>(at).map(|(items, _)| *items)
    }

    /// The object whose tag is at `at`, and the chain through it, if a
    /// retry's earlier attempt finished it: restored with its load-array
    /// entries, the read position past its body. `class` is the class asked
    /// for, if any.
    #[inline]
    pub(crate) fn resumed_object(
        &mut self,
        at: u64,
        class: Option<&str>,
    ) -> Option<(ObjectRef, u64)> {
        if self.resume.parts.is_empty() {
            return None;
        }
        let part = self.resume.parts.get(&at)?;
        let (object, _) = part.items.downcast_ref::<(ObjectRef, u64)>()?;
        if class.is_some_and(|class| class != object.class_name()) {
            return None;
        }
        self.take_part::<(ObjectRef, u64)>(at)
            .map(|(kept, _)| *kept)
    }

    /// Notes an object this attempt finished: its tag at `at`, the load
    /// array's length before its tag, and its chain (kept if the message
    /// runs out).
    #[inline]
    pub(crate) fn finished_object(
        &mut self,
        at: u64,
        slots_before: usize,
        object: &ObjectRef,
        chain: u64,
    ) {
        if self.keeps_for_retry() {
            self.resume.finished.push(Finished {
                at,
                next: self.offset(),
                slots: (slots_before, self.objects.loaded_slots()),
                object: ObjectRef::clone(object),
                chain,
            });
        }
    }

    /// Keeps the elements a collection whose count is at `at` has read, the
    /// next one beginning at `next`, when its message runs out. `slots` is
    /// the load array's length when the collection began and when the next
    /// element began.
    pub(crate) fn keep_for_retry<T: Send + 'static>(
        &mut self,
        at: u64,
        next: u64,
        slots: (usize, usize),
        items: Vec<T>,
    ) {
        if !self.keeps_for_retry() {
            return;
        }
        if let Some(entries) = self.objects.entries_between(slots.0, slots.1) {
            self.resume.parts.insert(
                at,
                Part {
                    next,
                    slots_at_start: slots.0,
                    entries,
                    items: Box::new(items),
                },
            );
        }
    }

    /// Keeps the objects the attempt that is running out finished, before
    /// the load array forgets them: called by every undo inside the message,
    /// so an object finished inside another whose own read ran out is kept
    /// too (the retry reads the outer one again and takes the inner one
    /// back).
    pub(super) fn keep_objects_for_retry(&mut self) {
        for done in std::mem::take(&mut self.resume.finished) {
            let Some(entries) = self.objects.entries_between(done.slots.0, done.slots.1) else {
                continue;
            };
            self.resume.parts.insert(
                done.at,
                Part {
                    next: done.next,
                    slots_at_start: done.slots.0,
                    entries,
                    items: Box::new((done.object, done.chain)),
                },
            );
        }
    }

    /// The load array's length: classes and objects registered so far.
    #[inline]
    pub(crate) fn loaded_slots(&self) -> usize {
        self.objects.loaded_slots()
    }
}
