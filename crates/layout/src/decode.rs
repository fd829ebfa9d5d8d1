//! Reading a document with a layout: the archive's bytes to [`Value`]s,
//! field by field, objects through the archive's own object machinery (one
//! runtime class per layout class), and the innermost field that failed kept
//! for the message.

use std::sync::{Arc, Mutex, PoisonError};

use mfc_archive::{
    ClassRegistry, Error, Loading, MfcString, ObjectRef, RuntimeClass, Time, VERSIONABLE_SCHEMA,
};

use crate::model::{Class, Count, Model, Record, Type};
use crate::scalar::Scalar;
use crate::value::{body_class, condition_holds, integer, Fields, LayoutObject, Value};

/// Bytes read at a time for counted raw bytes, so that a count the input
/// does not back costs no more memory than the bytes that came.
const BYTES_STEP: usize = 64 << 10;

/// One decoding run.
pub(crate) struct Decoder {
    model: Arc<Model>,
    /// The innermost field that failed: its line and its name.
    failed: Mutex<Option<(usize, String)>>,
}

impl Decoder {
    pub fn new(model: Arc<Model>) -> Self {
        Decoder {
            model,
            failed: Mutex::new(None),
        }
    }

    /// Where decoding failed, if a field did.
    pub fn failure(&self) -> Option<(usize, String)> {
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The layout's classes, each loading its objects through this decoder.
    pub fn classes(self: &Arc<Self>) -> ClassRegistry {
        let mut registry = ClassRegistry::empty();
        for (index, class) in self.model.classes.iter().enumerate() {
            let decoder = Arc::clone(self);
            registry.insert(RuntimeClass::new(
                Arc::clone(&class.name),
                VERSIONABLE_SCHEMA,
                move |ar: &mut Loading<'_>| decoder.object(ar, index),
            ));
        }
        registry
    }

    /// The body of a new object of `class` (the archive has read its tag).
    pub fn object(&self, ar: &mut Loading<'_>, class: usize) -> mfc_archive::Result<ObjectRef> {
        let index = ar.next_index().saturating_sub(1);
        let declared = self.model.class(class);
        let offset = ar.offset();
        #[expect(clippy::cast_possible_truncation, reason = "a stored schema is a WORD")]
        let schema = ar
            .object_schema()
            .map_or(declared.default_schema(), |s| s as u16);
        accept_schema(declared, schema, offset)?;
        let fields = self.record(ar, &declared.fields, Some(schema), &declared.name)?;
        Ok(Arc::new(LayoutObject {
            model: Arc::clone(&self.model),
            class,
            schema,
            index,
            fields,
        }))
    }

    /// The fields of a record. `schema` is that of the object they belong to.
    pub fn record(
        &self,
        ar: &mut Loading<'_>,
        record: &Record,
        schema: Option<u16>,
        owner: &str,
    ) -> mfc_archive::Result<Fields> {
        let mut fields = Fields::with_capacity(record.0.len());
        for f in &record.0 {
            if let Some(condition) = &f.condition {
                if !condition_holds(condition, &fields, schema) {
                    continue;
                }
            }
            match self.value(ar, &f.ty, &fields, schema) {
                Ok(value) => fields.push((Arc::clone(&f.name), value)),
                Err(error) => {
                    let mut failed = self.failed.lock().unwrap_or_else(PoisonError::into_inner);
                    if failed.is_none() {
                        *failed = Some((f.line, format!("{owner}.{}", f.name)));
                    }
                    return Err(error);
                }
            }
        }
        Ok(fields)
    }

    fn value(
        &self,
        ar: &mut Loading<'_>,
        ty: &Type,
        fields: &Fields,
        schema: Option<u16>,
    ) -> mfc_archive::Result<Value> {
        Ok(match ty {
            Type::Scalar(s) => Value::Scalar(Scalar::read(ar, *s)?),
            Type::String(_) => Value::Scalar(Scalar::String(ar.read::<MfcString>()?)),
            Type::Time(_) => Value::Scalar(Scalar::Time(ar.read::<Time>()?)),
            Type::Bytes(count) => {
                let n = count_of(ar, count, fields)?;
                let mut bytes = Vec::new();
                let mut left = n;
                while left > 0 {
                    let step = left.min(BYTES_STEP);
                    let start = bytes.len();
                    bytes.resize(start + step, 0);
                    ar.read_raw(&mut bytes[start..])?;
                    left -= step;
                }
                Value::Scalar(Scalar::Bytes(bytes))
            }
            // A struct or body nests in the archive's depth count, as
            // objects do: a layout may reach a class from its own body.
            Type::Struct(name, record) => {
                Value::Record(ar.nested(|ar| self.record(ar, record, schema, name))?)
            }
            Type::Array { count, element } => {
                let n = count_of(ar, count, fields)?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.value(ar, element, fields, schema)?);
                }
                Value::List(items)
            }
            Type::Map { count, key, value } => {
                let n = count_of(ar, count, fields)?;
                let mut entries = Vec::new();
                for _ in 0..n {
                    let k = self.value(ar, key, fields, schema)?;
                    let v = self.value(ar, value, fields, schema)?;
                    entries.push(Value::List(vec![k, v]));
                }
                Value::List(entries)
            }
            Type::Object(class) => {
                let offset = ar.offset();
                let object = ar.read_object()?;
                if let (Some(class), Some(object)) = (class, &object) {
                    let expected = &self.model.class(*class).name;
                    if object.class_name() != expected.as_ref() {
                        return Err(Error::BadClass {
                            offset,
                            expected: format!("an object of class {expected}"),
                            found: format!("class {}", object.class_name()),
                        });
                    }
                }
                Value::Object(object)
            }
            Type::Body(which) => {
                let Some((class, schema)) = body_class(&self.model, which, fields) else {
                    return Err(Error::Generic {
                        offset: ar.offset(),
                        message: "expected an earlier field to name the body's class".into(),
                    });
                };
                let declared = self.model.class(class);
                Value::Record(
                    ar.nested(|ar| {
                        self.record(ar, &declared.fields, Some(schema), &declared.name)
                    })?,
                )
            }
            Type::Class => {
                let offset = ar.offset();
                let class = ar.read_class()?;
                #[expect(clippy::cast_possible_truncation, reason = "a stored schema is a WORD")]
                let schema = ar.object_schema().unwrap_or(0) as u16;
                let index = self.model.by_name.get(class.name()).copied().unwrap_or(0);
                accept_schema(self.model.class(index), schema, offset)?;
                Value::Class {
                    class: index,
                    schema,
                }
            }
        })
    }
}

