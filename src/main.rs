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

fn main() -> ExitCode {
    logging::init();
    let outcome = match Cli::parse().command {
        Command::ChatServer {
            channel,
            port,
            host,
            unicode,
            codepage,
        } => chat_encoding(unicode, codepage).and_then(|encoding| {
            let port = port.unwrap_or_else(|| chat::port_of(channel));
            chat::server::run(host, port, encoding, |addr| {
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
