//! [`Value`]s as JSON and back.
//!
//! A record is a JSON object of its fields in layout order (a field whose
//! condition did not hold is absent). An object is the same, with `$class`,
//! `$schema` and `$index` (its load-array index) before its fields; each
//! later pointer to it is `{"$ref": index}`, and a null pointer is `null`. A
//! class tag alone is `{"$class": name, "$schema": n}`. A map is a list of
//! `[key, value]` pairs in stored order; raw bytes are hex.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use mfc_archive::ObjectRef;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use serde_json::Value as Json;

use crate::error::Error;
use crate::model::{Count, Model, Record, Type};
use crate::scalar::{unhex, Scalar};
use crate::value::{body_class, condition_holds, integer, Fields, LayoutObject, Value};

/// The JSON of decoded values, written as it is walked (to text or to a
/// `serde_json::Value` alike): each object whole the first time, as a
/// reference after.
pub(crate) struct ToJson<'a> {
    pub model: &'a Model,
    /// The objects written whole so far, by address.
    seen: RefCell<HashSet<usize, BuildHasherDefault<AddressHasher>>>,
}

impl<'a> ToJson<'a> {
    pub fn new(model: &'a Model) -> Self {
        ToJson {
            model,
            seen: RefCell::new(HashSet::with_capacity_and_hasher(
                64,
                BuildHasherDefault::default(),
            )),
        }
    }

    /// The document (or any record) as something serde can write.
    pub fn record<'v>(&'v self, record: &'v Record, fields: &'v Fields) -> impl Serialize + 'v {
        RecordJson {
            json: self,
            record,
            fields,
        }
    }
}

/// Hashes an object's address: addresses are already spread, so one
/// multiplication serves.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

struct RecordJson<'v> {
    json: &'v ToJson<'v>,
    record: &'v Record,
    fields: &'v Fields,
}

impl Serialize for RecordJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        self.entries(&mut map)?;
        map.end()
    }
}

impl RecordJson<'_> {
    /// The fields present, in layout order.
    fn entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let mut values = self.fields.iter().peekable();
        for f in &self.record.0 {
            if let Some((_, value)) = values.next_if(|(name, _)| Arc::ptr_eq(name, &f.name)) {
                map.serialize_entry(
                    f.name.as_ref(),
                    &ValueJson {
                        json: self.json,
                        ty: &f.ty,
                        value,
                        fields: self.fields,
                    },
                )?;
            }
        }
        Ok(())
    }
}

struct ValueJson<'v> {
    json: &'v ToJson<'v>,
    ty: &'v Type,
    value: &'v Value,
    /// The record the value belongs to (for a body whose class a field names).
    fields: &'v Fields,
}

impl ValueJson<'_> {
    fn with<'w>(&'w self, ty: &'w Type, value: &'w Value) -> ValueJson<'w> {
        ValueJson {
            json: self.json,
            ty,
            value,
            fields: self.fields,
        }
    }
}

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let model = self.json.model;
        match (self.ty, self.value) {
            (ty, Value::Scalar(scalar)) => scalar.serialize(ty, model.code_page, serializer),
            (Type::Struct(_, record), Value::Record(inner)) => RecordJson {
                json: self.json,
                record,
                fields: inner,
            }
            .serialize(serializer),
            (Type::Body(which), Value::Record(inner)) => {
                match body_class(model, which, self.fields) {
                    Some((class, _)) => RecordJson {
                        json: self.json,
                        record: &model.class(class).fields,
                        fields: inner,
                    }
                    .serialize(serializer),
                    None => serializer.serialize_unit(),
                }
            }
            (Type::Array { element, .. }, Value::List(items)) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&self.with(element, item))?;
                }
                seq.end()
            }
            (Type::Map { key, value, .. }, Value::List(entries)) => {
                let mut seq = serializer.serialize_seq(Some(entries.len()))?;
                for entry in entries {
                    if let Value::List(pair) = entry {
                        if let [k, v] = pair.as_slice() {
                            seq.serialize_element(&(self.with(key, k), self.with(value, v)))?;
                        }
                    }
                }
                seq.end()
            }
            (_, Value::Object(None)) => serializer.serialize_unit(),
            (_, Value::Object(Some(object))) => self.object(object, serializer),
            (_, Value::Class { class, schema }) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("$class", model.class(*class).name.as_ref())?;
                map.serialize_entry("$schema", schema)?;
                map.end()
            }
            _ => serializer.serialize_unit(),
        }
    }
}

