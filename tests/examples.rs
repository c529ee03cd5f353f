//! The examples in `examples/`, run against a local server: what they print is what a user of
//! the library sees, so they are held to the same standard as the command.

mod support;

// Each example is compiled here as a module so its functions can be called; its `main` is
// what `cargo run --example` runs, built by `cargo test` but not called here.
#[allow(dead_code)]
#[path = "../examples/save_pages.rs"]
mod save_pages;

#[allow(dead_code)]
#[path = "../examples/custom_transport.rs"]
mod custom_transport;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crawler::Record;
use support::server::{Body, Reply, Server};

/// A small site: HTML pages (one with a query, one below a page of the same name, one that
/// answers 503 the first time), a redirect, a 404, a stylesheet and a plain-text file.
fn site() -> Server {
    let flaky = AtomicBool::new(true);
    Server::start(move |req| match req.path.as_str() {
        "/flaky" if flaky.swap(false, Ordering::SeqCst) => Reply::status(503),
        "/flaky" => Reply::html("up again"),
        "/" => Reply::html(
            r#"<a href="/a">a</a> <a href="/a/b">b</a> <a href="/list?page=2">2</a> <a href="/a.html">a.html</a>
               <a href="/old">old</a> <a href="/flaky">flaky</a> <a href="/gone">gone</a> <a href="/notes.txt">txt</a>
               <link rel=stylesheet href="/style.css">"#,
        ),
        "/a" => Reply::html(r#"<a href="/">home</a> <a href="a/">dir</a>"#),
        "/a/" => Reply::html("the a directory"),
        "/a/b" => Reply::html("b, below a"),
        "/a.html" => Reply::html(r#"<a href="/a.html/b">below a.html</a>"#),
        "/a.html/b" => Reply::html("b, below a.html"),
        "/list?page=2" => Reply::html(r#"<a href="/list?page=2">again</a>"#),
        "/old" => Reply::redirect(301, "/a"),
        "/notes.txt" => Reply::status(200)
            .header("content-type", "text/plain")
            .body(Body::Length(b"not html".to_vec())),
        "/style.css" => Reply::status(200)
            .header("content-type", "text/css")
            .body(Body::Length(b"body {}".to_vec())),
        _ => Reply::status(404),
    })
}

#[test]
fn save_pages_writes_every_html_page_once() {
    let server = site();
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("save-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let saved = save_pages::save_pages(&server.url("/"), &dir).unwrap();
    let host = server
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .replace(':', "_");
    let want: BTreeSet<PathBuf> = [
        "index.html",
        "a.html",
        "a~2.html",
        "a.html.d/b.html",
        "flaky.html",
        "a/index.html",
        "a/b.html",
        "list?page=2.html",
    ]
    .iter()
    .map(|f| dir.join(&host).join(f))
    .collect();
    assert_eq!(saved, want);
    // Every file holds its page's body, as served.
    assert_eq!(
        std::fs::read_to_string(dir.join(&host).join("a/b.html")).unwrap(),
        "b, below a"
    );
    // Nothing else was written: not the text file, the stylesheet, the 404 or the redirect.
    let mut on_disk = BTreeSet::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                on_disk.insert(path);
            }
        }
    }
    assert_eq!(on_disk, want);
}

#[test]
fn the_custom_transport_answers_a_second_crawl_from_its_cache() {
    let server = site();
    let [first, second] = custom_transport::crawl_twice(&server.url("/")).unwrap();
    // robots.txt (a 404), eight pages, the 404, the redirect and the text file, each asked for
    // once, and the flaky page's 503 a second time (not the stylesheet: assets are not followed
    // by default).
    assert_eq!(first.requests, 13, "{first:#?}");
    assert_eq!(server.requests().len(), 13);
    // The second crawl asks the network for nothing, and sees the same answers; the 503 was
    // not kept, so it is the page that answers at once.
    assert_eq!(second.requests, 0);
    let answers = |run: &custom_transport::Run| -> Vec<_> {
        let answer = |r: &Record| (r.url.clone(), r.status, r.links, r.location.clone());
        run.records.iter().map(answer).collect()
    };
    assert_eq!(answers(&first), answers(&second));
    let tries = |run: &custom_transport::Run| {
        let flaky = run.records.iter().find(|r| r.url.ends_with("/flaky"));
        flaky.map(|r| (r.status, r.tries))
    };
    assert_eq!(tries(&first), Some((Some(200), 2)));
    assert_eq!(tries(&second), Some((Some(200), 1)));
}
