//! End-to-end: the real `crawl` binary against a real HTTP server on 127.0.0.1.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::Compression;
use flate2::write::GzEncoder;
use support::server::{Body, Reply, Req, Server};

fn links(paths: &[&str]) -> String {
    let mut html = String::from("<!doctype html><html><body>");
    for p in paths {
        html.push_str(&format!("<a href=\"{p}\">{p}</a>\n"));
    }
    html.push_str("</body></html>");
    html
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The site of the main test. The port is only known once the server runs, so the absolute
/// redirect is built from the request's `Host` header.
fn site() -> impl Fn(&Req) -> Reply + Send + Sync + 'static {
    let flaky = Arc::new(AtomicUsize::new(0));
    let gz_page = links(&["from-gz"]);
    let mut big = links(&["/from-big"]);
    big.push_str(&"x".repeat(5000));
    move |req: &Req| {
        let host = req.header("host").unwrap_or("").to_string();
        match req.path.as_str() {
            "/" => Reply::html(links(&[
                "/a",
                "/redir-abs",
                "/redir-rel",
                "/missing",
                "/flaky",
                "/gz",
                "/big",
                "/slow",
                "/chunked",
                "/close",
                "http://other.example/x",
                "mailto:x@example.com",
                "/private/page",
            ])),
            "/robots.txt" => Reply::status(200)
                .header("content-type", "text/plain")
                .body(Body::Length(
                    b"User-agent: *\nDisallow: /private\n".to_vec(),
                )),
            "/a" => Reply::html(links(&["/", "b#frag"])),
            "/b" | "/b-target" | "/c" | "/from-gz" | "/from-big" | "/from-chunked"
            | "/from-close" => Reply::html(links(&[])),
            "/redir-abs" => Reply::redirect(301, &format!("http://{host}/b-target")),
            "/redir-rel" => Reply::redirect(302, "dir/../c"),
            "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) == 0 => Reply::status(500),
            "/flaky" => Reply::html(links(&[])),
            "/gz" => Reply::status(200)
                .header("content-type", "text/html")
                .header("content-encoding", "gzip")
                .body(Body::Length(gzip(gz_page.as_bytes()))),
            "/big" => Reply::html(big.clone()),
            "/slow" => Reply::status(200).body(Body::Hang),
            "/chunked" => Reply::status(200)
                .header("content-type", "text/html")
                .body(Body::Chunked(links(&["from-chunked"]).into_bytes(), 7)),
            "/close" => Reply::status(200)
                .header("content-type", "text/html")
                .body(Body::Close(links(&["from-close"]).into_bytes())),
            _ => Reply::status(404),
        }
    }
}

#[test]
fn crawls_a_site_and_records_every_outcome() {
    crawl_the_site_with("native");
}

#[test]
fn crawls_a_site_and_records_every_outcome_on_curl() {
    crawl_the_site_with("curl");
}

