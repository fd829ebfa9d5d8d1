//! `CString` in both widths: the length prefix (`AfxWriteStringLength` /
//! `AfxReadStringLength`), the Unicode marker, and ANSI code pages.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};

use encoding_rs::{Encoding, WINDOWS_1252};

use crate::error::{Error, Result};
use crate::options::StringForm;
use crate::store::PUT_WITH_MAX;
use crate::{Load, LoadArchive, Loading, Source, Store, Storing};

/// The marker that opens every Unicode string: `BYTE 0xFF`, `WORD 0xFFFE`.
const UNICODE_MARKER: [u8; 3] = [0xFF, 0xFE, 0xFF];

/// The `encoding_rs` encoding of a Windows code page number, for
/// [`Options::code_page`](crate::Options::code_page).
///
/// Knows the ANSI and OEM pages MFC programs use: 874, 932 (Shift-JIS), 936 (GBK),
/// 949 (Korean), 950 (Big5), 1250–1258, 866, 20866, 21866, 28592–28606 where
/// defined, 54936 (GB18030), 10000 (Mac Roman) and 65001 (UTF-8).
///
/// ```
/// assert_eq!(mfc_archive::code_page(936), Some(encoding_rs::GBK));
/// assert_eq!(mfc_archive::code_page(1), None);
/// ```
pub fn code_page(number: u16) -> Option<&'static Encoding> {
    use encoding_rs::*;
    Some(match number {
        866 => IBM866,
        874 => WINDOWS_874,
        932 => SHIFT_JIS,
        936 => GBK,
        949 => EUC_KR,
        950 => BIG5,
        1250 => WINDOWS_1250,
        1251 => WINDOWS_1251,
        1252 => WINDOWS_1252,
        1253 => WINDOWS_1253,
        1254 => WINDOWS_1254,
        1255 => WINDOWS_1255,
        1256 => WINDOWS_1256,
        1257 => WINDOWS_1257,
        1258 => WINDOWS_1258,
        10000 => MACINTOSH,
        20866 => KOI8_R,
        21866 => KOI8_U,
        28592 => ISO_8859_2,
        28593 => ISO_8859_3,
        28594 => ISO_8859_4,
        28595 => ISO_8859_5,
        28596 => ISO_8859_6,
        28597 => ISO_8859_7,
        28598 => ISO_8859_8,
        28603 => ISO_8859_13,
        28605 => ISO_8859_15,
        54936 => GB18030,
        65001 => UTF_8,
        _ => return None,
    })
}

/// The stored characters. Boxed slices, and the code page only where it
/// means something, keep an [`MfcString`] at 24 bytes (3 words): a collection
/// of empty strings costs that much per string and nothing more.
#[derive(Clone)]
enum Text {
    /// Code-page bytes, and the code page they are decoded with.
    Ansi(Box<[u8]>, &'static Encoding),
    /// UTF-16 code units.
    Unicode(Box<[u16]>),
}

/// A `CString` as it travels: ANSI (`CStringA`, code-page bytes) or Unicode
/// (`CStringW`, UTF-16 code units), exactly as stored.
///
/// ANSI text carries the code page it is decoded with: Windows-1252 unless made
/// with [`ansi_in`](Self::ansi_in), or the archive's
/// [`code_page`](crate::Options::code_page) when loaded. Equality compares the
/// stored width and code units, not the code page.
///
/// Three words (24 bytes on 64-bit targets) plus the characters; an empty
/// string allocates nothing.
///
/// ```
/// use mfc_archive::{Archive, MfcString};
/// let mut out = Vec::new();
/// let mut ar = Archive::store(&mut out);
/// ar.write(&MfcString::unicode("张三"))?;
/// ar.write(&MfcString::ansi(b"Arial".to_vec()))?;
/// ar.close()?;
/// assert_eq!(out, b"\xFF\xFE\xFF\x02\x20\x5F\x09\x4E\x05Arial");
/// # Ok::<(), mfc_archive::Error>(())
/// ```
#[derive(Clone)]
pub struct MfcString {
    text: Text,
}

impl MfcString {
    /// An ANSI string of code-page bytes, decoded as Windows-1252.
    pub fn ansi(bytes: impl Into<Vec<u8>>) -> Self {
        MfcString {
            text: Text::Ansi(bytes.into().into_boxed_slice(), WINDOWS_1252),
        }
    }

