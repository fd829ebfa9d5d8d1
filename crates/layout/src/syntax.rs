//! The layout file: TOML read into a [`Model`], with every name checked and
//! every error pointing at its line.
//!
//! ```toml
//! strings = "ansi"        # the writer's CString: "ansi" (MBCS build) or "unicode"
//! code_page = 1252        # of ANSI text
//!
//! document = [            # CDocument::Serialize, field by field
//!   { name = "students", type = "CObList", of = "CStudent" },
//! ]
//!
//! [classes.CStudent]      # IMPLEMENT_SERIAL(CStudent, CObject, 0)
//! schema = 0
//! fields = [
//!   { name = "name", type = "CString" },
//!   { name = "grade", type = "int" },
//! ]
//! ```
//!
//! The README's "Layout files" section lists every type and key.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mfc_archive::encoding_rs::WINDOWS_1252;
use mfc_archive::{code_page, StringForm, TimeForm};
use serde::Deserialize;
use toml::Spanned;

use crate::error::Error;
use crate::model::{
    BodyClass, Class, Comparison, Condition, Count, Field, Model, Operand, Record, ScalarType, Type,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayout {
    strings: Option<Spanned<String>>,
    code_page: Option<Spanned<u16>>,
    document: Vec<Spanned<RawSpec>>,
    #[serde(default)]
    classes: BTreeMap<String, Spanned<RawClass>>,
    #[serde(default)]
    structs: BTreeMap<String, Spanned<RawStruct>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    schema: Option<RawSchema>,
    fields: Vec<Spanned<RawSpec>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawSchema {
    One(u16),
    Several(Vec<u16>),
    Any(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStruct {
    fields: Vec<Spanned<RawSpec>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: Option<String>,
    #[serde(rename = "type")]
    ty: String,
    count: Option<RawCount>,
    size: Option<u64>,
    of: Option<Box<RawType>>,
    key: Option<Box<RawType>>,
    value: Option<Box<RawType>>,
    class: Option<String>,
    class_from: Option<String>,
    #[serde(rename = "if")]
    condition: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum RawCount {
    Fixed(u64),
    Named(String),
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum RawType {
    Name(String),
    Spec(RawSpec),
}

/// MFC's serializable collections, as classes any layout may name.
const COLLECTIONS: &[(&str, &str)] = &[
    ("CObArray", "CObArray"),
    ("CObList", "CObList"),
    ("CStringArray", "CStringArray"),
    ("CStringList", "CStringList"),
    ("CByteArray", "CByteArray"),
    ("CWordArray", "CWordArray"),
    ("CDWordArray", "CDWordArray"),
    ("CMapStringToString", "CMapStringToString"),
    ("CMapStringToOb", "CMapStringToOb"),
    ("CMapWordToOb", "CMapWordToOb"),
];

/// Parses a layout. `source` names it in messages.
pub(crate) fn parse(text: &str, source: &str) -> Result<Model, Error> {
    let lines = Lines::new(text);
    let raw: RawLayout = toml::from_str(text).map_err(|e| Error::Layout {
        file: source.to_owned(),
        line: e.span().map_or(0, |span| lines.line(span.start)),
        message: e.message().to_owned(),
    })?;
    let at = |line: usize, message: String| Error::Layout {
        file: source.to_owned(),
        line,
        message,
    };
    let strings = match &raw.strings {
        None => StringForm::Unicode,
        Some(s) => match s.get_ref().as_str() {
            "unicode" => StringForm::Unicode,
            "ansi" => StringForm::Ansi,
            other => {
                return Err(at(
                    lines.line(s.span().start),
                    format!("expected strings = \"ansi\" or \"unicode\", found {other:?}"),
                ))
            }
        },
    };
    let code_page = match &raw.code_page {
        None => WINDOWS_1252,
        Some(n) => code_page(*n.get_ref()).ok_or_else(|| {
            at(
                lines.line(n.span().start),
                format!("expected a Windows code page number, found {}", n.get_ref()),
            )
        })?,
    };

    let mut resolver = Resolver {
        lines: &lines,
        source,
        strings,
        structs: &raw.structs,
        by_name: HashMap::new(),
        resolving: Vec::new(),
        body_elements: Vec::new(),
    };
    let mut names: Vec<(Arc<str>, usize)> = Vec::new();
    for (name, class) in &raw.classes {
        let line = lines.line(class.span().start);
        if name.is_empty() || !name.is_ascii() || name.len() >= 64 {
            return Err(at(
                line,
                format!("expected an ASCII class name shorter than 64 bytes, found {name:?}"),
            ));
        }
        names.push((Arc::from(name.as_str()), line));
    }
    for (name, _) in COLLECTIONS {
        if !raw.classes.contains_key(*name) {
            names.push((Arc::from(*name), 0));
        }
    }
    for (index, (name, _)) in names.iter().enumerate() {
        resolver.by_name.insert(Arc::clone(name), index);
    }

    let mut classes = Vec::with_capacity(names.len());
    for (name, line) in &names {
        let (schemas, fields) = match raw.classes.get(name.as_ref()) {
            Some(class) => {
                let class = class.get_ref();
                let schemas = match &class.schema {
                    None => vec![0],
                    Some(RawSchema::One(schema)) => vec![*schema],
                    Some(RawSchema::Several(list)) if !list.is_empty() => list.clone(),
                    Some(RawSchema::Any(any)) if any == "any" => Vec::new(),
                    Some(_) => {
                        return Err(at(
                            *line,
                            "expected schema = a number, a list of numbers or \"any\"".into(),
                        ))
                    }
                };
                (schemas, resolver.record(&class.fields, true)?)
            }
            None => (vec![0], resolver.collection_body(name)),
        };
        classes.push(Class::new(Arc::clone(name), schemas, fields));
    }
    let document = resolver.record(&raw.document, false)?;
    let mut min_size = MinSize::new(&classes);
    for (line, key, element) in &resolver.body_elements {
        if min_size.of(element) == Some(0) {
            return Err(at(
                *line,
                format!("{key}: an element type that can take no bytes (a class body whose fields may all be absent) would let a count cost time without input"),
            ));
        }
    }
    Ok(Model {
        source: source.to_owned(),
        strings,
        code_page,
        document,
        classes,
        by_name: resolver.by_name,
    })
}

/// Byte offsets to line numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        Lines(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

struct Resolver<'a> {
    lines: &'a Lines,
    source: &'a str,
    strings: StringForm,
    structs: &'a BTreeMap<String, Spanned<RawStruct>>,
    by_name: HashMap<Arc<str>, usize>,
    /// Named structs being resolved, to refuse one that contains itself.
    resolving: Vec<String>,
    /// Element types holding a class's body, checked once every class is
    /// known: (line, key, element).
    body_elements: Vec<(usize, String, Type)>,
}

impl Resolver<'_> {
    fn error(&self, line: usize, message: String) -> Error {
        Error::Layout {
            file: self.source.to_owned(),
            line,
            message,
        }
    }

    fn record(&mut self, specs: &[Spanned<RawSpec>], in_class: bool) -> Result<Record, Error> {
        let mut fields: Vec<Field> = Vec::with_capacity(specs.len());
        for spec in specs {
            let line = self.lines.line(spec.span().start);
            let raw = spec.get_ref();
            let name = match &raw.name {
                Some(name) if !name.is_empty() && !name.starts_with('$') => name.as_str(),
                Some(name) => {
                    return Err(self.error(
                        line,
                        format!("expected a field name that does not start with $, found {name:?}"),
                    ))
                }
                None => return Err(self.error(line, "expected a name for the field".into())),
            };
            if fields.iter().any(|f| f.name.as_ref() == name) {
                return Err(self.error(line, format!("field {name} is declared twice")));
            }
            let condition = raw
                .condition
                .as_deref()
                .map(|text| self.condition(text, &fields, in_class, line))
                .transpose()?;
            let ty = self.spec(raw, &fields, line)?;
            fields.push(Field {
                name: Arc::from(name),
                ty,
                condition,
                line,
            });
        }
        Ok(Record(fields))
    }

    fn type_ref(&mut self, raw: &RawType, earlier: &[Field], line: usize) -> Result<Type, Error> {
        match raw {
            RawType::Name(name) => self.spec(&RawSpec::named(name), earlier, line),
            RawType::Spec(spec) => {
                if spec.name.is_some() || spec.condition.is_some() {
                    return Err(self.error(line, "an element type takes no name and no if".into()));
                }
                self.spec(spec, earlier, line)
            }
        }
    }

    fn spec(&mut self, raw: &RawSpec, earlier: &[Field], line: usize) -> Result<Type, Error> {
        use ScalarType as S;
        let scalar = |s| Ok(Type::Scalar(s));
        let ty = match raw.ty.as_str() {
            "BYTE" | "u8" | "unsigned char" => scalar(S::U8),
            "i8" | "signed char" => scalar(S::I8),
            "char" => scalar(S::Char),
            "WORD" | "u16" | "unsigned short" => scalar(S::U16),
            "short" | "SHORT" | "i16" => scalar(S::I16),
            "DWORD" | "UINT" | "ULONG" | "COLORREF" | "u32" | "unsigned int" | "unsigned long" => {
                scalar(S::U32)
            }
            "int" | "INT" | "LONG" | "long" | "i32" | "CTimeSpan" => scalar(S::I32),
            "LONGLONG" | "__int64" | "i64" => scalar(S::I64),
            "ULONGLONG" | "u64" => scalar(S::U64),
            "float" | "f32" => scalar(S::F32),
            "double" | "f64" | "DATE" => scalar(S::F64),
            "bool" => scalar(S::CppBool),
            "BOOL" => scalar(S::Bool),
            "WriteCount" => scalar(S::Count),
            "CString" => Ok(Type::String(self.strings)),
            "CStringA" => Ok(Type::String(StringForm::Ansi)),
            "CStringW" => Ok(Type::String(StringForm::Unicode)),
            "CTime" => Ok(Type::Time(TimeForm::Time64)),
            "CTime32" => Ok(Type::Time(TimeForm::Time32)),
            "CPoint" | "POINT" => Ok(builtin(raw.ty.as_str(), &[("x", S::I32), ("y", S::I32)])),
            "CSize" | "SIZE" => Ok(builtin(raw.ty.as_str(), &[("cx", S::I32), ("cy", S::I32)])),
            "CRect" | "RECT" => Ok(builtin(raw.ty.as_str(), &[
                ("left", S::I32),
                ("top", S::I32),
                ("right", S::I32),
                ("bottom", S::I32),
            ])),
            "COleDateTime" => Ok(builtin(raw.ty.as_str(), &[("status", S::I32), ("date", S::F64)])),
            "COleDateTimeSpan" => Ok(builtin(raw.ty.as_str(), &[("status", S::I32), ("span", S::F64)])),
            "COleCurrency" => Ok(builtin(raw.ty.as_str(), &[("status", S::I32), ("units", S::I64)])),
            "bytes" => {
                let count = match (raw.size, &raw.count) {
                    (Some(size), None) => Count::Fixed(size),
                    (None, Some(count)) => self.count(count, earlier, line)?,
                    _ => {
                        return Err(self.error(
                            line,
                            "bytes takes size = N or count = WORD | DWORD | WriteCount | a field".into(),
                        ))
                    }
                };
                Ok(Type::Bytes(count))
            }
            "array" | "CArray" | "CList" => {
                let count = match (&raw.count, raw.ty.as_str()) {
                    (Some(count), _) => self.count(count, earlier, line)?,
                    (None, "array") => {
                        return Err(self.error(line, "array takes a count".into()));
                    }
                    (None, _) => Count::WriteCount,
                };
                let element = self.element(raw.of.as_deref(), earlier, line, "of")?;
                Ok(Type::Array {
                    count,
                    element: Box::new(element),
                })
            }
            "CObArray" | "CObList" => Ok(Type::Array {
                count: Count::WriteCount,
                element: Box::new(Type::Object(self.class_ref(raw.of.as_deref(), line)?)),
            }),
            "CStringArray" | "CStringList" => Ok(counted(Type::String(self.strings))),
            "CByteArray" => Ok(Type::Bytes(Count::WriteCount)),
            "CWordArray" => Ok(counted(Type::Scalar(S::U16))),
            "CDWordArray" | "CUIntArray" => Ok(counted(Type::Scalar(S::U32))),
            "CMap" => {
                let key = self.element(raw.key.as_deref(), earlier, line, "key")?;
                let value = self.element(raw.value.as_deref(), earlier, line, "value")?;
                Ok(map(key, value))
            }
            "CMapStringToString" => Ok(map(Type::String(self.strings), Type::String(self.strings))),
            "CMapStringToOb" => Ok(map(Type::String(self.strings), Type::Object(None))),
            "CMapWordToOb" => Ok(map(Type::Scalar(S::U16), Type::Object(None))),
            "object" => Ok(Type::Object(match &raw.class {
                Some(name) => Some(self.class_index(name, line)?),
                None => None,
            })),
            "body" => match (&raw.class, &raw.class_from) {
                (Some(name), None) => Ok(Type::Body(BodyClass::Fixed(self.class_index(name, line)?))),
                (None, Some(field)) => match earlier.iter().find(|f| f.name.as_ref() == field) {
                    Some(Field {
                        ty: Type::Class, ..
                    }) => Ok(Type::Body(BodyClass::From(Arc::from(field.as_str())))),
                    _ => Err(self.error(
                        line,
                        format!("class_from = {field:?}: expected an earlier field of type class"),
                    )),
                },
                _ => Err(self.error(line, "body takes class = NAME or class_from = FIELD".into())),
            },
            "class" => Ok(Type::Class),
            name => match self.structs.get(name) {
                Some(raw_struct) => {
                    if self.resolving.iter().any(|n| n == name) {
                        return Err(self.error(line, format!("struct {name} contains itself")));
                    }
                    self.resolving.push(name.to_owned());
                    let record = self.record(&raw_struct.get_ref().fields, false);
                    self.resolving.pop();
                    Ok(Type::Struct(Arc::from(name), record?))
                }
                None if self.by_name.contains_key(name) => Err(self.error(
                    line,
                    format!(
                        "{name} is a class: use type = \"object\", class = \"{name}\" for a pointer \
                         (ar << pOb) or type = \"body\" for a body written directly (ob.Serialize(ar))"
                    ),
                )),
                None => Err(self.error(line, format!("unknown type {name:?}"))),
            },
        }?;
        Ok(ty)
    }

    fn element(
        &mut self,
        raw: Option<&RawType>,
        earlier: &[Field],
        line: usize,
        key: &str,
    ) -> Result<Type, Error> {
        let raw =
            raw.ok_or_else(|| self.error(line, format!("expected {key} = the element type")))?;
        let ty = self.type_ref(raw, earlier, line)?;
        match MinSize::new(&[]).of(&ty) {
            Some(0) => {
                return Err(self.error(
                    line,
                    format!("{key}: an element type that can take no bytes would let a count cost time without input"),
                ))
            }
            Some(_) => {}
            None => self.body_elements.push((line, key.to_owned(), ty.clone())),
        }
        Ok(ty)
    }

    fn class_ref(&self, raw: Option<&RawType>, line: usize) -> Result<Option<usize>, Error> {
        match raw {
            None => Ok(None),
            Some(RawType::Name(name)) => self.class_index(name, line).map(Some),
            Some(RawType::Spec(_)) => Err(self.error(line, "of = a class name".into())),
        }
    }

    fn class_index(&self, name: &str, line: usize) -> Result<usize, Error> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| self.error(line, format!("class {name} is not in the layout")))
    }

    fn count(&self, raw: &RawCount, earlier: &[Field], line: usize) -> Result<Count, Error> {
        Ok(match raw {
            RawCount::Fixed(n) => Count::Fixed(*n),
            RawCount::Named(name) => match name.as_str() {
                "WORD" => Count::Word,
                "DWORD" => Count::Dword,
                "WriteCount" => Count::WriteCount,
                field => {
                    self.integer_field(field, earlier, line, "count")?;
                    Count::Field(Arc::from(field))
                }
            },
        })
    }

    fn integer_field(
        &self,
        name: &str,
        earlier: &[Field],
        line: usize,
        key: &str,
    ) -> Result<(), Error> {
        match earlier.iter().find(|f| f.name.as_ref() == name) {
            Some(Field {
                ty: Type::Scalar(s),
                ..
            }) if !matches!(s, ScalarType::F32 | ScalarType::F64) => Ok(()),
            Some(_) => Err(self.error(line, format!("{key}: field {name} is not an integer"))),
            None => Err(self.error(
                line,
                format!("{key}: expected WORD, DWORD, WriteCount or an earlier field of this record, found {name:?}"),
            )),
        }
    }

    fn condition(
        &self,
        text: &str,
        earlier: &[Field],
        in_class: bool,
        line: usize,
    ) -> Result<Condition, Error> {
        let bad = || {
            self.error(
                line,
                format!("if = {text:?}: expected FIELD, !FIELD or FIELD OP NUMBER (OP one of == != < <= > >=; FIELD may be schema)"),
            )
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let (name, comparison, value) = match words.as_slice() {
            [name] => match name.strip_prefix('!') {
                Some(name) => (name, Comparison::Equal, 0),
                None => (*name, Comparison::NotEqual, 0),
            },
            [name, op, number] => {
                let comparison = match *op {
                    "==" => Comparison::Equal,
                    "!=" => Comparison::NotEqual,
                    "<" => Comparison::Less,
                    "<=" => Comparison::LessOrEqual,
                    ">" => Comparison::Greater,
                    ">=" => Comparison::GreaterOrEqual,
                    _ => return Err(bad()),
                };
                (*name, comparison, parse_number(number).ok_or_else(bad)?)
            }
            _ => return Err(bad()),
        };
        let operand = if name == "schema" && !earlier.iter().any(|f| f.name.as_ref() == "schema") {
            if !in_class {
                return Err(self.error(line, "if: schema exists only in a class's fields".into()));
            }
            Operand::Schema
        } else {
            self.integer_field(name, earlier, line, "if")?;
            Operand::Field(Arc::from(name))
        };
        Ok(Condition {
            operand,
            comparison,
            value,
        })
    }

    /// The body of one of MFC's collection classes.
    fn collection_body(&mut self, class: &str) -> Record {
        let spec = RawSpec::named(class);
        let ty = self.spec(&spec, &[], 0).unwrap_or(Type::Array {
            count: Count::WriteCount,
            element: Box::new(Type::Object(None)),
        });
        let name = if matches!(ty, Type::Map { .. }) {
            "entries"
        } else {
            "items"
        };
        Record(vec![Field {
            name: Arc::from(name),
            ty,
            condition: None,
            line: 0,
        }])
    }
}

impl RawSpec {
    fn named(ty: &str) -> RawSpec {
        RawSpec {
            name: None,
            ty: ty.to_owned(),
            count: None,
            size: None,
            of: None,
            key: None,
            value: None,
            class: None,
            class_from: None,
            condition: None,
        }
    }
}

fn builtin(name: &str, fields: &[(&str, ScalarType)]) -> Type {
    Type::Struct(
        Arc::from(name),
        Record(
            fields
                .iter()
                .map(|(name, ty)| Field {
                    name: Arc::from(*name),
                    ty: Type::Scalar(*ty),
                    condition: None,
                    line: 0,
                })
                .collect(),
        ),
    )
}

fn counted(element: Type) -> Type {
    Type::Array {
        count: Count::WriteCount,
        element: Box::new(element),
    }
}

fn map(key: Type, value: Type) -> Type {
    Type::Map {
        count: Count::WriteCount,
        key: Box::new(key),
        value: Box::new(value),
    }
}

fn parse_number(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<i128>().ok()?,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// The fewest bytes a value of a type takes, each class body's worked out
/// once. Without the classes (while they are being read), a body's is not
/// known yet.
struct MinSize<'c> {
    classes: &'c [Class],
    /// Each class body's, once worked out.
    bodies: Vec<Option<u64>>,
    /// The classes whose bodies are being worked out: a class reached again
    /// through its own fields counts 1 there, which keeps the walk finite
    /// (it can only be reached so unconditionally in a document that never
    /// ends, so the sum stays a lower bound).
    visiting: Vec<bool>,
}

impl<'c> MinSize<'c> {
    fn new(classes: &'c [Class]) -> Self {
        MinSize {
            classes,
            bodies: vec![None; classes.len()],
            visiting: vec![false; classes.len()],
        }
    }

    /// The fewest bytes a value of `ty` takes; `None` when that depends on a
    /// class body not known yet. Sums saturate: a layout's sizes are its
    /// author's numbers.
    fn of(&mut self, ty: &Type) -> Option<u64> {
        Some(match ty {
            Type::Scalar(s) => match s {
                ScalarType::U8 | ScalarType::I8 | ScalarType::Char | ScalarType::CppBool => 1,
                ScalarType::U16 | ScalarType::I16 | ScalarType::Count => 2,
                ScalarType::U32 | ScalarType::I32 | ScalarType::F32 | ScalarType::Bool => 4,
                ScalarType::U64 | ScalarType::I64 | ScalarType::F64 => 8,
            },
            Type::String(_) => 1,
            Type::Time(_) => 4,
            Type::Bytes(count) => count_size(count, 1),
            Type::Struct(_, record) => self.record(record)?,
            Type::Array { count, element } => count_size(count, self.of(element)?),
            Type::Map { count, key, value } => {
                count_size(count, self.of(key)?.saturating_add(self.of(value)?))
            }
            Type::Object(_) | Type::Class => 2,
            Type::Body(BodyClass::Fixed(class)) => self.body(*class)?,
            // A body whose class an earlier field names may be of any class;
            // the class tag before it is that field's, not the body's.
            Type::Body(BodyClass::From(_)) => 0,
        })
    }

    /// The fewest bytes of the fields that are always there.
    fn record(&mut self, record: &Record) -> Option<u64> {
        record
            .0
            .iter()
            .filter(|f| f.condition.is_none())
            .try_fold(0u64, |sum, f| Some(sum.saturating_add(self.of(&f.ty)?)))
    }

    /// The fewest bytes of a body of `class`.
    fn body(&mut self, class: usize) -> Option<u64> {
        let fields = &self.classes.get(class)?.fields;
        if let Some(size) = self.bodies[class] {
            return Some(size);
        }
        if self.visiting[class] {
            return Some(1);
        }
        self.visiting[class] = true;
        let size = stacker::maybe_grow(64 << 10, 1 << 20, || self.record(fields));
        self.visiting[class] = false;
        self.bodies[class] = size;
        size
    }
}

fn count_size(count: &Count, element: u64) -> u64 {
    match count {
        Count::Fixed(n) => n.saturating_mul(element),
        Count::Word | Count::WriteCount => 2,
        Count::Dword => 4,
        Count::Field(_) => 0,
    }
}
