//! Record and replay, end to end: the real `crawl --record` against hand-made sites on a local
//! server, then the recording replayed in the simulator (`crawler_sim::Replay`) and compared with
//! what the real crawl reported, field by field (see `sim/tests/common/mod.rs`).
//!
//! The same sites make the committed fixtures in `fixtures/replay/` (a recording, the real
//! crawl's JSON lines and its options per site), which `sim/tests/fixtures.rs` replays on every
//! test run without a network. To rewrite them after a change to the sites or to what the crawl
//! records: `CRAWLER_UPDATE_FIXTURES=1 cargo test -p crawl --test replay` (see `fixtures/replay/README.md`).

mod support;

#[path = "../sim/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use clap::Parser;
use crawler::Record;
use crawler_cli::CrawlArgs;
use crawler_sim::{Recording, Replay, ReplayRun};
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use support::server::{Body, Reply, Req, Server};

use common::{same_outcomes, subset};

/// The options `crawl-sim --replay` takes besides the crawl options, as in `crawl`.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    crawl: CrawlArgs,
    #[arg(long, default_value_t = crawler_sim::DEFAULT_MAX_BODY)]
    max_body: usize,
}

fn links(hrefs: &[&str]) -> String {
    let mut html = String::from("<!doctype html><html><body>\n");
    for h in hrefs {
        html.push_str(&format!("<a href=\"{h}\">{h}</a>\n"));
    }
    html.push_str("</body></html>\n");
    html
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Counts requests per path, for answers that change with the try (500, then 200).
#[derive(Clone, Default)]
struct Tries(Arc<Mutex<BTreeMap<String, usize>>>);

impl Tries {
    /// How many requests for `path` came before this one.
    fn before(&self, path: &str) -> usize {
        let mut tries = self.0.lock().unwrap();
        let n = tries.entry(path.to_string()).or_default();
        *n += 1;
        *n - 1
    }
}

type Handler = Box<dyn Fn(&Req) -> Reply + Send + Sync>;

/// A site to record: its name (the fixture's file name), the crawl options, and the server (a
/// hand-made one, or `None` for `crawl demo`, which serves the embedded demo site itself).
struct Site {
    name: &'static str,
    args: &'static [&'static str],
    serve: Option<fn() -> Handler>,
}

const SITES: [Site; 5] = [
    Site {
        name: "redirects",
        args: &["--max-redirect", "3"],
        serve: Some(redirects),
    },
    Site {
        name: "errors",
        args: &["--max-tries", "2", "--timeout", "1"],
        serve: Some(errors),
    },
    Site {
        name: "content",
        args: &["--max-body", "2000"],
        serve: Some(content),
    },
    Site {
        name: "content-html-only",
        args: &["--max-body", "2000", "--html-bodies-only"],
        serve: Some(content),
    },
    Site {
        name: "demo",
        args: &[],
        serve: None,
    },
];

/// Redirect chains (absolute, relative, up-level `Location`s), a loop, a self-redirect, a
/// chain longer than `--max-redirect`, a redirect without `Location` and one with garbage.
fn redirects() -> Handler {
    Box::new(|req: &Req| {
        let host = req.header("host").unwrap_or("").to_string();
        match req.path.as_str() {
            "/" => Reply::html(links(&[
                "/chain/1",
                "/loop/a",
                "/self",
                "/rel/start",
                "/deep/dir/up",
                "/long/1",
                "/no-location",
                "/garbage",
            ])),
            "/chain/1" => Reply::redirect(301, "/chain/2"),
            "/chain/2" => Reply::redirect(302, &format!("http://{host}/chain/3")),
            "/chain/3" => Reply::redirect(307, "end"),
            "/chain/end" => Reply::html(links(&["/"])),
            "/loop/a" => Reply::redirect(301, "/loop/b"),
            "/loop/b" => Reply::redirect(301, "/loop/a"),
            "/self" => Reply::redirect(308, "/self"),
            "/rel/start" => Reply::redirect(303, "../rel/target?from=start"),
            "/rel/target?from=start" => Reply::html(links(&[])),
            "/deep/dir/up" => Reply::redirect(301, "../../chain/end"),
            "/long/1" => Reply::redirect(301, "/long/2"),
            "/long/2" => Reply::redirect(301, "/long/3"),
            "/long/3" => Reply::redirect(301, "/long/4"),
            "/long/4" => Reply::redirect(301, "/long/5"),
            "/long/5" => Reply::html(links(&[])),
            "/no-location" => Reply::status(302),
            "/garbage" => Reply::redirect(301, "http://[::1"),
            _ => Reply::status(404)
                .header("content-type", "text/plain")
                .body(Body::Length(b"not found".to_vec())),
        }
    })
}