    /// An ANSI string of `text` encoded in `code_page`. Characters the code page
    /// cannot hold become `?`, as `WideCharToMultiByte` makes them.
    ///
    /// ```
    /// use mfc_archive::MfcString;
    /// let s = MfcString::ansi_in("张三", encoding_rs::GBK);
    /// assert_eq!(s.as_ansi(), Some(&[0xD5, 0xC5, 0xC8, 0xFD][..]));
    /// assert_eq!(MfcString::ansi_in("a€→", encoding_rs::WINDOWS_1252).as_ansi(), Some(&b"a\x80?"[..]));
    /// ```
    pub fn ansi_in(text: &str, code_page: &'static Encoding) -> Self {
        MfcString {
            text: Text::Ansi(encode_ansi(text, code_page).into(), code_page),
        }
    }

    /// A Unicode string of `text` (UTF-16).
    pub fn unicode(text: &str) -> Self {
        Self::from_utf16(text.encode_utf16().collect())
    }

    /// A Unicode string of UTF-16 code units, unpaired surrogates allowed.
    pub fn from_utf16(units: Vec<u16>) -> Self {
        MfcString {
            text: Text::Unicode(units.into_boxed_slice()),
        }
    }

    /// The same string, decoded with another ANSI code page from now on. A
    /// Unicode string has no code page and stays as it is.
    pub fn with_code_page(mut self, code_page: &'static Encoding) -> Self {
        if let Text::Ansi(_, page) = &mut self.text {
            *page = code_page;
        }
        self
    }

    /// `true` for a Unicode (`CStringW`) string.
    pub fn is_unicode(&self) -> bool {
        matches!(self.text, Text::Unicode(_))
    }

    /// Length in stored characters: bytes for ANSI, UTF-16 units for Unicode
    /// (what `GetLength` returns and what the length prefix holds).
    pub fn len(&self) -> usize {
        match &self.text {
            Text::Ansi(bytes, _) => bytes.len(),
            Text::Unicode(units) => units.len(),
        }
    }

    /// `true` for an empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code-page bytes of an ANSI string.
    pub fn as_ansi(&self) -> Option<&[u8]> {
        match &self.text {
            Text::Ansi(bytes, _) => Some(bytes),
            Text::Unicode(_) => None,
        }
    }

    /// The UTF-16 code units of a Unicode string.
    pub fn as_utf16(&self) -> Option<&[u16]> {
        match &self.text {
            Text::Ansi(..) => None,
            Text::Unicode(units) => Some(units),
        }
    }

    /// The code page ANSI text is decoded with; for a Unicode string,
    /// UTF-16LE.
    pub fn code_page(&self) -> &'static Encoding {
        match &self.text {
            Text::Ansi(_, code_page) => code_page,
            Text::Unicode(_) => encoding_rs::UTF_16LE,
        }
    }

    /// The text: ANSI decoded with the string's code page, Unicode from UTF-16;
    /// what cannot be decoded becomes U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        match &self.text {
            Text::Ansi(bytes, code_page) => code_page.decode_without_bom_handling(bytes).0,
            Text::Unicode(units) => Cow::Owned(String::from_utf16_lossy(units)),
        }
    }
}

/// A Unicode string of `text`, as [`MfcString::unicode`] makes it: what a
/// Unicode build's `CString` holds.
impl From<&str> for MfcString {
    fn from(text: &str) -> Self {
        MfcString::unicode(text)
    }
}

