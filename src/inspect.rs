//! `sockarc inspect`: the structure of an archive read with no layout, for a
//! file nobody documented.
//!
//! A `CArchive` stream carries no field names or types: a document is whatever
//! its `Serialize` wrote. Some of it can still be recognised for certain, and
//! more with fair confidence:
//! - **certain**: a new-class tag (`FF FF`, schema, name length, a name that
//!   looks like a C++ class), and the load-array index it takes; a class
//!   reference (`0x8000 | index`, or `7F FF` + a DWORD) to a class seen
//!   before, which starts an object of that class; a Unicode `CString`
//!   (`FF FE FF`, a length, UTF-16LE that decodes to printable text);
//! - **heuristic** (marked so): an ANSI `CString` (a length, then that many
//!   printable characters in the code page), and the object index a class tag
//!   takes (a class written by `WriteClass` alone takes none);
//! - everything else is a run of bytes it cannot place, shown with its offset.
//!
//! Each recognised object indents what follows it, up to the next object tag:
//! the fields of an object come after its tag, but where they end is not in
//! the bytes. Work and memory are linear in the input: each offset is tried a
//! fixed number of ways, and nothing is allocated beyond the items shown.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;

use sockarc::archive::encoding_rs::Encoding;

/// The shortest ANSI string taken for one: shorter runs of printable bytes
/// are as likely numbers.
const MIN_ANSI: usize = 3;

/// What one stretch of the input was read as.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A new-class tag: `index` in the load array.
    NewClass {
        /// The class name.
        name: String,
        /// The schema stored with it.
        schema: u16,
        /// Its load-array index.
        index: u32,
    },
    /// A reference to a class seen before, starting an object of it.
    ClassRef {
        /// The class referred to.
        name: String,
        /// The class's load-array index.
        class: u32,
    },
    /// A `CString`.
    Text {
        /// Its characters.
        text: String,
        /// `true` for a Unicode one (`FF FE FF`).
        unicode: bool,
    },
    /// Bytes it cannot place.
    Unknown,
}

/// One recognised stretch of the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Where it starts, from the start of the input.
    pub offset: usize,
    /// How many bytes it takes.
    pub len: usize,
    /// What it was read as.
    pub kind: Kind,
    /// The load-array index of the object it starts, if it starts one (a
    /// guess for a new-class tag: see the module's documentation).
    pub object: Option<u32>,
    /// Objects it sits inside (0 at the top).
    pub depth: usize,
    /// Read with fair confidence rather than for certain.
    pub heuristic: bool,
}

/// Classes remembered at most: a document has a few dozen, and a hostile
/// file of nothing but new-class tags must not grow memory with its size.
/// Tags past this are still shown; references to them are not resolved.
const MAX_CLASSES: usize = 1 << 16;

/// The scanner's state: the load array as far as it is known.
struct Scan<'a> {
    bytes: &'a [u8],
    code_page: &'static Encoding,
    /// Class names by load-array index.
    classes: HashMap<u32, String>,
    /// The next load-array index (0 is the null object).
    next: u32,
    /// Start of the run of bytes not yet placed.
    unknown_from: Option<usize>,
    depth: usize,
}

/// Reads the structure of `bytes`, ANSI strings in `code_page`, and hands
/// each item to `emit` as it is found; offsets count from `base` (where
/// `bytes` starts in the file). Memory stays within the classes remembered,
/// whatever the input's size.
///
/// # Errors
/// The first error `emit` returns (output that went away).
pub fn scan(
    bytes: &[u8],
    code_page: &'static Encoding,
    base: usize,
    mut emit: impl FnMut(&Item) -> io::Result<()>,
) -> io::Result<()> {
    let mut scan = Scan {
        bytes,
        code_page,
        classes: HashMap::new(),
        next: 1,
        unknown_from: None,
        depth: 0,
    };
    let mut out = |mut item: Item| {
        item.offset += base;
        emit(&item)
    };
    let mut at = 0;
    while at < bytes.len() {
        match scan.recognise(at) {
            Some(item) => {
                if let Some(unknown) = scan.take_unknown(at) {
                    out(unknown)?;
                }
                at += item.len;
                out(item)?;
            }
            None => {
                scan.unknown_from.get_or_insert(at);
                at += 1;
            }
        }
    }
    match scan.take_unknown(bytes.len()) {
        Some(unknown) => out(unknown),
        None => Ok(()),
    }
}

