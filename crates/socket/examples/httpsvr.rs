//! MFC's HTTPSVR idea on `AsyncSocket`: an HTTP/1.0 static file server.
//!
//! `cargo run --release -p sockarc-socket --example httpsvr -- --port 8080 --root DIR [--host 127.0.0.1]`
//!
//! Serves files and directory listings under the root, answers 400 for a request
//! it cannot parse or a path that leaves the root, 404 for what does not exist,
//! 501 for methods other than GET and HEAD, and closes after each response. A
//! response goes out one chunk per `on_send`; after each chunk the socket is
//! re-selected for `WRITE`, which brings the next `on_send` at once while the
//! socket stays writable (HTTPSVR's `AsyncSelect(FD_WRITE | FD_CLOSE)` idiom), so
//! a large file never holds up other clients. A connection that neither sends
//! nor takes anything for `--idle-timeout` seconds (default 30) is closed, so
//! silent clients cannot hold descriptors for ever.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, ErrorKind, Read};
use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use sockarc::{AsyncSocket, EventLoop, Events, Handler, Socket};

/// The most a request head may take.
const MAX_REQUEST: usize = 8 * 1024;
/// Bytes sent per `on_send`.
const CHUNK: usize = 64 * 1024;

/// When each connection last received or sent something.
type Activity = Rc<RefCell<HashMap<AsyncSocket, Instant>>>;

struct Server {
    root: PathBuf,
    activity: Activity,
}

impl Handler for Server {
    fn on_accept(&mut self, ev: &mut EventLoop, listener: AsyncSocket, _: Option<io::Error>) {
        let request = Request {
            root: self.root.clone(),
            head: Vec::new(),
            response: None,
            activity: Rc::clone(&self.activity),
        };
        match ev.accept(listener, request) {
            Ok((conn, _)) => {
                self.activity.borrow_mut().insert(conn, Instant::now());
                // Read the request first; sending starts when it is complete.
                let _ = ev.async_select(conn, Events::READ | Events::CLOSE);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => eprintln!("httpsvr: accept: {e}"),
        }
    }
}

/// What is left to send: bytes ready to go (the head first), then the rest of
/// the body from a file or memory.
struct Response {
    pending: Vec<u8>,
    body: Body,
}

enum Body {
    None,
    Bytes(Vec<u8>),
    File(File),
}

impl Response {
    fn new(head: Vec<u8>, body: Body) -> Self {
        Response {
            pending: head,
            body,
        }
    }

    /// Refills `pending` from the body when it is empty; false at the end.
    fn has_more(&mut self) -> io::Result<bool> {
        if self.pending.is_empty() {
            match &mut self.body {
                Body::None => {}
                Body::Bytes(bytes) => self.pending = std::mem::take(bytes),
                Body::File(file) => {
                    self.pending.resize(CHUNK, 0);
                    let n = file.read(&mut self.pending)?;
                    self.pending.truncate(n);
                }
            }
        }
        Ok(!self.pending.is_empty())
    }
}

struct Request {
    root: PathBuf,
    head: Vec<u8>,
    response: Option<Response>,
    activity: Activity,
}

impl Request {
    fn heard_from(&self, conn: AsyncSocket) {
        self.activity.borrow_mut().insert(conn, Instant::now());
    }

    /// Sends the next chunk; closes when everything went or the peer is gone.
    fn send_chunk(&mut self, ev: &mut EventLoop, conn: AsyncSocket) {
        let Some(response) = self.response.as_mut() else {
            return;
        };
        match response.has_more() {
            Ok(true) => {}
            Ok(false) | Err(_) => return ev.close(conn),
        }
        let chunk = response.pending.len().min(CHUNK);
        match ev.send(conn, &response.pending[..chunk]) {
            Ok(n) => {
                response.pending.drain(..n);
                self.activity.borrow_mut().insert(conn, Instant::now());
                // The HTTPSVR idiom: re-select WRITE for the next on_send.
                let _ = ev.async_select(conn, Events::WRITE | Events::CLOSE);
            }
            // on_send comes when the socket can take more.
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => ev.close(conn),
        }
    }

    fn respond(&mut self, response: Response, ev: &mut EventLoop, conn: AsyncSocket) {
        self.response = Some(response);
        let _ = ev.async_select(conn, Events::WRITE | Events::CLOSE);
    }
}

impl Handler for Request {
    fn on_receive(&mut self, ev: &mut EventLoop, conn: AsyncSocket, _: Option<io::Error>) {
        let mut buf = [0u8; 4096];
        match ev.receive(conn, &mut buf) {
            Ok(0) => return ev.close(conn),
            Ok(n) => {
                self.heard_from(conn);
                self.head.extend_from_slice(&buf[..n]);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(_) => return ev.close(conn),
        }
        if let Some(end) = self.head.windows(4).position(|w| w == b"\r\n\r\n") {
            let response = answer(&self.root, &self.head[..end]);
            self.respond(response, ev, conn);
        } else if self.head.len() > MAX_REQUEST {
            self.respond(error(400, "Bad Request", true), ev, conn);
        }
    }

    fn on_send(&mut self, ev: &mut EventLoop, conn: AsyncSocket, _: Option<io::Error>) {
        self.send_chunk(ev, conn);
    }

    fn on_close(&mut self, ev: &mut EventLoop, conn: AsyncSocket, _: Option<io::Error>) {
        ev.close(conn);
    }
}

/// The response to a request head (without its final blank line).
fn answer(root: &Path, head: &[u8]) -> Response {
    let Ok(head) = std::str::from_utf8(head) else {
        return error(400, "Bad Request", true);
    };
    let mut words = head.lines().next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version)) = (words.next(), words.next(), words.next())
    else {
        return error(400, "Bad Request", true);
    };
    if !version.starts_with("HTTP/1.") || words.next().is_some() {
        return error(400, "Bad Request", true);
    }
    let with_body = method == "GET";
    if !with_body && method != "HEAD" {
        return error(501, "Not Implemented", true);
    }
    let Some(relative) = decode_path(target) else {
        return error(400, "Bad Request", with_body);
    };
    let path = root.join(&relative);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_dir() => listing(&path, target, with_body),
        Ok(meta) => match File::open(&path) {
            Ok(file) => Response::new(
                head_of(200, "OK", content_type(&path), meta.len()),
                if with_body {
                    Body::File(file)
                } else {
                    Body::None
                },
            ),
            Err(_) => error(404, "Not Found", with_body),
        },
        Err(_) => error(404, "Not Found", with_body),
    }
}