impl ValueJson<'_> {
    fn object<S: Serializer>(&self, object: &ObjectRef, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(object) = object.downcast_ref::<LayoutObject>() else {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry("$class", object.class_name())?;
            return map.end();
        };
        let address = std::ptr::from_ref(object) as usize;
        if !self.json.seen.borrow_mut().insert(address) {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry("$ref", &object.index)?;
            return map.end();
        }
        let model = self.json.model;
        let mut map = serializer.serialize_map(Some(3 + object.fields.len()))?;
        map.serialize_entry("$class", model.class(object.class).name.as_ref())?;
        map.serialize_entry("$schema", &object.schema)?;
        map.serialize_entry("$index", &object.index)?;
        RecordJson {
            json: self.json,
            record: &model.class(object.class).fields,
            fields: &object.fields,
        }
        .entries(&mut map)?;
        map.end()
    }
}

/// Reads values from JSON, building each object once and resolving
/// `$ref`s to it.
pub(crate) struct FromJson {
    pub model: Arc<Model>,
    pub objects: HashMap<u64, ObjectRef>,
}

impl FromJson {
    fn error(path: &str, message: impl Into<String>) -> Error {
        Error::Json {
            path: path.to_owned(),
            message: message.into(),
        }
    }

    pub fn record(
        &mut self,
        record: &Record,
        json: &Json,
        schema: Option<u16>,
        path: &str,
    ) -> Result<Fields, Error> {
        let Json::Object(map) = json else {
            return Err(Self::error(
                path,
                format!("expected an object of fields, found {}", kind(json)),
            ));
        };
        for key in map.keys() {
            if !key.starts_with('$') && !record.0.iter().any(|f| f.name.as_ref() == key) {
                return Err(Self::error(
                    path,
                    format!("field {key:?} is not in the layout here"),
                ));
            }
        }
        let mut fields = Fields::with_capacity(record.0.len());
        for f in &record.0 {
            let here = format!("{path}.{}", f.name);
            let present = f
                .condition
                .as_ref()
                .is_none_or(|condition| condition_holds(condition, &fields, schema));
            match (present, map.get(f.name.as_ref())) {
                (true, Some(value)) => {
                    let value = self.value(&f.ty, value, &fields, schema, &here)?;
                    fields.push((Arc::clone(&f.name), value));
                }
                (true, None) => {
                    return Err(Self::error(
                        &here,
                        "expected this field (the layout has it here)",
                    ))
                }
                (false, Some(_)) => {
                    return Err(Self::error(
                        &here,
                        "expected no value: the field's condition (if) does not hold",
                    ))
                }
                (false, None) => {}
            }
        }
        Ok(fields)
    }

