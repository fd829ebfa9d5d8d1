//! One leaf value in all three of its forms: the bytes in the archive, the
//! Rust value in between, and the JSON a person reads and edits. Each form
//! is converted to the next in exactly one place here, and JSON that does not
//! fit the type is refused with what was expected.
//!
//! JSON is exact: reading a document and writing its JSON back gives the same
//! bytes. Where a plain JSON value would lose something, the value is an
//! object that says what it is: a `CString` in the other width than the
//! layout's (`{"unicode": "…"}`, `{"ansi": "…"}`), one whose bytes are not
//! text (`{"ansi_hex": "…"}`, `{"utf16": […]}`), a `CTime` in the other form
//! (`{"time32": n}`, `{"time64": n}`), a float that JSON cannot hold
//! (`{"bits": n}`), a `BOOL` or `bool` other than 0 and 1 (its number).

use std::borrow::Cow;

use mfc_archive::encoding_rs::Encoding;
use mfc_archive::{Bool, Loading, MfcString, Storing, StringForm, Time, TimeForm};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::model::{ScalarType, Type};

/// A leaf value as read or to be written.
#[derive(Debug, Clone)]
pub(crate) enum Scalar {
    U8(u8),
    I8(i8),
    Char(u8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    CppBool(u8),
    Bool(Bool),
    Count(u64),
    String(MfcString),
    Time(Time),
    Bytes(Vec<u8>),
}

impl Scalar {
    /// Reads a fixed-size value.
    pub fn read(ar: &mut Loading<'_>, ty: ScalarType) -> mfc_archive::Result<Scalar> {
        Ok(match ty {
            ScalarType::U8 => Scalar::U8(ar.read()?),
            ScalarType::I8 => Scalar::I8(ar.read()?),
            ScalarType::Char => Scalar::Char(ar.read()?),
            ScalarType::U16 => Scalar::U16(ar.read()?),
            ScalarType::I16 => Scalar::I16(ar.read()?),
            ScalarType::U32 => Scalar::U32(ar.read()?),
            ScalarType::I32 => Scalar::I32(ar.read()?),
            ScalarType::U64 => Scalar::U64(ar.read()?),
            ScalarType::I64 => Scalar::I64(ar.read()?),
            ScalarType::F32 => Scalar::F32(ar.read()?),
            ScalarType::F64 => Scalar::F64(ar.read()?),
            ScalarType::CppBool => Scalar::CppBool(ar.read()?),
            ScalarType::Bool => Scalar::Bool(ar.read()?),
            ScalarType::Count => Scalar::Count(ar.read_count()?),
        })
    }

    /// Writes the value as it was read.
    pub fn write(&self, ar: &mut Storing<'_>) -> mfc_archive::Result<()> {
        match self {
            Scalar::U8(v) | Scalar::Char(v) | Scalar::CppBool(v) => ar.write(v),
            Scalar::I8(v) => ar.write(v),
            Scalar::U16(v) => ar.write(v),
            Scalar::I16(v) => ar.write(v),
            Scalar::U32(v) => ar.write(v),
            Scalar::I32(v) => ar.write(v),
            Scalar::U64(v) => ar.write(v),
            Scalar::I64(v) => ar.write(v),
            Scalar::F32(v) => ar.write(v),
            Scalar::F64(v) => ar.write(v),
            Scalar::Bool(v) => ar.write(v),
            Scalar::Count(v) => ar.write_count(*v),
            Scalar::String(v) => ar.write(v),
            Scalar::Time(v) => ar.write(v),
            Scalar::Bytes(v) => ar.write_raw(v),
        }
    }

    /// The value as an integer, for counts and conditions.
    pub fn integer(&self) -> Option<i128> {
        Some(match *self {
            Scalar::U8(v) | Scalar::Char(v) | Scalar::CppBool(v) => i128::from(v),
            Scalar::I8(v) => i128::from(v),
            Scalar::U16(v) => i128::from(v),
            Scalar::I16(v) => i128::from(v),
            Scalar::U32(v) => i128::from(v),
            Scalar::I32(v) => i128::from(v),
            Scalar::U64(v) | Scalar::Count(v) => i128::from(v),
            Scalar::I64(v) => i128::from(v),
            Scalar::Bool(v) => i128::from(v.0),
            _ => return None,
        })
    }

