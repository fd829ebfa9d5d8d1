//! Objects and classes on the wire (`WriteObject`/`ReadObject`,
//! `WriteClass`/`ReadClass`, TN002), in both directions: the tags, the
//! storing archive's index map, the loading archive's load array, and the
//! class and object references between them.

use std::sync::Arc;

use crate::classes::{ObjectRef, RuntimeClass, SerialClass};
use crate::counts::{STACK_RED_ZONE, STACK_SEGMENT};
use crate::error::{Error, Result};
use crate::load::{LoadArchive, Source};
use crate::store::{Sink, StoreArchive};

pub(crate) mod tables;

use tables::{Slot, MAX_MAP_COUNT};

/// A null object pointer.
const NULL_TAG: u16 = 0x0000;
/// A class description follows.
const NEW_CLASS_TAG: u16 = 0xFFFF;
/// OR-ed with a small class index.
const CLASS_TAG: u16 = 0x8000;
/// OR-ed with a big (`DWORD`) class index.
const CLASS_TAG_BIT: u32 = 0x8000_0000;
/// A `DWORD` tag follows.
const BIG_OBJECT_TAG: u16 = 0x7FFF;
/// The schema MFC reserves for "not serializable" classes.
const NOT_SERIALIZABLE_SCHEMA: u16 = 0xFFFF;

/// An object or class tag as read: the `WORD`, and the tag widened to MFC's
/// 32-bit form (class bit at `0x8000_0000`).
#[derive(Debug, Clone, Copy)]
struct Tag {
    word: u16,
    wide: u32,
}

impl Tag {
    /// Whether it introduces or refers to a class rather than an object.
    fn is_class(self) -> bool {
        self.wide & CLASS_TAG_BIT != 0
    }

    /// The load-array index it refers to (a class's without the class bit).
    fn index(self) -> u32 {
        self.wide & !CLASS_TAG_BIT
    }
}

impl<R: Source + ?Sized> LoadArchive<R> {
    /// Loads an object pointer (`CArchive::ReadObject(NULL)`, `ar >> pOb`): `None`
    /// for the null tag, the earlier object for a back-reference, otherwise a new
    /// object of a registered class, created and then loaded with its body.
    ///
    /// # Errors
    /// [`Error::BadIndex`] for a tag that refers to nothing loaded, to a class where
    /// an object was due, or to an object still being loaded (a cycle: not
    /// supported); [`Error::BadClass`] for an unregistered or over-long class name;
    /// [`Error::BadSchema`] for a schema the class does not accept; any error of the
    /// body.
    pub fn read_object(&mut self) -> Result<Option<ObjectRef>> {
        self.read_whole_with(|ar| ar.read_object_of(None))
    }

    /// Loads an object that must be of class `T`
    /// (`CArchive::ReadObject(RUNTIME_CLASS(T))`, `ar >> pT`). `T` need not be
    /// registered: a class description naming `T` creates a `T`.
    ///
    /// # Errors
    /// As [`read_object`](Self::read_object), and [`Error::BadClass`] when the
    /// stream holds an object of another class.
    pub fn read_object_as<T: SerialClass>(&mut self) -> Result<Option<Arc<T>>> {
        let offset = self.offset();
        let class = RuntimeClass::of::<T>();
        let Some(object) = self.read_whole_with(|ar| ar.read_object_of(Some(&class)))? else {
            return Ok(None);
        };
        object
            .downcast::<T>()
            .map(Some)
            .map_err(|other| Error::BadClass {
                offset,
                expected: format!("an object of the Rust type registered as {}", T::CLASS_NAME),
                found: format!("another type registered under {}", other.class_name()),
            })
    }

