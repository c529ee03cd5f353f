//! The `crawl` command's handling of bad input, exit codes and Ctrl-C.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use support::server::{Body, Reply, Server};

/// Runs `crawl args` and checks it failed with `code` and one clear line on stderr.
fn check_error(args: &[&str], code: i32, contains: &str) {
    let out = support::run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(stderr.contains(contains), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(!stderr.contains("backtrace"), "{args:?}: {stderr}");
    // clap's own usage errors add a "try --help" line; the crawler's errors are one line.
    if !stderr.starts_with("error:") {
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("crawl: "), "{args:?}: {stderr}");
    }
    assert!(out.stdout.is_empty(), "{args:?}");
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    check_error(&["ftp://example.com/"], 2, "unsupported scheme \"ftp\"");
    check_error(&["http://[::1"], 2, "crawl: root \"http://[::1\"");
    check_error(
        &["--exclude", "(", "127.0.0.1"],
        2,
        "invalid exclude pattern",
    );
    check_error(
        &["--jsonl", "/nonexistent-dir/out.jsonl", "127.0.0.1"],
        2,
        "cannot write /nonexistent-dir/out.jsonl",
    );
    check_error(&[], 2, "crawl: no root url given");
    check_error(
        &["--user-agent", "bad\nagent", "127.0.0.1"],
        2,
        "user agent must be one non-empty line",
    );
    check_error(
        &["--user-agent", "caf\u{e9}", "127.0.0.1"],
        2,
        "invalid user agent",
    );
    check_error(
        &["--max-body", "0", "127.0.0.1"],
        2,
        "max_body must be greater than zero",
    );
    check_error(&["--max-tasks", "x", "127.0.0.1"], 2, "invalid value 'x'");
}

#[test]
fn help_and_version_exit_zero() {
    let out = support::run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--max-redirect",
        "--max-tries",
        "--max-tasks",
        "--exclude",
        "--user-agent",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    let out = support::run(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("crawl "));
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let server = Server::start(|req| match req.path.as_str() {
        "/" => Reply::html("<a href=/a>a</a><a href=/b>b</a>"),
        _ => Reply::html("page"),
    });
    let mut child = support::crawl(&[&server.url("/")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the read end before the report is written makes every write fail with EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// `--jsonl -` puts the JSON lines on stdout, one record per line and nothing else, and the
/// report on stderr; `--report json` gives `elapsed` as a number of seconds.
#[test]
fn jsonl_dash_is_stdout_and_the_report_moves_to_stderr() {
    let server = Server::start(|req| match req.path.as_str() {
        "/" => Reply::html("<a href=/a>a</a><a href=/b>b</a>"),
        _ => Reply::html("page"),
    });
    let out = support::run(&["--jsonl", "-", "--report", "json", &server.url("/")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let urls: Vec<String> = stdout
        .lines()
        .map(|line| serde_json::from_str::<crawler::Record>(line).unwrap().url)
        .collect();
    let mut want = ["/robots.txt", "/", "/a", "/b"]
        .map(|p| server.url(p))
        .to_vec();
    let mut got = urls.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stderr).unwrap();
    assert!(report["elapsed"].is_f64(), "{report}");
    assert_eq!(report["urls"], 4);
}

/// The reader of `--jsonl -` going away (`crawl --jsonl - URL | head -1`) ends the crawl
/// quietly: exit 0 (not 130), and the report, which says the crawl stopped early, still goes
/// to stderr.
#[test]
fn a_closed_jsonl_stdout_ends_the_crawl_quietly() {
    let server = Server::start(|req| match req.path.as_str() {
        // More JSON lines than a pipe holds (64 KiB), so the crawl cannot end before the
        // reader goes away.
        "/" => Reply::html(
            (0..2000)
                .map(|i| format!("<a href=/p{i}>p</a>"))
                .collect::<String>(),
        ),
        _ => Reply::html("page"),
    });
    let mut child = support::crawl(&["--jsonl", "-", &server.url("/")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.starts_with("{\"url\":"), "{first}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?} {stderr}", out.status);
    assert!(stderr.contains("Interrupted\nFinished "), "{stderr}");
}

/// A crawl told to stop by `signal` (`kill`'s spelling) while its one fetch in flight hangs.
/// The root links to a page that never answers, and the engine reports the root's record before
/// it starts the link: once the server sees /hang, that record has been handed to the JSONL
/// output and /hang is the one fetch in flight. `before` runs then, just before the signal.
fn interrupted_crawl(
    name: &str,
    signal: &str,
    before: impl FnOnce(&Server, &Path),
) -> (Output, Server, PathBuf) {
    let server = Server::start(|req| match req.path.as_str() {
        "/" => Reply::html("<a href=/hang>h</a>"),
        "/robots.txt" => Reply::status(404),
        _ => Reply::status(200).body(Body::Hang),
    });
    let jsonl = support::out_path(name);
    let child = support::crawl(&["--jsonl", jsonl.to_str().unwrap(), &server.url("/")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(server.wait_for_hang(), "/hang");
    before(&server, &jsonl);
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    (child.wait_with_output().unwrap(), server, jsonl)
}

#[test]
fn each_jsonl_line_is_out_at_once_and_sigterm_stops_cleanly() {
    let (out, _, _) = interrupted_crawl("sigterm", "-TERM", |server, jsonl| {
        // On disk while the crawl still runs: a crawl killed now would lose nothing.
        let urls: Vec<String> = support::records(jsonl).into_iter().map(|r| r.url).collect();
        assert_eq!(urls, [server.url("/robots.txt"), server.url("/")]);
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    assert!(
        stdout.contains("Interrupted\n") && stdout.contains("Done: 2\n"),
        "{stdout}"
    );
}

#[test]
fn ctrl_c_flushes_the_jsonl_prints_a_partial_report_and_exits_130() {
    let (out, server, jsonl) = interrupted_crawl("interrupt", "-INT", |_, _| {});
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("Interrupted\n"), "{stdout}");
    assert!(stdout.contains("Todo: 1\n"), "{stdout}");
    let records = support::records(&jsonl);
    let urls: Vec<&str> = records.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(urls, [server.url("/robots.txt"), server.url("/")]);
    assert_eq!(records[1].status, Some(200));
    assert!(stdout.contains("Done: 2\n"), "{stdout}");
}

#[test]
fn a_root_cut_before_its_fetch_is_named_on_stderr() {
    let server = Server::start(|req| match req.path.as_str() {
        "/robots.txt" => Reply::status(200)
            .header("content-type", "text/plain")
            .body(Body::Length(b"User-agent: *\nDisallow: /\n".to_vec())),
        _ => Reply::html("never"),
    });
    let root = server.url("/");
    let out = support::crawl(&["--report", "none", &root])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("root {root} was not fetched")),
        "{stderr}"
    );
    assert_eq!(server.requests().len(), 1, "robots.txt alone");
    // Quiet means quiet.
    let out = support::crawl(&["-q", "--report", "none", &root])
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