impl Scan<'_> {
    /// The run of bytes not placed that ends at `end`, if one is open.
    fn take_unknown(&mut self, end: usize) -> Option<Item> {
        let start = self.unknown_from.take()?;
        Some(Item {
            offset: start,
            len: end - start,
            kind: Kind::Unknown,
            object: None,
            depth: self.depth,
            heuristic: false,
        })
    }

    fn word(&self, at: usize) -> Option<u16> {
        let b = self.bytes.get(at..at + 2)?;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }

    fn dword(&self, at: usize) -> Option<u32> {
        let b = self.bytes.get(at..at + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The item that starts at `at`, if any.
    fn recognise(&mut self, at: usize) -> Option<Item> {
        self.new_class(at)
            .or_else(|| self.class_ref(at))
            .or_else(|| self.unicode(at))
            .or_else(|| self.ansi(at))
    }

    /// Takes the next load-array index, if the array can still grow.
    fn take_index(&mut self) -> Option<u32> {
        let index = self.next;
        self.next = self.next.checked_add(1)?;
        Some(index)
    }

    /// `FF FF | schema | name length | name`: a class and, probably, an object.
    fn new_class(&mut self, at: usize) -> Option<Item> {
        if self.word(at)? != 0xFFFF {
            return None;
        }
        let schema = self.word(at + 2)?;
        let len = usize::from(self.word(at + 4)?);
        let name = self.bytes.get(at + 6..at + 6 + len)?;
        if !(1..=64).contains(&len) || !is_class_name(name) {
            return None;
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let index = self.take_index()?;
        if self.classes.len() < MAX_CLASSES {
            self.classes.insert(index, name.clone());
        }
        let object = self.take_index();
        self.depth = 1;
        Some(Item {
            offset: at,
            len: 6 + len,
            kind: Kind::NewClass {
                name,
                schema,
                index,
            },
            object,
            depth: 0,
            heuristic: false,
        })
    }

    /// `0x8000 | index` (or `7F FF` + a DWORD) naming a class seen before.
    fn class_ref(&mut self, at: usize) -> Option<Item> {
        let word = self.word(at)?;
        let (class, len) = match word {
            0x7FFF => (self.dword(at + 2)? & 0x7FFF_FFFF, 6),
            w if w & 0x8000 != 0 && w != 0xFFFF => (u32::from(w & 0x7FFF), 2),
            _ => return None,
        };
        let name = self.classes.get(&class)?.clone();
        let object = self.take_index();
        self.depth = 1;
        Some(Item {
            offset: at,
            len,
            kind: Kind::ClassRef { name, class },
            object,
            depth: 0,
            heuristic: false,
        })
    }

    /// `FF FE FF`, a length, then UTF-16LE.
    fn unicode(&self, at: usize) -> Option<Item> {
        if self.bytes.get(at..at + 3)? != [0xFF, 0xFE, 0xFF] {
            return None;
        }
        let (units, head) = self.length(at + 3)?;
        let start = at + 3 + head;
        let data = self
            .bytes
            .get(start..start.checked_add(units.checked_mul(2)?)?)?;
        let utf16: Vec<u16> = data
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        let text = String::from_utf16(&utf16).ok()?;
        if !text.chars().all(is_printable) {
            return None;
        }
        Some(Item {
            offset: at,
            len: 3 + head + data.len(),
            kind: Kind::Text {
                text,
                unicode: true,
            },
            object: None,
            depth: self.depth,
            heuristic: false,
        })
    }

    /// A length, then that many printable characters in the code page.
    fn ansi(&self, at: usize) -> Option<Item> {
        let (len, head) = self.length(at)?;
        if len < MIN_ANSI {
            return None;
        }
        let data = self.bytes.get(at + head..(at + head).checked_add(len)?)?;
        let (text, malformed) = self.code_page.decode_without_bom_handling(data);
        if malformed || !text.chars().all(is_printable) {
            return None;
        }
        // Mostly letters, digits, spaces and punctuation, not binary that
        // happens to decode.
        let plain = text
            .chars()
            .filter(|c| c.is_alphanumeric() || " .,:;-_!?%()'\"/\\@#&+*=<>[]{}|~$".contains(*c))
            .count();
        if plain * 4 < text.chars().count() * 3 {
            return None;
        }
        Some(Item {
            offset: at,
            len: head + len,
            kind: Kind::Text {
                text: text.into_owned(),
                unicode: false,
            },
            object: None,
            depth: self.depth,
            heuristic: true,
        })
    }

    /// A `CString` length at `at`: a byte, `FF` + a WORD, or `FF FF FF` + a
    /// DWORD; the length and the bytes it took.
    fn length(&self, at: usize) -> Option<(usize, usize)> {
        match *self.bytes.get(at)? {
            0xFF => match self.word(at + 1)? {
                0xFFFF => Some((usize::try_from(self.dword(at + 3)?).ok()?, 7)),
                0xFFFE => None,
                n => Some((usize::from(n), 3)),
            },
            n => Some((usize::from(n), 1)),
        }
    }
}

/// An identifier of up to 64 ASCII characters that starts with a letter.
fn is_class_name(name: &[u8]) -> bool {
    name.first().is_some_and(u8::is_ascii_alphabetic)
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Characters a string of text holds: no control characters but tab and line
/// breaks.
fn is_printable(c: char) -> bool {
    !c.is_control() || matches!(c, '\t' | '\r' | '\n')
}

/// One item as a line of the indented tree; `hex` adds its bytes (the first
/// 32), which a run of bytes not placed always shows.
///
/// # Errors
/// The error of writing to `out`.
pub fn write_text(
    out: &mut impl io::Write,
    item: &Item,
    bytes: &[u8],
    base: usize,
    hex: bool,
) -> io::Result<()> {
    let mut line = String::new();
    let indent = "  ".repeat(item.depth);
    let _ = write!(line, "{:08x}  {indent}", item.offset);
    let guess = if item.heuristic { "?" } else { "" };
    let _ = match &item.kind {
        Kind::NewClass {
            name,
            schema,
            index,
        } => write!(line, "class #{index} {name} (schema {schema}), new"),
        Kind::ClassRef { name, class } => write!(line, "class ref #{class} {name}"),
        Kind::Text {
            text,
            unicode: true,
        } => write!(line, "string \"{}\" (Unicode)", crate::escape::escape(text)),
        Kind::Text { text, .. } => {
            write!(line, "string{guess} \"{}\"", crate::escape::escape(text))
        }
        Kind::Unknown => write!(line, "{} bytes not placed", item.len),
    };
    if let Some(object) = item.object {
        let guess = if matches!(item.kind, Kind::NewClass { .. }) {
            "?"
        } else {
            ""
        };
        let _ = write!(line, ", object #{object}{guess}");
    }
    if hex || matches!(item.kind, Kind::Unknown) {
        let start = item.offset - base;
        let _ = write!(line, "  |");
        for b in &bytes[start..start + item.len.min(32)] {
            let _ = write!(line, " {b:02x}");
        }
        if item.len > 32 {
            line.push_str(" …");
        }
    }
    line.push('\n');
    out.write_all(line.as_bytes())
}

/// The opening of the JSON array [`write_json`] writes the items of.
pub const JSON_OPEN: &str = "[\n";

/// The end of the JSON array: `any` says whether an item was written.
pub fn json_close(any: bool) -> &'static str {
    if any {
        "\n]\n"
    } else {
        "]\n"
    }
}

/// One item as a JSON object in the array, after a comma unless `first`.
/// `hex` adds all its bytes, which a run of bytes not placed always has;
/// they are written as they are read, never held whole.
///
/// # Errors
/// The error of writing to `out`.
pub fn write_json(
    out: &mut impl io::Write,
    item: &Item,
    bytes: &[u8],
    base: usize,
    hex: bool,
    first: bool,
) -> io::Result<()> {
    let mut head = String::from(if first { "  " } else { ",\n  " });
    let _ = write!(
        head,
        "{{\"offset\": {}, \"length\": {}, \"depth\": {}, \"heuristic\": {}",
        item.offset, item.len, item.depth, item.heuristic
    );
    let _ = match &item.kind {
        Kind::NewClass {
            name,
            schema,
            index,
        } => write!(
            head,
            ", \"kind\": \"class\", \"name\": {}, \"schema\": {schema}, \"index\": {index}",
            json_string(name)
        ),
        Kind::ClassRef { name, class } => write!(
            head,
            ", \"kind\": \"class_ref\", \"name\": {}, \"class\": {class}",
            json_string(name)
        ),
        Kind::Text { text, unicode } => write!(
            head,
            ", \"kind\": \"string\", \"unicode\": {unicode}, \"text\": {}",
            json_string(text)
        ),
        Kind::Unknown => write!(head, ", \"kind\": \"unknown\""),
    };
    if let Some(object) = item.object {
        let _ = write!(head, ", \"object\": {object}");
    }
    out.write_all(head.as_bytes())?;
    if hex || matches!(item.kind, Kind::Unknown) {
        out.write_all(b", \"hex\": \"")?;
        let start = item.offset - base;
        for chunk in bytes[start..start + item.len].chunks(4096) {
            let mut digits = String::with_capacity(chunk.len() * 2);
            for b in chunk {
                let _ = write!(digits, "{b:02x}");
            }
            out.write_all(digits.as_bytes())?;
        }
        out.write_all(b"\"")?;
    }
    out.write_all(b"}")
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp1252() -> &'static Encoding {
        sockarc::archive::code_page(1252).expect("cp1252")
    }

    /// Every item `scan` finds in `bytes`.
    fn scan(bytes: &[u8], code_page: &'static Encoding, base: usize) -> Vec<Item> {
        let mut items = Vec::new();
        super::scan(bytes, code_page, base, |item| {
            items.push(item.clone());
            Ok(())
        })
        .expect("collecting cannot fail");
        items
    }

    #[test]
    fn person_t_reads_as_a_class_an_object_and_a_unicode_string() {
        // mfc-samples/README.md, person.t.
        let bytes =
            b"\xFF\xFF\x01\x00\x07\x00CPerson\xFF\xFE\xFF\x02\x20\x5F\x09\x4E\x17\x00\x00\x00\x4D";
        let items = scan(bytes, cp1252(), 0);
        let kinds: Vec<&Kind> = items.iter().map(|i| &i.kind).collect();
        assert_eq!(
            kinds,
            [
                &Kind::NewClass {
                    name: "CPerson".into(),
                    schema: 1,
                    index: 1
                },
                &Kind::Text {
                    text: "张三".into(),
                    unicode: true
                },
                &Kind::Unknown,
            ]
        );
        assert_eq!(items[0].object, Some(2));
        assert_eq!((items[2].offset, items[2].len), (21, 5));
    }

    #[test]
    fn class_references_resolve_to_the_class_and_take_the_next_index() {
        // test.16a's first two students.
        let bytes = b"\x04\x00\xFF\xFF\x00\x00\x08\x00CStudent\x0BFisher, Lon\x43\x00\x00\x00\x01\x80\x0CMeyers, Lisa\x50\x00\x00\x00";
        let items = scan(bytes, cp1252(), 0);
        let refs: Vec<_> = items
            .iter()
            .filter_map(|i| match &i.kind {
                Kind::ClassRef { name, class } => Some((name.as_str(), *class, i.object)),
                _ => None,
            })
            .collect();
        assert_eq!(refs, [("CStudent", 1, Some(3))]);
        let strings: Vec<_> = items
            .iter()
            .filter_map(|i| match &i.kind {
                Kind::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(strings, ["Fisher, Lon", "Meyers, Lisa"]);
    }

    #[test]
    fn hostile_lengths_and_truncated_tags_are_bytes_not_placed() {
        for bytes in [
            &b"\xFF\xFF\x01\x00\xFF\xFF"[..],
            &b"\xFF\xFF\xFF\xFF\xFF\xFF\xFF"[..],
            &b"\xFF\xFE\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F"[..],
            &b"\x7F\xFF\xFF\xFF\xFF\xFF"[..],
        ] {
            let items = scan(bytes, cp1252(), 0);
            let total: usize = items.iter().map(|i| i.len).sum();
            assert_eq!(total, bytes.len(), "{bytes:02x?}: every byte shown once");
        }
    }
}