    fn read_object_of(&mut self, requested: Option<&RuntimeClass>) -> Result<Option<ObjectRef>> {
        let offset = self.offset();
        let slots_before = self.objects.loaded_slots();
        // A retry of a message that finished this object before takes it
        // back, its load-array entries with it.
        if let Some((object, chain)) =
            self.resumed_object(offset, requested.map(RuntimeClass::name))
        {
            self.objects.chain = self.objects.chain.max(chain);
            self.finished_object(offset, slots_before, &object, chain);
            return Ok(Some(object));
        }
        let tag = self.read_tag()?;
        if !tag.is_class() {
            let (object, chain) =
                self.object_at(tag.index(), offset, requested.map(RuntimeClass::name))?;
            self.objects.chain = self.objects.chain.max(chain);
            return Ok(object);
        }
        let (class, schema) = self.class_of(tag, offset, requested)?;
        if let Some(requested) = requested.map(RuntimeClass::name) {
            if class.name() != requested {
                return Err(Error::BadClass {
                    offset,
                    expected: format!("an object of class {requested}"),
                    found: format!("class {}", class.name()),
                });
            }
        }
        let index = self.push_slot(Slot::Pending, offset)?;
        let saved_schema = self.objects.object_schema.replace(u32::from(schema));
        let outer_chain = std::mem::replace(&mut self.objects.chain, 0);
        let result = self.nested(|ar| class.create(R::erase(ar)));
        let held_chain = std::mem::replace(&mut self.objects.chain, outer_chain);
        self.objects.object_schema = saved_schema;
        let object = result?;
        let chain = held_chain.saturating_add(u64::from(!class.drops_flat()));
        self.check_limit(
            offset,
            "a chain of objects holding objects (through classes that do not drop flat)",
            chain,
            self.options().limits.max_chain,
        )?;
        self.objects.chain = self.objects.chain.max(chain);
        self.objects.slots.0[index] = Slot::Object(ObjectRef::clone(&object), chain);
        self.finished_object(offset, slots_before, &object, chain);
        Ok(Some(object))
    }

    /// Loads a class alone (`CArchive::ReadClass`): a new class description or a
    /// reference to one read before. The stored schema becomes the
    /// [`object_schema`](Self::object_schema). Consumes a class index but no object
    /// index; create the object with [`RuntimeClass::create`].
    ///
    /// # Errors
    /// [`Error::BadIndex`] for an object tag or a reference to no class;
    /// [`Error::BadClass`] and [`Error::BadSchema`] as in
    /// [`read_object`](Self::read_object).
    pub fn read_class(&mut self) -> Result<RuntimeClass> {
        if !self.is_reading_whole() {
            return self.read_whole_with(|ar| ar.read_class());
        }
        let offset = self.offset();
        let tag = self.read_tag()?;
        if !tag.is_class() {
            return Err(Error::BadIndex {
                offset,
                expected: "a class tag (FF FF or 0x8000 | index)".into(),
                found: format!("object tag {:#x}", tag.wide),
            });
        }
        let (class, schema) = self.class_of(tag, offset, None)?;
        self.objects.object_schema = Some(u32::from(schema));
        Ok(class)
    }

    /// The stored schema of the object being loaded (`CArchive::GetObjectSchema`).
    /// Like MFC's, it answers once per object and `None` after that, and `None`
    /// for a body loaded directly rather than through
    /// [`read_object`](Self::read_object).
    pub fn object_schema(&mut self) -> Option<u32> {
        self.objects.object_schema.take()
    }