impl PartialEq for MfcString {
    fn eq(&self, other: &Self) -> bool {
        match (&self.text, &other.text) {
            (Text::Ansi(a, _), Text::Ansi(b, _)) => a == b,
            (Text::Unicode(a), Text::Unicode(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for MfcString {}

impl Hash for MfcString {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.text {
            Text::Ansi(bytes, _) => (0u8, bytes).hash(state),
            Text::Unicode(units) => (1u8, units).hash(state),
        }
    }
}

impl fmt::Debug for MfcString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = if self.is_unicode() { "W" } else { "A" };
        write!(f, "CString{width}({:?})", self.to_string_lossy())
    }
}

impl fmt::Display for MfcString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

/// UTF-16LE bytes as text, unpaired surrogates as U+FFFD.
#[inline]
fn utf16le_to_string(units: &[u8]) -> String {
    let Some(ascii) = AsciiUtf16::new(units) else {
        return decode(units, encoding_rs::UTF_16LE);
    };
    let mut text = String::with_capacity(ascii.len());
    ascii.push_to(&mut text);
    text
}

/// ANSI bytes as text in `code_page`, malformed sequences as U+FFFD.
#[inline]
fn ansi_to_string(bytes: &[u8], code_page: &'static Encoding) -> String {
    match ascii_text(bytes, code_page) {
        Some(text) => text.to_owned(),
        None => decode(bytes, code_page),
    }
}

/// `bytes` decoded in `encoding`, malformed sequences as U+FFFD: the general
/// case, for text that is not ASCII.
#[cold]
#[inline(never)]
fn decode(bytes: &[u8], encoding: &'static Encoding) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// UTF-16LE bytes known to be ASCII: every low byte below 0x80, every high
/// byte 0. The usual case, appended to text by narrowing each unit to its low
/// byte: a check and a copy that the compiler vectorizes, without the general
/// decoder's set-up or a second validation.
struct AsciiUtf16<'u>(&'u [u8]);

impl<'u> AsciiUtf16<'u> {
    /// `units`, if each is ASCII.
    #[inline]
    fn new(units: &'u [u8]) -> Option<Self> {
        let seen = units.chunks_exact(2).fold(0, |seen, unit| {
            seen | u16::from_le_bytes([unit[0], unit[1]])
        });
        (seen & 0xFF80 == 0).then_some(AsciiUtf16(units))
    }

    /// The number of characters.
    fn len(&self) -> usize {
        self.0.len() / 2
    }

    /// Appends the characters to `text`.
    #[inline]
    fn push_to(&self, text: &mut String) {
        // SAFETY: `new` checked that every unit is below 0x80, so each low
        // byte appended is ASCII; ASCII is UTF-8, so `text` stays UTF-8.
        unsafe { text.as_mut_vec() }.extend(self.0.chunks_exact(2).map(|unit| unit[0]));
    }
}

/// ANSI `bytes` as text if they are ASCII and `code_page` maps ASCII to
/// itself, the usual case: one check, where `str::from_utf8` or the general
/// decoder would check again.
#[inline]
fn ascii_text<'b>(bytes: &'b [u8], code_page: &'static Encoding) -> Option<&'b str> {
    // Comparing with the default first saves a call per string.
    if !bytes.is_ascii() || !(code_page == WINDOWS_1252 || code_page.is_ascii_compatible()) {
        return None;
    }
    // SAFETY: every byte was just checked to be below 0x80: ASCII, which is
    // UTF-8.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// Encodes `text` for an ANSI string; unmappable characters become `?`.
///
/// ASCII needs no work: every encoding `encoding_rs` encodes into (the UTF-16
/// ones encode as UTF-8) writes ASCII as itself.
#[inline]
fn encode_ansi<'t>(text: &'t str, code_page: &'static Encoding) -> Cow<'t, [u8]> {
    if text.is_ascii() {
        return Cow::Borrowed(text.as_bytes());
    }
    encode_non_ascii(text, code_page)
}

#[cold]
fn encode_non_ascii(text: &str, code_page: &'static Encoding) -> Cow<'static, [u8]> {
    let mut encoder = code_page.output_encoding().new_encoder();
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    loop {
        let room = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len() * 4 + 16);
        out.reserve(room.max(1));
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
        rest = &rest[read..];
        match result {
            encoding_rs::EncoderResult::InputEmpty => return Cow::Owned(out),
            encoding_rs::EncoderResult::OutputFull => {}
            encoding_rs::EncoderResult::Unmappable(_) => out.push(b'?'),
        }
    }
}

impl Storing<'_> {
    /// Writes a `CString` length prefix (`AfxWriteStringLength`): the Unicode
    /// marker if `unicode`, then 1, 3, 7 or 15 bytes of length.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "each branch casts a length its comparison bounds"
    )]
    fn write_string_length(&mut self, len: usize, unicode: bool) -> Result<()> {
        if unicode {
            self.put(UNICODE_MARKER)?;
        }
        let len = len as u64;
        if len < 0xFF {
            self.put([len as u8])
        } else if len < 0xFFFE {
            self.put([0xFF])?;
            self.put((len as u16).to_le_bytes())
        } else if len < 0xFFFF_FFFF {
            self.put([0xFF, 0xFF, 0xFF])?;
            self.put((len as u32).to_le_bytes())
        } else {
            self.put([0xFF; 7])?;
            self.put(len.to_le_bytes())
        }
    }

