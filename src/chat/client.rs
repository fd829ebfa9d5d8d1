//! `sockarc chat`: a CHATTER-compatible client on the blocking `Socket`, with a
//! reader thread for what the server sends.

use std::io::{self, BufRead, Write};
use std::net::Shutdown;
use std::sync::mpsc;
use std::sync::Arc;

use sockarc::archive::Archive;
use sockarc::SocketFile;

use crate::escape::escape;
use crate::netcat::At;

use super::{CMsg, Encoding};

/// What the main thread waits for.
enum Event {
    Line(String),
    InputEnded,
    /// The server sent close flag 1, or the connection ended.
    ServerDone,
}

/// Joins the discussion on `host:port` as `handle`, sends each line of `input`,
/// prints every history line to `output`, and leaves at the end of the input.
/// Returns when the server has closed or said it is shutting down.
///
/// # Errors
/// The errors of connecting, sending and receiving.
pub fn run(
    host: &str,
    port: u16,
    handle: &str,
    encoding: Encoding,
    input: impl BufRead + Send + 'static,
    mut output: impl Write + Send + 'static,
) -> io::Result<()> {
    let socket = crate::netcat::connect(host, port)?;
    let sent = |e: io::Error| crate::netcat::context(&e, format!("send to {}", At(host, port)));
    let file = Arc::new(SocketFile::new(socket));
    let mut ar_out = Archive::store_with(&*file, encoding.options());
    let say = |ar: &mut sockarc::archive::StoreArchive<&SocketFile>,
               close: u16,
               text: String|
     -> io::Result<()> {
        ar.write(&CMsg {
            close,
            text: encoding.string(&text),
            history: Vec::new(),
        })?;
        Ok(ar.flush()?)
    };
    say(
        &mut ar_out,
        0,
        format!("{handle}: has just joined the discussion"),
    )
    .map_err(sent)?;

    let (events, next) = mpsc::channel();
    let reader = {
        let file = Arc::clone(&file);
        let events = events.clone();
        let at = At(host, port).to_string();
        std::thread::spawn(move || {
            let mut ar_in = Archive::load_with(&*file, encoding.options());
            let result = loop {
                match ar_in.read_or_end::<CMsg>() {
                    Ok(Some(message)) => {
                        let printed = message
                            .history
                            .iter()
                            .try_for_each(|line| {
                                writeln!(output, "{}", escape(&line.to_string_lossy()))
                            })
                            .and_then(|()| output.flush());
                        if printed.is_err() || message.close == 1 {
                            break Ok(());
                        }
                    }
                    // The server closed between two messages.
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(io::Error::other(format!("receive from {at}: {e}"))),
                }
            };
            let _ = events.send(Event::ServerDone);
            result
        })
    };
    std::thread::spawn(move || {
        for line in input.lines() {
            let Ok(line) = line else { break };
            if events.send(Event::Line(line)).is_err() {
                break;
            }
        }
        let _ = events.send(Event::InputEnded);
    });

    let mut server_done = false;
    for event in next {
        match event {
            Event::Line(line) => say(&mut ar_out, 0, format!("{handle}: {line}")).map_err(sent)?,
            Event::InputEnded => {
                say(
                    &mut ar_out,
                    1,
                    format!("{handle}: has just left the discussion"),
                )
                .map_err(sent)?;
                file.socket().shutdown(Shutdown::Write).map_err(sent)?;
                break;
            }
            Event::ServerDone => {
                server_done = true;
                break;
            }
        }
    }
    if server_done {
        ar_out.abort();
    } else {
        drop(ar_out);
    }
    reader
        .join()
        .map_err(|_| io::Error::other("the reader thread panicked"))?
}