    /// The load-array index the next class or object read will take: 1 for
    /// a fresh archive (0 is the null pointer), one more for each class
    /// description, new object and [`map_object`](Self::map_object) since.
    /// While an object's body loads, its own index is the one before the
    /// first thing the body reads (`next_index() - 1` on entry), which is
    /// what a dump or a diff of a document names it by.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the load array is capped below MAX_MAP_COUNT, which fits a u32"
    )]
    pub fn next_index(&self) -> u32 {
        self.objects.slots.0.len() as u32
    }

    /// Registers an object in the index space without reading anything
    /// (`CArchive::MapObject`), mirroring the storing program's
    /// [`StoreArchive::map_object`](crate::StoreArchive::map_object).
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] when the index space is full.
    pub fn map_object(&mut self, object: &ObjectRef) -> Result<()> {
        let offset = self.offset();
        self.push_slot(Slot::Object(ObjectRef::clone(object), 0), offset)
            .map(drop)
    }

    /// Reads an object or class tag: the `WORD`, then the `DWORD` after `FF 7F`.
    fn read_tag(&mut self) -> Result<Tag> {
        let word = u16::from_le_bytes(self.take("an object tag (WORD)")?);
        let wide = if word == BIG_OBJECT_TAG {
            u32::from_le_bytes(self.take("a big object tag (DWORD after FF 7F)")?)
        } else {
            (u32::from(word & CLASS_TAG) << 16) | u32::from(word & !CLASS_TAG)
        };
        Ok(Tag { word, wide })
    }

    /// The class a class tag introduces (`FF FF` and a description, read here)
    /// or refers to, with its stored schema: the one decoder of class
    /// references, for objects and for classes alone.
    fn class_of(
        &mut self,
        tag: Tag,
        offset: u64,
        requested: Option<&RuntimeClass>,
    ) -> Result<(RuntimeClass, u16)> {
        let index = if tag.word == NEW_CLASS_TAG {
            self.read_class_description(offset, requested)?
        } else {
            tag.index()
        };
        self.class_at(index, offset)
    }

    fn object_at(
        &self,
        index: u32,
        offset: u64,
        requested: Option<&str>,
    ) -> Result<(Option<ObjectRef>, u64)> {
        let bad = |found: String| Error::BadIndex {
            offset,
            expected: format!("an object index below {}", self.objects.slots.0.len()),
            found,
        };
        match self.objects.slots.0.get(index as usize) {
            None => Err(bad(format!("index {index}"))),
            Some(Slot::Null) => Ok((None, 0)),
            Some(Slot::Class { class, .. }) => Err(bad(format!("index {index}, which is class {}", class.name()))),
            Some(Slot::Pending) => Err(bad(format!(
                "index {index}, an object still being loaded (cyclic object graphs are not supported)"
            ))),
            Some(Slot::Object(object, chain)) => match requested {
                Some(name) if object.class_name() != name => Err(Error::BadClass {
                    offset,
                    expected: format!("an object of class {name}"),
                    found: format!("a reference to object {index} of class {}", object.class_name()),
                }),
                _ => Ok((Some(ObjectRef::clone(object)), *chain)),
            },
        }
    }

    fn class_at(&self, index: u32, offset: u64) -> Result<(RuntimeClass, u16)> {
        match self.objects.slots.0.get(index as usize) {
            Some(Slot::Class { class, schema }) if index != 0 => Ok((class.clone(), *schema)),
            other => Err(Error::BadIndex {
                offset,
                expected: "a reference to a class already read".into(),
                found: match other {
                    None => format!(
                        "class index {index}, past the {} entries loaded",
                        self.objects.slots.0.len() - 1
                    ),
                    Some(_) => format!("class index {index}, which is not a class"),
                },
            }),
        }
    }

    /// Reads the class description after `FF FF` (`CRuntimeClass::Load`), checks
    /// it against the registry (or the class the caller asked for) and appends it
    /// to the load array.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a load-array index is below max_objects, which fits a u32"
    )]
    fn read_class_description(
        &mut self,
        offset: u64,
        requested: Option<&RuntimeClass>,
    ) -> Result<u32> {
        let schema = u16::from_le_bytes(self.take("a class schema (WORD after FF FF)")?);
        let name_len = u16::from_le_bytes(self.take("a class name length (WORD)")?);
        let max = self.options().limits.max_class_name;
        if name_len > max {
            return Err(Error::BadClass {
                offset,
                expected: format!("a class name of at most {max} bytes"),
                found: format!("a name of {name_len} bytes"),
            });
        }
        let name = self.read_vec(usize::from(name_len), offset, || {
            format!("a class name of {name_len} bytes")
        })?;
        let found = std::str::from_utf8(&name).ok().and_then(|name| {
            self.objects
                .classes
                .get(name)
                .or_else(|| requested.filter(|class| class.name() == name).cloned())
        });
        let Some(class) = found else {
            return Err(Error::BadClass {
                offset,
                expected: "a registered class".into(),
                found: format!("class {:?}", String::from_utf8_lossy(&name)),
            });
        };
        if schema != class.stored_schema() && !class.is_versionable() {
            return Err(Error::BadSchema {
                offset,
                class: class.name().to_owned(),
                expected: u32::from(class.stored_schema()),
                found: u32::from(schema),
            });
        }
        self.push_slot(Slot::Class { class, schema }, offset)
            .map(|index| index as u32)
    }

    fn push_slot(&mut self, slot: Slot, offset: u64) -> Result<usize> {
        let limit = self
            .options()
            .limits
            .max_objects
            .min(u64::from(MAX_MAP_COUNT) - 1);
        let count = self.objects.slots.0.len() as u64;
        self.check_limit(offset, "the number of classes and objects", count, limit)?;
        self.objects.slots.0.push(slot);
        Ok(self.objects.slots.0.len() - 1)
    }
}

