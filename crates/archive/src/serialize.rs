//! The two traits every archived value implements, and their implementations for
//! Rust's primitives and containers.
//!
//! | Rust | MFC | bytes |
//! |---|---|---|
//! | `u8`, `i8` | `BYTE`, `char` | 1 |
//! | `bool` | `bool` (any non-zero byte loads as `true`) | 1 |
//! | `u16`, `i16` | `WORD`, `short`, `wchar_t` | 2 |
//! | `u32`, `i32` | `DWORD`, `LONG`, `int`, `UINT`, `COLORREF` | 4 |
//! | `u64`, `i64` | `ULONGLONG`, `LONGLONG` | 8 |
//! | `f32`, `f64` | `float`, `double` | 4, 8 |
//! | `[T; N]` | `T[N]` written member by member (`ar.Write(&s, sizeof s)` of a packed struct) | N × T |
//! | `(A, B)` | a `CMap` entry: key, then value | A + B |
//! | `Vec<T>` | `CArray<T>`, `CList<T>`, `CTypedPtrList<CObList, T*>` (with `T` = `Option<Arc<C>>`) | `WriteCount` + elements |
//! | `BTreeMap<K, V>` | `CMap<K, V>` in key order | `WriteCount` + entries |
//! | `Option<ObjectRef>` | `CObject*` | object tag (+ class, body) |
//! | `Option<Arc<T>>` | `T*` for a `DECLARE_SERIAL` class `T` | object tag (+ class, body) |
//!
//! All integers are little-endian, without padding or type tags.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::classes::{ObjectRef, SerialClass};
use crate::error::{Error, Result};
use crate::store::PUT_WITH_MAX;
use crate::{Loading, Storing};

/// A value that can be stored in an archive: the storing half of an MFC
/// `Serialize` body, or an `operator<<`.
///
/// Derive it (with [`Load`]) through [`Serialize`](derive@crate::Serialize) for
/// field-by-field bodies.
pub trait Store {
    /// Writes `self` to the archive.
    ///
    /// # Errors
    /// Whatever the archive's writes report, or a value that cannot be encoded.
    fn store(&self, ar: &mut Storing<'_>) -> Result<()>;

    /// Stores `items` one after another: what a collection's body is after
    /// its count. The default stores each; fixed-size numbers convert whole
    /// runs of the buffer at once (MFC's one `Write` of an array body). Not
    /// part of the stable interface.
    #[doc(hidden)]
    fn store_all(items: &[Self], ar: &mut Storing<'_>) -> Result<()>
    where
        Self: Sized,
    {
        items.iter().try_for_each(|item| item.store(ar))
    }
}

/// A value that can be loaded from an archive: the loading half of an MFC
/// `Serialize` body, or an `operator>>`.
pub trait Load: Sized {
    /// Reads a value from the archive.
    ///
    /// # Errors
    /// [`Error::EndOfFile`] when the input ends inside the
    /// value, and whatever else the value's format can reject.
    fn load(ar: &mut Loading<'_>) -> Result<Self>;

    /// `true` when `load` takes all its bytes in one step, so that a load that
    /// fails has consumed nothing. Leave it `false` (the default) otherwise:
    /// [`LoadArchive::read`](crate::LoadArchive::read) then undoes a load that an
    /// error from the reader cut short.
    const LOADS_IN_ONE_STEP: bool = false;

    /// The fewest bytes any encoding of the value takes: a number its size, a
    /// string 1 (an empty ANSI string is `00`), an object pointer 2 (the null
    /// tag), a collection 2 (a zero count). `0`, the default, claims nothing.
    ///
    /// A collection whose elements ran out of bytes uses it to tell
    /// [`read_message`](crate::LoadArchive::read_message) how many more bytes
    /// the message needs at least (the elements still to come times this), so
    /// the message is not parsed again before they have arrived. It must never
    /// be more than the shortest encoding, or a whole message would wait for
    /// bytes that never come.
    const MIN_BYTES: usize = 0;

    /// `count` values one after another, if this type reads them faster as a
    /// run than one by one (fixed-size numbers: a buffer-full at a time);
    /// `None`, the default, reads each. Not part of the stable interface.
    #[doc(hidden)]
    fn load_all(ar: &mut Loading<'_>, count: usize) -> Option<Result<Vec<Self>>> {
        let _ = (ar, count);
        None
    }
}

impl<T: Store + ?Sized> Store for &T {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        (**self).store(ar)
    }
}

macro_rules! number {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl Store for $t {
            #[inline]
            fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
                ar.put(self.to_le_bytes())
            }
            fn store_all(items: &[Self], ar: &mut Storing<'_>) -> Result<()> {
                const N: usize = std::mem::size_of::<$t>();
                for run in items.chunks(PUT_WITH_MAX / N) {
                    ar.put_with(run.len() * N, |room| {
                        for (bytes, item) in room.as_chunks_mut::<N>().0.iter_mut().zip(run) {
                            *bytes = item.to_le_bytes();
                        }
                    })?;
                }
                Ok(())
            }
        }
        impl Load for $t {
            #[inline(always)]
            fn load(ar: &mut Loading<'_>) -> Result<Self> {
                Ok(<$t>::from_le_bytes(ar.take($what)?))
            }
            const LOADS_IN_ONE_STEP: bool = true;
            const MIN_BYTES: usize = std::mem::size_of::<$t>();
            fn load_all(ar: &mut Loading<'_>, count: usize) -> Option<Result<Vec<Self>>> {
                Some(ar.read_plain(count, <$t>::from_le_bytes))
            }
        }
    )*};
}

