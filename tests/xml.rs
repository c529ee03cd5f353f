//! End-to-end: links in feeds and XML documents, read by the real `crawl` binary from a real
//! HTTP server on 127.0.0.1, with and without `--html-bodies-only`.

mod support;

use std::collections::BTreeMap;

use support::server::{Body, Reply, Req, Server};

/// A 200 response of `media_type` with `body`.
fn typed(media_type: &str, body: String) -> Reply {
    Reply::status(200)
        .header("content-type", media_type)
        .body(Body::Length(body.into_bytes()))
}

/// A root page linking to an RSS feed, an Atom feed (through `<link rel=alternate>`) and an XML
/// document; each of those links to HTML pages of its own. The port is only known once the
/// server runs, so absolute URLs are built from the request's `Host` header.
fn site(req: &Req) -> Reply {
    let host = req.header("host").unwrap_or("").to_string();
    let path = req.path.split('?').next().unwrap_or_default();
    match path {
        "/" => Reply::html(
            "<!doctype html><html><head>\
             <link rel=alternate type=application/atom+xml href=/atom.xml></head><body>\
             <a href=/feed.rss>feed</a> <a href=/doc.xml>doc</a></body></html>",
        ),
        "/feed.rss" => typed(
            "application/rss+xml; charset=utf-8",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>News &amp; notes</title>
    <link>http://{host}/</link>
    <atom:link href="http://{host}/feed.rss" rel="self" type="application/rss+xml"/>
    <item><title>One</title><link>http://{host}/posts/one.html</link><guid>1</guid></item>
    <item><title>Two</title><link><![CDATA[http://{host}/posts/two.html?a=1&b=2]]></link></item>
    <item><title>Three</title><link>/posts/three.html</link>
      <enclosure url="http://{host}/audio.mp3" length="1" type="audio/mpeg"/></item>
  </channel>
</rss>"#
            ),
        ),
        "/atom.xml" => typed(
            "application/atom+xml",
            format!(
                r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://{host}/blog/">
  <title>Blog</title>
  <link href="http://{host}/"/>
  <link rel="self" href="/atom.xml"/>
  <entry><title>Four</title><link rel="alternate" type="text/html" href="four.html"/></entry>
  <entry><title>Image</title><link rel="alternate" href="/pic.svg"/></entry>
</feed>"#
            ),
        ),
        "/doc.xml" => typed(
            "application/xml",
            "<?xml version='1.0'?><doc xmlns:xlink='http://www.w3.org/1999/xlink'>\
             <ref href='/posts/one.html'/><ref xlink:href='/data/five.html'/>\
             <note>not a link: /posts/nope.html</note></doc>"
                .to_string(),
        ),
        "/pic.svg" => typed(
            "image/svg+xml",
            "<svg xmlns='http://www.w3.org/2000/svg'><a href='/from-svg.html'/></svg>".to_string(),
        ),
        "/posts/one.html" | "/posts/two.html" | "/posts/three.html" | "/blog/four.html"
        | "/data/five.html" | "/from-svg.html" => Reply::html("<!doctype html><p>a post</p>"),
        _ => Reply::status(404),
    }
}

/// Crawls the site with `extra` options; the records by path.
fn crawl(server: &Server, extra: &[&str], name: &str) -> BTreeMap<String, crawler::Record> {
    let jsonl = support::out_path(name);
    // One fetch at a time, so pages are fetched in discovery order and which record finds a
    // shared link first (its `new_links`) does not depend on timing.
    let mut args = vec![
        "-q",
        "--ignore-robots",
        "--max-tasks",
        "1",
        "--jsonl",
        jsonl.to_str().unwrap(),
    ];
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
    let records = support::records(&jsonl);
    let by_path: BTreeMap<_, _> = records
        .into_iter()
        .map(|r| (r.url.strip_prefix(&base).unwrap().to_string(), r))
        .collect();
    by_path
}

#[test]
fn feeds_and_xml_documents_are_read_for_links() {
    let server = Server::start(site);
    for (extra, name) in [
        (&[][..], "xml-all"),
        (&["--html-bodies-only"][..], "xml-html-only"),
    ] {
        let records = crawl(&server, extra, name);
        let paths: Vec<&str> = records.keys().map(String::as_str).collect();
        // Every page a feed or the XML document links to is fetched; the SVG image is fetched
        // (a feed entry links to it) but not read, so its link is not.
        assert_eq!(
            paths,
            [
                "/",
                "/atom.xml",
                "/blog/four.html",
                "/data/five.html",
                "/doc.xml",
                "/feed.rss",
                "/pic.svg",
                "/posts/one.html",
                "/posts/three.html",
                "/posts/two.html?a=1&b=2",
            ],
            "{name}"
        );
        for r in records.values() {
            assert_eq!(
                (r.status, &r.error),
                (Some(200), &None),
                "{name}: {}",
                r.url
            );
        }
        let counts = |path: &str| (records[path].links, records[path].new_links);
        // The channel link, the self link and three items; the guid and the enclosure are not
        // links. `/` and the feed itself were known already.
        assert_eq!(counts("/feed.rss"), (Some(5), Some(3)), "{name}");
        // `/`, the self link, and two entries (one resolved against the feed's xml:base).
        assert_eq!(counts("/atom.xml"), (Some(4), Some(2)), "{name}");
        // Two hrefs (one an xlink:href); text that looks like a URL is not a link.
        assert_eq!(counts("/doc.xml"), (Some(2), Some(1)), "{name}");
        assert_eq!(counts("/pic.svg").0, None, "{name}");
        assert_eq!(
            records["/feed.rss"].content_type.as_deref(),
            Some("application/rss+xml")
        );
        // The feeds' bodies are downloaded even with `--html-bodies-only`; the image's is not.
        for path in ["/feed.rss", "/atom.xml", "/doc.xml"] {
            assert!(records[path].size.is_some_and(|n| n > 0), "{name}: {path}");
        }
        let skipped = extra.contains(&"--html-bodies-only");
        assert_eq!(records["/pic.svg"].size.is_none(), skipped, "{name}");
    }
}
