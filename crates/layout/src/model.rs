//! What a layout file says, checked and resolved: the document's fields, the
//! classes with their schemas and fields, and every field's type, condition
//! and line. [`syntax`](crate::syntax) builds it; decoding and encoding walk it.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use mfc_archive::encoding_rs::Encoding;
use mfc_archive::{Loading, RuntimeClass, StringForm, TimeForm};

/// A whole layout: how one program's documents are laid out.
pub(crate) struct Model {
    /// The layout's file name, for messages.
    pub source: String,
    /// The form a plain `CString` is in (the writer's character set).
    pub strings: StringForm,
    /// The ANSI code page of `CStringA` text.
    pub code_page: &'static Encoding,
    /// The document's own fields (`CDocument::Serialize`).
    pub document: Record,
    /// Every class, the layout's own and MFC's collections.
    pub classes: Vec<Class>,
    /// Class index by name.
    pub by_name: HashMap<Arc<str>, usize>,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("source", &self.source)
            .field("classes", &self.classes.len())
            .finish_non_exhaustive()
    }
}

/// One serializable class (`IMPLEMENT_SERIAL`).
#[derive(Debug)]
pub(crate) struct Class {
    pub name: Arc<str>,
    /// The schemas it accepts; the first is the one a new object is stored
    /// with. Empty: any (`VERSIONABLE_SCHEMA`), stored as 0 unless the JSON says.
    pub schemas: Vec<u16>,
    pub fields: Record,
    /// The class as a storing archive names it (made once: storing an object
    /// clones it, which allocates nothing).
    runtime: RuntimeClass,
}

impl Class {
    pub fn new(name: Arc<str>, schemas: Vec<u16>, fields: Record) -> Self {
        // Loading goes through `Layout::decode`, whose classes carry the
        // decoder; this one is for storing and refuses to load.
        let runtime = RuntimeClass::new(Arc::clone(&name), 0, |ar: &mut Loading<'_>| {
            Err(mfc_archive::Error::Generic {
                offset: ar.offset(),
                message: "expected Layout::decode to load a layout's objects".into(),
            })
        });
        Class {
            name,
            schemas,
            fields,
            runtime,
        }
    }

    /// The class as a storing archive needs it, with the schema to store.
    pub fn stored_as(&self, schema: u16) -> RuntimeClass {
        self.runtime.clone().with_schema(u32::from(schema))
    }

    /// The schema objects of this class are stored with unless told otherwise.
    pub fn default_schema(&self) -> u16 {
        self.schemas.first().copied().unwrap_or(0)
    }

    /// Whether a stored schema is one the layout reads.
    pub fn accepts(&self, schema: u16) -> bool {
        self.schemas.is_empty() || self.schemas.contains(&schema)
    }
}

/// Fields in the order `Serialize` handles them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Record(pub Vec<Field>);

/// One field: `ar << m_value` or a group of such.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub name: Arc<str>,
    pub ty: Type,
    /// Present only when this holds.
    pub condition: Option<Condition>,
    /// The layout line that declares it.
    pub line: usize,
}

/// A field's type.
#[derive(Debug, Clone)]
pub(crate) enum Type {
    /// A fixed-size value.
    Scalar(ScalarType),
    /// A `CString`; the form is the one expected (a string in the other
    /// form still decodes, and the JSON says so).
    String(StringForm),
    /// A `CTime`; the form is the one expected.
    Time(TimeForm),
    /// Raw bytes (`ar.Write`), shown as hex.
    Bytes(Count),
    /// Fields one after the other (a struct, `CPoint`, …), and its name.
    Struct(Arc<str>, Record),
    /// Elements after a count.
    Array { count: Count, element: Box<Type> },
    /// Key/value pairs after a count (`CMap::Serialize`).
    Map {
        count: Count,
        key: Box<Type>,
        value: Box<Type>,
    },
    /// An object pointer (`ar << pOb`): to one class, or any class of the layout.
    Object(Option<usize>),
    /// An object's body written directly (`pOb->Serialize(ar)`).
    Body(BodyClass),
    /// A class tag alone (`ar.WriteClass`).
    Class,
}

/// Which class a directly written body is of.
#[derive(Debug, Clone)]
pub(crate) enum BodyClass {
    /// Always this class.
    Fixed(usize),
    /// The class an earlier `class` field of the same record read.
    From(Arc<str>),
}

/// A fixed-size value and how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarType {
    U8,
    I8,
    /// A C `char`: a one-character string when printable ASCII.
    Char,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,
    /// The 1-byte C++ `bool`.
    CppBool,
    /// The 4-byte Win32 `BOOL`.
    Bool,
    /// `WriteCount` as a value of its own.
    Count,
}

/// How many elements or bytes follow.
#[derive(Debug, Clone)]
#[expect(
    clippy::enum_variant_names,
    reason = "WriteCount is the MFC call a porter looks for"
)]
pub(crate) enum Count {
    /// A number the layout gives.
    Fixed(u64),
    /// A `WORD` before the elements.
    Word,
    /// A `DWORD` before the elements.
    Dword,
    /// `WriteCount` before the elements (MFC's collections).
    WriteCount,
    /// The value of an earlier field of the same record.
    Field(Arc<str>),
}

/// `if = "…"` on a field.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    pub operand: Operand,
    pub comparison: Comparison,
    pub value: i128,
}

/// What a condition tests.
#[derive(Debug, Clone)]
pub(crate) enum Operand {
    /// The stored schema of the object being read.
    Schema,
    /// An earlier field of the same record.
    Field(Arc<str>),
}

/// How a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    pub fn holds(self, left: i128, right: i128) -> bool {
        match self {
            Comparison::Equal => left == right,
            Comparison::NotEqual => left != right,
            Comparison::Less => left < right,
            Comparison::LessOrEqual => left <= right,
            Comparison::Greater => left > right,
            Comparison::GreaterOrEqual => left >= right,
        }
    }
}

impl Model {
    /// The class at `index`.
    pub fn class(&self, index: usize) -> &Class {
        &self.classes[index]
    }
}
