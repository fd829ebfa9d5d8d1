//! `sockarc decode` and `sockarc encode`: a document to JSON and back, with a
//! layout file (the `mfc-layout` crate does the work; this is files and
//! messages).

use std::io::{self, Read, Write};

use mfc_layout::Layout;

/// A layout's error about a file, named in the message, the error kept as
/// its source.
#[derive(Debug)]
struct InFile {
    file: String,
    error: mfc_layout::Error,
}

impl std::fmt::Display for InFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.error)
    }
}

impl std::error::Error for InFile {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// `error`, about `file`, as the I/O error the commands return.
fn in_file(file: &str, error: mfc_layout::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        InFile {
            file: file.to_owned(),
            error,
        },
    )
}

/// The most a document or its JSON may be: a document, not a disk image.
const FILE_LIMIT: u64 = 1 << 30;

/// Reads a whole file, or standard input for `-`.
fn read_input(path: &str) -> io::Result<Vec<u8>> {
    let source: Box<dyn Read> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(
            std::fs::File::open(path)
                .map_err(|e| io::Error::new(e.kind(), format!("open {path}: {e}")))?,
        )
    };
    let mut bytes = Vec::new();
    source
        .take(FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io::Error::new(e.kind(), format!("read {path}: {e}")))?;
    if bytes.len() as u64 > FILE_LIMIT {
        return Err(io::Error::other(format!(
            "{path} is larger than {} MiB",
            FILE_LIMIT >> 20
        )));
    }
    Ok(bytes)
}

fn load_layout(path: &str) -> io::Result<Layout> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| io::Error::new(e.kind(), format!("read layout {path}: {e}")))?;
    Layout::parse(&text, path).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// `sockarc decode --layout L FILE`: JSON on standard output.
pub fn decode(layout: &str, file: &str) -> io::Result<()> {
    let layout = load_layout(layout)?;
    let bytes = read_input(file)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    layout
        .decode_to_writer(&bytes, &mut out, true)
        .map_err(|e| match e {
            mfc_layout::Error::Output(e) => e,
            e => in_file(file, e),
        })?;
    writeln!(out)?;
    out.flush()
}

/// `sockarc encode --layout L JSON [-o FILE]`: the document's bytes.
pub fn encode(layout: &str, json: &str, output: Option<&str>) -> io::Result<()> {
    let layout = load_layout(layout)?;
    let text = read_input(json)?;
    let value: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{json}: not JSON: {e}"))
    })?;
    let bytes = layout.encode(&value).map_err(|e| in_file(json, e))?;
    match output {
        Some(path) => std::fs::write(path, bytes)
            .map_err(|e| io::Error::new(e.kind(), format!("write {path}: {e}"))),
        None => {
            let mut out = io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()
        }
    }
}
