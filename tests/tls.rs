//! HTTPS through the real transport, against a TLS server on 127.0.0.1 whose self-signed
//! certificate (`fixtures/tls/`) is trusted through `HttpOptions::ca_file`: bodies of every size
//! and framing come through, connections are kept alive, and an untrusted certificate is a `tls`
//! failure. Both backends.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
struct TlsServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
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
        // The accept loop ends with the test process; each connection ends when the client
        // closes it or the handshake fails.
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                thread::spawn(move || {
                    if let Ok(tls) = acceptor.accept(stream) {
                        serve(tls);
                    }
                });
            }
        });
        TlsServer { addr, connections }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("https://{}{path}", self.addr)).unwrap()
    }
}

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| b"0123456789abcdef"[i % 16]).collect()
}

fn serve(tls: native_tls::TlsStream<std::net::TcpStream>) {
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
        let mut wire = Vec::new();
        if kind == "chunked" {
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
