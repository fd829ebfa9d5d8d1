//! The typed values `sockarc send` writes and `sockarc recv` reads: `TYPE:TEXT`
//! on the command line, `TYPE VALUE` lines on output.

use std::fmt;
use std::str::FromStr;

use sockarc::archive::{Bool, Loading, MfcString, Result, Storing};

use crate::escape::escape;

/// An archive value type, by the name the command line uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F32,
    F64,
    /// C++ `bool`, 1 byte.
    Bool,
    /// Win32 `BOOL`, 4 bytes.
    WinBool,
    /// ANSI `CString`.
    Str,
    /// Unicode `CString`.
    WStr,
    /// `WriteCount`.
    Count,
}

const NAMES: [(&str, Kind); 15] = [
    ("u8", Kind::U8),
    ("i8", Kind::I8),
    ("u16", Kind::U16),
    ("i16", Kind::I16),
    ("u32", Kind::U32),
    ("i32", Kind::I32),
    ("u64", Kind::U64),
    ("i64", Kind::I64),
    ("f32", Kind::F32),
    ("f64", Kind::F64),
    ("bool", Kind::Bool),
    ("BOOL", Kind::WinBool),
    ("str", Kind::Str),
    ("wstr", Kind::WStr),
    ("count", Kind::Count),
];

/// The names the command line takes, so `--help` lists them and clap checks
/// them (`recv u8 str`).
impl clap::ValueEnum for Kind {
    fn value_variants<'a>() -> &'a [Self] {
        const KINDS: [Kind; 15] = {
            let mut kinds = [Kind::U8; 15];
            let mut i = 0;
            while i < NAMES.len() {
                kinds[i] = NAMES[i].1;
                i += 1;
            }
            kinds
        };
        &KINDS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        NAMES
            .iter()
            .find(|(_, kind)| kind == self)
            .map(|(name, _)| clap::builder::PossibleValue::new(*name))
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(name: &str) -> Result<Kind, String> {
        NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, kind)| kind)
            .ok_or_else(|| {
                let known: Vec<_> = NAMES.iter().map(|(n, _)| *n).collect();
                format!("unknown type {name:?}; expected one of {}", known.join(" "))
            })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = NAMES
            .iter()
            .find(|(_, k)| k == self)
            .map_or("?", |(n, _)| n);
        f.write_str(name)
    }
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" | "TRUE" | "1" => Ok(true),
        "false" | "FALSE" | "0" => Ok(false),
        _ => Err(format!("expected true, false, 1 or 0, found {text:?}")),
    }
}

fn number<T: FromStr>(text: &str, kind: Kind) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a valid {kind}"))
}

/// Parses `TYPE:TEXT`, checking that TEXT is a valid TYPE.
impl FromStr for Value {
    type Err = String;

    fn from_str(arg: &str) -> Result<Value, String> {
        let (kind, t) = arg
            .split_once(':')
            .ok_or_else(|| format!("{arg:?}: expected TYPE:TEXT, such as u32:42 or str:hello"))?;
        let k: Kind = kind.parse()?;
        let value = match k {
            Kind::U8 => number(t, k).map(Value::U8),
            Kind::I8 => number(t, k).map(Value::I8),
            Kind::U16 => number(t, k).map(Value::U16),
            Kind::I16 => number(t, k).map(Value::I16),
            Kind::U32 => number(t, k).map(Value::U32),
            Kind::I32 => number(t, k).map(Value::I32),
            Kind::U64 => number(t, k).map(Value::U64),
            Kind::I64 => number(t, k).map(Value::I64),
            Kind::F32 => number(t, k).map(Value::F32),
            Kind::F64 => number(t, k).map(Value::F64),
            Kind::Bool => parse_bool(t).map(Value::Bool),
            Kind::WinBool => parse_bool(t).map(Value::WinBool),
            Kind::Str => Ok(Value::Str(t.to_owned())),
            Kind::WStr => Ok(Value::WStr(t.to_owned())),
            Kind::Count => number(t, k).map(Value::Count),
        };
        value.map_err(|e| format!("{arg:?}: {e}"))
    }
}

/// A parsed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    WinBool(bool),
    Str(String),
    WStr(String),
    Count(u64),
}

impl Value {
    /// Writes the value; `code_page` encodes `str` text.
    pub fn write(
        &self,
        ar: &mut Storing<'_>,
        code_page: &'static sockarc::archive::encoding_rs::Encoding,
    ) -> Result<()> {
        match self {
            Value::U8(v) => ar.write(v),
            Value::I8(v) => ar.write(v),
            Value::U16(v) => ar.write(v),
            Value::I16(v) => ar.write(v),
            Value::U32(v) => ar.write(v),
            Value::I32(v) => ar.write(v),
            Value::U64(v) => ar.write(v),
            Value::I64(v) => ar.write(v),
            Value::F32(v) => ar.write(v),
            Value::F64(v) => ar.write(v),
            Value::Bool(v) => ar.write(v),
            Value::WinBool(v) => ar.write(&Bool::from(*v)),
            Value::Str(text) => ar.write(&MfcString::ansi_in(text, code_page)),
            Value::WStr(text) => ar.write(&MfcString::unicode(text)),
            Value::Count(n) => ar.write_count(*n),
        }
    }

