//! `sockarc`: MFC's Windows Sockets programming model from the command line.
//!
//! `sockarc demo` runs the CSocket + CSocketFile + CArchive sequence live;
//! `sockarc send` and `sockarc recv` are a netcat for MFC archives.

mod chat;
mod demo;
mod documents;
mod escape;
mod inspect;
mod logging;
mod netcat;
mod signals;
mod values;

use std::cell::Cell;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{value_parser, Args, CommandFactory, Parser, Subcommand};

use netcat::listen_error;
use sockarc::archive::encoding_rs::Encoding;
use values::{Kind, Value};

/// MFC's Windows Sockets programming model (CSocket, CSocketFile, CArchive) in Rust.
#[derive(Debug, Parser)]
#[command(name = "sockarc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Value types: u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 bool (1 byte) BOOL (4 bytes)
/// str (ANSI CString) wstr (Unicode CString) count (WriteCount).
#[derive(Debug, Subcommand)]
enum Command {
    /// Run the MFC sockets sequence of operations, live, on loopback.
    Demo,
    /// Connect and write archived values, then close.
    Send {
        /// Host name or address of the MFC program.
        host: String,
        /// Its port (1 to 65535).
        #[arg(value_parser = value_parser!(u16).range(1..))]
        port: u16,
        /// Values as TYPE:TEXT, such as u32:42 str:hello wstr:张三 count:3.
        #[arg(required = true, value_name = "VALUE")]
        values: Vec<Value>,
        /// ANSI code page for str values.
        #[arg(long, default_value = "1252", value_parser = parse_code_page)]
        codepage: CodePage,
        /// Send characters the code page cannot hold as `?` (as MFC's
        /// conversion does) rather than refuse them.
        #[arg(long)]
        lossy: bool,
    },
    /// A CHATSRVR-compatible chat server, on port 700 + channel.
    ChatServer {
        /// The channel (0 to 99): port 700 + channel, which only a privileged
        /// user may listen on; see --port.
        #[arg(long, default_value_t = 0, value_parser = value_parser!(u16).range(0..=99), conflicts_with = "port")]
        channel: u16,
        /// An explicit port instead, such as 7000 (0: the system chooses,
        /// printed on stderr).
        #[arg(long)]
        port: Option<u16>,
        /// Local address or name to listen on (every interface by default).
        #[arg(long, default_value = "::")]
        host: String,
        #[command(flatten)]
        text: TextArgs,
        #[command(flatten)]
        bounds: BoundsArgs,
    },
    /// A CHATTER-compatible chat client: lines from standard input, history to
    /// standard output.
    Chat {
        /// The chat server's host name or address.
        #[arg(long, visible_alias = "host")]
        server: String,
        /// The channel (0 to 99): port 700 + channel.
        #[arg(long, default_value_t = 0, value_parser = value_parser!(u16).range(0..=99), conflicts_with = "port")]
        channel: u16,
        /// An explicit port instead (1 to 65535).
        #[arg(long, value_parser = value_parser!(u16).range(1..))]
        port: Option<u16>,
        /// The name shown before every line.
        #[arg(long)]
        handle: String,
        #[command(flatten)]
        text: TextArgs,
    },
    /// Show the structure of an archive file with no layout: class tags and
    /// the load-array indices they take, class references, strings, and the
    /// bytes it cannot place, each with its offset ("?" marks a guess).
    Inspect {
        /// The file, or `-` for standard input.
        file: String,
        /// Start this many bytes into the file (inside a larger blob).
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// JSON, one object per item, instead of the indented tree.
        #[arg(long)]
        json: bool,
        /// Show every item's bytes in hex beside it.
        #[arg(long)]
        hex: bool,
        /// ANSI code page of strings without the Unicode marker.
        #[arg(long, default_value = "1252", value_parser = parse_code_page)]
        codepage: CodePage,
    },
    /// Decode a document with a layout file (see `layouts/`) to JSON on
    /// standard output: every field named, objects with their class, schema
    /// and load-array index.
    Decode {
        /// The layout (TOML).
        #[arg(long)]
        layout: String,
        /// The document, or `-` for standard input.
        file: String,
    },
    /// Encode a document from the JSON `decode` gives (edited or not), with
    /// the same layout: the archive's bytes on standard output, or in --output.
    Encode {
        /// The layout (TOML).
        #[arg(long)]
        layout: String,
        /// The JSON, or `-` for standard input.
        json: String,
        /// Write the document here instead of standard output.
        #[arg(long, short)]
        output: Option<String>,
    },
    /// Listen, accept one connection, and print one `TYPE VALUE` line per TYPE.
    Recv {
        /// Local address or name to listen on (every interface by default).
        #[arg(long, default_value = "::")]
        host: String,
        /// Port to listen on; 0 lets the system choose (printed on stderr).
        #[arg(long)]
        port: u16,
        /// Types to read, in order.
        #[arg(required = true, value_name = "TYPE", value_enum)]
        types: Vec<Kind>,
        /// ANSI code page for str values.
        #[arg(long, default_value = "1252", value_parser = parse_code_page)]
        codepage: CodePage,
        /// Give up when no connection comes, or the next value's bytes do not,
        /// within this time: 500ms, 5s, 2m (waits for ever by default).
        #[arg(long, value_parser = parse_duration)]
        timeout: Option<Duration>,
        /// Print bytes left after the last value as a `rest` line of hex.
        #[arg(long)]
        hex: bool,
    },
}

