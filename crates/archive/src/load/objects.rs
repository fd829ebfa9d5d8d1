//! The object load array (`ReadObject`/`ReadClass`): new-class tags, class and
//! object references, the shared index space, and dropping what it holds flat.

use super::*;

/// One entry of the load array: index 0 is null, then classes and objects in the
/// order the stream introduced them.
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

/// The load array. Its objects are let go newest first, through
/// [`drop_objects`](crate::drop_objects): an object refers back only to older
/// ones (or to newer ones it loaded itself, which its nesting bounds), so a
/// chain built from back-references is freed one link at a time even through
/// classes whose own `Drop` would recurse.
pub(super) struct Slots(pub(super) Vec<Slot>);

impl Slots {
    /// Forgets the entries from `len` on, newest first. (It must stay visible
    /// wherever the load array is cut: out of sight, `truncate` would resolve
    /// to `Vec::truncate` through `DerefMut`, which drops oldest first and
    /// recurses along a chain.)
    pub(super) fn truncate(&mut self, len: usize) {
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

impl std::ops::Deref for Slots {
    type Target = Vec<Slot>;
    fn deref(&self) -> &Vec<Slot> {
        &self.0
    }
}

impl std::ops::DerefMut for Slots {
    fn deref_mut(&mut self) -> &mut Vec<Slot> {
        &mut self.0
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
        self.unit(Keep::Value, |ar| ar.read_object_of(None))
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
        let Some(object) = self.unit(Keep::Value, |ar| ar.read_object_of(Some(class)))? else {
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

    pub(super) fn read_object_of(
        &mut self,
        requested: Option<RuntimeClass>,
    ) -> Result<Option<ObjectRef>> {
        let offset = self.offset();
        let (word, tag) = self.read_tag()?;
        if tag & tags::CLASS_TAG_BIT == 0 {
            let (object, chain) =
                self.object_at(tag, offset, requested.map(|class| class.name()))?;
            self.chain = self.chain.max(chain);
            return Ok(object);
        }
        let class_index = if word == tags::NEW_CLASS_TAG {
            self.read_class_description(offset, requested)?
        } else {
            tag & !tags::CLASS_TAG_BIT
        };
        let (class, schema) = self.class_at(class_index, offset)?;
        if let Some(requested) = requested.map(|class| class.name()) {
            if class.name() != requested {
                return Err(Error::BadClass {
                    offset,
                    expected: format!("an object of class {requested}"),
                    found: format!("class {}", class.name()),
                });
            }
        }
        let index = self.push_slot(Slot::Pending, offset)?;
        let saved_schema = self.object_schema.replace(u32::from(schema));
        let outer_chain = std::mem::replace(&mut self.chain, 0);
        let result = self.nested(|ar| class.create(R::erase(ar)));
        let held_chain = std::mem::replace(&mut self.chain, outer_chain);
        self.object_schema = saved_schema;
        let object = result?;
        let chain = held_chain.saturating_add(u64::from(!class.drops_flat()));
        let limit = self.options.limits.max_chain;
        if chain > limit {
            return Err(Error::LimitExceeded {
                offset,
                what: "a chain of objects holding objects (through classes that do not drop flat)",
                found: chain,
                limit,
            });
        }
        self.chain = self.chain.max(chain);
        self.slots[index] = Slot::Object(ObjectRef::clone(&object), chain);
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
        if self.unit.is_none() {
            return self.unit(Keep::Value, |ar| ar.read_class());
        }
        let offset = self.offset();
        let (word, tag) = self.read_tag()?;
        if tag & tags::CLASS_TAG_BIT == 0 {
            return Err(Error::BadIndex {
                offset,
                expected: "a class tag (FF FF or 0x8000 | index)".into(),
                found: format!("object tag {tag:#x}"),
            });
        }
        let class_index = if word == tags::NEW_CLASS_TAG {
            self.read_class_description(offset, None)?
        } else {
            tag & !tags::CLASS_TAG_BIT
        };
        let (class, schema) = self.class_at(class_index, offset)?;
        self.object_schema = Some(u32::from(schema));
        Ok(class)
    }

    /// The stored schema of the object being loaded (`CArchive::GetObjectSchema`).
    /// Like MFC's, it answers once per object and `None` after that, and `None`
    /// for a body loaded directly rather than through
    /// [`read_object`](Self::read_object).
    pub fn object_schema(&mut self) -> Option<u32> {
        self.object_schema.take()
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

    /// Reads an object tag: the `WORD`, and the tag widened to MFC's 32-bit form
    /// (class bit at `0x8000_0000`).
    pub(super) fn read_tag(&mut self) -> Result<(u16, u32)> {
        let word = u16::from_le_bytes(self.take("an object tag (WORD)")?);
        let tag = if word == tags::BIG_OBJECT_TAG {
            u32::from_le_bytes(self.take("a big object tag (DWORD after FF 7F)")?)
        } else {
            (u32::from(word & tags::CLASS_TAG) << 16) | u32::from(word & !tags::CLASS_TAG)
        };
        Ok((word, tag))
    }

    pub(super) fn object_at(
        &self,
        index: u32,
        offset: u64,
        requested: Option<&'static str>,
    ) -> Result<(Option<ObjectRef>, u64)> {
        let bad = |found: String| Error::BadIndex {
            offset,
            expected: format!("an object index below {}", self.slots.len()),
            found,
        };
        match self.slots.get(index as usize) {
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

    pub(super) fn class_at(&self, index: u32, offset: u64) -> Result<(RuntimeClass, u16)> {
        match self.slots.get(index as usize) {
            Some(Slot::Class { class, schema }) if index != 0 => Ok((*class, *schema)),
            other => Err(Error::BadIndex {
                offset,
                expected: "a reference to a class already read".into(),
                found: match other {
                    None => format!(
                        "class index {index}, past the {} entries loaded",
                        self.slots.len() - 1
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
        requested: Option<RuntimeClass>,
    ) -> Result<u32> {
        let schema = u16::from_le_bytes(self.take("a class schema (WORD after FF FF)")?);
        let name_len = u16::from_le_bytes(self.take("a class name length (WORD)")?);
        let max = self.options.limits.max_class_name;
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
            self.classes
                .get(name)
                .or(requested.filter(|class| class.name() == name))
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

    pub(super) fn push_slot(&mut self, slot: Slot, offset: u64) -> Result<usize> {
        let limit = self
            .options
            .limits
            .max_objects
            .min(u64::from(tags::MAX_MAP_COUNT) - 1);
        let count = self.slots.len() as u64;
        if count > limit {
            return Err(Error::LimitExceeded {
                offset,
                what: "the number of classes and objects",
                found: count,
                limit,
            });
        }
        self.slots.push(slot);
        Ok(self.slots.len() - 1)
    }
}