    /// Writes an ANSI string: its length prefix, then its bytes.
    #[inline]
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the length is checked to be under 0xFF first"
    )]
    fn write_ansi(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.len() < 0xFF && self.try_put_after(bytes.len() as u8, bytes) {
            return Ok(());
        }
        self.write_string_length(bytes.len(), false)?;
        self.write_raw(bytes)
    }

    /// Writes text as a Unicode string. Short ASCII text, the usual case, is
    /// widened straight into the buffer in the pass that checks it is ASCII;
    /// anything else takes [`write_utf16_from_str`](Self::write_utf16_from_str).
    #[inline]
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the length is checked to be under 0xFF first"
    )]
    fn write_str_as_utf16(&mut self, text: &str) -> Result<()> {
        let ascii = text.as_bytes();
        let len = ascii.len();
        let short = |room: &mut [u8]| {
            let (prefix, units) = room.split_at_mut(4);
            prefix[..3].copy_from_slice(&UNICODE_MARKER);
            prefix[3] = len as u8;
            widen_ascii(ascii, units)
        };
        if len < 0xFF && self.try_put_with(4 + 2 * len, short) {
            return Ok(());
        }
        self.write_utf16_from_str(text)
    }

    /// Writes long or non-ASCII text as a Unicode string: ASCII text widened
    /// a chunk at a time, in place in the buffer where it fits.
    #[cold]
    #[inline(never)]
    fn write_utf16_from_str(&mut self, text: &str) -> Result<()> {
        if !text.is_ascii() {
            return self.write_utf16(text.encode_utf16().count(), text.encode_utf16());
        }
        self.write_string_length(text.len(), true)?;
        for part in text.as_bytes().chunks(PUT_WITH_MAX / 2) {
            self.put_with(2 * part.len(), |room| {
                widen_ascii(part, room);
            })?;
        }
        Ok(())
    }

    /// Writes a Unicode string: the prefix for `len` units, then the units as
    /// little-endian bytes, in place in the buffer when they fit there, else
    /// a chunk at a time.
    fn write_utf16(&mut self, len: usize, mut units: impl Iterator<Item = u16>) -> Result<()> {
        self.write_string_length(len, true)?;
        if self.try_put_with(2 * len, |room| {
            for (slot, unit) in room.chunks_exact_mut(2).zip(&mut units) {
                slot.copy_from_slice(&unit.to_le_bytes());
            }
            true
        }) {
            return Ok(());
        }
        let mut chunk = [0u8; 512];
        loop {
            let mut filled = 0;
            for (slot, unit) in chunk.chunks_exact_mut(2).zip(&mut units) {
                slot.copy_from_slice(&unit.to_le_bytes());
                filled += 2;
            }
            if filled == 0 {
                return Ok(());
            }
            self.write_raw(&chunk[..filled])?;
        }
    }
}

