//! [`Value`]s as JSON and back.
//!
//! A record is a JSON object of its fields in layout order (a field whose
//! condition did not hold is absent). An object is the same, with `$class`,
//! `$schema` and `$index` (its load-array index) before its fields; each
//! later pointer to it is `{"$ref": index}`, and a null pointer is `null`. A
//! class tag alone is `{"$class": name, "$schema": n}`. A map is a list of
//! `[key, value]` pairs in stored order; raw bytes are hex.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use mfc_archive::ObjectRef;
use serde_json::{json, Map, Value as Json};

use crate::error::Error;
use crate::model::{BodyClass, Count, Model, Operand, Record, Type};
use crate::scalar::{unhex, Scalar};
use crate::value::{field, Fields, LayoutObject, Value};

/// Writes values as JSON, each object whole the first time and as a
/// reference after.
pub(crate) struct ToJson<'a> {
    pub model: &'a Model,
    pub seen: HashSet<usize>,
}

impl ToJson<'_> {
    pub fn record(&mut self, record: &Record, fields: &Fields) -> Map<String, Json> {
        let mut out = Map::new();
        let mut values = fields.iter().peekable();
        for f in &record.0 {
            if let Some((_, value)) = values.next_if(|(name, _)| *name == f.name) {
                out.insert(f.name.to_string(), self.value(&f.ty, value, fields));
            }
        }
        out
    }

    fn value(&mut self, ty: &Type, value: &Value, fields: &Fields) -> Json {
        match (ty, value) {
            (_, Value::Scalar(scalar)) => scalar.to_json(ty, self.model.code_page),
            (Type::Struct(record), Value::Record(inner)) => {
                Json::Object(self.record(record, inner))
            }
            (Type::Body(which), Value::Record(inner)) => {
                let class = match which {
                    BodyClass::Fixed(class) => Some(*class),
                    BodyClass::From(name) => match field(fields, name) {
                        Some(Value::Class { class, .. }) => Some(*class),
                        _ => None,
                    },
                };
                match class {
                    Some(class) => {
                        Json::Object(self.record(&self.model.class(class).fields, inner))
                    }
                    None => Json::Null,
                }
            }
            (Type::Array { element, .. }, Value::List(items)) => Json::Array(
                items
                    .iter()
                    .map(|item| self.value(element, item, fields))
                    .collect(),
            ),
            (Type::Map { key, value, .. }, Value::List(entries)) => Json::Array(
                entries
                    .iter()
                    .map(|entry| match entry {
                        Value::List(pair) if pair.len() == 2 => json!([
                            self.value(key, &pair[0], fields),
                            self.value(value, &pair[1], fields)
                        ]),
                        _ => Json::Null,
                    })
                    .collect(),
            ),
            (_, Value::Object(None)) => Json::Null,
            (_, Value::Object(Some(object))) => self.object(object),
            (_, Value::Class { class, schema }) => {
                json!({ "$class": self.model.class(*class).name.as_ref(), "$schema": schema })
            }
            _ => Json::Null,
        }
    }

    fn object(&mut self, object: &ObjectRef) -> Json {
        let Some(object) = object.downcast_ref::<LayoutObject>() else {
            return json!({ "$class": object.class_name() });
        };
        let address = std::ptr::from_ref(object) as usize;
        if !self.seen.insert(address) {
            return json!({ "$ref": object.index });
        }
        let mut out = Map::new();
        out.insert(
            "$class".into(),
            json!(self.model.class(object.class).name.as_ref()),
        );
        out.insert("$schema".into(), json!(object.schema));
        out.insert("$index".into(), json!(object.index));
        let fields = self.record(&self.model.class(object.class).fields, &object.fields);
        out.extend(fields);
        Json::Object(out)
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
                    format!("field {key} is not in the layout here"),
                ));
            }
        }
        let mut fields = Fields::with_capacity(record.0.len());
        for f in &record.0 {
            let here = format!("{path}.{}", f.name);
            let present = match &f.condition {
                None => true,
                Some(condition) => {
                    let left = match &condition.operand {
                        Operand::Schema => schema.map(i128::from),
                        Operand::Field(name) => match field(&fields, name) {
                            Some(Value::Scalar(s)) => s.integer(),
                            _ => None,
                        },
                    };
                    condition
                        .comparison
                        .holds(left.unwrap_or(0), condition.value)
                }
            };
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
            Type::Struct(record) => Ok(Value::Record(self.record(record, json, schema, path)?)),
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
                let (class, stored) = match which {
                    BodyClass::Fixed(class) => (*class, None),
                    BodyClass::From(name) => match field(fields, name) {
                        Some(Value::Class { class, schema }) => (*class, Some(*schema)),
                        _ => {
                            return Err(Self::error(
                                path,
                                format!("expected field {name} to name a class first"),
                            ))
                        }
                    },
                };
                let model = Arc::clone(&self.model);
                let declared = model.class(class);
                let schema = stored.unwrap_or(declared.default_schema());
                Ok(Value::Record(self.record(
                    &declared.fields,
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
            .ok_or_else(|| Self::error(path, format!("class {name} is not in the layout")))?;
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
        Count::Field(name) => match field(fields, name) {
            Some(Value::Scalar(s)) => s
                .integer()
                .and_then(|n| u64::try_from(n).ok())
                .map(|n| (n, format!("field {name}"))),
            _ => None,
        },
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