impl<W: Sink + ?Sized> StoreArchive<W> {
    /// Stores an object pointer (`CArchive::WriteObject`, `ar << pOb`): `None` is the
    /// null tag `00 00`; an object already written is a back-reference to its index;
    /// a new object is its class (description or reference), then its body.
    ///
    /// Identity is the `Arc`'s address: writing the same `Arc` twice writes one
    /// object and one back-reference; equal but distinct objects are written twice.
    ///
    /// # Errors
    /// An error from the writer, an error from the object's body, or a class that
    /// cannot be stored (see [`write_class`](Self::write_class)).
    pub fn write_object(&mut self, object: Option<&ObjectRef>) -> Result<()> {
        let Some(object) = object else {
            return self.put(NULL_TAG.to_le_bytes());
        };
        let address = object_address(object);
        if let Some(&index) = self.map.objects.get(&address) {
            return self.write_tag(index);
        }
        self.write_class(&object.runtime_class())?;
        let index = self.map.next_index(self.offset())?;
        self.map.objects.insert(address, index);
        self.map.keep_alive.push(ObjectRef::clone(object));
        // A chain of objects each holding the next stores recursively, as it
        // loads: on more stack when little is left.
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
            object.store_body(W::erase(self))
        })
    }

    /// Stores a class alone (`CArchive::WriteClass`): `FF FF`, schema, name length
    /// and name the first time, `0x8000 | index` after that. Consumes a class index
    /// but no object index.
    ///
    /// ```
    /// use mfc_archive::{Archive, RuntimeClass};
    /// # #[derive(Debug, mfc_archive::Serialize)]
    /// # #[mfc(class = "CAge", schema = 1)]
    /// # struct Age { years: i32 }
    /// let mut out = Vec::new();
    /// let mut ar = Archive::store(&mut out);
    /// ar.write_class(&RuntimeClass::of::<Age>())?;
    /// ar.write_class(&RuntimeClass::of::<Age>())?;
    /// ar.close()?;
    /// assert_eq!(out, [0xFF, 0xFF, 0x01, 0x00, 0x04, 0x00, b'C', b'A', b'g', b'e', 0x01, 0x80]);
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Generic`] for a class MFC could not store either: schema `0xFFFF`
    /// (MFC's "not serializable"), or a name that is not ASCII or is 64 bytes or more
    /// (MFC's loader rejects it); an error from the writer.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a class name is checked to be under 64 KiB when the class is made"
    )]
    pub fn write_class(&mut self, class: &RuntimeClass) -> Result<()> {
        if let Some(&index) = self.map.classes.get(class.name()) {
            return self.write_tag(CLASS_TAG_BIT | index);
        }
        let offset = self.offset();
        let invalid = |message: String| Error::Generic { offset, message };
        if class.stored_schema() == NOT_SERIALIZABLE_SCHEMA {
            return Err(invalid(format!(
                "expected a serializable class, found {} with schema 0xFFFF",
                class.name()
            )));
        }
        if !class.name().is_ascii() || class.name().len() >= 64 {
            return Err(invalid(format!(
                "expected an ASCII class name shorter than 64 bytes, found {:?}",
                class.name()
            )));
        }
        self.put(NEW_CLASS_TAG.to_le_bytes())?;
        self.put(class.stored_schema().to_le_bytes())?;
        self.put((class.name().len() as u16).to_le_bytes())?;
        self.write_raw(class.name().as_bytes())?;
        let index = self.map.next_index(offset)?;
        self.map.classes.insert(class.name().into(), index);
        Ok(())
    }

    /// The index the next class or object stored will take: 1 for a fresh
    /// archive, as [`LoadArchive::next_index`](crate::LoadArchive::next_index)
    /// counts them on the loading side.
    pub fn next_index(&self) -> u32 {
        self.map.stored() + 1
    }

    /// Registers an object in the index space without writing anything
    /// (`CArchive::MapObject`). A loading program must make the same call at the
    /// same point ([`LoadArchive::map_object`](crate::LoadArchive::map_object)).
    ///
    /// # Errors
    /// [`Error::Generic`] when the index space is exhausted.
    pub fn map_object(&mut self, object: &ObjectRef) -> Result<()> {
        let index = self.map.next_index(self.offset())?;
        self.map.objects.insert(object_address(object), index);
        self.map.keep_alive.push(ObjectRef::clone(object));
        Ok(())
    }

    /// An object or class reference: the `WORD` form below `0x7FFF`, else the
    /// big form `FF 7F` + `DWORD`. `tag` carries the class bit already.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "index is below BIG_OBJECT_TAG, so it fits 15 bits"
    )]
    fn write_tag(&mut self, tag: u32) -> Result<()> {
        let index = tag & !CLASS_TAG_BIT;
        if index < u32::from(BIG_OBJECT_TAG) {
            let small = if tag & CLASS_TAG_BIT != 0 {
                CLASS_TAG | index as u16
            } else {
                index as u16
            };
            self.put(small.to_le_bytes())
        } else {
            self.put(BIG_OBJECT_TAG.to_le_bytes())?;
            self.put(tag.to_le_bytes())
        }
    }
}

fn object_address(object: &ObjectRef) -> usize {
    Arc::as_ptr(object) as *const () as usize
}