/// What one client may cost the chat server.
#[derive(Debug, Args)]
struct BoundsArgs {
    /// History kept for new clients, in lines.
    #[arg(long, default_value_t = 10_000, value_name = "LINES")]
    history_lines: usize,
    /// History kept for new clients, in bytes of text.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES")]
    history_bytes: usize,
    /// Drop a client whose message stays partial this long.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    partial_timeout: Duration,
    /// Drop a client that sends nothing this long (never by default).
    #[arg(long, value_parser = parse_duration)]
    idle_timeout: Option<Duration>,
    /// Close connections beyond this many clients at once.
    #[arg(long, default_value_t = 1024)]
    max_clients: usize,
}

/// How a chat peer writes text; shared by `chat` and `chat-server`.
#[derive(Debug, Args)]
struct TextArgs {
    /// Send text as a Unicode build does (CStringW), not as an ANSI one.
    #[arg(long)]
    unicode: bool,
    /// ANSI code page of text sent and received without the Unicode marker.
    #[arg(long, default_value = "1252", value_parser = parse_code_page)]
    codepage: CodePage,
}

impl TextArgs {
    fn encoding(&self) -> chat::Encoding {
        chat::Encoding {
            unicode: self.unicode,
            code_page: self.codepage.encoding,
        }
    }
}

/// A Windows code page that `encoding_rs` knows.
#[derive(Debug, Clone, Copy)]
struct CodePage {
    number: u16,
    encoding: &'static Encoding,
}

fn parse_code_page(text: &str) -> Result<CodePage, String> {
    let known = || {
        (0..=u16::MAX)
            .filter(|&n| sockarc::archive::code_page(n).is_some())
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let number: u16 = text
        .parse()
        .map_err(|_| format!("expected a code page number; known: {}", known()))?;
    let encoding = sockarc::archive::code_page(number)
        .ok_or_else(|| format!("unknown code page {number}; known: {}", known()))?;
    Ok(CodePage { number, encoding })
}

/// `500ms`, `5s`, `1.5s`, `2m`, `1h`; a bare number is seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("expected a duration such as 500ms, 5s or 2m, found {text:?}");
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(bad()),
    };
    let duration = Duration::try_from_secs_f64(seconds).map_err(|_| bad())?;
    if duration.is_zero() {
        return Err("a time-out must be longer than 0".into());
    }
    Ok(duration)
}

/// The port of a chat command: `--port`, or 700 + the checked channel.
fn chat_port(channel: u16, port: Option<u16>) -> u16 {
    port.unwrap_or_else(|| chat::port_of(channel))
}

/// Exits with a usage error (status 2) on `send`, as clap does for a bad argument.
fn send_usage_error(message: String) -> ! {
    let mut cli = Cli::command();
    cli.build();
    let send = cli
        .find_subcommand_mut("send")
        .expect("the send subcommand exists");
    send.error(clap::error::ErrorKind::ValueValidation, message)
        .exit()
}

fn chat_server(host: &str, port: u16, text: &TextArgs, bounds: &BoundsArgs) -> io::Result<()> {
    let address = netcat::listen_address(host, port)?;
    let listening = Cell::new(None);
    let config = chat::server::Config {
        encoding: text.encoding(),
        history: chat::history::Bounds {
            lines: bounds.history_lines,
            bytes: bounds.history_bytes,
        },
        partial_timeout: Some(bounds.partial_timeout),
        idle_timeout: bounds.idle_timeout,
        max_clients: bounds.max_clients,
    };
    chat::server::run(address, port, config, |addr| {
        listening.set(Some(addr));
        eprintln!("chat-server: listening on {addr}");
    })
    .map_err(|e| match listening.get() {
        None => listen_error(&e, host, port),
        Some(addr) => netcat::context(&e, format!("chat-server on {}", netcat::at(addr))),
    })
}

fn send(
    host: &str,
    port: u16,
    values: &[Value],
    codepage: CodePage,
    lossy: bool,
) -> io::Result<()> {
    if !lossy {
        for value in values {
            let missing = value.unencodable(codepage.encoding);
            if let (Value::Str(text), false) = (value, missing.is_empty()) {
                let missing: String = missing.into_iter().collect();
                send_usage_error(format!(
                    "str:{text}: code page {} cannot hold {missing:?}; send it as wstr, \
                     choose another --codepage, or pass --lossy to send '?' for them",
                    codepage.number
                ));
            }
        }
    }
    netcat::send(host, port, values, codepage.encoding)
}