    /// Writes the value as JSON, read as `ty` expects (see the module docs
    /// for the forms).
    pub fn serialize<S: Serializer>(
        &self,
        ty: &Type,
        code_page: &'static Encoding,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match self {
            Scalar::U8(v) => serializer.serialize_u8(*v),
            Scalar::I8(v) => serializer.serialize_i8(*v),
            Scalar::Char(v) => match char::from(*v) {
                c if c.is_ascii_graphic() || c == ' ' => serializer.serialize_char(c),
                _ => serializer.serialize_i8(v.cast_signed()),
            },
            Scalar::U16(v) => serializer.serialize_u16(*v),
            Scalar::I16(v) => serializer.serialize_i16(*v),
            Scalar::U32(v) => serializer.serialize_u32(*v),
            Scalar::I32(v) => serializer.serialize_i32(*v),
            Scalar::U64(v) | Scalar::Count(v) => serializer.serialize_u64(*v),
            Scalar::I64(v) => serializer.serialize_i64(*v),
            // The shortest text that reads back as this f32, when reading it
            // as a double and narrowing gives the same bits (rounding twice
            // could miss by one near a tie); else the f32 widened, exactly.
            Scalar::F32(v) if v.is_finite() => match v.to_string().parse::<f64>() {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "checked to narrow back exactly"
                )]
                Ok(wide) if (wide as f32).to_bits() == v.to_bits() => {
                    serializer.serialize_f64(wide)
                }
                _ => serializer.serialize_f64(f64::from(*v)),
            },
            Scalar::F32(v) => one(serializer, "bits", &v.to_bits()),
            Scalar::F64(v) if v.is_finite() => serializer.serialize_f64(*v),
            Scalar::F64(v) => one(serializer, "bits", &v.to_bits()),
            Scalar::CppBool(v) => truth(serializer, i32::from(*v)),
            Scalar::Bool(v) => truth(serializer, v.0),
            Scalar::String(s) => serialize_string(s, ty, code_page, serializer),
            Scalar::Time(t) => {
                let expected = match ty {
                    Type::Time(form) => *form,
                    _ => TimeForm::Time64,
                };
                match t.form {
                    form if form == expected => serializer.serialize_i64(t.seconds),
                    TimeForm::Time32 => one(serializer, "time32", &t.seconds),
                    TimeForm::Time64 => one(serializer, "time64", &t.seconds),
                }
            }
            Scalar::Bytes(bytes) => serializer.serialize_str(&hex(bytes)),
        }
    }

    /// The value JSON gives for a fixed-size `ty`.
    ///
    /// # Errors
    /// What was expected, when the JSON does not fit.
    pub fn scalar_from_json(ty: ScalarType, json: &Json) -> Result<Scalar, String> {
        let int = |min: i128, max: i128, what: &str| -> Result<i128, String> {
            let value = json
                .as_i64()
                .map(i128::from)
                .or_else(|| json.as_u64().map(i128::from));
            match value {
                Some(v) if (min..=max).contains(&v) => Ok(v),
                _ => Err(format!("expected {what} ({min} to {max}), found {json}")),
            }
        };
        let truth_int = |what: &str| match json {
            Json::Bool(b) => Ok(i128::from(*b)),
            _ => int(i128::from(i32::MIN), i128::from(i32::MAX), what),
        };
        // Each cast below is to the range `int` was given.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "each value is checked against its type's range first"
        )]
        Ok(match ty {
            ScalarType::U8 => Scalar::U8(int(0, 255, "a BYTE")? as u8),
            ScalarType::I8 => Scalar::I8(int(-128, 127, "a signed char")? as i8),
            ScalarType::Char => match json.as_str().map(str::as_bytes) {
                Some(&[byte]) if byte.is_ascii() => Scalar::Char(byte),
                Some(_) => return Err(format!("expected one ASCII character, found {json}")),
                None => Scalar::Char((int(-128, 255, "a char")? as i16).to_le_bytes()[0]),
            },
            ScalarType::U16 => Scalar::U16(int(0, 0xFFFF, "a WORD")? as u16),
            ScalarType::I16 => Scalar::I16(int(-0x8000, 0x7FFF, "a short")? as i16),
            ScalarType::U32 => Scalar::U32(int(0, 0xFFFF_FFFF, "a DWORD")? as u32),
            ScalarType::I32 => Scalar::I32(int(i32::MIN.into(), i32::MAX.into(), "an int")? as i32),
            ScalarType::U64 => Scalar::U64(int(0, u64::MAX.into(), "a ULONGLONG")? as u64),
            ScalarType::I64 => {
                Scalar::I64(int(i64::MIN.into(), i64::MAX.into(), "a LONGLONG")? as i64)
            }
            ScalarType::Count => Scalar::Count(int(0, u64::MAX.into(), "a count")? as u64),
            ScalarType::F32 => match bits(json)? {
                Some(b) => Scalar::F32(f32::from_bits(
                    u32::try_from(b).map_err(|_| format!("expected 32 bits, found {b}"))?,
                )),
                None => Scalar::F32(number(json)? as f32),
            },
            ScalarType::F64 => match bits(json)? {
                Some(b) => Scalar::F64(f64::from_bits(b)),
                None => Scalar::F64(number(json)?),
            },
            ScalarType::CppBool => Scalar::CppBool(match json {
                Json::Bool(b) => u8::from(*b),
                _ => int(0, 255, "a bool (true, false or a byte)")? as u8,
            }),
            ScalarType::Bool => {
                Scalar::Bool(Bool(truth_int("a BOOL (true, false or an int)")? as i32))
            }
        })
    }

    /// The `CString` JSON gives, for a field whose layout form is `form`.
    ///
    /// # Errors
    /// What was expected, when the JSON is not a string in one of the forms.
    pub fn string_from_json(
        form: StringForm,
        json: &Json,
        code_page: &'static Encoding,
    ) -> Result<Scalar, String> {
        let in_form = |form: StringForm, text: &str| match form {
            StringForm::Unicode => Ok(MfcString::unicode(text)),
            StringForm::Ansi => {
                let (bytes, _, unmappable) = code_page.encode(text);
                if unmappable {
                    Err(format!(
                        "expected text that code page {} can hold, found {text:?}",
                        code_page.name()
                    ))
                } else {
                    Ok(MfcString::ansi(bytes.into_owned()).with_code_page(code_page))
                }
            }
        };
        let string = match json {
            Json::String(text) => in_form(form, text)?,
            Json::Object(map) if map.len() == 1 => {
                let (key, value) = map.iter().next().ok_or("an empty object")?;
                match (key.as_str(), value) {
                    ("unicode", Json::String(text)) => in_form(StringForm::Unicode, text)?,
                    ("ansi", Json::String(text)) => in_form(StringForm::Ansi, text)?,
                    ("ansi_hex", Json::String(text)) => {
                        MfcString::ansi(unhex(text)?).with_code_page(code_page)
                    }
                    ("utf16", Json::Array(units)) => MfcString::from_utf16(
                        units
                            .iter()
                            .map(|u| u.as_u64().and_then(|u| u16::try_from(u).ok()))
                            .collect::<Option<Vec<u16>>>()
                            .ok_or_else(|| format!("expected UTF-16 code units, found {value}"))?,
                    ),
                    _ => return Err(string_expected(json)),
                }
            }
            _ => return Err(string_expected(json)),
        };
        Ok(Scalar::String(string))
    }

    /// The `CTime` JSON gives, for a field whose layout form is `form`.
    ///
    /// # Errors
    /// What was expected, when the JSON is not a time.
    pub fn time_from_json(form: TimeForm, json: &Json) -> Result<Scalar, String> {
        let (form, seconds) = match json {
            Json::Object(map) if map.len() == 1 => match map.iter().next() {
                Some((key, value)) if key == "time32" => (TimeForm::Time32, value),
                Some((key, value)) if key == "time64" => (TimeForm::Time64, value),
                _ => {
                    return Err(format!(
                        "expected seconds, {{\"time32\": n}} or {{\"time64\": n}}, found {json}"
                    ))
                }
            },
            other => (form, other),
        };
        let seconds = seconds
            .as_i64()
            .ok_or_else(|| format!("expected seconds since 1970 (an integer), found {seconds}"))?;
        if form == TimeForm::Time32 && i32::try_from(seconds).is_err() {
            return Err(format!("expected a 32-bit CTime, found {seconds} seconds"));
        }
        Ok(Scalar::Time(Time { seconds, form }))
    }
}

