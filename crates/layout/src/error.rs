//! What can go wrong with a layout, a document or its JSON, and where.

/// An error from a layout, from decoding a document or from encoding JSON.
/// Each says where: the layout's file and line, the byte offset in the
/// document, or the path in the JSON. Its message includes the cause's, for
/// a program that prints only the top one (as `sockarc` does); the cause is
/// also its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The layout file is not valid.
    #[error("{file}:{line}: {message}")]
    Layout {
        /// The layout's name.
        file: String,
        /// The line (1-based; 0 when the TOML parser gave none).
        line: usize,
        /// What was expected.
        message: String,
    },
    /// The document does not fit the layout at a field.
    #[error("{file}:{line}: field {field}: {error}")]
    Decode {
        /// The layout's name.
        file: String,
        /// The line of the field in the layout.
        line: usize,
        /// The field, as `Class.field` or `document.field`.
        field: String,
        /// What went wrong in the document, with its byte offset.
        #[source]
        error: mfc_archive::Error,
    },
    /// The document does not fit the layout outside any field: bytes after the
    /// last field, a failing reader or writer.
    #[error("{file}: {error}")]
    Archive {
        /// The layout's name.
        file: String,
        /// What went wrong, with its byte offset.
        #[source]
        error: mfc_archive::Error,
    },
    /// Writing the JSON failed.
    #[error("writing the JSON: {0}")]
    Output(#[source] std::io::Error),
    /// The JSON does not fit the layout.
    #[error("{path}: {message}")]
    Json {
        /// Where in the JSON, as `$.students[2].grade`.
        path: String,
        /// What was expected.
        message: String,
    },
}
