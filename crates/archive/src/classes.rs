//! Runtime classes and serializable objects: `DECLARE_SERIAL`/`IMPLEMENT_SERIAL`,
//! `CRuntimeClass`, and the class registry a loading archive creates objects from.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::error::Result;
use crate::{Load, Loading, Store, Storing};

/// Flag OR-ed into a [`SerialClass::SCHEMA`] to accept any stored schema and hand
/// it to the body through
/// [`LoadArchive::object_schema`](crate::LoadArchive::object_schema)
/// (MFC's `VERSIONABLE_SCHEMA`). It is never stored.
pub const VERSIONABLE_SCHEMA: u32 = 0x8000_0000;

/// A class that can be written as an object, with its class name and schema
/// (`DECLARE_SERIAL` + `IMPLEMENT_SERIAL`).
///
/// Usually derived:
/// ```
/// use mfc_archive::{Archive, Serialize, ObjectRef};
/// use std::sync::Arc;
///
/// #[derive(Debug, Serialize)]
/// #[mfc(class = "CAge", schema = 1)]
/// struct Age { years: i32 }
///
/// let a1: ObjectRef = Arc::new(Age { years: 21 });
/// let mut out = Vec::new();
/// let mut ar = Archive::store(&mut out);
/// ar.write_object(Some(&a1))?;
/// ar.write_object(Some(&a1))?;
/// ar.close()?;
/// assert_eq!(out, b"\xFF\xFF\x01\x00\x04\x00CAge\x15\x00\x00\x00\x02\x00");
/// # Ok::<(), mfc_archive::Error>(())
/// ```
pub trait SerialClass: Store + Load + fmt::Debug + Send + Sync + 'static {
    /// The class name as the MFC program spells it (`RUNTIME_CLASS(CAge)` is
    /// `"CAge"`): ASCII, shorter than 64 bytes, compared case-sensitively.
    const CLASS_NAME: &'static str;
    /// The `IMPLEMENT_SERIAL` schema: its low 16 bits are stored; add
    /// [`VERSIONABLE_SCHEMA`] to accept other stored schemas.
    const SCHEMA: u32;
    /// `true` when dropping the class never recurses into the objects it
    /// holds: it holds none, or its `Drop` hands them to [`drop_objects`].
    /// Chains of objects through classes where this is `false` (the default,
    /// and every class the derive declares) are bounded by
    /// [`Limits::max_chain`](crate::Limits::max_chain) while loading.
    const DROPS_FLAT: bool = false;
}