/// `true`/`false` for 1/0, the number otherwise.
fn truth<S: Serializer>(serializer: S, value: i32) -> Result<S::Ok, S::Error> {
    match value {
        0 => serializer.serialize_bool(false),
        1 => serializer.serialize_bool(true),
        other => serializer.serialize_i32(other),
    }
}

/// A one-entry JSON object, `{"key": value}`.
fn one<S: Serializer, T: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

/// A string as JSON: plain when it is text in the layout's form, an object
/// naming the form or holding the raw units otherwise.
fn serialize_string<S: Serializer>(
    s: &MfcString,
    ty: &Type,
    code_page: &'static Encoding,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let expected = match ty {
        Type::String(form) => *form,
        _ => StringForm::Unicode,
    };
    let (form, text): (StringForm, Cow<'_, str>) = if let Some(units) = s.as_utf16() {
        match String::from_utf16(units) {
            Ok(text) => (StringForm::Unicode, Cow::Owned(text)),
            Err(_) => return one(serializer, "utf16", units),
        }
    } else {
        let bytes = s.as_ansi().unwrap_or_default();
        // ASCII is the same text in every ASCII-compatible code page.
        let ascii = (bytes.is_ascii() && code_page.is_ascii_compatible())
            .then(|| std::str::from_utf8(bytes).ok())
            .flatten();
        let text = match ascii {
            Some(text) => Some(Cow::Borrowed(text)),
            None => code_page
                .decode_without_bom_handling_and_without_replacement(bytes)
                // Only text that encodes back to the same bytes is shown as text.
                .filter(|text| code_page.encode(text).0.as_ref() == bytes),
        };
        match text {
            Some(text) => (StringForm::Ansi, text),
            None => return one(serializer, "ansi_hex", &hex(bytes)),
        }
    };
    match form {
        form if form == expected => serializer.serialize_str(&text),
        StringForm::Unicode => one(serializer, "unicode", &*text),
        StringForm::Ansi => one(serializer, "ansi", &*text),
    }
}

