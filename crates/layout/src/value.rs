//! A document's values as a layout reads them: a tree of records, lists and
//! leaves, with objects as shared [`ObjectRef`]s so that a back-reference is
//! the same object, as in MFC. Decoding builds it from bytes, encoding from
//! JSON; [`write()`] stores it.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use mfc_archive::{Object, ObjectRef, RuntimeClass, Storing};

use crate::model::{BodyClass, Condition, Count, Model, Operand, Record, Type};
use crate::scalar::Scalar;

/// One value of a field.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Scalar(Scalar),
    /// A struct's or a body's fields, in layout order; a field whose condition
    /// did not hold is absent.
    Record(Fields),
    /// Array elements, or a map's entries as two-element lists.
    List(Vec<Value>),
    /// An object pointer.
    Object(Option<ObjectRef>),
    /// A class tag alone: the class and the schema stored with it.
    Class {
        class: usize,
        schema: u16,
    },
}

/// A record's fields by name, in order.
pub(crate) type Fields = Vec<(Arc<str>, Value)>;

/// Looks a field up in a record read so far.
pub(crate) fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a Value> {
    fields
        .iter()
        .find(|(n, _)| n.as_ref() == name)
        .map(|(_, v)| v)
}

/// An earlier field's value as an integer: what counts and conditions
/// read.
pub(crate) fn integer(fields: &Fields, name: &str) -> Option<i128> {
    match field(fields, name) {
        Some(Value::Scalar(scalar)) => scalar.integer(),
        _ => None,
    }
}

/// Whether a field's `condition` holds, given the fields before it and the
/// schema of the object they belong to: decoding and both JSON directions
/// alike. A field or schema that is not there counts as 0.
pub(crate) fn condition_holds(condition: &Condition, fields: &Fields, schema: Option<u16>) -> bool {
    let left = match &condition.operand {
        Operand::Schema => schema.map(i128::from),
        Operand::Field(name) => integer(fields, name),
    };
    condition
        .comparison
        .holds(left.unwrap_or(0), condition.value)
}

/// The class a body written directly is of, and the schema it counts as
/// stored with: the layout's class and its first schema, or the class tag an
/// earlier field of `fields` read and the schema stored with it. `None` when
/// that field holds no class tag.
pub(crate) fn body_class(
    model: &Model,
    which: &BodyClass,
    fields: &Fields,
) -> Option<(usize, u16)> {
    match which {
        BodyClass::Fixed(class) => Some((*class, model.class(*class).default_schema())),
        BodyClass::From(name) => match field(fields, name) {
            Some(Value::Class { class, schema }) => Some((*class, *schema)),
            _ => None,
        },
    }
}

/// An object of a layout class: its class, the schema it was stored with,
/// the load-array index it took, and its fields.
pub(crate) struct LayoutObject {
    pub model: Arc<Model>,
    pub class: usize,
    pub schema: u16,
    pub index: u32,
    pub fields: Fields,
}

impl fmt::Debug for LayoutObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayoutObject")
            .field("class", &self.model.class(self.class).name)
            .field("schema", &self.schema)
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl Object for LayoutObject {
    fn runtime_class(&self) -> RuntimeClass {
        self.model.class(self.class).stored_as(self.schema)
    }

    fn class_name(&self) -> &str {
        &self.model.class(self.class).name
    }

    fn store_body(&self, ar: &mut Storing<'_>) -> mfc_archive::Result<()> {
        write_record(
            ar,
            &self.model,
            &self.model.class(self.class).fields,
            &self.fields,
        )
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

/// Stores a record's fields with their layout types.
pub(crate) fn write_record(
    ar: &mut Storing<'_>,
    model: &Model,
    record: &Record,
    fields: &Fields,
) -> mfc_archive::Result<()> {
    let mut values = fields.iter().peekable();
    for field in &record.0 {
        if let Some((_, value)) = values.next_if(|(name, _)| Arc::ptr_eq(name, &field.name)) {
            write(ar, model, &field.ty, value, fields)?;
        }
    }
    Ok(())
}

/// Stores one value of type `ty`; `fields` is the record it belongs to (for
/// a body whose class an earlier field names).
pub(crate) fn write(
    ar: &mut Storing<'_>,
    model: &Model,
    ty: &Type,
    value: &Value,
    fields: &Fields,
) -> mfc_archive::Result<()> {
    match (ty, value) {
        (Type::Bytes(count), Value::Scalar(bytes @ Scalar::Bytes(b))) => {
            write_count(ar, count, b.len())?;
            bytes.write(ar)
        }
        (_, Value::Scalar(scalar)) => scalar.write(ar),
        (Type::Struct(_, record), Value::Record(inner)) => write_record(ar, model, record, inner),
        (Type::Array { count, element }, Value::List(items)) => {
            write_count(ar, count, items.len())?;
            items
                .iter()
                .try_for_each(|item| write(ar, model, element, item, fields))
        }
        (Type::Map { count, key, value }, Value::List(entries)) => {
            write_count(ar, count, entries.len())?;
            for entry in entries {
                if let Value::List(pair) = entry {
                    if let [k, v] = pair.as_slice() {
                        write(ar, model, key, k, fields)?;
                        write(ar, model, value, v, fields)?;
                    }
                }
            }
            Ok(())
        }
        (Type::Object(_), Value::Object(object)) => ar.write_object(object.as_ref()),
        (Type::Body(which), Value::Record(inner)) => match body_class(model, which, fields) {
            Some((class, _)) => write_record(ar, model, &model.class(class).fields, inner),
            None => Ok(()),
        },
        (Type::Class, Value::Class { class, schema }) => {
            ar.write_class(&model.class(*class).stored_as(*schema))
        }
        // Encoding builds values from the layout, so the shapes always agree.
        _ => Ok(()),
    }
}

/// Writes the count before elements, where the count is in the stream.
fn write_count(ar: &mut Storing<'_>, count: &Count, len: usize) -> mfc_archive::Result<()> {
    let len64 = len as u64;
    let offset = ar.offset();
    let too_many = |what: &str| mfc_archive::Error::Generic {
        offset,
        message: format!("expected at most {what} elements before a {what} count, found {len}"),
    };
    match count {
        Count::Word => ar.write(&u16::try_from(len).map_err(|_| too_many("65535"))?),
        Count::Dword => ar.write(&u32::try_from(len).map_err(|_| too_many("4294967295"))?),
        Count::WriteCount => ar.write_count(len64),
        Count::Fixed(_) | Count::Field(_) => Ok(()),
    }
}