/// Bytes as UTF-16LE units, each byte then a zero byte, as far as the shorter
/// of the two goes; returns whether every byte was ASCII (if not, the units
/// written are not the text's).
#[inline]
fn widen_ascii(ascii: &[u8], units: &mut [u8]) -> bool {
    let (units, _) = units.as_chunks_mut::<2>();
    let mut seen = 0;
    for (unit, &byte) in units.iter_mut().zip(ascii) {
        *unit = [byte, 0];
        seen |= byte;
    }
    seen < 0x80
}

impl Loading<'_> {
    /// Reads a `CString` length prefix (`AfxReadStringLength`): the length in
    /// stored characters, and whether the Unicode marker was present.
    fn read_string_length(&mut self) -> Result<(u64, bool)> {
        let byte = self.take::<1>("a string length (BYTE)")?[0];
        if byte < 0xFF {
            return Ok((u64::from(byte), false));
        }
        let mut unicode = false;
        let mut word = u16::from_le_bytes(self.take("a string length (WORD after FF)")?);
        if word == 0xFFFE {
            unicode = true;
            let byte = self.take::<1>("a Unicode string length (BYTE after FF FE FF)")?[0];
            if byte < 0xFF {
                return Ok((u64::from(byte), true));
            }
            word = u16::from_le_bytes(self.take("a Unicode string length (WORD)")?);
        }
        if word < 0xFFFF {
            return Ok((u64::from(word), unicode));
        }
        let dword = u32::from_le_bytes(self.take("a string length (DWORD after FF FF FF)")?);
        if dword < 0xFFFF_FFFF {
            return Ok((u64::from(dword), unicode));
        }
        Ok((
            u64::from_le_bytes(self.take("a string length (QWORD)")?),
            unicode,
        ))
    }

    /// Reads a whole `CString` of either width.
    fn read_text(&mut self) -> Result<Text> {
        let code_page = self.options().code_page;
        self.read_string_with(|bytes, unicode| {
            if unicode {
                Text::Unicode(
                    bytes
                        .chunks_exact(2)
                        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                        .collect(),
                )
            } else {
                Text::Ansi(bytes.into(), code_page)
            }
        })
    }

    /// Reads a whole `CString` and hands `f` its payload bytes (UTF-16LE for
    /// Unicode) and whether it was Unicode. A string wholly in the buffer is
    /// read without the undo wrapper: no reader call can fail it.
    #[inline]
    fn read_string_with<T>(&mut self, f: impl FnOnce(&[u8], bool) -> T) -> Result<T> {
        // The common cases: a short string already in the buffer.
        let limit = self.options().limits.max_string_len;
        let unread = self.unread();
        let (unicode, prefix) = match unread {
            [0xFF, 0xFE, 0xFF, ..] => (true, 3),
            _ => (false, 0),
        };
        if let Some(&len) = unread.get(prefix) {
            let len = usize::from(len);
            let start = prefix + 1;
            let bytes = if unicode { len * 2 } else { len };
            if len < 0xFF && len as u64 <= limit {
                if let Some(text) = unread.get(start..start + bytes) {
                    let out = f(text, unicode);
                    self.consume(start + bytes);
                    return Ok(out);
                }
            }
        }
        // Past the buffer the reader may fail: outside a value being read
        // whole, the string is a unit of its own, undone if it is cut short
        // (so its `Load` says it loads in one step).
        if self.is_reading_whole() {
            self.read_string_slow(f)
        } else {
            self.read_whole_with(|ar| ar.read_string_slow(f))
        }
    }

    #[expect(
        clippy::cast_possible_truncation,
        reason = "the length was checked against max_string_len, a usize"
    )]
    fn read_string_slow<T>(&mut self, f: impl FnOnce(&[u8], bool) -> T) -> Result<T> {
        let offset = self.offset();
        let (len, unicode) = self.read_string_length()?;
        self.check_limit(
            offset,
            "a string length",
            len,
            self.options().limits.max_string_len,
        )?;
        let len = len as usize;
        if !unicode {
            return self.with_bytes(
                len,
                offset,
                || format!("an ANSI string of {len} bytes (string at byte {offset})"),
                |bytes| f(bytes, false),
            );
        }
        let Some(byte_len) = len.checked_mul(2) else {
            return Err(Error::LimitExceeded {
                offset,
                what: "a string length",
                found: len as u64,
                limit: (usize::MAX / 2) as u64,
            });
        };
        self.with_bytes(
            byte_len,
            offset,
            || format!("a Unicode string of {len} UTF-16 units (string at byte {offset})"),
            |bytes| f(bytes, true),
        )
    }
}

