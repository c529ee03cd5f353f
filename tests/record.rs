//! `crawl --record`: the WARC file of a real crawl, checked by an independent reader, Python's
//! `warcio` (`warcio check` for the digests and the format, then every record read back; see
//! `support/warcio.rs` for how the tests get warcio).

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::Compression;
use flate2::write::GzEncoder;
use support::server::{Body, Reply, Server};
use support::warcio::{Rec, warcio_read};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_recorded_crawl_is_a_valid_warc_with_every_try() {
    let flaky = Arc::new(AtomicUsize::new(0));
    let gz_page = "<a href=/a>a</a>";
    let server = Server::start(move |req| match req.path.as_str() {
        "/robots.txt" => Reply::status(200)
            .header("content-type", "text/plain")
            .body(Body::Length(b"User-agent: *\nDisallow:\n".to_vec())),
        "/" => Reply::html(
            "<a href=/gz>g</a><a href=/flaky>f</a><a href=/old>o</a>\
                            <a href=/chunked>c</a><a href=/slow>s</a><a href=/missing>m</a>",
        ),
        "/gz" => Reply::status(200)
            .header("content-type", "text/html")
            .header("content-encoding", "gzip")
            .body(Body::Length(gzip(gz_page.as_bytes()))),
        "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) == 0 => Reply::status(500),
        "/old" => Reply::redirect(301, "/a"),
        "/chunked" => Reply::status(200)
            .header("content-type", "text/html")
            .body(Body::Chunked(b"<p>in pieces</p>".to_vec(), 3)),
        "/slow" => Reply::status(200).body(Body::Hang),
        "/missing" => Reply::status(404),
        path => Reply::html(format!("<p>{path}</p>")),
    });
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let warc = dir.join(format!("record-{}.warc.gz", std::process::id()));
    let jsonl = support::out_path("record");
    let out = support::run(&[
        "-q",
        "--record",
        warc.to_str().unwrap(),
        "--jsonl",
        jsonl.to_str().unwrap(),
        "--timeout",
        "0.5",
        "--max-tries",
        "2",
        &server.url("/"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The warcinfo record names the crawl's root, so a replay starts where the crawl did.
    let records = crawler_warc::read_records(&std::fs::read(&warc).unwrap()).unwrap();
    let info = String::from_utf8_lossy(&records[0].block).into_owned();
    let root_line = format!("{}: {}", crawler_warc::ROOT_FIELD, server.url("/"));
    assert!(info.contains(&root_line), "{info}");
    let records = warcio_read(&warc);
    let base = server.url("");
    let path = |r: &Rec| {
        r.uri
            .as_deref()
            .unwrap_or("")
            .strip_prefix(&base)
            .map(str::to_string)
    };

    assert_eq!(records[0].kind, "warcinfo");
    // Every try is there: each response with its request, each failure as metadata.
    let mut tries: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &records[1..] {
        let what = match (r.kind.as_str(), r.status, &r.error) {
            ("response", Some(s), _) => s.to_string(),
            ("metadata", _, Some(e)) => e.split(':').next().unwrap().to_string(),
            ("request", ..) => continue,
            other => panic!("unexpected record {other:?}"),
        };
        tries.entry(path(r).unwrap()).or_default().push(what);
    }
    let expected: BTreeMap<String, Vec<String>> = [
        ("/robots.txt", vec!["200"]),
        ("/", vec!["200"]),
        ("/gz", vec!["200"]),
        ("/flaky", vec!["500", "200"]),
        ("/old", vec!["301"]),
        ("/a", vec!["200"]),
        ("/chunked", vec!["200"]),
        ("/slow", vec!["timeout", "timeout"]),
        ("/missing", vec!["404"]),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_string(), t.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(tries, expected);
    let requests = records.iter().filter(|r| r.kind == "request").count();
    let responses = records.iter().filter(|r| r.kind == "response").count();
    assert_eq!(requests, responses);
    // The JSONL and the WARC name the same URLs.
    let fetched: Vec<String> = support::records(&jsonl)
        .iter()
        .map(|r| r.url.strip_prefix(&base).unwrap().to_string())
        .collect();
    assert_eq!(fetched.len(), expected.len());
    assert!(
        fetched.iter().all(|p| expected.contains_key(p)),
        "{fetched:?}"
    );

    let response = |p: &str| {
        records
            .iter()
            .find(|r| r.kind == "response" && path(r).as_deref() == Some(p))
            .unwrap()
    };
    // The gzip body is stored as it came over the wire; warcio decodes it to the page.
    let gz = response("/gz");
    assert_eq!(gz.http["content-encoding"], "gzip");
    assert_eq!(gz.raw, hex(&gzip(gz_page.as_bytes())));
    assert_eq!(gz.decoded, gz_page);
    // A chunked body is stored without its framing (and without claiming it).
    let chunked = response("/chunked");
    assert_eq!(chunked.raw, hex(b"<p>in pieces</p>"));
    assert!(!chunked.http.contains_key("transfer-encoding"));
    assert_eq!(response("/old").http["location"], "/a");
    assert!(records.iter().all(|r| r.truncated.is_none()));
    // Requests as sent: Host, then the crawler's own fields.
    let request = records
        .iter()
        .find(|r| r.kind == "request" && path(r).as_deref() == Some("/gz"))
        .unwrap();
    assert_eq!(request.http["host"], &base["http://".len()..]);
    assert_eq!(request.http["accept-encoding"], "gzip, deflate");
    assert!(request.http["user-agent"].starts_with("crawler/"));
}

#[test]
fn a_recording_survives_ctrl_c() {
    let server = Server::start(|req| match req.path.as_str() {
        "/" => Reply::html("<a href=/a>a</a><a href=/hang>h</a>"),
        "/robots.txt" => Reply::status(404),
        "/a" => Reply::html("<p>a</p>"),
        _ => Reply::status(200).body(Body::Hang),
    });
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let warc = dir.join(format!("interrupt-{}.warc", std::process::id()));
    let child = support::crawl(&[
        "-q",
        "--max-tasks",
        "1",
        "--record",
        warc.to_str().unwrap(),
        &server.url("/"),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // One task at a time: when /hang is asked for, everything before it has completed.
    assert_eq!(server.wait_for_hang(), "/hang");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = warcio_read(&warc);
    let base = server.url("");
    let got: Vec<(String, String)> = records
        .iter()
        .skip(1)
        .map(|r| {
            let uri = r
                .uri
                .as_deref()
                .unwrap()
                .strip_prefix(&base)
                .unwrap()
                .to_string();
            (r.kind.clone(), uri)
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("request", "/robots.txt"),
        ("response", "/robots.txt"),
        ("request", "/"),
        ("response", "/"),
        ("request", "/a"),
        ("response", "/a"),
    ]
    .into_iter()
    .map(|(k, p)| (k.to_string(), p.to_string()))
    .collect();
    // The request cut off by Ctrl-C is not part of the crawl: no record of it.
    assert_eq!(got, want);
}

#[test]
fn an_unwritable_recording_is_a_usage_error() {
    let out = support::run(&["--record", "/nonexistent-dir/x.warc", "http://127.0.0.1:9/"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("crawl: cannot write /nonexistent-dir/x.warc:"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
