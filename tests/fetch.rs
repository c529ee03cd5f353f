//! The real transport against a real server on 127.0.0.1, on every backend: what each kind of
//! failure becomes, how each body framing is read, what a fetch sends and keeps, and which
//! connections are reused. Uses the public API only (`crawler_http`).

mod support;

use std::io::Write;
use std::time::Duration;

use crawler::{FetchErrorKind, Request, Response, Transport};
use crawler_http::{Backend, HttpOptions, SurfTransport};
use flate2::Compression;
use flate2::write::GzEncoder;
use support::server::{Body, Reply, Server};
use url::Url;

const BACKENDS: [Backend; 2] = [Backend::Native, Backend::Curl];

fn fetch_with(options: HttpOptions, url: &str) -> Result<Response, crawler::FetchError> {
    let t = SurfTransport::new(options).expect("transport");
    async_std::task::block_on(t.fetch(Request::get(Url::parse(url).unwrap())))
}

fn quick(backend: Backend) -> HttpOptions {
    let mut o = HttpOptions::default();
    o.read_timeout = Duration::from_millis(300);
    o.total_timeout = Duration::from_secs(5);
    o.connect_timeout = Duration::from_secs(2);
    o.backend = backend;
    o
}

fn kind(backend: Backend, url: &str) -> FetchErrorKind {
    match fetch_with(quick(backend), url) {
        Ok(r) => panic!(
            "{backend:?} {url}: expected an error, got status {}",
            r.status
        ),
        Err(e) => {
            assert!(!e.message.is_empty(), "{backend:?} {url}: no detail");
            e.kind
        }
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A transport and a `get` of a path on `server` through it, for tests of connection reuse.
fn client(backend: Backend) -> SurfTransport {
    SurfTransport::new(quick(backend)).unwrap()
}

fn get(t: &SurfTransport, server: &Server, path: &str) -> Result<Response, crawler::FetchError> {
    let url = Url::parse(&server.url(path)).unwrap();
    async_std::task::block_on(t.fetch(Request::get(url)))
}

#[test]
fn each_failure_maps_to_its_kind() {
    let server = Server::start(|req| match req.path.as_str() {
        "/nothing" => Reply::status(200).body(Body::Raw(Vec::new())),
        "/garbage" => Reply::status(200).body(Body::Raw(b"HELLO THERE\r\n\r\n".to_vec())),
        "/short" => Reply::status(200).body(Body::Raw(
            b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nonly this".to_vec(),
        )),
        "/bad-chunk" => Reply::status(200).body(Body::Raw(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".to_vec(),
        )),
        "/cut-chunk" => Reply::status(200).body(Body::Raw(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\nabc".to_vec(),
        )),
        "/bad-length" => Reply::status(200).body(Body::Raw(
            b"HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\nabc".to_vec(),
        )),
        "/status-600" => Reply::status(200).body(Body::Raw(
            b"HTTP/1.1 600 Odd\r\ncontent-length: 0\r\n\r\n".to_vec(),
        )),
        "/bad-gzip" => Reply::status(200)
            .header("content-encoding", "gzip")
            .body(Body::Length(b"this is not gzip at all".to_vec())),
        "/hang" => Reply::status(200).body(Body::Hang),
        "/stall" => Reply::status(200).body(Body::Stall(b"<html>part".to_vec())),
        _ => Reply::status(404),
    });
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for backend in BACKENDS {
        let k = |path: &str| kind(backend, &server.url(path));
        assert_eq!(k("/nothing"), FetchErrorKind::Reset, "{backend:?}");
        assert_eq!(k("/short"), FetchErrorKind::Reset, "{backend:?}");
        assert_eq!(k("/cut-chunk"), FetchErrorKind::Reset, "{backend:?}");
        assert_eq!(k("/garbage"), FetchErrorKind::Protocol, "{backend:?}");
        // curl calls a bad chunk size a failure to receive data.
        let bad_chunk = match backend {
            Backend::Curl => FetchErrorKind::Reset,
            _ => FetchErrorKind::Protocol,
        };
        assert_eq!(k("/bad-chunk"), bad_chunk, "{backend:?}");
        assert_eq!(k("/bad-length"), FetchErrorKind::Protocol, "{backend:?}");
        assert_eq!(k("/status-600"), FetchErrorKind::Protocol, "{backend:?}");
        assert_eq!(k("/bad-gzip"), FetchErrorKind::Protocol, "{backend:?}");
        assert_eq!(k("/hang"), FetchErrorKind::Timeout, "{backend:?}");
        assert_eq!(k("/stall"), FetchErrorKind::Timeout, "{backend:?}");
        // A plain-HTTP server spoken to in TLS: the handshake fails.
        // The server drops the connection when the ClientHello is not a request line; a generous
        // read timeout keeps a loaded machine from turning that into a timeout.
        let https = server.url("/").replacen("http://", "https://", 1);
        let mut patient = quick(backend);
        patient.read_timeout = Duration::from_secs(5);
        let tls = fetch_with(patient, &https)
            .map(|r| r.status)
            .map_err(|e| e.kind);
        assert_eq!(tls, Err(FetchErrorKind::Tls), "{backend:?}");
        let closed = format!("http://127.0.0.1:{port}/");
        assert_eq!(
            kind(backend, &closed),
            FetchErrorKind::Connect,
            "{backend:?}"
        );
    }
    // The native client says which class a failure is by type, and words it plainly.
    let e = fetch_with(quick(Backend::Native), &server.url("/short")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "reset: connection closed with 991 body bytes still to come"
    );
}

#[test]
fn every_body_framing_is_read_whole() {
    let text = "<a href=x>x</a>".repeat(3000);
    let body = text.clone().into_bytes();
    let server = Server::start(move |req| {
        let html = |b: Body| {
            Reply::status(200)
                .header("content-type", "text/html")
                .body(b)
        };
        match req.path.as_str() {
            "/length" => html(Body::Length(body.clone())),
            "/chunked-1" => html(Body::Chunked(body.clone(), 1)),
            "/chunked-7" => html(Body::Chunked(body.clone(), 7)),
            "/chunked-big" => html(Body::Chunked(body.clone(), 40_000)),
            "/close" => html(Body::Close(body.clone())),
            "/gzip" => html(Body::Length(gzip(&body))).header("content-encoding", "gzip"),
            "/gzip-chunked" => {
                html(Body::Chunked(gzip(&body), 100)).header("content-encoding", "gzip")
            }
            "/gzip-close" => html(Body::Close(gzip(&body))).header("content-encoding", "gzip"),
            "/empty" => Reply::status(204),
            "/not-modified" => Reply::status(304),
            // Chunk extensions, trailer fields, bare LF line ends and a 100 Continue first.
            "/odd-chunked" => Reply::status(200).body(Body::Raw(
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                  3;ext=1\r\nabc\r\n2\nde\n0\r\nx-trailer: 1\r\n\r\n"
                    .to_vec(),
            )),
            _ => Reply::status(404),
        }
    });
    for backend in BACKENDS {
        let t = client(backend);
        for path in [
            "/length",
            "/chunked-1",
            "/chunked-7",
            "/chunked-big",
            "/close",
            "/gzip",
            "/gzip-chunked",
            "/gzip-close",
        ] {
            let r = get(&t, &server, path).unwrap();
            assert_eq!(r.status, 200, "{backend:?} {path}");
            assert!(!r.truncated, "{backend:?} {path}");
            assert!(
                r.body == text.as_bytes(),
                "{backend:?} {path}: {} bytes",
                r.body.len()
            );
        }
        for (path, status) in [("/empty", 204), ("/not-modified", 304)] {
            let r = get(&t, &server, path).unwrap();
            assert_eq!((r.status, r.body.len()), (status, 0), "{backend:?} {path}");
        }
    }
    // curl rejects bare LF line ends in chunked framing; browsers (and the native client) read
    // them.
    let r = get(&client(Backend::Native), &server, "/odd-chunked").unwrap();
    assert_eq!((r.status, &r.body[..]), (200, &b"abcde"[..]));
}

#[test]
fn servers_that_never_stop_sending_are_cut_short() {
    let server = Server::start(|req| {
        let raw = |bytes: Vec<u8>| Reply::status(200).body(Body::Raw(bytes));
        match req.path.as_str() {
            "/interim" => raw([&b"HTTP/1.1 103 Early Hints\r\n\r\n".repeat(40)[..], b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"].concat()),
            "/trailers" => raw([&b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n"[..], &b"x-pad: 0123456789\r\n".repeat(5000), b"\r\n"].concat()),
            // A gzip header, then empty deflate blocks that decode to nothing, never a last one.
            "/empty-blocks" => Reply::status(200)
                .header("content-encoding", "gzip")
                .body(Body::Close([&b"\x1f\x8b\x08\0\0\0\0\0\0\xff"[..], &b"\0\0\0\xff\xff".repeat(20_000)].concat())),
            // Two Transfer-Encoding lines are one list, ending in chunked.
            "/two-te" => raw(b"HTTP/1.1 200 OK\r\ntransfer-encoding: identity\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".to_vec()),
            _ => Reply::status(404),
        }
    });
    let mut o = quick(Backend::Native);
    o.max_body = 1000;
    let t = SurfTransport::new(o).unwrap();
    let e = get(&t, &server, "/interim").unwrap_err();
    assert_eq!(
        e.to_string(),
        "protocol: more than 32 informational (1xx) responses"
    );
    let e = get(&t, &server, "/trailers").unwrap_err();
    assert_eq!(e.to_string(), "protocol: trailer fields over 65536 bytes");
    let r = get(&t, &server, "/empty-blocks").unwrap();
    assert_eq!(
        (r.body.len(), r.truncated),
        (0, true),
        "cut at the wire limit: 100 KB of wire, 67.5 KB allowed for a cap of 1000"
    );
    let r = get(&t, &server, "/two-te").unwrap();
    assert_eq!(&r.body[..], b"hello");
}

#[test]
fn responses_come_back_as_sent_without_following_redirects() {
    let server = Server::start(|req| match req.path.as_str() {
        "/r" => Reply::redirect(301, "/target").header("x-Thing", "caf\u{e9}"),
        "/odd" => Reply::status(599),
        _ => Reply::html("t"),
    });
    for backend in BACKENDS {
        let r = fetch_with(quick(backend), &server.url("/r")).unwrap();
        assert_eq!(r.status, 301);
        assert_eq!(r.header("location"), Some("/target"));
        // A non-ASCII header value is kept instead of failing the page, and headers keep their
        // order.
        assert_eq!(r.header("x-thing"), Some("caf\u{e9}"));
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["location", "x-thing", "content-length"],
            "{backend:?}"
        );
        // No invented Content-Type.
        assert_eq!(r.header("content-type"), None);
        // A status http-types has no name for is still the server's answer.
        assert_eq!(
            fetch_with(quick(backend), &server.url("/odd"))
                .unwrap()
                .status,
            599
        );
    }
    assert_eq!(server.requests().len(), 4, "a redirect was followed");
}

#[test]
fn connections_are_kept_alive_and_reused() {
    let server = Server::start(|req| match req.path.as_str() {
        "/close" => Reply::status(200).body(Body::Close(b"bye".to_vec())),
        _ => Reply::html("ok"),
    });
    for backend in BACKENDS {
        let before = server.connections();
        let t = client(backend);
        for i in 0..10 {
            assert_eq!(get(&t, &server, &format!("/p{i}")).unwrap().status, 200);
        }
        assert_eq!(server.connections() - before, 1, "{backend:?}");
        // A response that ends by closing the connection is read whole, and the next request
        // opens a new connection.
        assert_eq!(&get(&t, &server, "/close").unwrap().body[..], b"bye");
        assert_eq!(get(&t, &server, "/after").unwrap().status, 200);
        assert_eq!(server.connections() - before, 2, "{backend:?}");
    }
}

#[test]
fn an_abandoned_response_never_reaches_the_next_request() {
    let big = "y".repeat(200_000);
    let server = Server::start(move |req| {
        match req.path.as_str() {
        "/big" => Reply::html(big.clone()),
        "/stall" => Reply::status(200).body(Body::Stall(b"part".to_vec())),
        // More bytes than announced: what follows the body is no response to anything.
        "/extra" => Reply::status(200).body(Body::Raw(
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nWRONG"
                .to_vec(),
        )),
        path => Reply::html(path.to_string()),
    }
    });
    let mut o = quick(Backend::Native);
    o.max_body = 1000;
    let t = SurfTransport::new(o).unwrap();
    // Cut at the cap: the rest of the body is never read, so the connection is closed.
    let r = get(&t, &server, "/big").unwrap();
    assert_eq!((r.body.len(), r.truncated), (1000, true));
    assert_eq!(&get(&t, &server, "/next").unwrap().body[..], b"/next");
    assert_eq!(server.connections(), 2);
    // Timed out in the middle of the body: closed too.
    assert_eq!(
        get(&t, &server, "/stall").unwrap_err().kind,
        FetchErrorKind::Timeout
    );
    assert_eq!(&get(&t, &server, "/after").unwrap().body[..], b"/after");
    assert_eq!(server.connections(), 3);
    assert_eq!(&get(&t, &server, "/extra").unwrap().body[..], b"ok");
    assert_eq!(&get(&t, &server, "/last").unwrap().body[..], b"/last");
}

#[test]
fn bytes_that_arrive_on_an_idle_connection_are_never_read_as_the_next_response() {
    let server = Server::start(|req| match req.path.as_str() {
        "/late" => Reply::status(200).body(Body::Late(
            b"ok".to_vec(),
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nWRONG".to_vec(),
        )),
        path => Reply::html(path.to_string()),
    });
    let t = client(Backend::Native);
    assert_eq!(&get(&t, &server, "/late").unwrap().body[..], b"ok");
    // The stray response is in, well within the idle time a pool would trust.
    server.wait_for_late();
    assert_eq!(&get(&t, &server, "/next").unwrap().body[..], b"/next");
    assert_eq!(
        server.connections(),
        2,
        "the poisoned connection was not reused"
    );
}

#[test]
fn a_connection_the_server_closed_while_idle_is_replaced() {
    // Keep-alive is announced, but the server hangs up right after each response.
    let server = Server::start(|req| {
        let body = req.path.as_bytes();
        let mut raw =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
        raw.extend_from_slice(body);
        Reply::status(200).body(Body::Raw(raw))
    });
    let t = client(Backend::Native);
    for i in 0..5 {
        let path = format!("/p{i}");
        assert_eq!(get(&t, &server, &path).unwrap().body, path.as_bytes());
    }
    assert_eq!(server.connections(), 5);
    assert_eq!(
        server.requests().len(),
        5,
        "each request sent once to a live connection"
    );
}

#[test]
fn urls_with_odd_characters_are_requested_as_serialised() {
    let server = Server::start(|_| Reply::html("ok"));
    for backend in BACKENDS {
        for path in [
            "/a%20b?q={x}|y^z",
            "/%7Euser/it's[1]",
            "/caf%C3%A9?a=b&a=c;d",
        ] {
            let url = Url::parse(&server.url(path)).unwrap();
            let r = fetch_with(quick(backend), url.as_str()).unwrap();
            assert_eq!(r.status, 200, "{url}");
            let seen = server.requests().last().unwrap().path.clone();
            assert_eq!(seen, &url[url::Position::BeforePath..], "{url}");
        }
    }
}

#[test]
fn the_request_head_and_cap_are_the_configured_ones() {
    let server = Server::start(|_| Reply::html("x".repeat(10_000)));
    for backend in BACKENDS {
        let mut o = quick(backend);
        o.user_agent = "testbot/9".to_string();
        o.max_body = 1234;
        let r = fetch_with(o, &server.url("/")).unwrap();
        assert_eq!((r.body.len(), r.truncated), (1234, true));
        let req = server.requests().pop().unwrap();
        assert_eq!(req.header("user-agent"), Some("testbot/9"));
        assert_eq!(req.header("accept-encoding"), Some("gzip, deflate"));
        assert_eq!(req.header("host"), Some(&server.url("")["http://".len()..]));
    }
    // The native client sends the same head every time: Host first, then fields by name.
    let names: Vec<String> = server.requests()[0]
        .headers
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(names, ["host", "accept", "accept-encoding", "user-agent"]);
}

#[test]
fn the_per_host_connection_cap_holds() {
    let server = Server::start(|req| Reply::html(req.path.clone()));
    let mut o = quick(Backend::Native);
    o.max_connections_per_host = 3;
    let t = SurfTransport::new(o).unwrap();
    let urls: Vec<Url> = (0..30)
        .map(|i| Url::parse(&server.url(&format!("/p{i}"))).unwrap())
        .collect();
    let bodies = async_std::task::block_on(futures_util::future::join_all(
        urls.iter().map(|u| t.fetch(Request::get(u.clone()))),
    ));
    for (i, r) in bodies.into_iter().enumerate() {
        assert_eq!(r.unwrap().body, format!("/p{i}").as_bytes());
    }
    assert!(
        server.connections() <= 3,
        "{} connections",
        server.connections()
    );
}

#[test]
fn bodies_that_are_not_html_are_skipped_when_asked() {
    let png = vec![0x89u8; 300_000];
    let server = Server::start(move |req| match req.path.as_str() {
        "/image.png" => Reply::status(200)
            .header("content-type", "image/png")
            .body(Body::Length(png.clone())),
        "/stream" => Reply::status(200)
            .header("content-type", "application/octet-stream")
            .body(Body::Chunked(vec![1; 100_000], 4096)),
        "/missing" => Reply::status(404)
            .header("content-type", "text/plain")
            .body(Body::Length(b"not here".to_vec())),
        "/xhtml" => Reply::status(200)
            .header("content-type", "application/xhtml+xml; charset=utf-8")
            .body(Body::Length(b"<html/>".to_vec())),
        path => Reply::html(path.to_string()),
    });
    for backend in BACKENDS {
        let t = client(backend);
        let get_html = |path: &str| {
            let url = Url::parse(&server.url(path)).unwrap();
            async_std::task::block_on(t.fetch(Request::get(url).with_html_body_only(true))).unwrap()
        };
        let r = get_html("/image.png");
        assert_eq!(r.status, 200);
        assert_eq!(r.media_type().as_deref(), Some("image/png"));
        assert!(r.body_skipped && r.body.is_empty(), "{backend:?}");
        let r = get_html("/stream");
        assert!(r.body_skipped && r.body.is_empty(), "{backend:?}");
        let r = get_html("/missing");
        assert_eq!((r.status, r.body_skipped, r.body.len()), (404, true, 0));
        for path in ["/page", "/xhtml"] {
            let r = get_html(path);
            assert!(!r.body_skipped && !r.body.is_empty(), "{backend:?} {path}");
        }
        // Without the flag the same image comes whole.
        let r = get(&t, &server, "/image.png").unwrap();
        assert_eq!((r.body.len(), r.body_skipped), (300_000, false));
    }
    // On the native client, a skipped body's connection is closed (the rest of the body is never
    // read) and the next request gets a new one; a small unwanted body is read off to keep it.
    let before = server.connections();
    let t = client(Backend::Native);
    let skip = |path: &str| {
        let url = Url::parse(&server.url(path)).unwrap();
        let r = async_std::task::block_on(t.fetch(Request::get(url).with_html_body_only(true)));
        assert!(r.unwrap().body_skipped);
    };
    skip("/image.png");
    assert_eq!(&get(&t, &server, "/a").unwrap().body[..], b"/a");
    assert_eq!(server.connections() - before, 2);
    skip("/missing");
    assert_eq!(&get(&t, &server, "/b").unwrap().body[..], b"/b");
    assert_eq!(server.connections() - before, 2);
}
