//! HTTPS through the real transport, against a TLS server on 127.0.0.1 whose self-signed
//! certificate (`fixtures/tls/`) is trusted through `HttpOptions::ca_file` (and by the `crawl`
//! binary through OpenSSL's `SSL_CERT_FILE`): bodies of every size and framing come through,
//! connections are kept alive, an untrusted certificate is a `tls` failure, and a body delimited
//! by a connection's end that came without a TLS close_notify is marked truncated. Both backends.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use crawler::{FetchErrorKind, Request, Response, Transport};
use crawler_http::{Backend, HttpOptions, SurfTransport};
use native_tls::{Identity, TlsAcceptor};
use url::Url;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/tls")
        .join(name)
}

/// A keep-alive HTTPS server answering `/len/N` with N bytes (Content-Length) and `/chunked/N`
/// with N bytes in chunks of 1000; it counts the connections it accepted.
///
/// Four more paths end the connection after their answer: `/close/N` sends N bytes with neither
/// length nor chunks (the body ends where the connection does), then a TLS close_notify, then
/// closes; `/close-cut/N`, `/len-cut/N` and `/chunked-cut/N` answer like `/close/N`, `/len/N` and
/// `/chunked/N`, then shut the TCP connection down with no close_notify.
struct TlsServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    /// One message each time a `-cut` answer's connection has been shut down.
    cut: Mutex<mpsc::Receiver<()>>,
}

impl TlsServer {
    fn start() -> TlsServer {
        let cert = std::fs::read(fixture("cert.pem")).unwrap();
        let key = std::fs::read(fixture("key.pem")).unwrap();
        let acceptor =
            Arc::new(TlsAcceptor::new(Identity::from_pkcs8(&cert, &key).unwrap()).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        let (cut_tx, cut) = mpsc::channel();
        // The accept loop ends with the test process; each connection ends when the client
        // closes it, the handshake fails or the server ends it.
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                let cut_tx = cut_tx.clone();
                thread::spawn(move || {
                    if let Ok(tls) = acceptor.accept(stream) {
                        serve(tls, &cut_tx);
                    }
                });
            }
        });
        TlsServer {
            addr,
            connections,
            cut: Mutex::new(cut),
        }
    }

    /// Waits until the server has shut down the connection of a `-cut` answer.
    fn wait_cut(&self) {
        self.cut.lock().unwrap().recv().unwrap();
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("https://{}{path}", self.addr)).unwrap()
    }
}

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| b"0123456789abcdef"[i % 16]).collect()
}

/// How the server ends a connection after an answer.
#[derive(PartialEq)]
enum End {
    /// It does not: the next request may come.
    KeepAlive,
    /// A TLS close_notify, then the TCP close.
    CloseNotify,
    /// The TCP connection is shut down, with no close_notify.
    Cut,
}

fn serve(tls: native_tls::TlsStream<std::net::TcpStream>, cut: &mpsc::Sender<()>) {
    let mut reader = BufReader::new(tls);
    loop {
        let mut path = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim_end().is_empty() {
                break;
            }
            if path.is_none() {
                path = line.split_whitespace().nth(1).map(str::to_string);
            }
        }
        let path = path.unwrap_or_default();
        let (kind, n) = path[1..].split_once('/').unwrap_or(("", "0"));
        let data = body(n.parse().unwrap_or(0));
        let (kind, end) = match kind {
            "close" => ("close", End::CloseNotify),
            "close-cut" => ("close", End::Cut),
            "len-cut" => ("len", End::Cut),
            "chunked-cut" => ("chunked", End::Cut),
            kind => (kind, End::KeepAlive),
        };
        let mut wire = Vec::new();
        if kind == "close" {
            wire.extend_from_slice(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\r\n");
            wire.extend_from_slice(&data);
        } else if kind == "chunked" {
            wire.extend_from_slice(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ntransfer-encoding: chunked\r\n\r\n",
            );
            for chunk in data.chunks(1000) {
                wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"0\r\n\r\n");
        } else {
            wire.extend_from_slice(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n",
                    data.len()
                )
                .as_bytes(),
            );
            wire.extend_from_slice(&data);
        }
        let out = reader.get_mut();
        if out.write_all(&wire).and_then(|()| out.flush()).is_err() {
            return;
        }
        match end {
            End::KeepAlive => {}
            End::CloseNotify => {
                let _ = out.shutdown();
                return;
            }
            End::Cut => {
                let _ = out.get_ref().shutdown(Shutdown::Both);
                let _ = cut.send(());
                return;
            }
        }
    }
}

fn options(backend: Backend, trusted: bool) -> HttpOptions {
    let mut o = HttpOptions::default();
    o.backend = backend;
    o.read_timeout = Duration::from_secs(5);
    o.total_timeout = Duration::from_secs(10);
    if trusted {
        o.ca_file = Some(fixture("cert.pem"));
    }
    o
}

fn fetch(t: &SurfTransport, url: Url) -> Result<Response, crawler::FetchError> {
    async_std::task::block_on(t.fetch(Request::get(url)))
}