/// A loaded or storable object of some [`SerialClass`], behind an [`ObjectRef`].
///
/// Implemented for every `SerialClass`; downcast with [`downcast_ref`] or
/// [`downcast`].
///
/// [`downcast_ref`]: trait.Object.html#method.downcast_ref
/// [`downcast`]: trait.Object.html#method.downcast
pub trait Object: Any + Send + Sync {
    /// The object's runtime class (`CObject::GetRuntimeClass`).
    fn runtime_class(&self) -> RuntimeClass;
    /// The object's class name (`GetRuntimeClass()->m_lpszClassName`).
    fn class_name(&self) -> &str;
    /// Stores the body (`Serialize` in store mode).
    fn store_body(&self, ar: &mut Storing<'_>) -> Result<()>;
    /// The object as `Any`, to downcast by reference.
    fn as_any(&self) -> &dyn Any;
    /// The object as `Arc<dyn Any>`, to downcast by value.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
    /// Formats the object with its own `Debug`.
    fn fmt_debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl<T: SerialClass> Object for T {
    fn runtime_class(&self) -> RuntimeClass {
        RuntimeClass::of::<T>()
    }
    fn class_name(&self) -> &str {
        T::CLASS_NAME
    }
    fn store_body(&self, ar: &mut Storing<'_>) -> Result<()> {
        self.store(ar)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
    fn fmt_debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A shared object pointer, what `CObject*` is in an MFC object graph.
pub type ObjectRef = Arc<dyn Object>;

thread_local! {
    /// Objects waiting to be dropped by the outermost [`drop_objects`] of this
    /// thread; `None` when no call is running.
    static RELEASING: RefCell<Option<Vec<ObjectRef>>> = const { RefCell::new(None) };
}

/// Drops object pointers without recursing once per link of a chain: the
/// `Drop` of a class that holds object pointers hands them here.
///
/// A chain of objects each holding the one before it (a few bytes per link
/// with back-references) would otherwise drop recursively, one stack frame
/// group per link, and overflow the stack at some tens of thousands of links.
/// The outermost call on a thread drops the objects one by one; a call made
/// while they drop (an object's own `Drop` handing over its pointers) only
/// queues them for the outermost one, so the stack stays two objects deep
/// whatever the graph. The built-in collections ([`ObArray`], [`ObList`],
/// [`MapStringToOb`], [`MapWordToOb`]) and the loading archive's object table
/// drop through it.
///
/// A class of yours that holds object pointers should do the same, or a chain
/// through it costs one recursion per link when dropped (such chains are
/// refused past [`Limits::max_chain`](crate::Limits::max_chain) unless the
/// class declares [`SerialClass::DROPS_FLAT`], which takes a hand-written
/// `SerialClass` impl):
/// ```
/// use mfc_archive::{drop_objects, ObjectRef, Serialize};
/// use std::sync::Arc;
///
/// #[derive(Debug, Serialize)]
/// #[mfc(class = "CLink", schema = 1)]
/// struct Link { next: Option<Arc<Link>> }
///
/// impl Drop for Link {
///     fn drop(&mut self) {
///         drop_objects(self.next.take().map(|next| next as ObjectRef));
///     }
/// }
/// ```
///
/// [`ObArray`]: crate::collections::ObArray
/// [`ObList`]: crate::collections::ObList
/// [`MapStringToOb`]: crate::collections::MapStringToOb
/// [`MapWordToOb`]: crate::collections::MapWordToOb
pub fn drop_objects<I: IntoIterator<Item = ObjectRef>>(objects: I) {
    let mut objects = objects.into_iter();
    // Queue them if an outer call is dropping objects on this thread.
    let queued = RELEASING.try_with(|list| match list.try_borrow_mut() {
        Ok(mut list) => match list.as_mut() {
            Some(queue) => {
                queue.extend(&mut objects);
                true
            }
            None => {
                *list = Some(Vec::new());
                false
            }
        },
        // Re-entered from inside `extend` (an iterator that drops objects):
        // those few drop directly.
        Err(_) => true,
    });
    match queued {
        Ok(true) => {
            objects.for_each(drop);
            return;
        }
        Ok(false) => {}
        // The thread is ending and its queue is gone: drop them directly.
        Err(_) => {
            objects.for_each(drop);
            return;
        }
    }
    /// Ends the outermost call, even when a `Drop` panics (the objects still
    /// queued then leak rather than drop while unwinding).
    struct Outermost;
    impl Drop for Outermost {
        fn drop(&mut self) {
            let rest = RELEASING
                .try_with(|list| list.borrow_mut().take())
                .ok()
                .flatten();
            if std::thread::panicking() {
                std::mem::forget(rest);
            }
        }
    }
    let _outermost = Outermost;
    let next = || {
        RELEASING
            .try_with(|list| list.borrow_mut().as_mut().and_then(Vec::pop))
            .ok()
            .flatten()
    };
    for object in objects {
        drop(object);
        while let Some(queued) = next() {
            drop(queued);
        }
    }
}

impl dyn Object {
    /// `true` if the object is a `T`.
    pub fn is<T: Any>(&self) -> bool {
        self.as_any().is::<T>()
    }

    /// The object as a `T`, if it is one.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.as_any().downcast_ref()
    }

    /// The shared object as an `Arc<T>`, or itself back if it is not a `T`.
    ///
    /// # Errors
    /// The original `Arc` when the object is not a `T`.
    pub fn downcast<T: Any + Send + Sync>(self: Arc<Self>) -> Result<Arc<T>, Arc<Self>> {
        match Arc::clone(&self).into_any().downcast::<T>() {
            Ok(object) => Ok(object),
            Err(_) => Err(self),
        }
    }
}

impl fmt::Debug for dyn Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_debug(f)
    }
}

/// What a loading archive needs to create an object of one class
/// (`CRuntimeClass`): its name, its schema and a constructor that loads the body.
///
/// Most classes are Rust types ([`RuntimeClass::of`]); a class known only at
/// run time (from a layout file, say) is made with [`RuntimeClass::new`].
/// Cloning is cheap: a pointer copy, or a reference count for the latter.
#[derive(Clone)]
pub struct RuntimeClass {
    name: ClassName,
    schema: u32,
    drops_flat: bool,
    create: Create,
}

/// A class name: a Rust type's constant, or a name made at run time.
#[derive(Clone)]
enum ClassName {
    Static(&'static str),
    Shared(Arc<str>),
}

/// How an object of the class is made and loaded.
#[derive(Clone)]
enum Create {
    Type(fn(&mut Loading<'_>) -> Result<ObjectRef>),
    Shared(Arc<CreateFn>),
}

/// A run-time class's constructor: loads the body and returns the object.
type CreateFn = dyn Fn(&mut Loading<'_>) -> Result<ObjectRef> + Send + Sync;

impl RuntimeClass {
    /// The runtime class of `T` (`RUNTIME_CLASS(T)`).
    pub fn of<T: SerialClass>() -> Self {
        RuntimeClass {
            name: ClassName::Static(T::CLASS_NAME),
            schema: T::SCHEMA,
            drops_flat: T::DROPS_FLAT,
            create: Create::Type(|ar| Ok(Arc::new(T::load(ar)?) as ObjectRef)),
        }
    }

    /// A class made at run time: `name` and `schema` as a [`SerialClass`]
    /// declares them, and `create`, which loads an object's body and returns
    /// the object (its [`Object::runtime_class`] should answer this class).
    /// Its objects count as not dropping flat (see [`SerialClass::DROPS_FLAT`]).
    ///
    /// ```
    /// use mfc_archive::{Archive, ClassRegistry, RuntimeClass};
    /// let class = RuntimeClass::new("CThing", 1, |ar| {
    ///     let _weight: u32 = ar.read()?;
    ///     Ok(std::sync::Arc::new(mfc_archive::collections::DWordArray(vec![])) as _)
    /// });
    /// let mut classes = ClassRegistry::empty();
    /// classes.insert(class);
    /// let bytes = b"\xFF\xFF\x01\x00\x06\x00CThing\x2A\x00\x00\x00";
    /// let mut ar = Archive::load(&bytes[..]).with_classes(classes);
    /// assert!(ar.read_object()?.is_some());
    /// ar.expect_end()?;
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    pub fn new(
        name: impl Into<Arc<str>>,
        schema: u32,
        create: impl Fn(&mut Loading<'_>) -> Result<ObjectRef> + Send + Sync + 'static,
    ) -> Self {
        RuntimeClass {
            name: ClassName::Shared(name.into()),
            schema,
            drops_flat: false,
            create: Create::Shared(Arc::new(create)),
        }
    }

    /// The same class with another declared schema: what a class made at run
    /// time answers for an object that was loaded with another stored schema,
    /// so that storing it writes that schema.
    #[must_use]
    pub fn with_schema(mut self, schema: u32) -> Self {
        self.schema = schema;
        self
    }

    /// The class name.
    pub fn name(&self) -> &str {
        match &self.name {
            ClassName::Static(name) => name,
            ClassName::Shared(name) => name,
        }
    }

    /// The schema as declared, [`VERSIONABLE_SCHEMA`] flag included.
    pub fn schema(&self) -> u32 {
        self.schema
    }

    /// The schema as stored in a class description (its low 16 bits).
    #[expect(
        clippy::cast_possible_truncation,
        reason = "MFC stores the low 16 bits of the schema"
    )]
    pub fn stored_schema(&self) -> u16 {
        self.schema as u16
    }

    /// Whether dropping an object of this class never recurses into the
    /// objects it holds ([`SerialClass::DROPS_FLAT`]).
    pub fn drops_flat(&self) -> bool {
        self.drops_flat
    }

    /// Whether any stored schema is accepted.
    pub fn is_versionable(&self) -> bool {
        self.schema & VERSIONABLE_SCHEMA != 0
    }

    /// Creates an object of this class and loads its body
    /// (`CreateObject` + `Serialize`), without touching the index space: the
    /// counterpart of [`LoadArchive::read_class`](crate::LoadArchive::read_class).
    ///
    /// # Errors
    /// Any error of the body.
    pub fn create(&self, ar: &mut Loading<'_>) -> Result<ObjectRef> {
        match &self.create {
            Create::Type(create) => create(ar),
            Create::Shared(create) => create(ar),
        }
    }
}

impl fmt::Debug for RuntimeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeClass")
            .field("name", &self.name())
            .field("schema", &self.schema)
            .finish()
    }
}

impl PartialEq for RuntimeClass {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name() && self.schema == other.schema
    }
}

impl Eq for RuntimeClass {}

/// The classes a loading archive may create, by exact (case-sensitive) name: what
/// MFC finds by walking the `IMPLEMENT_SERIAL` classes of the program.
///
/// `Default` holds MFC's serializable collections (`CObArray`, `CObList`,
/// `CStringArray`, `CStringList`, `CByteArray`, `CWordArray`, `CDWordArray`,
/// `CMapStringToString`, `CMapStringToOb`, `CMapWordToOb`) and `CDockState`; [`ClassRegistry::empty`]
/// holds none. (`Default` lives beside those classes, in `collections.rs`.)
#[derive(Clone, Debug)]
pub struct ClassRegistry {
    classes: HashMap<Arc<str>, RuntimeClass>,
}

impl ClassRegistry {
    /// A registry without any class.
    pub fn empty() -> Self {
        ClassRegistry {
            classes: HashMap::new(),
        }
    }

    /// Adds class `T`, replacing any class of the same name.
    pub fn register<T: SerialClass>(&mut self) -> &mut Self {
        self.insert(RuntimeClass::of::<T>())
    }

    /// Adds a runtime class, replacing any class of the same name.
    pub fn insert(&mut self, class: RuntimeClass) -> &mut Self {
        self.classes.insert(class.name().into(), class);
        self
    }

    /// The class registered under `name`.
    pub fn get(&self, name: &str) -> Option<RuntimeClass> {
        self.classes.get(name).cloned()
    }
}