fn string_expected(json: &Json) -> String {
    format!(
        "expected a string, or {{\"unicode\"|\"ansi\": text}}, {{\"ansi_hex\": hex}} or {{\"utf16\": [units]}}, found {json}"
    )
}

/// `{"bits": n}`, if that is what the JSON is.
fn bits(json: &Json) -> Result<Option<u64>, String> {
    match json.as_object().map(Map::len) {
        Some(1) => json
            .get("bits")
            .and_then(Json::as_u64)
            .map(Some)
            .ok_or_else(|| format!("expected a number or {{\"bits\": n}}, found {json}")),
        _ => Ok(None),
    }
}

fn number(json: &Json) -> Result<f64, String> {
    json.as_f64()
        .ok_or_else(|| format!("expected a number, found {json}"))
}

/// Bytes as upper-case hex pairs separated by spaces, as MFC's docs show them.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xF)]));
    }
    out
}

/// The bytes of hex pairs; whitespace between pairs is ignored.
///
/// # Errors
/// What was expected, for anything but pairs of hex digits.
pub(crate) fn unhex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "expected pairs of hex digits, found {} digits",
            digits.len()
        ));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| {
                    format!(
                        "expected hex digits, found {:?}",
                        String::from_utf8_lossy(pair)
                    )
                })
        })
        .collect()
}
