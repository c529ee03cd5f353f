//! The real transport against a real server on 127.0.0.1: what each kind of failure becomes, and
//! what a fetch sends and keeps. Uses the public API only (`crawler::net`).

mod support;

use std::time::Duration;

use crawler::net::{Backend, HttpOptions, SurfTransport};
use crawler::{FetchErrorKind, Request, Response, Transport};
use support::server::{Body, Reply, Server};
use url::Url;

fn fetch(options: HttpOptions, url: &str) -> Result<Response, crawler::FetchError> {
    let t = SurfTransport::new(options).expect("transport");
    async_std::task::block_on(t.fetch(Request::get(Url::parse(url).unwrap())))
}

fn quick() -> HttpOptions {
    let mut o = HttpOptions::default();
    o.read_timeout = Duration::from_millis(300);
    o.total_timeout = Duration::from_secs(5);
    o.connect_timeout = Duration::from_secs(2);
    o
}

fn kind(url: &str) -> FetchErrorKind {
    match fetch(quick(), url) {
        Ok(r) => panic!("{url}: expected an error, got status {}", r.status),
        Err(e) => {
            assert!(!e.message.is_empty(), "{url}: no detail");
            e.kind
        }
    }
}

#[test]
fn each_failure_maps_to_its_kind() {
    let server = Server::start(|req| match req.path.as_str() {
        "/nothing" => Reply::status(200).body(Body::Raw(Vec::new())),
        "/garbage" => Reply::status(200).body(Body::Raw(b"HELLO THERE\r\n\r\n".to_vec())),
        "/short" => Reply::status(200).body(Body::Raw(
            b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nonly this".to_vec(),
        )),
        "/hang" => Reply::status(200).body(Body::Hang),
        _ => Reply::status(404),
    });
    assert_eq!(kind(&server.url("/nothing")), FetchErrorKind::Reset);
    assert_eq!(kind(&server.url("/short")), FetchErrorKind::Reset);
    assert_eq!(kind(&server.url("/garbage")), FetchErrorKind::Protocol);
    assert_eq!(kind(&server.url("/hang")), FetchErrorKind::Timeout);
    // A plain-HTTP server spoken to in TLS: the handshake fails.
    let https = server.url("/").replacen("http://", "https://", 1);
    assert_eq!(kind(&https), FetchErrorKind::Tls);
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert_eq!(
        kind(&format!("http://127.0.0.1:{port}/")),
        FetchErrorKind::Connect
    );
}

#[test]
fn responses_come_back_as_sent_without_following_redirects() {
    let server = Server::start(|req| match req.path.as_str() {
        "/r" => Reply::redirect(301, "/target").header("x-Thing", "caf\u{e9}"),
        "/odd" => Reply::status(599),
        _ => Reply::html("t"),
    });
    let r = fetch(quick(), &server.url("/r")).unwrap();
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/target"));
    // A non-ASCII header value is kept instead of failing the page, and headers keep their order.
    assert_eq!(r.header("x-thing"), Some("caf\u{e9}"));
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["location", "x-thing", "content-length"]);
    // No invented Content-Type.
    assert_eq!(r.header("content-type"), None);
    assert_eq!(server.requests().len(), 1, "the redirect was followed");
    // A status http-types has no name for is one failed page, not a panic.
    assert_eq!(kind(&server.url("/odd")), FetchErrorKind::Protocol);
}

#[test]
fn connections_are_kept_alive_and_reused() {
    let server = Server::start(|req| match req.path.as_str() {
        "/close" => Reply::status(200).body(Body::Close(b"bye".to_vec())),
        _ => Reply::html("ok"),
    });
    let t = SurfTransport::new(quick()).unwrap();
    let get = |path: &str| {
        let url = Url::parse(&server.url(path)).unwrap();
        async_std::task::block_on(t.fetch(Request::get(url))).unwrap()
    };
    for i in 0..10 {
        assert_eq!(get(&format!("/p{i}")).status, 200);
    }
    assert_eq!(server.connections(), 1);
    // A response that ends by closing the connection is read whole, and the next request opens
    // a new connection.
    assert_eq!(&get("/close").body[..], b"bye");
    assert_eq!(get("/after").status, 200);
    assert_eq!(server.connections(), 2);
}

#[test]
fn urls_with_odd_characters_are_requested_as_serialised() {
    let server = Server::start(|_| Reply::html("ok"));
    for path in [
        "/a%20b?q={x}|y^z",
        "/%7Euser/it's[1]",
        "/caf%C3%A9?a=b&a=c;d",
    ] {
        let url = Url::parse(&server.url(path)).unwrap();
        let r = fetch(quick(), url.as_str()).unwrap();
        assert_eq!(r.status, 200, "{url}");
        let seen = server.requests().last().unwrap().path.clone();
        assert_eq!(seen, &url[url::Position::BeforePath..], "{url}");
    }
}

#[test]
fn the_user_agent_and_cap_are_the_configured_ones() {
    let server = Server::start(|_| Reply::html("x".repeat(10_000)));
    let mut o = quick();
    o.user_agent = "testbot/9".to_string();
    o.max_body = 1234;
    let r = fetch(o, &server.url("/")).unwrap();
    assert_eq!((r.body.len(), r.truncated), (1234, true));
    assert_eq!(server.requests()[0].header("user-agent"), Some("testbot/9"));
}

#[test]
fn both_backends_fetch_a_plain_page_the_same() {
    let server = Server::start(|_| Reply::html("<a href=x>x</a>"));
    for backend in [Backend::Curl, Backend::H1] {
        let mut o = quick();
        o.backend = backend;
        let r = fetch(o, &server.url("/")).unwrap();
        assert_eq!(
            (r.status, &r.body[..]),
            (200, &b"<a href=x>x</a>"[..]),
            "{backend:?}"
        );
        assert_eq!(r.media_type().as_deref(), Some("text/html"));
    }
}