#[test]
fn https_bodies_come_through_on_kept_alive_connections() {
    let server = TlsServer::start();
    for backend in [Backend::Native, Backend::Curl] {
        let before = server.connections.load(Ordering::SeqCst);
        let t = SurfTransport::new(options(backend, true)).unwrap();
        // Sizes around TLS records (16 KiB) and the client's read buffer.
        for n in [0, 1, 16_383, 16_384, 16_385, 100_000, 1_000_000] {
            for kind in ["len", "chunked"] {
                let r = fetch(&t, server.url(&format!("/{kind}/{n}")))
                    .unwrap_or_else(|e| panic!("{backend:?} /{kind}/{n}: {e}"));
                assert_eq!(r.status, 200);
                assert!(
                    r.body == body(n),
                    "{backend:?} /{kind}/{n}: {} bytes",
                    r.body.len()
                );
            }
        }
        let opened = server.connections.load(Ordering::SeqCst) - before;
        assert_eq!(opened, 1, "{backend:?}: every request on one connection");
    }
}

#[test]
fn an_untrusted_certificate_is_a_tls_failure() {
    let server = TlsServer::start();
    for backend in [Backend::Native, Backend::Curl] {
        let t = SurfTransport::new(options(backend, false)).unwrap();
        let e = fetch(&t, server.url("/len/10")).unwrap_err();
        assert_eq!(e.kind, FetchErrorKind::Tls, "{backend:?}: {e}");
    }
    // A root file that holds no certificate is refused when the transport is built.
    let mut o = options(Backend::Native, false);
    o.ca_file = Some(fixture("README.md"));
    let e = SurfTransport::new(o).unwrap_err().to_string();
    assert!(e.starts_with("cannot start the http client: "), "{e}");
}

/// A body delimited by the connection's end is complete when a TLS close_notify came before the
/// TCP close, and marked truncated when none did (all of it kept). curl fails such a fetch
/// instead (`reset`); either way it never passes for a complete body.
#[test]
fn a_close_delimited_body_without_close_notify_is_truncated() {
    let server = TlsServer::start();
    for backend in [Backend::Native, Backend::Curl] {
        let t = SurfTransport::new(options(backend, true)).unwrap();
        // Sizes around TLS records (16 KiB) and the client's read buffer.
        for n in [0, 10, 16_384, 100_000] {
            let r = fetch(&t, server.url(&format!("/close/{n}")))
                .unwrap_or_else(|e| panic!("{backend:?} /close/{n}: {e}"));
            assert!(
                r.body == body(n),
                "{backend:?} /close/{n}: {}",
                r.body.len()
            );
            assert!(
                !r.truncated,
                "{backend:?} /close/{n}: ended by close_notify"
            );

            match fetch(&t, server.url(&format!("/close-cut/{n}"))) {
                Ok(r) => {
                    assert!(r.truncated, "{backend:?} /close-cut/{n}: no close_notify");
                    assert!(r.body == body(n), "{backend:?} /close-cut/{n}");
                }
                Err(e) => {
                    assert_eq!(backend, Backend::Curl, "/close-cut/{n}: {e}");
                    assert_eq!(e.kind, FetchErrorKind::Reset, "{backend:?}: {e}");
                }
            }
            server.wait_cut();
        }
    }
}

/// A body with a length or chunks is complete when it has all of them, whether or not a
/// close_notify comes before the connection closes; and a pooled connection the server closed
/// that way costs the next request nothing.
#[test]
fn a_length_or_chunk_delimited_body_needs_no_close_notify() {
    let server = TlsServer::start();
    for backend in [Backend::Native, Backend::Curl] {
        let t = SurfTransport::new(options(backend, true)).unwrap();
        for n in [0, 10, 100_000] {
            for kind in ["len-cut", "chunked-cut"] {
                let r = fetch(&t, server.url(&format!("/{kind}/{n}")))
                    .unwrap_or_else(|e| panic!("{backend:?} /{kind}/{n}: {e}"));
                assert!(
                    r.body == body(n),
                    "{backend:?} /{kind}/{n}: {}",
                    r.body.len()
                );
                assert!(!r.truncated, "{backend:?} /{kind}/{n}");
                // The connection the answer came on (kept in the pool when the body was read
                // to its end) is closed now, without close_notify.
                server.wait_cut();
                let r = fetch(&t, server.url("/len/10"))
                    .unwrap_or_else(|e| panic!("{backend:?} after /{kind}/{n}: {e}"));
                assert!(
                    r.body == body(10) && !r.truncated,
                    "{backend:?} after /{kind}/{n}"
                );
            }
        }
    }
}

/// The `crawl` binary: the record of a close-delimited body cut without close_notify says
/// `"truncated": true`, and the summary counts it; the same body ended by close_notify, and a
/// length-delimited one cut after its end, are complete.
#[test]
fn crawl_marks_a_body_cut_without_close_notify_truncated() {
    let server = TlsServer::start();
    let jsonl = support::out_path("tls-truncated");
    let urls = ["/close/5000", "/close-cut/5000", "/len-cut/5000"].map(|p| server.url(p));
    let mut args = vec!["--ignore-robots", "--report", "json", "--jsonl"];
    args.push(jsonl.to_str().unwrap());
    args.extend(urls.iter().map(Url::as_str));
    // OpenSSL's own variable: the binary trusts the test certificate (and only it) through it.
    let out = support::crawl(&args)
        .env("SSL_CERT_FILE", fixture("cert.pem"))
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let records = support::records(&jsonl);
    let truncated = |path: &str| {
        let r = records
            .iter()
            .find(|r| r.url == server.url(path).as_str())
            .unwrap_or_else(|| panic!("no record of {path}: {records:?}"));
        assert_eq!(
            (r.status, r.size, r.error.as_deref()),
            (Some(200), Some(5000), None),
            "{path}"
        );
        r.truncated
    };
    assert!(!truncated("/close/5000"));
    assert!(truncated("/close-cut/5000"));
    assert!(!truncated("/len-cut/5000"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["truncated"], 1, "{report}");
}