/// Refuses a stored schema the layout's class does not list (MFC's
/// `badSchema`), for an object and for a class tag alone alike.
fn accept_schema(declared: &Class, schema: u16, offset: u64) -> mfc_archive::Result<()> {
    if declared.accepts(schema) {
        return Ok(());
    }
    Err(Error::BadSchema {
        offset,
        class: declared.name.to_string(),
        expected: u32::from(declared.default_schema()),
        found: u32::from(schema),
    })
}

/// How many elements follow, read from the stream or taken from an earlier
/// field, within the archive's count limit.
fn count_of(ar: &mut Loading<'_>, count: &Count, fields: &Fields) -> mfc_archive::Result<usize> {
    let offset = ar.offset();
    let n: u64 = match count {
        Count::Fixed(n) => *n,
        Count::Word => u64::from(ar.read::<u16>()?),
        Count::Dword => u64::from(ar.read::<u32>()?),
        Count::WriteCount => ar.read_count()?,
        Count::Field(name) => match integer(fields, name) {
            Some(n) => u64::try_from(n).map_err(|_| Error::Generic {
                offset,
                message: format!("expected a count of zero or more in field {name}, found {n}"),
            })?,
            None => 0,
        },
    };
    let limit = ar.options().limits.max_count;
    if n > limit {
        return Err(Error::LimitExceeded {
            offset,
            what: "an element count",
            found: n,
            limit,
        });
    }
    usize::try_from(n).map_err(|_| Error::LimitExceeded {
        offset,
        what: "an element count",
        found: n,
        limit: usize::MAX as u64,
    })
}
