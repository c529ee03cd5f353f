//! A small HTTP/1.1 server for end-to-end tests: std threads, a port-0 listener on 127.0.0.1, and
//! a handler from request to [`Reply`].
//!
//! It speaks just enough HTTP for a crawler: keep-alive (several requests per connection),
//! `Content-Length`, chunked and close-delimited bodies, and a reply that never comes
//! ([`Body::Hang`], for timeouts and Ctrl-C) until the server is dropped. Every request is logged
//! so tests can check what was asked, how often, and with which headers. The handler is a plain
//! function of the request, so the same server can serve any site model.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};

/// One request as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Req {
    /// `GET`, ...
    pub method: String,
    /// The request target (`/a?b`).
    pub path: String,
    /// Header fields, names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Req {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the body goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// With `Content-Length`.
    Length(Vec<u8>),
    /// `Transfer-Encoding: chunked`, in chunks of the given size.
    Chunked(Vec<u8>, usize),
    /// No length: the body ends when the server closes the connection.
    Close(Vec<u8>),
    /// No answer at all until the server is dropped.
    Hang,
    /// The head (announcing more) and these bytes of the body, then nothing until the server is
    /// dropped.
    Stall(Vec<u8>),
    /// These bytes verbatim instead of a response (status and headers are ignored), then the
    /// connection is closed: for broken servers.
    Raw(Vec<u8>),
    /// With `Content-Length`, then, 50 ms later, the second bytes, which answer nothing; the
    /// connection stays open: for servers that send more than they announced.
    Late(Vec<u8>, Vec<u8>),
}

/// What the handler answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra header fields (framing headers are added by the server).
    pub headers: Vec<(String, String)>,
    /// The body and how it is framed.
    pub body: Body,
}

impl Reply {
    /// A status with an empty body.
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Length(Vec::new()),
        }
    }

    /// A 200 `text/html` page.
    pub fn html(body: impl Into<String>) -> Self {
        Reply::status(200)
            .header("content-type", "text/html; charset=utf-8")
            .body(Body::Length(body.into().into_bytes()))
    }

    /// A redirect with this `Location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Reply::status(status).header("location", location)
    }

    /// Adds a header (builder style).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body (builder style).
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }
}

type Handler = dyn Fn(&Req) -> Reply + Send + Sync;

struct Shared {
    handler: Box<Handler>,
    log: Mutex<Vec<Req>>,
    /// Connections accepted (keep-alive shows as fewer connections than requests).
    connections: AtomicUsize,
    done: AtomicBool,
    /// Released when the server is dropped; hanging replies wait on it.
    release: (Mutex<bool>, Condvar),
    /// Told the path of each hanging request as it arrives.
    hung: Mutex<Sender<String>>,
    /// Told when the late bytes of a [`Body::Late`] reply have been written.
    late: Mutex<Sender<()>>,
}

/// A running server; dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    hung: Receiver<String>,
    late: Receiver<()>,
}

impl Server {
    /// Starts a server on 127.0.0.1 at a free port.
    pub fn start(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (tx, rx) = channel();
        let (late_tx, late_rx) = channel();
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            log: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            done: AtomicBool::new(false),
            release: (Mutex::new(false), Condvar::new()),
            hung: Mutex::new(tx),
            late: Mutex::new(late_tx),
        });
        let s = shared.clone();
        let accept = thread::spawn(move || {
            for stream in listener.incoming() {
                if s.done.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    s.connections.fetch_add(1, Ordering::SeqCst);
                    let s = s.clone();
                    thread::spawn(move || serve(stream, &s));
                }
            }
        });
        Server {
            addr,
            shared,
            accept: Some(accept),
            hung: rx,
            late: late_rx,
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Req> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Blocks until a request that hangs has arrived, and returns its path.
    pub fn wait_for_hang(&self) -> String {
        self.hung.recv().expect("server gone")
    }

    /// Blocks until the late bytes of a [`Body::Late`] reply have been written (on loopback,
    /// they are then in the client's socket).
    pub fn wait_for_late(&self) {
        self.late.recv().expect("server gone")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.done.store(true, Ordering::SeqCst);
        let (lock, cv) = &self.shared.release;
        *lock.lock().unwrap() = true;
        cv.notify_all();
        // Wake the accept loop so it sees `done`.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut out = stream;
    while let Some(req) = read_request(&mut reader) {
        shared.log.lock().unwrap().push(req.clone());
        let reply = (shared.handler)(&req);
        let close = req
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        match write_reply(&mut out, &reply, shared, &req.path) {
            Ok(true) if !close => {}
            _ => break,
        }
    }
    let _ = out.shutdown(Shutdown::Both);
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Req> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        let name = name.trim().to_ascii_lowercase();
        if name == "content-length" {
            length = value.trim().parse().ok()?;
        }
        headers.push((name, value.trim().to_string()));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Req {
        method,
        path,
        headers,
    })
}

/// Writes `reply`; `Ok(true)` when the connection may serve another request.
fn write_reply(
    out: &mut TcpStream,
    reply: &Reply,
    shared: &Shared,
    path: &str,
) -> std::io::Result<bool> {
    if let Body::Stall(part) = &reply.body {
        let head = format!(
            "HTTP/1.1 {} {}\r\ncontent-length: {}\r\n\r\n",
            reply.status,
            reason(reply.status),
            part.len() + 1000
        );
        out.write_all(head.as_bytes())?;
        out.write_all(part)?;
        out.flush()?;
    }
    if matches!(reply.body, Body::Hang | Body::Stall(_)) {
        let _ = shared.hung.lock().unwrap().send(path.to_string());
        let (lock, cv) = &shared.release;
        let mut released = lock.lock().unwrap();
        while !*released {
            released = cv.wait(released).unwrap();
        }
        return Ok(false);
    }
    if let Body::Raw(bytes) = &reply.body {
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(false);
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    match &reply.body {
        Body::Length(b) | Body::Late(b, _) => {
            head.push_str(&format!("content-length: {}\r\n", b.len()))
        }
        Body::Chunked(..) => head.push_str("transfer-encoding: chunked\r\n"),
        Body::Close(_) => head.push_str("connection: close\r\n"),
        Body::Hang | Body::Stall(_) | Body::Raw(_) => unreachable!(),
    }
    head.push_str("\r\n");
    let mut wire = head.into_bytes();
    let keep = match &reply.body {
        Body::Length(b) => {
            wire.extend_from_slice(b);
            true
        }
        Body::Chunked(b, size) => {
            for chunk in b.chunks((*size).max(1)) {
                wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"0\r\n\r\n");
            true
        }
        Body::Close(b) => {
            wire.extend_from_slice(b);
            false
        }
        Body::Late(b, extra) => {
            wire.extend_from_slice(b);
            out.write_all(&wire)?;
            out.flush()?;
            // A pause, so that the client has read the response by the time the extra bytes
            // come; tests wait for them with `wait_for_late`, not for a time.
            std::thread::sleep(std::time::Duration::from_millis(50));
            out.write_all(extra)?;
            out.flush()?;
            let _ = shared.late.lock().unwrap().send(());
            return Ok(true);
        }
        Body::Hang | Body::Stall(_) | Body::Raw(_) => unreachable!(),
    };
    out.write_all(&wire)?;
    out.flush()?;
    Ok(keep)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}