impl<R: Source + ?Sized> LoadArchive<R> {
    /// Reads a `CString` of either width into `out`, replacing its text and
    /// keeping its capacity, as MFC reuses the `CString` it reads into: a loop
    /// reading many strings into one allocates only when one is longer than
    /// any before (and for non-ASCII UTF-16, which is decoded through a
    /// buffer of its own). ANSI text is decoded in the archive's code page.
    ///
    /// ```
    /// use mfc_archive::Archive;
    /// let bytes = b"\x05hello\xFF\xFE\xFF\x02\x20\x5F\x09\x4E";
    /// let mut ar = Archive::load(&bytes[..]);
    /// let mut text = String::new();
    /// ar.read_string_into(&mut text)?;
    /// assert_eq!(text, "hello");
    /// ar.read_string_into(&mut text)?;
    /// assert_eq!(text, "张三");
    /// # Ok::<(), mfc_archive::Error>(())
    /// ```
    ///
    /// # Errors
    /// As `read::<String>()`; on an error `out` is left empty or as it was.
    pub fn read_string_into(&mut self, out: &mut String) -> Result<()> {
        let ar = R::erase(self);
        let ansi = ar.options().code_page;
        ar.read_string_with(|bytes, unicode| {
            out.clear();
            let encoding = if unicode {
                if let Some(ascii) = AsciiUtf16::new(bytes) {
                    ascii.push_to(out);
                    return;
                }
                encoding_rs::UTF_16LE
            } else if let Some(text) = ascii_text(bytes, ansi) {
                out.push_str(text);
                return;
            } else {
                ansi
            };
            out.push_str(&encoding.decode_without_bom_handling(bytes).0);
        })
    }
}

impl Store for MfcString {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        match &self.text {
            Text::Ansi(bytes, _) => ar.write_ansi(bytes),
            Text::Unicode(units) => ar.write_utf16(units.len(), units.iter().copied()),
        }
    }
}

impl Load for MfcString {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        Ok(MfcString {
            text: ar.read_text()?,
        })
    }
    /// A string consumes nothing when it fails: wholly buffered it cannot
    /// fail after its first byte, and otherwise it undoes itself.
    const LOADS_IN_ONE_STEP: bool = true;
    const MIN_BYTES: usize = 1;
}

/// Rust text is stored in the archive's [`StringForm`]:
/// Unicode by default, or ANSI in the archive's code page.
impl Store for str {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        match ar.options().string_form {
            StringForm::Unicode => ar.write_str_as_utf16(self),
            StringForm::Ansi => ar.write_ansi(&encode_ansi(self, ar.options().code_page)),
        }
    }
}

impl Store for String {
    fn store(&self, ar: &mut Storing<'_>) -> Result<()> {
        self.as_str().store(ar)
    }
}

/// Loads a `CString` of either width; ANSI is decoded with the archive's code
/// page. Undecodable input becomes U+FFFD, as MFC's own conversions are lossy;
/// load an [`MfcString`] to keep the exact units.
impl Load for String {
    fn load(ar: &mut Loading<'_>) -> Result<Self> {
        let ansi = ar.options().code_page;
        ar.read_string_with(|bytes, unicode| {
            if unicode {
                utf16le_to_string(bytes)
            } else {
                ansi_to_string(bytes, ansi)
            }
        })
    }
    /// As [`MfcString`]'s: a failed load consumed nothing.
    const LOADS_IN_ONE_STEP: bool = true;
    const MIN_BYTES: usize = 1;
}