    /// The characters of a `str` value that `code_page` cannot hold (each
    /// once, in order); empty for every other value.
    pub fn unencodable(
        &self,
        code_page: &'static sockarc::archive::encoding_rs::Encoding,
    ) -> Vec<char> {
        let Value::Str(text) = self else {
            return Vec::new();
        };
        let mut missing: Vec<char> = Vec::new();
        let mut buf = [0u8; 4];
        for c in text.chars() {
            if !missing.contains(&c) && code_page.encode(c.encode_utf8(&mut buf)).2 {
                missing.push(c);
            }
        }
        missing
    }

    /// Reads one value of `kind`. Strings of either width are accepted.
    pub fn read(kind: Kind, ar: &mut Loading<'_>) -> Result<Value> {
        Ok(match kind {
            Kind::U8 => Value::U8(ar.read()?),
            Kind::I8 => Value::I8(ar.read()?),
            Kind::U16 => Value::U16(ar.read()?),
            Kind::I16 => Value::I16(ar.read()?),
            Kind::U32 => Value::U32(ar.read()?),
            Kind::I32 => Value::I32(ar.read()?),
            Kind::U64 => Value::U64(ar.read()?),
            Kind::I64 => Value::I64(ar.read()?),
            Kind::F32 => Value::F32(ar.read()?),
            Kind::F64 => Value::F64(ar.read()?),
            Kind::Bool => Value::Bool(ar.read()?),
            Kind::WinBool => Value::WinBool(ar.read::<Bool>()?.is_true()),
            Kind::Str => Value::Str(ar.read::<MfcString>()?.to_string_lossy().into_owned()),
            Kind::WStr => Value::WStr(ar.read::<MfcString>()?.to_string_lossy().into_owned()),
            Kind::Count => Value::Count(ar.read_count()?),
        })
    }
}

/// `TYPE VALUE`, as `sockarc recv` prints it.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::U8(v) => write!(f, "u8 {v}"),
            Value::I8(v) => write!(f, "i8 {v}"),
            Value::U16(v) => write!(f, "u16 {v}"),
            Value::I16(v) => write!(f, "i16 {v}"),
            Value::U32(v) => write!(f, "u32 {v}"),
            Value::I32(v) => write!(f, "i32 {v}"),
            Value::U64(v) => write!(f, "u64 {v}"),
            Value::I64(v) => write!(f, "i64 {v}"),
            Value::F32(v) => write!(f, "f32 {v}"),
            Value::F64(v) => write!(f, "f64 {v}"),
            Value::Bool(v) => write!(f, "bool {v}"),
            Value::WinBool(v) => write!(f, "BOOL {v}"),
            Value::Str(text) => write!(f, "str {}", escape(text)),
            Value::WStr(text) => write!(f, "wstr {}", escape(text)),
            Value::Count(n) => write!(f, "count {n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_text_arguments_parse_and_reject_bad_text() {
        assert_eq!("u32:42".parse::<Value>().unwrap(), Value::U32(42));
        assert_eq!(
            "str:a:b".parse::<Value>().unwrap(),
            Value::Str("a:b".into())
        );
        assert_eq!("BOOL:1".parse::<Value>().unwrap(), Value::WinBool(true));
        assert!("u8:256"
            .parse::<Value>()
            .unwrap_err()
            .contains("not a valid u8"));
        assert!("int:1"
            .parse::<Value>()
            .unwrap_err()
            .contains("unknown type \"int\""));
        assert!("42"
            .parse::<Value>()
            .unwrap_err()
            .contains("expected TYPE:TEXT"));
        assert!("BOOL:yes"
            .parse::<Value>()
            .unwrap_err()
            .contains("expected true"));
    }

    #[test]
    fn values_print_on_one_line() {
        assert_eq!(Value::Str("a\nb\\c".into()).to_string(), "str a\\nb\\\\c");
        assert_eq!(Value::WinBool(true).to_string(), "BOOL true");
        assert_eq!(Value::F64(1.5).to_string(), "f64 1.5");
    }

    #[test]
    fn characters_a_code_page_cannot_hold_are_found() {
        let cp1252 = sockarc::archive::code_page(1252).unwrap();
        let gbk = sockarc::archive::code_page(936).unwrap();
        let name = Value::Str("张三 张€".into());
        assert_eq!(name.unencodable(cp1252), ['张', '三']);
        assert_eq!(name.unencodable(gbk), [] as [char; 0]);
        assert!(Value::WStr("张三".into()).unencodable(cp1252).is_empty());
    }
}