fn crawl_the_site_with(backend: &str) {
    let server = Server::start(site());
    let jsonl = support::out_path(&format!("site-{backend}"));
    let out = support::run(&[
        "--backend",
        backend,
        "--jsonl",
        jsonl.to_str().unwrap(),
        "--timeout",
        "1",
        "--max-tries",
        "2",
        "--max-body",
        "4096",
        &server.url("/"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");

    let records = support::records(&jsonl);
    let base = server.url("");
    let by_path: BTreeMap<String, &crawler::Record> = records
        .iter()
        .map(|r| (r.url.strip_prefix(&base).unwrap().to_string(), r))
        .collect();
    assert_eq!(by_path.len(), records.len(), "a URL was recorded twice");
    let expected = [
        ("/robots.txt", Some(200)),
        ("/", Some(200)),
        ("/a", Some(200)),
        ("/b", Some(200)),
        ("/redir-abs", Some(301)),
        ("/b-target", Some(200)),
        ("/redir-rel", Some(302)),
        ("/c", Some(200)),
        ("/missing", Some(404)),
        ("/flaky", Some(200)),
        ("/gz", Some(200)),
        ("/from-gz", Some(200)),
        ("/big", Some(200)),
        ("/from-big", Some(200)),
        ("/slow", None),
        ("/chunked", Some(200)),
        ("/from-chunked", Some(200)),
        ("/close", Some(200)),
        ("/from-close", Some(200)),
    ];
    let got: BTreeMap<&str, Option<u16>> = by_path
        .iter()
        .map(|(p, r)| (p.as_str(), r.status))
        .collect();
    assert_eq!(got, expected.into_iter().collect::<BTreeMap<_, _>>());

    let r = |p: &str| by_path[p];
    assert_eq!(
        r("/redir-rel").location.as_deref(),
        Some(&*server.url("/c"))
    );
    assert_eq!(
        r("/redir-abs").location.as_deref(),
        Some(&*server.url("/b-target"))
    );
    assert_eq!((r("/flaky").tries, r("/flaky").status), (2, Some(200)));
    let slow = r("/slow");
    assert_eq!(slow.tries, 2);
    assert!(
        slow.error.as_deref().unwrap().starts_with("timeout"),
        "{slow:?}"
    );
    assert!(r("/big").truncated);
    assert_eq!(r("/big").size, Some(4096));
    assert_eq!(r("/gz").size, Some(links(&["from-gz"]).len() as u64));
    assert_eq!(r("/gz").content_type.as_deref(), Some("text/html"));
    assert_eq!(r("/close").size, Some(links(&["from-close"]).len() as u64));
    assert_eq!(r("/").links, Some(13 - 1)); // mailto: is not a link to fetch
    assert!(!r("/").truncated);

    // What the server saw: each URL once (the retried ones twice), robots.txt first, never the
    // other host nor the disallowed path, always with the crawler's User-Agent and the encodings
    // it can decode.
    let reqs = server.requests();
    assert_eq!(reqs[0].path, "/robots.txt");
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for q in &reqs {
        *counts.entry(q.path.as_str()).or_default() += 1;
        let ua = q.header("user-agent").unwrap_or("");
        assert!(ua.starts_with("crawler/"), "user agent {ua:?}");
        assert_eq!(q.header("accept-encoding"), Some("gzip, deflate"));
        assert_eq!(q.method, "GET");
    }
    for (path, _) in expected {
        let want = if matches!(path, "/flaky" | "/slow") {
            2
        } else {
            1
        };
        assert_eq!(
            counts.get(path),
            Some(&want),
            "{path} requested {:?}",
            counts.get(path)
        );
    }
    assert_eq!(counts.len(), expected.len());

    // The report, like reporting.py.
    assert!(stdout.contains("Finished 19 urls in"), "{stdout}");
    assert!(
        stdout.contains(&format!("{} 404 - 0", server.url("/missing"))),
        "{stdout}"
    );
    assert!(stdout.contains("fail_timeout 1"), "{stdout}");
    assert!(stdout.ends_with("Todo: 0\nDone: 19\n"), "{stdout}");
}

#[test]
fn sitemaps_from_robots_txt_are_read_gzipped_or_not() {
    // robots.txt names a gzipped sitemap index, which names a plain sitemap that lists a page no
    // page links to: only the sitemaps can lead the crawl there.
    let server = Server::start(|req| {
        let host = req.header("host").unwrap_or("").to_string();
        let index = format!(
            "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
             <sitemap><loc>http://{host}/pages.xml</loc></sitemap></sitemapindex>"
        );
        let pages = format!(
            "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
             <url><loc>http://{host}/orphan</loc></url></urlset>"
        );
        match req.path.as_str() {
            "/robots.txt" => Reply::status(200)
                .header("content-type", "text/plain")
                .body(Body::Length(
                    format!("Sitemap: http://{host}/index.xml.gz\n").into_bytes(),
                )),
            "/index.xml.gz" => Reply::status(200)
                .header("content-type", "application/gzip")
                .body(Body::Length(gzip(index.as_bytes()))),
            "/pages.xml" => Reply::status(200)
                .header("content-type", "application/xml")
                .body(Body::Chunked(pages.into_bytes(), 50)),
            "/" | "/orphan" => Reply::html(links(&[])),
            _ => Reply::status(404),
        }
    });
    let jsonl = support::out_path("sitemaps");
    let out = support::run(&["-q", "--jsonl", jsonl.to_str().unwrap(), &server.url("/")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fetched: Vec<String> = support::records(&jsonl)
        .into_iter()
        .map(|r| r.url.strip_prefix(&server.url("")).unwrap().to_string())
        .collect();
    for path in ["/robots.txt", "/index.xml.gz", "/pages.xml", "/", "/orphan"] {
        assert!(
            fetched.iter().any(|p| p == path),
            "{path} not in {fetched:?}"
        );
    }
    assert_eq!(fetched.len(), 5, "{fetched:?}");
}

#[test]
fn html_bodies_only_skips_other_bodies_but_reads_robots_and_sitemaps() {
    let big = vec![7u8; 2 << 20];
    let server = Server::start(move |req| {
        let host = req.header("host").unwrap_or("").to_string();
        match req.path.as_str() {
            "/robots.txt" => Reply::status(200)
                .header("content-type", "text/plain")
                .body(Body::Length(
                    format!("User-agent: *\nDisallow: /private\nSitemap: http://{host}/map.xml\n")
                        .into_bytes(),
                )),
            "/map.xml" => Reply::status(200)
                .header("content-type", "application/xml")
                .body(Body::Length(
                    format!(
                        "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                         <url><loc>http://{host}/orphan</loc></url></urlset>"
                    )
                    .into_bytes(),
                )),
            "/" => Reply::html(links(&["/big.bin", "/doc.pdf", "/page", "/private/x"])),
            "/big.bin" => Reply::status(200)
                .header("content-type", "application/octet-stream")
                .body(Body::Length(big.clone())),
            "/doc.pdf" => Reply::status(200)
                .header("content-type", "application/pdf")
                .body(Body::Chunked(vec![b'%'; 100_000], 8192)),
            "/page" | "/orphan" => Reply::html(links(&[])),
            _ => Reply::status(404),
        }
    });
    let crawl = |extra: &[&str], name: &str| {
        let jsonl = support::out_path(name);
        let mut args = vec!["-q", "--jsonl", jsonl.to_str().unwrap()];
        args.extend_from_slice(extra);
        let root = server.url("/");
        args.push(&root);
        let out = support::run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let base = server.url("");
        support::records(&jsonl)
            .into_iter()
            .map(|r| (r.url.strip_prefix(&base).unwrap().to_string(), r))
            .collect::<BTreeMap<String, crawler::Record>>()
    };
    let skipping = crawl(&["--html-bodies-only"], "html-only");
    let paths: Vec<&str> = skipping.keys().map(String::as_str).collect();
    // robots.txt was read (/private is not fetched) and so was the sitemap (/orphan is).
    assert_eq!(
        paths,
        [
            "/",
            "/big.bin",
            "/doc.pdf",
            "/map.xml",
            "/orphan",
            "/page",
            "/robots.txt"
        ]
    );
    for path in ["/big.bin", "/doc.pdf"] {
        let r = &skipping[path];
        assert_eq!(
            (r.status, r.size, r.links),
            (Some(200), None, None),
            "{path}"
        );
        assert!(!r.truncated);
    }
    assert_eq!(
        skipping["/big.bin"].content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(skipping["/"].links, Some(4));
    assert!(skipping["/page"].size.is_some_and(|n| n > 0));
    assert!(skipping["/map.xml"].size.is_some_and(|n| n > 0));
    // Without the flag every body is read.
    let whole = crawl(&["--max-body", "3000000"], "html-all");
    assert_eq!(whole["/big.bin"].size, Some(2 << 20));
    assert_eq!(whole["/doc.pdf"].size, Some(100_000));
}

/// Link breadth end to end: `link` rel, `iframe` and meta refresh followed; images, scripts and
/// stylesheets only with `--assets`; `rel=nofollow` and `<meta name=robots content=nofollow>`
/// honoured (and counted as `cut_nofollow`); `noindex` on the page's record.
#[test]
fn link_kinds_nofollow_and_meta_robots_end_to_end() {
    let server = Server::start(|req| match req.path.as_str() {
        "/" => Reply::html(
            "<!doctype html><html><head>\
             <link rel=stylesheet href=/s.css><link rel=next href=/page2>\
             <script src=/app.js></script>\
             <meta http-equiv=refresh content=\"10; url=/refreshed\"></head><body>\
             <a href=/open>open</a> <a href=/closed rel=\"NoFollow\">closed</a>\
             <img src=/i.png srcset=\"/i-2x.png 2x\"><iframe src=/frame></iframe>\
             </body></html>",
        ),
        "/frame" => Reply::html(
            "<meta name=robots content=\"noindex,nofollow\"><a href=/behind-frame>x</a>",
        ),
        "/page2" | "/refreshed" | "/open" | "/closed" | "/behind-frame" => Reply::html(links(&[])),
        "/s.css" | "/app.js" | "/i.png" | "/i-2x.png" => Reply::status(200)
            .header("content-type", "application/octet-stream")
            .body(Body::Length(b"asset".to_vec())),
        _ => Reply::status(404),
    });
    let crawl = |extra: &[&str], name: &str| {
        let jsonl = support::out_path(name);
        let mut args = vec!["--ignore-robots", "--jsonl", jsonl.to_str().unwrap()];
        args.extend_from_slice(extra);
        let root = server.url("/");
        args.push(&root);
        let out = support::run(&args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let records = support::records(&jsonl);
        let mut paths: Vec<String> = records
            .iter()
            .map(|r| r.url.strip_prefix(&server.url("")).unwrap().to_string())
            .collect();
        paths.sort();
        (paths, records, stdout)
    };
    let pages = ["/", "/frame", "/open", "/page2", "/refreshed"];

    let (paths, records, stdout) = crawl(&[], "breadth-pages");
    assert_eq!(paths, pages);
    assert!(stdout.contains("cut_nofollow 2"), "{stdout}");
    let noindex: Vec<&str> = records
        .iter()
        .filter(|r| r.noindex)
        .map(|r| r.url.as_str())
        .collect();
    assert_eq!(noindex, [server.url("/frame")]);

    let (paths, _, stdout) = crawl(&["--assets"], "breadth-assets");
    let mut expected: Vec<&str> = pages.to_vec();
    expected.extend(["/app.js", "/i-2x.png", "/i.png", "/s.css"]);
    expected.sort();
    assert_eq!(paths, expected);
    assert!(stdout.contains("cut_nofollow 2"), "{stdout}");
    // The server never saw what nofollow kept the crawler from.
    let seen: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert!(
        !seen.iter().any(|p| p == "/closed" || p == "/behind-frame"),
        "{seen:?}"
    );
}

/// A crawler runs no scripts, so it reads `<noscript>` as markup: an mdBook-style page whose only
/// link to its table of contents is a `<noscript><iframe>` gets it fetched, and a link inside a
/// noscript in the body too. A page the parser gives up on (a tag left open past its memory
/// limit) is that page's outcome: its JSON line says why, the links before it are followed, and
/// the crawl goes on.
#[test]
fn noscript_links_are_followed_and_a_page_the_parser_gives_up_on_is_recorded() {
    let mut hostile = b"<!doctype html><a href=/before-cut>x</a><img src=".to_vec();
    hostile.resize(hostile.len() + 9 * 1024 * 1024, b'x');
    let server = Server::start(move |req| match req.path.as_str() {
        "/" => Reply::html(
            "<!doctype html><html><head><title>Book</title>\
             <noscript><link rel=stylesheet href=/ns.css></noscript></head><body>\
             <nav id=sidebar><noscript><iframe class=sidebar-iframe-outer src=toc.html>\
             </iframe></noscript></nav><main><p>Intro \
             <noscript><a href=/x.html>plain version</a></noscript></p></main></body></html>",
        ),
        "/toc.html" => Reply::html(links(&["/chapter.html", "/hostile.html"])),
        "/hostile.html" => Reply::status(200)
            .header("content-type", "text/html")
            .body(Body::Length(hostile.clone())),
        "/x.html" | "/chapter.html" | "/before-cut" => Reply::html(links(&[])),
        _ => Reply::status(404),
    });
    let jsonl = support::out_path("noscript");
    let root = server.url("/");
    let out = support::run(&[
        "--ignore-robots",
        "--max-body",
        "16777216",
        "--jsonl",
        jsonl.to_str().unwrap(),
        &root,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = support::records(&jsonl);
    let mut paths: Vec<&str> = records
        .iter()
        .map(|r| r.url.strip_prefix(&server.url("")).unwrap())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/",
            "/before-cut",
            "/chapter.html",
            "/hostile.html",
            "/toc.html",
            "/x.html"
        ]
    );
    let hostile = records
        .iter()
        .find(|r| r.url.ends_with("/hostile.html"))
        .unwrap();
    let error = hostile.error.as_deref().unwrap_or("");
    assert!(
        error.starts_with("links: html parser failed: "),
        "{error:?}"
    );
    assert_eq!(hostile.links, Some(1));
}

/// A server that asks, with `Retry-After`, to come back in a year gets one request: the URL's
/// record is that 503 and says why it was not tried again; the crawl does not wait.
#[test]
fn a_retry_after_of_a_year_ends_the_tries_at_once() {
    let server = Server::start(|req| match req.path.as_str() {
        "/" => Reply::html(links(&["/busy"])),
        "/busy" => Reply::status(503).header("retry-after", "31536000"),
        _ => Reply::status(404),
    });
    let jsonl = support::out_path("retry-after-year");
    let out = support::run(&["--jsonl", jsonl.to_str().unwrap(), &server.url("/")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let busy = support::records(&jsonl)
        .into_iter()
        .find(|r| r.url.ends_with("/busy"))
        .unwrap();
    assert_eq!((busy.status, busy.tries), (Some(503), 1));
    assert_eq!(
        busy.error.as_deref(),
        Some("retry-after 31536000 s exceeds the 60 s cap")
    );
    let busy_requests = server
        .requests()
        .iter()
        .filter(|r| r.path == "/busy")
        .count();
    assert_eq!(busy_requests, 1);
}