    fn value(
        &mut self,
        ty: &Type,
        json: &Json,
        fields: &Fields,
        schema: Option<u16>,
        path: &str,
    ) -> Result<Value, Error> {
        let code_page = self.model.code_page;
        let leaf = |result: Result<Scalar, String>| {
            result.map(Value::Scalar).map_err(|m| Self::error(path, m))
        };
        match ty {
            Type::Scalar(s) => leaf(Scalar::scalar_from_json(*s, json)),
            Type::String(form) => leaf(Scalar::string_from_json(*form, json, code_page)),
            Type::Time(form) => leaf(Scalar::time_from_json(*form, json)),
            Type::Bytes(count) => {
                let text = json.as_str().ok_or_else(|| {
                    Self::error(path, format!("expected hex bytes, found {}", kind(json)))
                })?;
                let bytes = unhex(text).map_err(|m| Self::error(path, m))?;
                check_count(count, bytes.len(), fields, path)?;
                Ok(Value::Scalar(Scalar::Bytes(bytes)))
            }
            Type::Struct(_, record) => Ok(Value::Record(self.record(record, json, schema, path)?)),
            Type::Array { count, element } => {
                let items = list(json, path)?;
                check_count(count, items.len(), fields, path)?;
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        self.value(element, item, fields, schema, &format!("{path}[{i}]"))
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Value::List(items))
            }
            Type::Map { count, key, value } => {
                let entries = list(json, path)?;
                check_count(count, entries.len(), fields, path)?;
                let mut out = Vec::with_capacity(entries.len());
                for (i, entry) in entries.iter().enumerate() {
                    let here = format!("{path}[{i}]");
                    let Some([k, v]) = entry.as_array().map(Vec::as_slice) else {
                        return Err(Self::error(&here, "expected a [key, value] pair"));
                    };
                    let k = self.value(key, k, fields, schema, &format!("{here}[0]"))?;
                    let v = self.value(value, v, fields, schema, &format!("{here}[1]"))?;
                    out.push(Value::List(vec![k, v]));
                }
                Ok(Value::List(out))
            }
            Type::Object(class) => self.object(*class, json, path),
            Type::Body(which) => {
                let model = Arc::clone(&self.model);
                let Some((class, schema)) = body_class(&model, which, fields) else {
                    return Err(Self::error(
                        path,
                        "expected an earlier field to name the body's class first",
                    ));
                };
                let record = &model.class(class).fields;
                Ok(Value::Record(self.record(
                    record,
                    json,
                    Some(schema),
                    path,
                )?))
            }
            Type::Class => {
                let (class, schema) = self.class_of(json, None, path)?;
                Ok(Value::Class { class, schema })
            }
        }
    }

    fn class_of(
        &self,
        json: &Json,
        only: Option<usize>,
        path: &str,
    ) -> Result<(usize, u16), Error> {
        let name = json
            .get("$class")
            .and_then(Json::as_str)
            .ok_or_else(|| Self::error(path, "expected $class"))?;
        let class = *self
            .model
            .by_name
            .get(name)
            .ok_or_else(|| Self::error(path, format!("class {name:?} is not in the layout")))?;
        if let Some(only) = only.filter(|&only| only != class) {
            return Err(Self::error(
                path,
                format!(
                    "expected an object of class {}, found {name}",
                    self.model.class(only).name
                ),
            ));
        }
        let declared = self.model.class(class);
        let schema = match json.get("$schema") {
            None => declared.default_schema(),
            Some(schema) => schema
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| {
                    Self::error(
                        path,
                        format!("expected $schema to be a WORD, found {schema}"),
                    )
                })?,
        };
        if !declared.accepts(schema) {
            return Err(Self::error(
                path,
                format!("class {name} has no schema {schema} in the layout"),
            ));
        }
        Ok((class, schema))
    }

    fn object(&mut self, only: Option<usize>, json: &Json, path: &str) -> Result<Value, Error> {
        if json.is_null() {
            return Ok(Value::Object(None));
        }
        if let Some(target) = json.get("$ref") {
            let index = target.as_u64().ok_or_else(|| {
                Self::error(
                    path,
                    format!("expected $ref to be an index, found {target}"),
                )
            })?;
            let object = self.objects.get(&index).ok_or_else(|| {
                Self::error(
                    path,
                    format!("$ref {index} is no object given whole before it"),
                )
            })?;
            if let Some(only) = only {
                let expected = &self.model.class(only).name;
                if object.class_name() != expected.as_ref() {
                    return Err(Self::error(
                        path,
                        format!(
                            "expected an object of class {expected}, $ref {index} is a {}",
                            object.class_name()
                        ),
                    ));
                }
            }
            return Ok(Value::Object(Some(ObjectRef::clone(object))));
        }
        let (class, schema) = self.class_of(json, only, path)?;
        let model = Arc::clone(&self.model);
        let fields = self.record(&model.class(class).fields, json, Some(schema), path)?;
        let index = match json.get("$index") {
            None => None,
            Some(index) => Some(index.as_u64().ok_or_else(|| {
                Self::error(
                    path,
                    format!("expected $index to be a number, found {index}"),
                )
            })?),
        };
        let object: ObjectRef = Arc::new(LayoutObject {
            model: Arc::clone(&self.model),
            class,
            schema,
            index: index.and_then(|i| u32::try_from(i).ok()).unwrap_or(0),
            fields,
        });
        if let Some(index) = index {
            if self
                .objects
                .insert(index, ObjectRef::clone(&object))
                .is_some()
            {
                return Err(Self::error(
                    path,
                    format!("$index {index} is given to two objects"),
                ));
            }
        }
        Ok(Value::Object(Some(object)))
    }
}

fn list<'j>(json: &'j Json, path: &str) -> Result<&'j Vec<Json>, Error> {
    json.as_array()
        .ok_or_else(|| FromJson::error(path, format!("expected a list, found {}", kind(json))))
}

/// Checks a length against a count the layout fixes or an earlier field holds.
fn check_count(count: &Count, len: usize, fields: &Fields, path: &str) -> Result<(), Error> {
    let expected = match count {
        Count::Fixed(n) => Some((*n, "the layout's count".to_owned())),
        Count::Field(name) => integer(fields, name)
            .and_then(|n| u64::try_from(n).ok())
            .map(|n| (n, format!("field {name}"))),
        Count::Word | Count::Dword | Count::WriteCount => None,
    };
    match expected {
        Some((n, what)) if n != len as u64 => Err(FromJson::error(
            path,
            format!("expected {n} elements ({what}), found {len}"),
        )),
        _ => Ok(()),
    }
}

fn kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}