number! {
    u8 => "a BYTE", i8 => "a char",
    u16 => "a WORD", i16 => "a short",
    u32 => "a DWORD", i32 => "a LONG/int",
    u64 => "a ULONGLONG", i64 => "a LONGLONG",
    f32 => "a float", f64 => "a double",
}

impl Store for bool {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        ar.put([u8::from(*self)])
    }
}

impl Load for bool {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        Ok(ar.take::<1>("a bool (1 byte)")?[0] != 0)
    }
    const LOADS_IN_ONE_STEP: bool = true;
    const MIN_BYTES: usize = 1;
}

impl<T: Store, const N: usize> Store for [T; N] {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        self.iter().try_for_each(|item| item.store(ar))
    }
}

impl<T: Load, const N: usize> Load for [T; N] {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        // On the stack, not in a `Vec`: an array of a message costs no
        // allocation. After an error the rest are not read.
        let mut failed = None;
        let items: [Option<T>; N] = std::array::from_fn(|i| {
            if failed.is_some() {
                return None;
            }
            load_element(ar, N - i - 1)
                .map_err(|e| failed = Some(e))
                .ok()
        });
        if let Some(error) = failed {
            return Err(error);
        }
        Ok(items.map(|item| match item {
            Some(item) => item,
            None => unreachable!("every item loaded when none failed"),
        }))
    }
    const MIN_BYTES: usize = T::MIN_BYTES.saturating_mul(N);
}

macro_rules! tuple {
    ($($name:ident)+) => {
        impl<$($name: Store),+> Store for ($($name,)+) {
            #[allow(non_snake_case)]
            fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
                let ($($name,)+) = self;
                $($name.store(ar)?;)+
                Ok(())
            }
        }
        impl<$($name: Load),+> Load for ($($name,)+) {
            fn load(ar: &mut Loading<'_>) -> Result<Self> {
                Ok(($($name::load(ar)?,)+))
            }
            const MIN_BYTES: usize = 0usize $(.saturating_add($name::MIN_BYTES))+;
        }
    };
}

tuple!(A B);
tuple!(A B C);
tuple!(A B C D);

/// `WriteCount(n)` then the elements: `CArray`, `CList`, `CStringArray`,
/// `CTypedPtrList`… (their `Serialize`).
impl<T: Store> Store for [T] {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        ar.write_count(self.len() as u64)?;
        T::store_all(self, ar)
    }
}

impl<T: Store> Store for Vec<T> {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        self.as_slice().store(ar)
    }
}

impl<T: Load + Send + 'static> Load for Vec<T> {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        let at = ar.offset();
        let count = ar.read_element_count()?;
        if let Some(items) = T::load_all(ar, count) {
            return items;
        }
        ar.nested(|ar| {
            // A message that ran out in here before goes on from the
            // elements it had read (`read_message`'s retry), else memory
            // grows with elements actually read: the count alone reserves
            // only what the bytes received (and not claimed by an enclosing
            // collection) can fill; growth, once an element is in hand,
            // doubles but never passes the count, so a whole collection
            // holds exactly its elements.
            let slots_at_start = ar.loaded_slots();
            let mut items = match ar.resumed::<T>(at) {
                Some(items) => items,
                None => Vec::with_capacity(ar.reservable(count, T::MIN_BYTES)),
            };
            for i in items.len()..count {
                let (next, slots_at_next) = (ar.offset(), ar.loaded_slots());
                let item = match load_element(ar, count - i - 1) {
                    Ok(item) => item,
                    Err(error) => {
                        if !items.is_empty() && error.is_would_block() {
                            ar.keep_for_retry(at, next, (slots_at_start, slots_at_next), items);
                        }
                        return Err(error);
                    }
                };
                if items.len() == items.capacity() {
                    items.reserve_exact((count - i).min(items.capacity().max(4)));
                }
                items.push(item);
            }
            Ok(items)
        })
    }
    const MIN_BYTES: usize = 2;
}

/// Loads one element of a collection with `left` more to come. When the reader
/// runs out in the middle, the message needs at least `left` ×
/// [`Load::MIN_BYTES`] more bytes than this element does: `read_message`
/// waits for them before parsing again.
#[inline(always)]
pub(crate) fn load_element<T: Load>(ar: &mut Loading<'_>, left: usize) -> Result<T> {
    let result = T::load(ar);
    if T::MIN_BYTES > 0 && left > 0 {
        if let Err(Error::Io { .. }) = &result {
            ar.expect_more((left as u64).saturating_mul(T::MIN_BYTES as u64));
        }
    }
    result
}

impl<K: Store, V: Store> Store for BTreeMap<K, V> {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        ar.write_count(self.len() as u64)?;
        self.iter().try_for_each(|(key, value)| {
            key.store(ar)?;
            value.store(ar)
        })
    }
}

impl<K: Load + Ord + Send + 'static, V: Load + Send + 'static> Load for BTreeMap<K, V> {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        Ok(Vec::<(K, V)>::load(ar)?.into_iter().collect())
    }
    const MIN_BYTES: usize = 2;
}

impl Store for Option<ObjectRef> {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        ar.write_object(self.as_ref())
    }
}

impl Load for Option<ObjectRef> {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        ar.read_object()
    }
    const MIN_BYTES: usize = 2;
}

impl<T: SerialClass> Store for Option<Arc<T>> {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        match self {
            Some(object) => ar.write_object(Some(&(Arc::clone(object) as ObjectRef))),
            None => ar.write_object(None),
        }
    }
}

impl<T: SerialClass> Load for Option<Arc<T>> {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        ar.read_object_as::<T>()
    }
    const MIN_BYTES: usize = 2;
}
