//! `sockarc`: MFC's Windows Sockets programming model from the command line.
//!
//! `sockarc demo` runs the CSocket + CSocketFile + CArchive sequence live;
//! `sockarc send` and `sockarc recv` are a netcat for MFC archives.

mod chat;
mod demo;
mod logging;
mod netcat;
mod signals;
mod values;

use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
        /// Its port.
        port: u16,
        /// Values as TYPE:TEXT, such as u32:42 str:hello wstr:张三 count:3.
        #[arg(required = true, value_name = "VALUE")]
        values: Vec<Value>,
        /// ANSI code page for str values.
        #[arg(long, default_value_t = 1252)]
        codepage: u16,
    },
    /// A CHATSRVR-compatible chat server, on port 700 + channel.
    ChatServer {
        /// The channel (0 to 99): port 700 + channel.
        #[arg(long, default_value_t = 0, conflicts_with = "port")]
        channel: u16,
        /// An explicit port instead (0: the system chooses, printed on stderr).
        #[arg(long)]
        port: Option<u16>,
        /// Local address to listen on (every interface by default).
        #[arg(long, default_value = "::")]
        host: IpAddr,
        /// Send text as a Unicode build does (CStringW), not as an ANSI one.
        #[arg(long)]
        unicode: bool,
        /// ANSI code page of text sent and received without the Unicode marker.
        #[arg(long, default_value_t = 1252)]
        codepage: u16,
        /// History kept for new clients, in lines.
        #[arg(long, default_value_t = 10_000, value_name = "LINES")]
        history_lines: usize,
        /// History kept for new clients, in bytes of text.
        #[arg(long, default_value_t = 16 << 20, value_name = "BYTES")]
        history_bytes: usize,
        /// Drop a client whose message stays partial this long (0 never).
        #[arg(long, default_value = "30s", value_parser = parse_duration)]
        partial_timeout: std::time::Duration,
        /// Drop a client that sends nothing this long (0 never).
        #[arg(long, default_value = "0", value_parser = parse_duration)]
        idle_timeout: std::time::Duration,
        /// Close connections beyond this many clients at once.
        #[arg(long, default_value_t = 1024)]
        max_clients: usize,
    },
    /// A CHATTER-compatible chat client: lines from standard input, history to
    /// standard output.
    Chat {
        /// The chat server's host.
        #[arg(long)]
        server: String,
        /// The channel (0 to 99): port 700 + channel.
        #[arg(long, default_value_t = 0, conflicts_with = "port")]
        channel: u16,
        /// An explicit port instead.
        #[arg(long)]
        port: Option<u16>,
        /// The name shown before every line.
        #[arg(long)]
        handle: String,
        /// Send text as a Unicode build does (CStringW), not as an ANSI one.
        #[arg(long)]
        unicode: bool,
        /// ANSI code page of text sent and received without the Unicode marker.
        #[arg(long, default_value_t = 1252)]
        codepage: u16,
    },
    /// Listen, accept one connection, and print one `TYPE VALUE` line per TYPE.
    Recv {
        /// Local address to listen on (every interface by default).
        #[arg(long, default_value = "::")]
        host: IpAddr,
        /// Port to listen on; 0 lets the system choose (printed on stderr).
        #[arg(long)]
        port: u16,
        /// Types to read, in order.
        #[arg(required = true, value_name = "TYPE")]
        types: Vec<Kind>,
        /// ANSI code page for str values.
        #[arg(long, default_value_t = 1252)]
        codepage: u16,
    },
}

/// The text encoding of a chat peer, or why the code page is unknown.
fn chat_encoding(unicode: bool, codepage: u16) -> Result<chat::Encoding, String> {
    let code_page = sockarc::archive::code_page(codepage)
        .ok_or_else(|| format!("unknown code page {codepage}"))?;
    Ok(chat::Encoding { unicode, code_page })
}

/// A duration such as `30s`, `500ms`, `2m` or `0`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 30s, 500ms or 2m"))?;
    let seconds = |s: u64| std::time::Duration::from_secs(s);
    match unit {
        "ms" => Ok(std::time::Duration::from_millis(n)),
        "s" => Ok(seconds(n)),
        "m" => Ok(seconds(n.saturating_mul(60))),
        "h" => Ok(seconds(n.saturating_mul(3600))),
        "" if n == 0 => Ok(std::time::Duration::ZERO),
        _ => Err(format!(
            "{text:?} is not a duration such as 30s, 500ms or 2m"
        )),
    }
}

fn main() -> ExitCode {
    logging::init();
    let outcome = match Cli::parse().command {
        Command::ChatServer {
            channel,
            port,
            host,
            unicode,
            codepage,
            history_lines,
            history_bytes,
            partial_timeout,
            idle_timeout,
            max_clients,
        } => chat_encoding(unicode, codepage).and_then(|encoding| {
            let port = port.unwrap_or_else(|| chat::port_of(channel));
            let config = chat::server::Config {
                encoding,
                history: chat::history::Bounds {
                    lines: history_lines,
                    bytes: history_bytes,
                },
                partial_timeout: Some(partial_timeout).filter(|t| !t.is_zero()),
                idle_timeout: Some(idle_timeout).filter(|t| !t.is_zero()),
                max_clients,
            };
            chat::server::run(host, port, config, |addr| {
                eprintln!("chat-server: listening on {addr}")
            })
            .map_err(|e| e.to_string())
        }),
        Command::Chat {
            server,
            channel,
            port,
            handle,
            unicode,
            codepage,
        } => chat_encoding(unicode, codepage).and_then(|encoding| {
            let port = port.unwrap_or_else(|| chat::port_of(channel));
            let input = std::io::BufReader::new(std::io::stdin());
            chat::client::run(&server, port, &handle, encoding, input, std::io::stdout())
                .map_err(|e| e.to_string())
        }),
        Command::Demo => demo::run().map_err(|e| e.to_string()),
        Command::Send {
            host,
            port,
            values,
            codepage,
        } => netcat::send(&host, port, &values, codepage),
        Command::Recv {
            host,
            port,
            types,
            codepage,
        } => netcat::recv(
            host,
            port,
            &types,
            codepage,
            |addr| eprintln!("listening on {addr}"),
            |value| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{value}").and_then(|()| out.flush());
            },
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sockarc: {e}");
            ExitCode::FAILURE
        }
    }
}
