//! Replays of recorded crawls: the replay guarantee on recordings of simulated crawls, what
//! each kind of recorded exchange comes back as, and `crawl-sim --replay`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crawler::{Config, Record};
use crawler_sim::{Recording, Replay, ReplayRun, Sim, SimRun};
use crawler_site::Site;
use crawler_warc::{Attempt, Exchange, WarcWriter};
use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder};
use std::io::Write;

use common::{same_outcomes, subset, urls};

fn site(name: &str) -> Site {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sites")
        .join(name);
    Site::load(path).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Crawls `site` in the simulator with `seed`, recording every exchange.
fn record(site: Site, seed: u64, config: &Config) -> (SimRun, Recording, Vec<u8>) {
    let sim = Sim::builder().seed(seed).site(site).build().unwrap();
    let (run, warc) = sim.run_recorded(config, true).unwrap();
    let recording = Recording::from_bytes(&warc).unwrap();
    assert_eq!(
        recording.len(),
        run.requests.len(),
        "one exchange per request"
    );
    (run, recording, warc)
}

fn replay(recording: &Recording, seed: u64, config: &Config) -> ReplayRun {
    Replay::builder(recording.clone())
        .seed(seed)
        .trace_text(true)
        .build()
        .run(config)
        .unwrap()
}

/// Requests per URL, as the server saw them.
fn requests(run: &SimRun) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for r in &run.requests {
        *n.entry(r.url.to_string()).or_default() += 1;
    }
    n
}

fn config(root: &str) -> crawler::ConfigBuilder {
    Config::builder().root(root).timeout(Duration::from_secs(5))
}

#[test]
fn a_replay_with_the_same_options_reproduces_the_recorded_crawl() {
    // small.json: redirect chains and loops, relative Locations, 404/410, a flaky page (500,
    // reset, ok), text/plain, <base href>, robots.txt; faulty.json: random drops, resets, 503s
    // and slow answers, so recorded failures and abandoned requests are replayed too.
    for (name, root) in [
        ("small.json", "http://a.test/"),
        ("faulty.json", "http://shop.test/"),
    ] {
        for record_seed in [1, 2, 3] {
            let config = config(root).seed(record_seed).build().unwrap();
            let (recorded, recording, _) = record(site(name), record_seed, &config);
            for seed in [0, 7, 1234] {
                let config = config.clone();
                let replayed = replay(&recording, seed, &config);
                let context =
                    format!("{name}, recorded with seed {record_seed}, replayed with seed {seed}");
                same_outcomes(&recorded.records, &replayed.run.records)
                    .unwrap_or_else(|e| panic!("{context}:\n{e}"));
                assert!(
                    replayed.unrecorded.is_empty(),
                    "{context}: {:?}",
                    replayed.unrecorded
                );
                assert!(
                    replayed.exhausted.is_empty(),
                    "{context}: {:?}",
                    replayed.exhausted
                );
                assert_eq!(requests(&recorded), requests(&replayed.run), "{context}");
                assert_eq!(replayed.run.in_flight, 0);
            }
        }
    }
}

#[test]
fn replays_with_one_seed_are_identical_and_seeds_move_the_timing() {
    let config = config("http://shop.test/").build().unwrap();
    let (_, recording, _) = record(site("faulty.json"), 5, &config);
    let a = replay(&recording, 11, &config);
    let b = replay(&recording, 11, &config);
    assert_eq!(a.run.trace_hash, b.run.trace_hash);
    assert_eq!(a.run.trace, b.run.trace);
    assert_eq!(a.run.records, b.run.records);
    let c = replay(&recording, 12, &config);
    assert_ne!(a.run.trace_hash, c.run.trace_hash);
    assert_ne!(a.run.end, c.run.end, "latency comes from the seed");
    same_outcomes(&a.run.records, &c.run.records).unwrap();
}

#[test]
fn narrower_options_fetch_a_subset_and_nothing_is_unrecorded() {
    let root = "http://a.test/";
    let (recorded, recording, _) = record(site("small.json"), 3, &config(root).build().unwrap());
    let narrower = [
        config(root).exclude("/chain/").build().unwrap(),
        config(root).max_redirect(1).build().unwrap(),
        config(root).max_depth(1).build().unwrap(),
        config(root).robots(false).build().unwrap(),
        config(root).max_pages(4).build().unwrap(),
    ];
    for config in &narrower {
        let replayed = replay(&recording, 9, config);
        let got = urls(&replayed.run.records);
        assert!(got.len() < recorded.records.len(), "{got:?}");
        subset(&recorded.records, &replayed.run.records).unwrap();
        assert!(replayed.unrecorded.is_empty(), "{:?}", replayed.unrecorded);
        assert!(replayed.exhausted.is_empty(), "{:?}", replayed.exhausted);
    }
    // The subsets are the ones asked for.
    let excluded = replay(&recording, 9, &narrower[0]);
    assert!(
        urls(&excluded.run.records)
            .iter()
            .all(|u| !u.contains("/chain/"))
    );
    let cut = replay(&recording, 9, &narrower[1]);
    assert!(cut.run.summary.redirect_cuts > 0);
}