/// `%xx`-decodes the path of `target` and keeps it inside the root; `None` for
/// anything malformed or climbing out.
fn decode_path(target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    if !path.starts_with('/') {
        return None;
    }
    let mut bytes = Vec::with_capacity(path.len());
    let mut rest = path.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    let decoded = PathBuf::from(String::from_utf8(bytes).ok()?);
    let mut clean = PathBuf::new();
    for part in decoded.components() {
        match part {
            Component::Normal(name) => clean.push(name),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(clean)
}

fn head_of(status: u16, reason: &str, content_type: &str, length: u64) -> Vec<u8> {
    format!(
        "HTTP/1.0 {status} {reason}\r\nServer: sockarc-httpsvr\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

fn error(status: u16, reason: &str, with_body: bool) -> Response {
    let body = format!("<html><body><h1>{status} {reason}</h1></body></html>\n").into_bytes();
    Response::new(
        head_of(status, reason, "text/html", body.len() as u64),
        if with_body {
            Body::Bytes(body)
        } else {
            Body::None
        },
    )
}

fn listing(dir: &Path, target: &str, with_body: bool) -> Response {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return error(404, "Not Found", with_body);
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                name + "/"
            } else {
                name
            }
        })
        .collect();
    names.sort();
    let base = if target.ends_with('/') {
        target.to_owned()
    } else {
        format!("{target}/")
    };
    let mut html = format!("<html><body><h1>Index of {}</h1><ul>\n", escape(target));
    for name in names {
        html += &format!(
            "<li><a href=\"{}{}\">{}</a></li>\n",
            escape(&base),
            escape(&name),
            escape(&name)
        );
    }
    html += "</ul></body></html>\n";
    let body = html.into_bytes();
    Response::new(
        head_of(200, "OK", "text/html", body.len() as u64),
        if with_body {
            Body::Bytes(body)
        } else {
            Body::None
        },
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html",
        "txt" | "md" | "rs" | "toml" => "text/plain",
        "css" => "text/css",
        "js" => "application/javascript",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        _ => "application/octet-stream",
    }
}

/// Closes every connection idle for `limit`, and forgets the closed ones.
fn sweep(ev: &mut EventLoop, activity: &Activity, limit: Duration) {
    let now = Instant::now();
    activity.borrow_mut().retain(|&conn, last| {
        if !ev.is_open(conn) {
            return false;
        }
        if now.duration_since(*last) >= limit {
            ev.close(conn);
            return false;
        }
        true
    });
}

fn main() {
    if let Err(e) = serve() {
        eprintln!("httpsvr: {e}");
        std::process::exit(if e.kind() == ErrorKind::InvalidInput {
            2
        } else {
            1
        });
    }
}

fn serve() -> io::Result<()> {
    let mut idle = Duration::from_secs(30);
    let mut port = 8080u16;
    let mut host: IpAddr = [127, 0, 0, 1].into();
    let mut root = PathBuf::from(".");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        let bad = || {
            io::Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "usage: httpsvr --port P --root DIR [--host H] [--idle-timeout SECONDS] ({arg})"
                ),
            )
        };
        match arg.as_str() {
            "--port" => port = value.and_then(|v| v.parse().ok()).ok_or_else(bad)?,
            "--host" => host = value.and_then(|v| v.parse().ok()).ok_or_else(bad)?,
            "--root" => root = value.map(PathBuf::from).ok_or_else(bad)?,
            "--idle-timeout" => {
                let seconds: f64 = value.and_then(|v| v.parse().ok()).ok_or_else(bad)?;
                idle = Duration::try_from_secs_f64(seconds).map_err(|_| bad())?;
            }
            _ => return Err(bad()),
        }
    }
    let root = root.canonicalize()?;
    let mut ev = EventLoop::new()?;
    let activity = Activity::default();
    let listener = ev.create_with(
        Socket::builder().address(host).port(port),
        Events::ALL,
        Server {
            root,
            activity: Rc::clone(&activity),
        },
    )?;
    // Checked four times per timeout: a connection is closed at most a
    // quarter late.
    let period = (idle / 4).max(Duration::from_millis(10));
    ev.set_timer(period, move |ev, _| sweep(ev, &activity, idle));
    ev.listen(listener)?;
    eprintln!("httpsvr: listening on {}", ev.local_addr(listener)?);
    ev.run()
}
