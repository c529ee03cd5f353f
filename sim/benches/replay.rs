//! Replay throughput: how fast a WARC recording loads, and how many replayed requests per second
//! of wall time the engine and the replaying transport sustain together.
//!
//! Run with `cargo bench -p crawler-sim --bench replay`. For each recording (pages, page size,
//! content encoding) the table gives the recording's size (`.warc.gz`, gzip per record), the
//! median time to load it (`Recording::from_bytes`: gunzip and parse every record), and the
//! median wall and CPU time (Linux `/proc/thread-self/schedstat`; `-` elsewhere) of a whole
//! replay, with requests per second and cost per page. `REPLAY_BENCH_MAX_PAGES=10000` skips the
//! larger recordings; `REPLAY_BENCH_RUNS=5` changes the number of runs (default 3).
//!
//! Each site: page `i` links to page `i + 1` and to 7 pages drawn at random (the graph of the
//! `throughput` bench); every page is recorded once, as a real crawl of it without robots.txt
//! would record it. With `gzip` every body is recorded gzip-encoded, so each replayed request
//! also gunzips its body, as the real transport would. Writing the recording is not timed.

use std::time::{Duration, Instant};

use crawler::Config;
use crawler_sim::{Recording, Replay, Rng};
use crawler_warc::{Attempt, Exchange, WarcWriter};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

const LINKS: usize = 8;

/// A recording of every page of the benchmark graph.
fn recording(pages: usize, pad: usize, gzip: bool) -> Vec<u8> {
    let mut rng = Rng::new(1);
    let mut warc = WarcWriter::new(Vec::new(), true);
    let filler = "lorem ipsum dolor sit amet ".repeat(pad / 27 + 1);
    for i in 0..pages {
        let mut html = String::from("<!doctype html><html><body>\n");
        html.push_str(&format!("<a href=\"p{}\">next</a>\n", (i + 1) % pages));
        for _ in 1..LINKS {
            html.push_str(&format!("<a href=\"p{}\">x</a>\n", rng.below(pages as u64)));
        }
        html.push_str(&filler[..pad]);
        html.push_str("</body></html>\n");
        let mut headers = vec![("Content-Type".to_string(), "text/html".to_string())];
        let body = if gzip {
            headers.push(("Content-Encoding".to_string(), "gzip".to_string()));
            let mut e = GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(html.as_bytes()).unwrap();
            e.finish().unwrap()
        } else {
            html.into_bytes()
        };
        let url = format!("http://bench.test/p{i}");
        warc.write_exchange(&Exchange {
            url: &url,
            date: "2026-11-22T00:00:00Z",
            request_headers: &[],
            outcome: Attempt::Response {
                status: 200,
                headers: &headers,
                body: &body,
                truncated: false,
            },
        })
        .unwrap();
    }
    warc.into_inner()
}

/// Time this thread has spent running on a CPU, when the kernel says.
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let max_pages: usize = std::env::var("REPLAY_BENCH_MAX_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runs: usize = std::env::var("REPLAY_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let cases = [
        (1_000, 0, false),
        (10_000, 0, false),
        (100_000, 0, false),
        (10_000, 10_000, false),
        (10_000, 10_000, true),
    ];
    println!(
        "replays, median of {runs} runs (max_tasks 100, {LINKS} links per page, no robots.txt)"
    );
    println!(
        "{:>7} {:>6} {:>8} {:>9} | {:>8} | {:>8} {:>11} {:>8} | {:>8} {:>11} {:>8}",
        "pages",
        "size",
        "encoding",
        "warc.gz",
        "load",
        "wall",
        "requests/s",
        "ns/page",
        "cpu",
        "requests/s",
        "ns/page"
    );
    for (pages, pad, gzip) in cases.into_iter().filter(|c| c.0 <= max_pages) {
        let warc = recording(pages, pad, gzip);
        let mut loads = Vec::new();
        let mut recording = None;
        for _ in 0..runs {
            let started = Instant::now();
            recording = Some(Recording::from_bytes(&warc).unwrap());
            loads.push(started.elapsed());
        }
        let replay = Replay::builder(recording.unwrap()).seed(7).build();
        let config = Config::builder()
            .root("http://bench.test/p0")
            .max_tasks(100)
            .robots(false)
            .build()
            .unwrap();
        let (mut walls, mut cpus) = (Vec::new(), Vec::new());
        let mut requests = 0;
        for _ in 0..runs {
            let (started, cpu_start) = (Instant::now(), cpu_time());
            let run = replay.start(&config, None, |_| {}).finish().unwrap();
            walls.push(started.elapsed());
            if let (Some(a), Some(b)) = (cpu_start, cpu_time()) {
                cpus.push(b.saturating_sub(a));
            }
            assert_eq!(run.run.summary.urls as usize, pages, "every page replayed");
            assert!(run.unrecorded.is_empty());
            requests = run.run.requests.len();
        }
        let rates = |d: Duration| {
            let secs = d.as_secs_f64();
            format!(
                "{:>7.3}s {:>11.0} {:>8.0}",
                secs,
                requests as f64 / secs,
                secs * 1e9 / pages as f64
            )
        };
        let cpu = if cpus.len() == runs {
            rates(median(cpus))
        } else {
            format!("{:>29}", "-")
        };
        let size = if pad == 0 {
            "tiny".into()
        } else {
            format!("{} KB", pad / 1000)
        };
        println!(
            "{:>7} {:>6} {:>8} {:>8.1}M | {:>7.3}s | {} | {}",
            pages,
            size,
            if gzip { "gzip" } else { "identity" },
            warc.len() as f64 / 1e6,
            median(loads).as_secs_f64(),
            rates(median(walls)),
            cpu
        );
    }
}