/// robots.txt rules, 404 and 410, a 500 that turns into a 200 on the retry, a 503 that stays,
/// an answer that is not HTTP, and one that never comes (the crawl's timeout).
fn errors() -> Handler {
    let tries = Tries::default();
    Box::new(move |req: &Req| match req.path.as_str() {
        "/robots.txt" => Reply::status(200)
            .header("content-type", "text/plain")
            .body(Body::Length(
                b"User-agent: *\nDisallow: /private\n".to_vec(),
            )),
        "/" => Reply::html(links(&[
            "/missing",
            "/gone",
            "/flaky",
            "/down",
            "/broken",
            "/slow",
            "/private/page",
        ])),
        "/gone" => Reply::status(410)
            .header("content-type", "text/plain")
            .body(Body::Length(b"gone".to_vec())),
        "/flaky" if tries.before("/flaky") == 0 => Reply::status(500),
        "/flaky" => Reply::html(links(&["/after-flaky"])),
        "/after-flaky" => Reply::html(links(&[])),
        "/down" => Reply::status(503),
        "/broken" => Reply::status(200).body(Body::Raw(b"this is not http\r\n\r\n".to_vec())),
        "/slow" => Reply::status(200).body(Body::Hang),
        _ => Reply::status(404),
    })
}

/// What the body can be: not HTML (with links inside that must stay invisible), binary, gzip-
/// and deflate-encoded HTML, chunked, XHTML, `<base href>`, and bodies cut at `--max-body`
/// (one plain, one gzip-encoded: the recording keeps the wire bytes read before the cut).
fn content() -> Handler {
    let gz = gzip(links(&["gz-child"]).as_bytes());
    let deflated = zlib(links(&["/deflate-child"]).as_bytes());
    let mut big = links(&["/big-child"]);
    big.push_str(&"<p>filler</p>\n".repeat(400));
    let big_gz = gzip(big.as_bytes());
    Box::new(move |req: &Req| {
        let typed = |ct: &str, body: &[u8]| {
            Reply::status(200)
                .header("content-type", ct)
                .body(Body::Length(body.to_vec()))
        };
        match req.path.as_str() {
            "/" => Reply::html(links(&[
                "/plain.txt",
                "/data.json",
                "/image.png",
                "/gz",
                "/deflate",
                "/chunked",
                "/page.xhtml",
                "/base/",
                "/big",
                "/big-gz",
            ])),
            "/plain.txt" => typed("text/plain", b"<a href=\"/not-a-link\">not html</a>"),
            "/data.json" => typed("application/json", br#"{"href": "/not-a-link"}"#),
            "/image.png" => typed("image/png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            "/gz" => typed("text/html", &gz).header("content-encoding", "gzip"),
            "/deflate" => typed("text/html", &deflated).header("content-encoding", "deflate"),
            "/chunked" => Reply::status(200)
                .header("content-type", "text/html")
                .body(Body::Chunked(links(&["/chunked-child"]).into_bytes(), 16)),
            "/page.xhtml" => typed("application/xhtml+xml", links(&["/xhtml-child"]).as_bytes()),
            "/base/" => typed(
                "text/html",
                b"<html><head><base href=\"/docs/v2/\"></head><body>\
                  <a href=\"intro\">intro</a> <a href=\"../other\">other</a></body></html>",
            ),
            "/big" => typed("text/html; charset=utf-8", big.as_bytes()),
            "/big-gz" => typed("text/html", &big_gz).header("content-encoding", "gzip"),
            "/gz-child" | "/deflate-child" | "/chunked-child" | "/xhtml-child"
            | "/docs/v2/intro" | "/docs/other" | "/big-child" => Reply::html(links(&[])),
            _ => Reply::status(404),
        }
    })
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// What one real, recorded crawl left behind.
struct Recorded {
    warc: PathBuf,
    jsonl: PathBuf,
    records: Vec<Record>,
    root: String,
}

/// Crawls `site` for real with `crawl --record`, on a fresh local server.
fn record(site: &Site) -> Recorded {
    let warc = tmp(&format!("{}.warc.gz", site.name));
    let jsonl = tmp(&format!("{}.jsonl", site.name));
    let server = site.serve.map(|handler| Server::start(handler()));
    let root = match &server {
        Some(server) => server.url("/"),
        None => "demo".to_string(),
    };
    let out = Command::new(env!("CARGO_BIN_EXE_crawl"))
        .arg("--record")
        .arg(&warc)
        .arg("--jsonl")
        .arg(&jsonl)
        .args(["--report", "none", "-q"])
        .args(site.args)
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: crawl failed: {}",
        site.name,
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);
    let records = read_jsonl(&jsonl);
    // The demo server's port is only known from what was crawled: robots.txt comes first.
    let robots = records
        .iter()
        .find(|r| r.url.ends_with("/robots.txt"))
        .expect("robots.txt was fetched");
    let root = robots.url.trim_end_matches("robots.txt").to_string();
    Recorded {
        warc,
        jsonl,
        records,
        root,
    }
}

fn read_jsonl(path: &Path) -> Vec<Record> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Replays `warc` with the crawl options and root `args`, changed by `tweak`, and `seed`.
fn replay_with(
    warc: &Path,
    args: &[String],
    seed: u64,
    tweak: impl FnOnce(&mut Args),
) -> ReplayRun {
    let recording = Recording::load(warc).unwrap();
    let argv = std::iter::once("crawl-sim").chain(args.iter().map(String::as_str));
    let mut args = Args::parse_from(argv);
    tweak(&mut args);
    let config = args.crawl.config().unwrap();
    Replay::builder(recording)
        .seed(seed)
        .max_body(args.max_body)
        .trace_text(true)
        .build()
        .run(&config)
        .unwrap()
}

fn replay(warc: &Path, args: &[String], seed: u64) -> ReplayRun {
    replay_with(warc, args, seed, |_| {})
}

#[test]
fn replays_of_real_recordings_reproduce_the_real_crawls() {
    let update = std::env::var_os("CRAWLER_UPDATE_FIXTURES").is_some();
    for site in &SITES {
        let real = record(site);
        if site.serve.is_some() {
            // No sitemap: the root is the first page after robots.txt. (The demo's sitemap may
            // finish first and name a page that finishes first too, so its root is given.)
            let recording = Recording::load(&real.warc).unwrap();
            assert_eq!(recording.roots(), vec![real.root.clone()], "{}", site.name);
        }
        let args: Vec<String> = site
            .args
            .iter()
            .map(|a| a.to_string())
            .chain([real.root.clone()])
            .collect();
        let args = &args[..];
        for seed in [0, 1, 2] {
            let run = replay(&real.warc, args, seed);
            same_outcomes(&real.records, &run.run.records)
                .unwrap_or_else(|e| panic!("{} (seed {seed}):\n{e}", site.name));
            assert!(
                run.unrecorded.is_empty(),
                "{}: {:?}",
                site.name,
                run.unrecorded
            );
            assert!(
                run.exhausted.is_empty(),
                "{}: {:?}",
                site.name,
                run.exhausted
            );
        }
        let (a, b) = (replay(&real.warc, args, 5), replay(&real.warc, args, 5));
        assert_eq!(
            a.run.trace, b.run.trace,
            "{}: one seed, one trace",
            site.name
        );
        // Narrower options: a subset, nothing unrecorded.
        let narrower: [fn(&mut Args); 2] = [
            |a| a.crawl.exclude = Some("/(chain|flaky|gz)".into()),
            |a| a.crawl.max_redirect = 1,
        ];
        for (i, tweak) in narrower.into_iter().enumerate() {
            let run = replay_with(&real.warc, args, 3, tweak);
            subset(&real.records, &run.run.records)
                .unwrap_or_else(|e| panic!("{} narrower #{i}:\n{e}", site.name));
            assert!(
                run.unrecorded.is_empty(),
                "{}: {:?}",
                site.name,
                run.unrecorded
            );
        }
        if update {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/replay");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(&real.warc, dir.join(format!("{}.warc.gz", site.name))).unwrap();
            std::fs::copy(&real.jsonl, dir.join(format!("{}.jsonl", site.name))).unwrap();
            let lines: String = args.iter().map(|a| format!("{a}\n")).collect();
            std::fs::write(dir.join(format!("{}.args", site.name)), lines).unwrap();
        }
    }
}
