//! The tables the archives keep of the classes and objects they have seen:
//! the storing archive's index map (object address or class name to index)
//! and the loading archive's load array (index to class or object), which is
//! let go without recursing.

use std::collections::HashMap;

use crate::classes::{ClassRegistry, ObjectRef, RuntimeClass};
use crate::error::{Error, Result};

/// MFC's ceiling on the shared class/object index (`nMaxMapCount`).
pub(super) const MAX_MAP_COUNT: u32 = 0x3FFF_FFFE;

/// Classes and objects already written, and the next index (the "PID" space that
/// classes and objects share, starting at 1).
#[derive(Default)]
pub(crate) struct StoreMap {
    pub(super) last_index: u32,
    pub(super) objects: HashMap<usize, u32>,
    /// Keeps every written object alive, so its address cannot be reused by a new
    /// object during this archive's life (which would turn it into a false
    /// back-reference).
    pub(super) keep_alive: Vec<ObjectRef>,
    pub(super) classes: HashMap<Box<str>, u32>,
}

impl StoreMap {
    /// Classes and objects stored so far.
    pub(crate) fn stored(&self) -> u32 {
        self.last_index
    }

    pub(super) fn next_index(&mut self, offset: u64) -> Result<u32> {
        if self.last_index + 1 >= MAX_MAP_COUNT {
            return Err(Error::Generic {
                offset,
                message: format!(
                    "expected fewer than {MAX_MAP_COUNT:#x} classes and objects in one archive"
                ),
            });
        }
        self.last_index += 1;
        Ok(self.last_index)
    }
}

/// One entry of the load array: index 0 is null, then classes and objects in the
/// order the stream introduced them.
#[derive(Clone)]
pub(super) enum Slot {
    Null,
    Class {
        class: RuntimeClass,
        schema: u16,
    },
    /// An object, and the longest chain of objects through classes that do
    /// not drop flat that dropping it could recurse along.
    Object(ObjectRef, u64),
    /// An object whose body is being read; a reference to it is a cycle.
    Pending,
}

/// The load array (and a run of its entries kept aside, for
/// [`LoadMap::entries_between`]). Its objects are let go newest first, through
/// [`drop_objects`](crate::drop_objects): an object refers back only to older
/// ones (or to newer ones it loaded itself, which its nesting bounds), so a
/// chain built from back-references is freed one link at a time even through
/// classes whose own `Drop` would recurse.
pub(crate) struct Slots(pub(super) Vec<Slot>);

impl Slots {
    /// Forgets the entries from `len` on, newest first (`Vec::truncate` would
    /// drop oldest first and recurse along a chain).
    fn truncate(&mut self, len: usize) {
        let newest_first = (len..self.0.len()).rev();
        let objects: Vec<ObjectRef> = newest_first
            .filter_map(|i| match std::mem::replace(&mut self.0[i], Slot::Null) {
                Slot::Object(object, _) => Some(object),
                _ => None,
            })
            .collect();
        self.0.truncate(len);
        crate::drop_objects(objects);
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        self.truncate(0);
    }
}

/// The loading archive's object state: the load array, the classes it can
/// create, the schema of the object being loaded and the chain bound.
pub(crate) struct LoadMap {
    pub(super) slots: Slots,
    pub(crate) classes: ClassRegistry,
    pub(super) object_schema: Option<u32>,
    /// The longest chain ([`Limits::max_chain`](crate::Limits::max_chain))
    /// among the objects the body being loaded has referred to so far.
    pub(super) chain: u64,
}

/// How far a [`LoadMap`] had come, for [`LoadMap::undo`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    slots: usize,
    object_schema: Option<u32>,
}

impl LoadMap {
    pub(crate) fn new(classes: ClassRegistry) -> Self {
        LoadMap {
            slots: Slots(vec![Slot::Null]),
            classes,
            object_schema: None,
            chain: 0,
        }
    }

    /// Classes and objects loaded so far.
    pub(crate) fn loaded(&self) -> usize {
        self.slots.0.len() - 1
    }

    /// Where the load array is now.
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            slots: self.slots.0.len(),
            object_schema: self.object_schema,
        }
    }

    /// The length of the load array (classes and objects, and index 0).
    pub(crate) fn loaded_slots(&self) -> usize {
        self.slots.0.len()
    }

    /// A copy of the load array's entries from `start` to `end`: what the
    /// elements a collection read registered, kept with them for a retry.
    /// `None` if the load array no longer reaches `end` (an inner undo
    /// forgot those entries).
    pub(crate) fn entries_between(&self, start: usize, end: usize) -> Option<Slots> {
        self.slots
            .0
            .get(start..end)
            .map(|entries| Slots(entries.to_vec()))
    }

    /// Appends entries kept with [`entries_between`](Self::entries_between):
    /// the load array as it was when those elements had been read.
    pub(crate) fn restore(&mut self, mut entries: Slots) {
        self.slots.0.append(&mut entries.0);
    }

    /// Forgets what was loaded since `mark`, newest first.
    pub(crate) fn undo(&mut self, mark: Mark) {
        self.slots.truncate(mark.slots);
        self.object_schema = mark.object_schema;
    }
}
