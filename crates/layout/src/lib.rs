//! MFC documents without writing Rust: a layout file says how a program's
//! `Serialize` functions lay out a document, and any document of that
//! program decodes to JSON and encodes back to the same bytes.
//!
//! A `CArchive` document carries no field names and no types: it is whatever
//! `Serialize` wrote, one `ar << m_value` after another. A layout names
//! those fields and their types once, in TOML, for the document and for each
//! class (`IMPLEMENT_SERIAL`). The bytes are read and written by
//! [`mfc_archive`], so strings, counts, class tags, object references and the
//! shared index space are exactly MFC's.
//!
//! ```
//! use mfc_layout::Layout;
//!
//! let layout = Layout::parse(r#"
//!     strings = "ansi"
//!     document = [ { name = "students", type = "CObList", of = "CStudent" } ]
//!
//!     [classes.CStudent]
//!     schema = 0
//!     fields = [
//!       { name = "name", type = "CString" },
//!       { name = "grade", type = "int" },
//!     ]
//! "#, "students.toml")?;
//!
//! // One student, as Kruglinski's ex16a stores its CTypedPtrList.
//! let bytes = b"\x01\x00\xFF\xFF\x00\x00\x08\x00CStudent\x0BFisher, Lon\x43\x00\x00\x00";
//! let json = layout.decode(bytes)?;
//! assert_eq!(json, serde_json::json!({
//!     "students": [
//!         { "$class": "CStudent", "$schema": 0, "$index": 2, "name": "Fisher, Lon", "grade": 67 }
//!     ]
//! }));
//! assert_eq!(layout.encode(&json)?, bytes);
//! # Ok::<(), mfc_layout::Error>(())
//! ```
//!
//! # Exact round trips
//! Encoding the JSON that decoding gave writes the bytes that were read:
//! every value keeps what its bytes said (see the JSON forms in the README's
//! "Layout files"). Two things MFC could write are not kept: a string length
//! or a `WriteCount` in a longer form than needed (MFC never writes one) is
//! written back in the shortest form.
//!
//! # Hostile documents
//! Decoding is [`mfc_archive`] underneath, with its [`Limits`]:
//! every count is checked against `max_count` before anything is read for it,
//! raw bytes are read in 64 KiB steps, an element type that can take no bytes
//! is refused when the layout is read, and nesting is bounded by `max_depth`.
#![deny(missing_docs)]

mod decode;
mod error;
mod json;
mod model;
mod scalar;
mod syntax;
mod value;

use std::collections::HashMap;
use std::sync::Arc;

use mfc_archive::{Archive, Limits, Loading, Options, Storing};

pub use error::Error;

use decode::Decoder;
use json::{FromJson, ToJson};
use model::Model;

/// A parsed and checked layout.
#[derive(Debug, Clone)]
pub struct Layout {
    model: Arc<Model>,
}

impl Layout {
    /// Parses a layout from TOML text; `name` (its file name) is used in
    /// messages.
    ///
    /// # Errors
    /// [`Error::Layout`] with the line, for TOML that is not a valid layout.
    pub fn parse(text: &str, name: &str) -> Result<Layout, Error> {
        Ok(Layout {
            model: Arc::new(syntax::parse(text, name)?),
        })
    }

    /// Decodes a whole document to JSON with the default [`Limits`].
    ///
    /// # Errors
    /// [`Error::Decode`] naming the layout line and field, and the byte
    /// offset in the document, where the bytes do not fit; [`Error::Archive`]
    /// for bytes left after the last field.
    pub fn decode(&self, bytes: &[u8]) -> Result<serde_json::Value, Error> {
        self.decode_with(bytes, Limits::default())
    }

    /// Decodes a whole document to JSON with the given limits.
    ///
    /// # Errors
    /// As [`decode`](Self::decode).
    pub fn decode_with(&self, bytes: &[u8], limits: Limits) -> Result<serde_json::Value, Error> {
        let fields = self.read(bytes, limits)?;
        let json = ToJson::new(&self.model);
        serde_json::to_value(json.record(&self.model.document, &fields)).map_err(|e| Error::Json {
            path: "$".into(),
            message: e.to_string(),
        })
    }

    /// Decodes a whole document and writes its JSON to `out` as it goes, without
    /// building a `serde_json::Value` first: what `sockarc decode` does.
    /// `pretty` indents it.
    ///
    /// # Errors
    /// As [`decode`](Self::decode), and [`Error::Output`] when `out` fails.
    pub fn decode_to_writer<W: std::io::Write>(
        &self,
        bytes: &[u8],
        out: W,
        pretty: bool,
    ) -> Result<(), Error> {
        let fields = self.read(bytes, Limits::default())?;
        let json = ToJson::new(&self.model);
        let view = json.record(&self.model.document, &fields);
        let written = if pretty {
            serde_json::to_writer_pretty(out, &view)
        } else {
            serde_json::to_writer(out, &view)
        };
        written.map_err(|e| Error::Output(e.into()))
    }

    /// Reads the document's fields.
    fn read(&self, bytes: &[u8], limits: Limits) -> Result<value::Fields, Error> {
        let model = &self.model;
        let decoder = Arc::new(Decoder::new(Arc::clone(model)));
        let options = Options {
            code_page: model.code_page,
            string_form: model.strings,
            limits,
            ..Options::default()
        };
        let mut archive = Archive::load_with(bytes, options).with_classes(decoder.classes());
        let ar: &mut Loading<'_> = &mut archive;
        let fields = decoder
            .record(ar, &model.document, None, "document")
            .map_err(|error| match decoder.failure() {
                Some((line, field)) => Error::Decode {
                    file: model.source.clone(),
                    line,
                    field,
                    error,
                },
                None => Error::Archive {
                    file: model.source.clone(),
                    error,
                },
            })?;
        ar.expect_end().map_err(|error| Error::Archive {
            file: model.source.clone(),
            error,
        })?;
        Ok(fields)
    }

    /// Encodes a document from the JSON [`decode`](Self::decode) gives (or
    /// one written to the same shape).
    ///
    /// # Errors
    /// [`Error::Json`] naming the place in the JSON that does not fit the
    /// layout; [`Error::Archive`] for a value MFC could not store.
    pub fn encode(&self, json: &serde_json::Value) -> Result<Vec<u8>, Error> {
        let mut reader = FromJson {
            model: Arc::clone(&self.model),
            objects: HashMap::new(),
        };
        let fields = reader.record(&self.model.document, json, None, "$")?;
        let archive_error = |error| Error::Archive {
            file: self.model.source.clone(),
            error,
        };
        let options = Options {
            code_page: self.model.code_page,
            string_form: self.model.strings,
            ..Options::default()
        };
        let mut out = Vec::new();
        let mut archive = Archive::store_with(&mut out, options);
        let ar: &mut Storing<'_> = &mut archive;
        value::write_record(ar, &self.model, &self.model.document, &fields)
            .map_err(archive_error)?;
        archive.close().map_err(archive_error)?;
        Ok(out)
    }
}