fn recv(
    host: &str,
    port: u16,
    types: &[Kind],
    codepage: CodePage,
    timeout: Option<Duration>,
    hex: bool,
) -> io::Result<()> {
    let args = netcat::Recv {
        host,
        port,
        kinds: types,
        code_page: codepage.encoding,
        timeout,
    };
    let mut out = io::stdout();
    let unread = netcat::recv(
        &args,
        |addr| eprintln!("listening on {addr}"),
        |value| {
            let mut out = out.lock();
            let _ = writeln!(out, "{value}").and_then(|()| out.flush());
        },
    )?;
    if unread.total > 0 {
        let last = types.last().expect("at least one type");
        let s = if unread.total == 1 { "" } else { "s" };
        let shown = if hex { "" } else { "; --hex prints them" };
        let at_least = if unread.more { "at least " } else { "" };
        eprintln!(
            "sockarc: warning: {at_least}{} byte{s} left unread after the last value ({last}){shown}",
            unread.total
        );
        if hex {
            let mut line = String::from("rest");
            for b in &unread.bytes {
                line.push_str(&format!(" {b:02x}"));
            }
            if unread.more || unread.total > unread.bytes.len() as u64 {
                line.push_str(" …");
            }
            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
        }
    }
    Ok(())
}

/// The most `inspect` reads: a document, not a disk image.
const INSPECT_LIMIT: u64 = 256 << 20;

fn inspect(file: &str, offset: usize, json: bool, hex: bool, codepage: CodePage) -> io::Result<()> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let source: Box<dyn Read> = if file == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(
            std::fs::File::open(file)
                .map_err(|e| io::Error::new(e.kind(), format!("open {file}: {e}")))?,
        )
    };
    source
        .take(INSPECT_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io::Error::new(e.kind(), format!("read {file}: {e}")))?;
    if bytes.len() as u64 > INSPECT_LIMIT {
        return Err(io::Error::other(format!(
            "{file} is larger than {} MiB: not an archive inspect can show",
            INSPECT_LIMIT >> 20
        )));
    }
    let Some(rest) = bytes.get(offset..) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "--offset {offset} is past the end of {file} ({} bytes)",
                bytes.len()
            ),
        ));
    };
    // Each item goes out as it is found: output, like memory, does not wait
    // for the whole file.
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut first = true;
    if json {
        out.write_all(inspect::JSON_OPEN.as_bytes())?;
    }
    inspect::scan(rest, codepage.encoding, offset, |item| {
        let written = if json {
            inspect::write_json(&mut out, item, rest, offset, hex, first)
        } else {
            inspect::write_text(&mut out, item, rest, offset, hex)
        };
        first = false;
        written
    })?;
    if json {
        out.write_all(inspect::json_close(!first).as_bytes())?;
    }
    out.flush()
}

fn main() -> ExitCode {
    logging::init();
    let outcome = match Cli::parse().command {
        Command::ChatServer {
            channel,
            port,
            host,
            text,
            bounds,
        } => chat_server(&host, chat_port(channel, port), &text, &bounds),
        Command::Chat {
            server,
            channel,
            port,
            handle,
            text,
        } => {
            let input = io::BufReader::new(io::stdin());
            let port = chat_port(channel, port);
            chat::client::run(&server, port, &handle, text.encoding(), input, io::stdout())
        }
        Command::Demo => demo::run().map_err(|e| io::Error::other(e.to_string())),
        Command::Send {
            host,
            port,
            values,
            codepage,
            lossy,
        } => send(&host, port, &values, codepage, lossy),
        Command::Inspect {
            file,
            offset,
            json,
            hex,
            codepage,
        } => inspect(&file, offset, json, hex, codepage),
        Command::Decode { layout, file } => documents::decode(&layout, &file),
        Command::Encode {
            layout,
            json,
            output,
        } => documents::encode(&layout, &json, output.as_deref()),
        Command::Recv {
            host,
            port,
            types,
            codepage,
            timeout,
            hex,
        } => recv(&host, port, &types, codepage, timeout, hex),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sockarc: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcat::show_duration;

    #[test]
    fn the_arguments_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse_in_their_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(show_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(show_duration(Duration::from_secs(5)), "5s");
    }

    #[test]
    fn code_pages_are_checked_by_number() {
        assert_eq!(parse_code_page("936").unwrap().number, 936);
        let unknown = parse_code_page("9999").unwrap_err();
        assert!(unknown.starts_with("unknown code page 9999; known: 866 874 932"));
        assert!(parse_code_page("latin1").is_err());
    }

    #[test]
    fn every_channel_maps_to_a_port() {
        assert_eq!(chat_port(99, None), 799);
        assert_eq!(chat_port(5, Some(7005)), 7005);
    }
}