fn exchange<'a>(url: &'a str, outcome: Attempt<'a>) -> Exchange<'a> {
    Exchange {
        url,
        date: "2026-11-22T00:00:00Z",
        request_headers: &[],
        outcome,
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A recording written by hand: every kind of recorded exchange.
fn hand_made() -> Vec<u8> {
    let html = "<a href=/gz>1</a><a href=/deflate>2</a><a href=/cut>3</a><a href=/corrupt>4</a>\
                <a href=/dns>5</a><a href=/slow>6</a><a href=/retry>7</a><a href=/never>8</a>";
    let gz_page = gzip(b"<a href=/>a</a><a href=/cut>b</a>");
    let deflated = raw_deflate(b"<a href=/gz>c</a>");
    let big = vec![b'x'; 5000];
    let html_h = headers(&[("Content-Type", "text/html")]);
    let gz_h = headers(&[("Content-Type", "text/html"), ("Content-Encoding", "gzip")]);
    let deflate_h = headers(&[
        ("Content-Type", "text/html"),
        ("Content-Encoding", "deflate"),
    ]);
    let plain_h = headers(&[("Content-Type", "text/plain")]);
    let mut w = WarcWriter::new(Vec::new(), false);
    let ok = |status, headers, body, truncated| Attempt::Response {
        status,
        headers,
        body,
        truncated,
    };
    let failed = |error| Attempt::Failed { error };
    let exchanges = [
        exchange("http://h.test/", ok(200, &html_h, html.as_bytes(), false)),
        exchange("http://h.test/gz", ok(200, &gz_h, &gz_page, false)),
        exchange(
            "http://h.test/deflate",
            ok(200, &deflate_h, &deflated, false),
        ),
        exchange("http://h.test/cut", ok(200, &plain_h, &big, true)),
        exchange(
            "http://h.test/corrupt",
            ok(200, &gz_h, b"not gzip at all", false),
        ),
        exchange(
            "http://h.test/corrupt",
            ok(200, &gz_h, b"not gzip at all", false),
        ),
        exchange("http://h.test/dns", failed("dns: no such host")),
        exchange("http://h.test/dns", failed("dns: no such host")),
        exchange(
            "http://h.test/slow",
            failed("timeout: abandoned by the crawl before a response arrived"),
        ),
        exchange("http://h.test/slow", ok(200, &plain_h, b"late", false)),
        exchange("http://h.test/retry", ok(500, &[], b"", false)),
    ];
    for x in &exchanges {
        w.write_exchange(x).unwrap();
    }
    w.into_inner()
}

#[test]
fn each_recorded_exchange_comes_back_as_the_real_transport_gave_it() {
    let recording = Recording::from_bytes(&hand_made()).unwrap();
    let config = Config::builder()
        .root("http://h.test/")
        .robots(false)
        .max_tries(2)
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let run = Replay::builder(recording)
        .max_body(1000)
        .build()
        .run(&config)
        .unwrap();
    let records: BTreeMap<&str, &Record> = run
        .run
        .records
        .iter()
        .map(|r| (r.url.as_str(), r))
        .collect();
    let get = |path: &str| {
        *records
            .get(format!("http://h.test{path}").as_str())
            .unwrap()
    };
    // Decoded as the real transport decodes: the links are found.
    assert_eq!(get("/gz").links, Some(2));
    assert_eq!(get("/gz").size, Some(33));
    assert_eq!(get("/deflate").links, Some(1));
    // Cut by the recorder: still marked cut, and the replay's own cap applies on top.
    let cut = get("/cut");
    assert_eq!((cut.truncated, cut.size), (true, Some(1000)));
    let corrupt = get("/corrupt");
    assert!(
        corrupt
            .error
            .as_deref()
            .unwrap()
            .starts_with("protocol: bad gzip body: "),
        "{corrupt:?}"
    );
    // Recorded failures, in recorded order; an abandoned request is abandoned again.
    let dns = get("/dns");
    assert_eq!(
        (dns.tries, dns.error.as_deref()),
        (2, Some("dns: no such host"))
    );
    let slow = get("/slow");
    assert_eq!((slow.tries, slow.status), (2, Some(200)));
    assert!(
        run.run.end >= Duration::from_secs(3),
        "the engine's timeout ran"
    );
    assert!(run.run.trace.is_none());
    // Recorded once, asked twice: the 500 again, and the URL is listed.
    assert_eq!((get("/retry").status, get("/retry").tries), (Some(500), 2));
    assert_eq!(
        run.exhausted.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        ["http://h.test/retry"]
    );
    // Never recorded: a distinct error, never a 404, and listed with its request count.
    let never = get("/never");
    assert_eq!(
        (never.status, never.error.as_deref()),
        (None, Some("other: not in the recording"))
    );
    assert_eq!(run.unrecorded.len(), 1);
    assert_eq!(run.unrecorded[0].as_str(), "http://h.test/never");
    assert_eq!(run.unrecorded_requests, 2);
    assert_eq!(
        run.run
            .summary
            .failures_by_kind
            .get(&crawler::FetchErrorKind::Other),
        Some(&1)
    );
}

#[test]
fn with_html_bodies_only_a_body_that_is_not_html_is_skipped_as_the_real_transport_skips_it() {
    let recording = Recording::from_bytes(&hand_made()).unwrap();
    let config = Config::builder()
        .root("http://h.test/")
        .robots(false)
        .max_tries(2)
        .timeout(Duration::from_secs(3))
        .html_bodies_only(true)
        .build()
        .unwrap();
    let run = Replay::builder(recording).build().run(&config).unwrap();
    let get = |path: &str| {
        let url = format!("http://h.test{path}");
        run.run.records.iter().find(|r| r.url == url).unwrap()
    };
    let cut = get("/cut");
    assert_eq!(
        (cut.status, cut.size, cut.truncated),
        (Some(200), None, false)
    );
    assert_eq!(cut.content_type.as_deref(), Some("text/plain"));
    // HTML is read (and decoded) as before.
    assert_eq!((get("/gz").size, get("/gz").links), (Some(33), Some(2)));
    assert!(get("/corrupt").error.is_some());
}

fn crawl_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crawl-sim"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn crawl_sim_replays_a_recording_with_the_crawl_options() {
    let config = config("http://a.test/").build().unwrap();
    let (recorded, _, warc) = record(site("small.json"), 3, &config);
    let file = tmp("small.warc.gz");
    std::fs::write(&file, warc).unwrap();
    let jsonl = tmp("small-replay.jsonl");
    let file = file.to_str().unwrap();
    // Roots from the recording; --timeout as recorded.
    let out = crawl_sim(&[
        "--replay",
        file,
        "--seed",
        "4",
        "--timeout",
        "5",
        "--jsonl",
        jsonl.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let replayed: Vec<Record> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    same_outcomes(&recorded.records, &replayed).unwrap();
    let again = crawl_sim(&["--replay", file, "--seed", "4", "--timeout", "5", "-q"]);
    let hash = |o: &Output| {
        let e = stderr(o);
        e[e.find("trace hash ").unwrap()..][..27].to_string()
    };
    assert_eq!(hash(&out), hash(&again));
    // Narrower: nothing unrecorded, exit 0.
    let narrower = crawl_sim(&[
        "--replay",
        file,
        "--exclude",
        "/chain/",
        "--max-redirect",
        "1",
        "-q",
    ]);
    assert!(narrower.status.success(), "{}", stderr(&narrower));
    // A root the recording does not have: outputs as usual, then exit 4 naming it.
    let off = crawl_sim(&[
        "--replay",
        file,
        "--ignore-robots",
        "--report",
        "text",
        "http://a.test/elsewhere",
    ]);
    assert_eq!(off.status.code(), Some(4), "{}", stderr(&off));
    let text = String::from_utf8(off.stdout.clone()).unwrap();
    assert!(
        text.contains("http://a.test/elsewhere error other: not in the recording"),
        "{text}"
    );
    let err = stderr(&off);
    assert!(
        err.ends_with(
            "crawl-sim: the replay asked for 1 url(s) not in the recording (4 requests): \
             http://a.test/elsewhere (seed 0)\n"
        ),
        "{err}"
    );
}

#[test]
fn crawl_sim_wants_exactly_one_world_and_a_readable_recording() {
    let garbage = tmp("garbage.warc");
    std::fs::write(&garbage, "this is not warc").unwrap();
    let empty = tmp("empty.warc");
    std::fs::write(&empty, "").unwrap();
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sites/small.json");
    let cases: [(&[&str], &str); 5] = [
        (&[], "the following required arguments were not provided"),
        (
            &[
                "--site",
                site.to_str().unwrap(),
                "--replay",
                garbage.to_str().unwrap(),
            ],
            "cannot be used with",
        ),
        (
            &["--replay", "/nonexistent/x.warc.gz"],
            "crawl-sim: recording /nonexistent/x.warc.gz: cannot read: ",
        ),
        (
            &["--replay", garbage.to_str().unwrap()],
            "garbage.warc: malformed warc at byte 0: record header never ends",
        ),
        (
            &["--replay", empty.to_str().unwrap()],
            "crawl-sim: no root url given (give one: the recording has none)",
        ),
    ];
    for (args, want) in cases {
        let out = crawl_sim(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        if !args.is_empty() && !args.contains(&"--site") {
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
}
