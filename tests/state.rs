//! `crawl --state DIR`: a crawl stopped any way (SIGKILL at seeded moments, SIGTERM) and run
//! again goes on where it stopped. Over all runs, the JSONL holds every URL of the site once,
//! the WARC file stays readable by warcio with one response per URL, and the last run's report
//! equals that of a crawl never stopped.
//!
//! The kill points are drawn from a seed (`CRAWL_STATE_SEED` overrides the default one; a
//! failure names it). Each is a number of JSONL lines: the test polls the file and kills the
//! crawl once that many are out, so the kills land mid-crawl whatever the machine's speed; what
//! is checked does not depend on where they land.

mod support;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use crawler_sim::Rng;
use support::server::Server;
use support::site::GenSite;

/// The server's wait before each answer: with `--max-tasks 4`, a few thousand pages take
/// seconds, several of the state's commit intervals (1 s).
const DELAY: Duration = Duration::from_millis(2);

/// How long a run may take to reach a kill point, or to end: far more than it needs.
const LIMIT: Duration = Duration::from_secs(120);

fn seed() -> u64 {
    std::env::var("CRAWL_STATE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED)
}

/// One crawl with `--state` of a generated site, its outputs and the server kept across runs
/// (a resume needs the same root, so the same port).
struct Crawl {
    site: GenSite,
    server: Server,
    state: PathBuf,
    jsonl: PathBuf,
    warc: PathBuf,
}

impl Crawl {
    fn new(name: &str, pages: usize) -> Crawl {
        let site = GenSite::new(pages);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Crawl {
            site,
            server: site.serve(DELAY),
            state: dir.join("state"),
            jsonl: dir.join("out.jsonl"),
            warc: dir.join("out.warc.gz"),
        }
    }

    /// The command's arguments, `extra` before the root.
    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = [
            "--state",
            self.state.to_str().unwrap(),
            "--jsonl",
            self.jsonl.to_str().unwrap(),
            "--record",
            self.warc.to_str().unwrap(),
            "--report",
            "json",
        ]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect();
        args.push(self.server.url("/"));
        args
    }

    fn spawn(&self, extra: &[&str]) -> Child {
        let args = self.args(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        support::crawl(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start crawl")
    }

    /// The URLs the state holds now, read from its SQLite file as it is on disk.
    fn kept(&self) -> u64 {
        let path = self.state.join("state.sqlite");
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let db = rusqlite::Connection::open_with_flags(path, flags).expect("the state opens");
        let n: i64 = db
            .query_row("SELECT count(*) FROM kept", [], |r| r.get(0))
            .expect("the state has its table");
        n as u64
    }

    fn run(&self, extra: &[&str]) -> Output {
        self.spawn(extra).wait_with_output().expect("run crawl")
    }

    /// Waits until the JSONL has `lines` lines, then sends the crawl `signal` (SIGKILL, or a
    /// `kill` spelling such as `-TERM`) and returns how it ended.
    fn stop_at(&self, mut child: Child, lines: usize, signal: &str, seed: u64) -> Output {
        let reached = support::poll(LIMIT, || {
            support::lines(&self.jsonl) >= lines || child.try_wait().unwrap().is_some()
        });
        assert!(reached, "seed {seed}: no {lines} lines in {LIMIT:?}");
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "seed {seed}: the crawl ended ({status}) before its stop at line {lines}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        match signal {
            "-KILL" => child.kill().unwrap(),
            _ => {
                let pid = child.id().to_string();
                let sent = std::process::Command::new("kill")
                    .args([signal, &pid])
                    .status()
                    .unwrap();
                assert!(sent.success());
            }
        }
        child.wait_with_output().unwrap()
    }

    /// The JSONL holds every URL of the site once and nothing else, with the status the site
    /// gives it; the WARC file passes `warcio check` and has one response (and one request) per
    /// URL of the JSONL, nothing else.
    fn check_exactly_once(&self, seed: u64) {
        let base = self.server.url("");
        let got =
            self.site
                .assert_each_once(&base, &[&self.jsonl], &format!("seed {seed}: the JSONL"));

        let mut responses: BTreeMap<String, usize> = BTreeMap::new();
        let mut requests = 0;
        for r in support::warcio::warcio_list(&self.warc) {
            match r.kind.as_str() {
                "response" => {
                    let uri = r.uri.unwrap();
                    let path = uri.strip_prefix(&base).unwrap_or(&uri).to_string();
                    *responses.entry(path).or_default() += 1;
                }
                "request" => requests += 1,
                "warcinfo" => {}
                other => panic!("seed {seed}: a {other} record in the WARC"),
            }
        }
        let twice: Vec<_> = responses.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            twice.is_empty(),
            "seed {seed}: URLs twice in the WARC: {twice:?}"
        );
        let recorded: Vec<&String> = responses.keys().collect();
        let listed: Vec<&String> = got.keys().collect();
        assert_eq!(recorded, listed, "seed {seed}: the WARC's responses");
        assert_eq!(requests, responses.len(), "seed {seed}: one request each");
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON report on stdout, without its timing.
fn summary(out: &Output) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {}", stderr(out)));
    v.as_object_mut().unwrap().remove("elapsed");
    v
}

/// The summary of a crawl of `crawl`'s site never stopped, without a state, `max_tasks` at a
/// time (the report says how many).
fn uninterrupted_summary(crawl: &Crawl, max_tasks: &str) -> serde_json::Value {
    let out = support::run(&[
        "-q",
        "--max-tasks",
        max_tasks,
        "--report",
        "json",
        &crawl.server.url("/"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    summary(&out)
}

#[test]
fn killed_four_times_then_resumed_every_url_is_out_once() {
    let seed = seed();
    let mut rng = Rng::new(seed);
    let crawl = Crawl::new("kill", 3000);
    let total = crawl.site.expected().len() as u64;
    // The first kill comes early, likely before the state's first commit; the others anywhere
    // up to 90% of the crawl, in order (a resume starts from fewer lines than it was killed at).
    let mut points = vec![1 + rng.below(40)];
    let mut others: Vec<u64> = (0..3)
        .map(|_| total / 10 + rng.below(total * 8 / 10))
        .collect();
    others.sort();
    points.extend(others);
    let mut at = 0;
    for (i, &p) in points.iter().enumerate() {
        // Each kill point past the last, so every run gets further.
        at = p.max(at + 1);
        let out = crawl.stop_at(
            crawl.spawn(&["-q", "--max-tasks", "4"]),
            at as usize,
            "-KILL",
            seed,
        );
        assert_eq!(
            out.status.signal(),
            Some(9),
            "seed {seed}: kill {i}: {}",
            stderr(&out)
        );
    }
    // What the state kept by the last kill is replayed, not fetched: the last run asks the
    // server for exactly the rest (the site has no faults, so one request per URL).
    let kept = crawl.kept();
    let requests = crawl.server.requests().len();
    let out = crawl.run(&["-q", "--max-tasks", "4"]);
    assert_eq!(
        (crawl.server.requests().len() - requests) as u64,
        total - kept,
        "seed {seed}: the last run fetched what the state had kept ({kept} URLs)"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "seed {seed}, kills at {points:?}: {}",
        stderr(&out)
    );
    crawl.check_exactly_once(seed);
    assert_eq!(
        summary(&out),
        uninterrupted_summary(&crawl, "4"),
        "seed {seed}, kills at {points:?}: the resumed crawl's report"
    );

    // Run again, the crawl is over: it says so (unless -q) and touches nothing.
    let before = (
        std::fs::read(&crawl.jsonl).unwrap(),
        std::fs::read(&crawl.warc).unwrap(),
    );
    for quiet in [&["-q"][..], &[]] {
        let requests = crawl.server.requests().len();
        let out = crawl.run(&[quiet, &["--max-tasks", "4"]].concat());
        assert_eq!(
            crawl.server.requests().len(),
            requests,
            "a finished crawl fetched"
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            stderr(&out).contains("finished already"),
            quiet.is_empty(),
            "{}",
            stderr(&out)
        );
        let after = (
            std::fs::read(&crawl.jsonl).unwrap(),
            std::fs::read(&crawl.warc).unwrap(),
        );
        assert!(
            before == after,
            "a finished crawl run again changed its outputs"
        );
    }
}

#[test]
fn sigterm_then_resume_with_other_options() {
    let seed = seed() ^ 0x7E53;
    let mut rng = Rng::new(seed);
    let crawl = Crawl::new("term", 1500);
    let total = crawl.site.expected().len() as u64;
    let at = total / 5 + rng.below(total / 2);
    let out = crawl.stop_at(
        crawl.spawn(&["-q", "--max-tasks", "4"]),
        at as usize,
        "-TERM",
        seed,
    );
    assert_eq!(
        out.status.code(),
        Some(130),
        "seed {seed}: {}",
        stderr(&out)
    );
    let before = (
        std::fs::read(&crawl.jsonl).unwrap(),
        std::fs::read(&crawl.warc).unwrap(),
    );

    // Another crawl than the state's: refused, naming the option, the outputs untouched.
    let out = crawl.run(&["-q", "--max-tasks", "4", "--max-depth", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--max-depth"), "{}", stderr(&out));
    let after = (
        std::fs::read(&crawl.jsonl).unwrap(),
        std::fs::read(&crawl.warc).unwrap(),
    );
    assert!(before == after, "a refused resume changed the outputs");

    // Other output files than the state's: refused too (a resume cuts them back).
    let mut args = crawl.args(&["-q"]);
    let i = args.iter().position(|a| a == "--jsonl").unwrap();
    args[i + 1] = crawl
        .jsonl
        .with_extension("other.jsonl")
        .display()
        .to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = support::crawl(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--jsonl"), "{}", stderr(&out));

    // How fast to crawl may change.
    let out = crawl.run(&["-q", "--max-tasks", "2"]);
    assert_eq!(out.status.code(), Some(0), "seed {seed}: {}", stderr(&out));
    crawl.check_exactly_once(seed);
    assert_eq!(
        summary(&out),
        uninterrupted_summary(&crawl, "2"),
        "seed {seed}"
    );
}

#[test]
fn a_state_needs_the_jsonl_in_a_file() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("state-dash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = support::run(&[
        "--state",
        dir.to_str().unwrap(),
        "--jsonl",
        "-",
        "http://127.0.0.1:9/",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = stderr(&out);
    assert!(
        stderr.starts_with("crawl: --state needs --jsonl to be a file"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());
}
