//! MFC's serializable collection classes as objects (`ar << pArray` writes class
//! `CObArray` and its body), and the registry entries for them.
//!
//! Written directly (`m_list.Serialize(ar)`), a collection is only its body:
//! `WriteCount` then the elements, which is what `Vec<T>` stores. These newtypes
//! exist for collections written *by pointer*, as objects with a class tag
//! (`Test.wsp` writes `CObArray`s so). Every collection class has schema 0.
//!
//! `CMap` bodies are entries in the map's own order, which in MFC is hash-bucket
//! order (17 buckets by default, newest first within a bucket; the hash changed in
//! MFC 10.0). A loader accepts any order, so these types keep the order they were
//! loaded in and store in that order; `BTreeMap` stores in key order.
//!
//! `CUIntArray`, `CPtrArray` and the pointer maps have no `Serialize` in MFC; a
//! program storing `UINT`s through `CArray<UINT, UINT>` writes what `Vec<u32>`
//! writes.

use crate::classes::{drop_objects, ClassRegistry, ObjectRef, SerialClass};
use crate::error::Result;
use crate::string::MfcString;
use crate::{Load, Loading, Store, Storing};

macro_rules! collection {
    ($(#[$doc:meta])* $name:ident($inner:ty) = $class:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default)]
        pub struct $name(pub $inner);

        impl SerialClass for $name {
            const CLASS_NAME: &'static str = $class;
            const SCHEMA: u32 = 0;
            const DROPS_FLAT: bool = true;
        }
    };
}

macro_rules! vec_body {
    ($($name:ident),*) => {$(
        impl Store for $name {
            fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
                self.0.store(ar)
            }
        }

        impl Load for $name {
            fn load(ar: &mut Loading<'_>) -> Result<Self> {
                Ok($name(Load::load(ar)?))
            }
            const MIN_BYTES: usize = 2;
        }
    )*};
}

collection! {
    /// `CObArray`: object pointers, null allowed.
    ObArray(Vec<Option<ObjectRef>>) = "CObArray"
}
collection! {
    /// `CObList`: object pointers, null allowed.
    ObList(Vec<Option<ObjectRef>>) = "CObList"
}
collection! {
    /// `CStringArray`.
    StringArray(Vec<MfcString>) = "CStringArray"
}
collection! {
    /// `CStringList`.
    StringList(Vec<MfcString>) = "CStringList"
}
collection! {
    /// `CByteArray`: the count, then the bytes as they are.
    ByteArray(Vec<u8>) = "CByteArray"
}
collection! {
    /// `CWordArray`.
    WordArray(Vec<u16>) = "CWordArray"
}
collection! {
    /// `CDWordArray`.
    DWordArray(Vec<u32>) = "CDWordArray"
}
collection! {
    /// `CMapStringToString`: entries in stored order.
    MapStringToString(Vec<(MfcString, MfcString)>) = "CMapStringToString"
}
collection! {
    /// `CMapStringToOb`: entries in stored order.
    MapStringToOb(Vec<(MfcString, Option<ObjectRef>)>) = "CMapStringToOb"
}
collection! {
    /// `CMapWordToOb`: entries in stored order.
    MapWordToOb(Vec<(u16, Option<ObjectRef>)>) = "CMapWordToOb"
}

vec_body!(
    ObArray,
    ObList,
    StringArray,
    StringList,
    WordArray,
    DWordArray,
    MapStringToString,
    MapStringToOb,
    MapWordToOb
);

impl Store for ByteArray {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        ar.write_count(self.0.len() as u64)?;
        ar.write_raw(&self.0)
    }
}

impl Load for ByteArray {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        let offset = ar.offset();
        let count = ar.read_element_count()?;
        Ok(ByteArray(ar.read_vec(count, offset, || {
            format!("the {count} bytes of a CByteArray (at byte {offset})")
        })?))
    }
    const MIN_BYTES: usize = 2;
}

/// The collections that hold object pointers drop them through
/// [`drop_objects`], so a chain of them any length long drops without
/// recursing once per link.
macro_rules! drops_objects {
    ($($name:ident: |$item:ident| $object:expr),* $(,)?) => {$(
        impl Drop for $name {
            fn drop(&mut self) {
                drop_objects(self.0.drain(..).filter_map(|$item| $object));
            }
        }
    )*};
}

drops_objects! {
    ObArray: |object| object,
    ObList: |object| object,
    MapStringToOb: |entry| entry.1,
    MapWordToOb: |entry| entry.1,
}

impl Default for ClassRegistry {
    /// MFC's serializable collections and `CDockState`, registered.
    fn default() -> Self {
        let mut registry = ClassRegistry::empty();
        register_builtins(&mut registry);
        registry
    }
}

fn register_builtins(registry: &mut ClassRegistry) {
    registry
        .register::<ObArray>()
        .register::<ObList>()
        .register::<StringArray>()
        .register::<StringList>()
        .register::<ByteArray>()
        .register::<WordArray>()
        .register::<DWordArray>()
        .register::<MapStringToString>()
        .register::<MapStringToOb>()
        .register::<MapWordToOb>()
        .register::<crate::DockState>();
}
