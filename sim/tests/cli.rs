//! The `crawl-sim` command: outputs, determinism, and clear errors with distinct exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sites")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
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

fn hash_of(out: &Output) -> String {
    let err = stderr(out);
    let at = err.find("trace hash ").expect("trace hash on stderr") + "trace hash ".len();
    err[at..at + 16].to_string()
}

#[test]
fn crawls_a_site_file_with_the_shared_outputs() {
    let site = fixture("small.json");
    let jsonl = tmp("small.jsonl");
    let trace = tmp("small.trace");
    let out = crawl_sim(&[
        "--site",
        site.to_str().unwrap(),
        "--seed",
        "3",
        "--jsonl",
        jsonl.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
        "--ignore-robots",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(stdout.starts_with("*** Report ***\n"), "{stdout}");
    assert!(
        stdout.contains("http://a.test/flaky 200 text/html"),
        "{stdout}"
    );
    assert!(stdout.contains("Done: 21\n"), "{stdout}");
    // Roots came from the site file; one JSON line per fetched URL.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 21);
    assert_eq!(lines[0]["url"], "http://a.test/");
    let flaky = lines
        .iter()
        .find(|l| l["url"] == "http://a.test/flaky")
        .unwrap();
    assert_eq!(flaky["tries"], 3);
    let down = lines.iter().find(|l| l["url"] == "http://down.test/");
    assert!(down.is_none(), "down.test is out of strict scope");
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(
        trace.starts_with("0.000000 request http://a.test/\n"),
        "{trace}"
    );
    // The same seed again: the same hash; another seed: another.
    let site = site.to_str().unwrap();
    let again = crawl_sim(&["--site", site, "--seed", "3", "-q", "--ignore-robots"]);
    assert_eq!(hash_of(&out), hash_of(&again));
    let other = crawl_sim(&["--site", site, "--seed", "4", "-q", "--ignore-robots"]);
    assert_ne!(hash_of(&out), hash_of(&other));
    // By default the engine asks each host for robots.txt first (a 404 here: all allowed).
    let robots = crawl_sim(&["--site", site, "--seed", "3", "--report", "text"]);
    let text = String::from_utf8(robots.stdout).unwrap();
    assert!(text.contains("http://a.test/robots.txt 404"), "{text}");
    assert!(text.contains("http://a.test/flaky 200 text/html"), "{text}");
}

#[test]
fn crawl_options_are_the_shared_ones() {
    let site = fixture("small.json");
    let out = crawl_sim(&[
        "--site",
        site.to_str().unwrap(),
        "--max-redirect",
        "1",
        "--lenient",
        "--report",
        "json",
        "--ignore-robots",
        "http://a.test/",
        "http://b.test/elsewhere",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["redirect_cuts"], 2, "{summary}");
    // The second root put b.test in scope; its page links back to a 404 on a.test.
    assert_eq!(summary["status_classes"]["4xx"], 3, "{summary}");
}

#[test]
fn bad_input_is_one_clear_line_and_exit_2() {
    let bad = tmp("bad.json");
    std::fs::write(&bad, r#"{"pages": {"http://a/": {"lnks": []}}}"#).unwrap();
    let malformed = tmp("malformed.json");
    std::fs::write(&malformed, r#"{"pages": "#).unwrap();
    let empty = tmp("empty.json");
    std::fs::write(&empty, "{}").unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--site", "/nonexistent/site.json"],
            "crawl-sim: site file /nonexistent/site.json: cannot read: ",
        ),
        (
            &["--site", bad.to_str().unwrap()],
            "pages[\"http://a/\"]: unknown field \"lnks\", expected one of",
        ),
        (
            &["--site", malformed.to_str().unwrap()],
            "EOF while parsing",
        ),
        (
            &["--site", empty.to_str().unwrap()],
            "crawl-sim: no root url given (give one, or set \"roots\" in the site file)",
        ),
        (
            &[
                "--site",
                empty.to_str().unwrap(),
                "--exclude",
                "(",
                "http://a/",
            ],
            "crawl-sim: invalid exclude pattern",
        ),
    ];
    for (args, expected) in cases {
        let out = crawl_sim(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        // The regex crate's own message spans lines (it draws a caret under the error).
        if !expected.contains("exclude") {
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
    // Flags clap refuses: its own message, exit 2.
    assert_eq!(crawl_sim(&["--site"]).status.code(), Some(2));
    assert_eq!(
        crawl_sim(&["--site", "x", "--budget", "-1"]).status.code(),
        Some(2)
    );
}

#[test]
fn a_budget_overrun_is_exit_3_and_names_the_seed() {
    let site = tmp("hang.json");
    std::fs::write(
        &site,
        r#"{"roots": ["http://a.test/"], "pages": {"http://a.test/": {"script": ["drop"]}}}"#,
    )
    .unwrap();
    let trace = tmp("hang.trace");
    let out = crawl_sim(&[
        "--site",
        site.to_str().unwrap(),
        "--seed",
        "9",
        "--budget",
        "10",
        "--trace",
        trace.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.starts_with("crawl-sim: virtual-time budget of 10s overrun")
            && err.contains("(seed 9)"),
        "{err}"
    );
    // The trace of a failed run is written as far as it got: that is when it is wanted most.
    let trace = std::fs::read_to_string(&trace).unwrap();
    assert!(
        trace.contains("http://a.test/") && trace.contains("drop"),
        "{trace}"
    );
}

#[test]
fn verbose_shows_a_line_per_url_on_stderr() {
    let site = tmp("verbose.json");
    std::fs::write(
        &site,
        r#"{"roots": ["http://a.test/"], "pages": {"http://a.test/": {"links": ["/x"]}}}"#,
    )
    .unwrap();
    let args = ["--site", site.to_str().unwrap(), "--ignore-robots"];
    let quiet = stderr(&crawl_sim(&args));
    assert!(!quiet.contains("http://a.test/x"), "{quiet}");
    let out = crawl_sim(&[&args[..], &["-v"]].concat());
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.starts_with("crawl-sim: 200 http://a.test/\ncrawl-sim: 404 http://a.test/x\n"),
        "{err}"
    );
}

/// `--jsonl -`: the JSON lines on stdout, the report on stderr, as `crawl` does.
#[test]
fn jsonl_dash_writes_the_lines_to_stdout_and_the_report_to_stderr() {
    let site = fixture("small.json");
    let out = crawl_sim(&["--site", site.to_str().unwrap(), "--jsonl", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let records: Vec<crawler::Record> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(
        records.iter().any(|r| r.url == "http://a.test/"),
        "{stdout}"
    );
    let err = stderr(&out);
    let done = format!("Done: {}\n", records.len());
    assert!(
        err.contains("*** Report ***") && err.contains(&done),
        "{err}"
    );
}