/// The ASCII fast paths against the general decoder, on every length around
/// their blocks and with a non-ASCII unit at every position. Small enough
/// for Miri, which CI runs on them (they hold some of this crate's `unsafe`).
#[cfg(test)]
mod tests {
    use super::*;

    /// UTF-16LE bytes of `text`.
    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    /// Lengths around the blocks of eight and sixteen bytes the compiler
    /// vectorizes with.
    const LENGTHS: [usize; 10] = [0, 1, 3, 4, 7, 8, 9, 15, 16, 17];

    /// `len` characters of ASCII with `odd` at `at`, if given.
    fn text(len: usize, odd: Option<(usize, char)>) -> String {
        (0..len)
            .map(|i| match odd {
                Some((at, odd)) if at == i => odd,
                _ => char::from(b"abcdefghijklmnopqrstuvwxyz"[i % 26]),
            })
            .collect()
    }

    #[test]
    fn utf16_is_narrowed_only_when_every_unit_is_ascii() {
        for len in LENGTHS {
            let ascii = text(len, None);
            let units = utf16le(&ascii);
            assert!(AsciiUtf16::new(&units).is_some(), "{ascii:?}");
            assert_eq!(utf16le_to_string(&units), ascii);
            let mut appended = String::from("é:");
            AsciiUtf16::new(&units).unwrap().push_to(&mut appended);
            assert_eq!(appended, format!("é:{ascii}"));
            // A low byte with its high bit, a high byte alone, both.
            for odd in ['\u{80}', 'é', 'Ā', '三', '😀'] {
                for at in 0..len {
                    let text = text(len, Some((at, odd)));
                    let units = utf16le(&text);
                    assert!(AsciiUtf16::new(&units).is_none(), "{text:?}");
                }
            }
        }
        // The general decoder takes the rest: an unpaired surrogate is U+FFFD.
        assert_eq!(utf16le_to_string(&utf16le("aé三😀")), "aé三😀");
        assert_eq!(utf16le_to_string(&[b'a', 0, 0x00, 0xD8]), "a\u{FFFD}");
    }

    #[test]
    fn ansi_is_taken_for_ascii_only_when_it_is_in_an_ascii_code_page() {
        for len in LENGTHS {
            let ascii = text(len, None);
            assert_eq!(ascii_text(ascii.as_bytes(), WINDOWS_1252), Some(&*ascii));
            assert_eq!(ansi_to_string(ascii.as_bytes(), WINDOWS_1252), ascii);
            for at in 0..len {
                let mut bytes = ascii.clone().into_bytes();
                bytes[at] = 0x80;
                assert_eq!(ascii_text(&bytes, WINDOWS_1252), None);
            }
        }
        assert_eq!(ansi_to_string(b"a\x80", WINDOWS_1252), "a€");
        // "こ" in ISO-2022-JP, and "ab" as UTF-16LE: ASCII bytes, not ASCII text.
        let jis = b"\x1B$B$3\x1B(B";
        assert_eq!(ascii_text(jis, encoding_rs::ISO_2022_JP), None);
        assert_eq!(ansi_to_string(jis, encoding_rs::ISO_2022_JP), "こ");
        assert_eq!(ansi_to_string(b"ab", encoding_rs::UTF_16LE), "扡");
    }

    #[test]
    fn widening_checks_the_bytes_it_widens() {
        for len in LENGTHS {
            let ascii = text(len, None);
            let mut units = vec![0xEE; 2 * len + 2];
            assert!(widen_ascii(ascii.as_bytes(), &mut units));
            assert_eq!(units[..2 * len], utf16le(&ascii));
            assert_eq!(units[2 * len..], [0xEE, 0xEE], "nothing past the text");
            for at in 0..len {
                let mut bytes = ascii.clone().into_bytes();
                bytes[at] = 0x80;
                assert!(!widen_ascii(&bytes, &mut units), "0x80 at {at} of {len}");
            }
        }
    }
}
