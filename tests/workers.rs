//! `crawl --redis URL --crawl-id NAME`: three workers share one crawl of a local site through a
//! real redis-server (`crawler_redis::LocalServer`: on 127.0.0.1 at a free port, without
//! persistence, stopped at the end). One worker is killed with SIGKILL mid-crawl, and restarted under the
//! same name; over the three JSONL files, every URL of the site appears exactly once.
//!
//! redis-server must be installed (`.ci/run` installs Debian's package).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crawler_redis::LocalServer;
use support::site::GenSite;
use support::warcio::warcio_list;

/// How long the crawl may take: far more than it needs.
const LIMIT: Duration = Duration::from_secs(120);

fn dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("workers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn worker(redis: &LocalServer, id: &str, name: &str, jsonl: &Path, root: &str) -> Child {
    worker_with(redis, id, name, jsonl, root, &[])
}

/// [`worker`] with `extra` flags.
fn worker_with(
    redis: &LocalServer,
    id: &str,
    name: &str,
    jsonl: &Path,
    root: &str,
    extra: &[&str],
) -> Child {
    let url = redis.url();
    let mut args = vec![
        "--redis",
        &url,
        "--crawl-id",
        id,
        "--worker",
        name,
        "--lease",
        "2",
        "--max-tasks",
        "4",
        "--jsonl",
        jsonl.to_str().unwrap(),
        "--report",
        "json",
        "-q",
    ];
    args.extend_from_slice(extra);
    args.push(root);
    support::crawl(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crawl")
}

fn finish(child: Child, what: &str) {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Three workers, one killed with SIGKILL once it has written some lines and then restarted:
/// the union of their JSONL files is the site's URL set, each URL once, with its status.
#[test]
fn three_workers_one_killed_record_every_url_once() {
    three_workers_one_killed("kill", &[]);
}

/// The same in one partition: every worker works out the whole crawl.
#[test]
fn three_workers_one_killed_in_one_partition_record_every_url_once() {
    three_workers_one_killed("kill-p1", &["--partitions", "1"]);
}

fn three_workers_one_killed(id: &str, extra: &[&str]) {
    let site = GenSite::new(1500);
    let server = site.serve(Duration::from_millis(2));
    let redis = LocalServer::start();
    let dir = dir(id);
    let root = server.url("/");
    let files: Vec<PathBuf> = (0..3).map(|i| dir.join(format!("w{i}.jsonl"))).collect();
    let mut children: Vec<Child> = (0..3)
        .map(|i| worker_with(&redis, id, &format!("w{i}"), &files[i], &root, extra))
        .collect();
    // Killed mid-crawl: once it has written a few lines, while the others go on.
    let victim = children.remove(2);
    let mut victim = victim;
    let reached = support::poll(LIMIT, || {
        support::lines(&files[2]) >= 50 || victim.try_wait().unwrap().is_some()
    });
    assert!(reached, "worker w2 wrote no 50 lines in {LIMIT:?}");
    assert!(
        victim.try_wait().unwrap().is_none(),
        "w2 ended before its kill"
    );
    victim.kill().unwrap();
    let _ = victim.wait();
    // Where the crawl stands, mid-crawl: URLs left, the killed worker seen.
    let url = redis.url();
    let status = support::run(&["--redis", &url, "--crawl-id", id, "--status"]);
    let out = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{out}");
    assert!(out.contains("not finished: "), "{out}");
    assert!(out.contains("worker w2: last seen"), "{out}");
    // Restarted under the same name, it rejoins.
    let again = worker_with(&redis, id, "w2", &files[2], &root, extra);
    children.push(again);
    for (i, child) in children.into_iter().enumerate() {
        finish(child, &format!("worker {i}"));
    }
    let files_ref: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    site.assert_each_once(&server.url(""), &files_ref, "three workers");
    for (i, file) in files.iter().enumerate() {
        assert!(support::lines(file) > 0, "worker {i} recorded nothing");
    }
}

/// `--max-pages` and `--max-pages-per-host` hold for the crawl: two workers of a crawl with
/// `--max-pages 60` fetch 60 pages between them, each once, and both end; `--status` says the
/// limit is full. With `--max-pages-per-host 25` (one host), 25. Pages take 40 ms, so one
/// worker alone would need 0.6 s: both take part.
#[test]
fn two_workers_share_the_page_limits() {
    let site = GenSite::new(400);
    let want = site.expected();
    let server = site.serve(Duration::from_millis(40));
    let redis = LocalServer::start();
    let dir = dir("limits");
    let root = server.url("/");
    let base = server.url("");
    for (id, flag, max) in [
        ("pages", "--max-pages", 60),
        ("per-host", "--max-pages-per-host", 25),
    ] {
        let n = max.to_string();
        let files: Vec<PathBuf> = (0..2)
            .map(|i| dir.join(format!("{id}-w{i}.jsonl")))
            .collect();
        let children: Vec<Child> = (0..2)
            .map(|i| worker_with(&redis, id, &format!("w{i}"), &files[i], &root, &[flag, &n]))
            .collect();
        for (i, child) in children.into_iter().enumerate() {
            finish(child, &format!("{id}: worker {i}"));
        }
        let mut pages = std::collections::BTreeMap::new();
        for (i, file) in files.iter().enumerate() {
            let records = support::records(file);
            assert!(records.len() > 1, "{id}: worker {i} fetched no page");
            for r in records {
                let path = r.url.strip_prefix(&base).unwrap_or(&r.url).to_string();
                assert!(want.contains_key(&path), "{id}: {path} is not the site's");
                if path != "/robots.txt" {
                    *pages.entry(path).or_insert(0) += 1;
                }
            }
        }
        assert_eq!(pages.len(), max, "{id}: pages fetched over both workers");
        assert!(pages.values().all(|&n| n == 1), "{id}: {pages:?}");
        let status = support::run(&["--redis", &redis.url(), "--crawl-id", id, "--status"]);
        let out = String::from_utf8_lossy(&status.stdout);
        assert!(out.contains("  finished: "), "{out}");
        if flag == "--max-pages" {
            assert!(
                out.contains(&format!("{max} of --max-pages {max} taken: full")),
                "{out}"
            );
        } else {
            let full = format!("(--max-pages-per-host {max} taken: they will not be fetched)");
            assert!(out.contains(&full), "{out}");
        }
    }
}

/// A worker with other defining options than the crawl's is refused with exit 2, naming the
/// option; `--status` reports the crawl.
#[test]
fn a_worker_with_other_options_is_refused_and_status_reports() {
    let site = GenSite::new(30);
    let server = site.serve(Duration::ZERO);
    let redis = LocalServer::start();
    let dir = dir("options");
    let root = server.url("/");
    finish(
        worker(&redis, "opts", "a", &dir.join("a.jsonl"), &root),
        "the first worker",
    );
    let url = redis.url();
    // Never the password in a message.
    let secret = support::run(&[
        "--redis",
        "redis://:s3cret@127.0.0.1:1/0",
        "--crawl-id",
        "x",
        "-q",
        &root,
    ]);
    assert_eq!(secret.status.code(), Some(1));
    let err = String::from_utf8_lossy(&secret.stderr);
    assert!(!err.contains("s3cret") && err.contains("connect"), "{err}");
    // Refused, exit 2: the stderr.
    let refused = |id: &str, extra: &[&str]| -> String {
        let mut args = vec!["--redis", &url, "--crawl-id", id];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-q", &root]);
        let out = support::run(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = refused("opts", &["--max-depth", "1"]);
    assert!(err.contains("--max-depth"), "{err}");
    let err = refused("opts", &["--partitions", "4"]);
    assert!(err.contains("--partitions"), "{err}");
    // A crawl in one log (as all were before partitions) says how to join it.
    finish(
        worker_with(
            &redis,
            "one-log",
            "a",
            &dir.join("b.jsonl"),
            &root,
            &["--partitions", "1"],
        ),
        "a crawl in one log",
    );
    let err = refused("one-log", &[]);
    assert!(err.contains("give --partitions 1 to join it"), "{err}");
    // Options a shared crawl cannot take: exit 2, saying why.
    let state = dir.join("state");
    let err = refused("opts", &["--state", state.to_str().unwrap()]);
    assert!(
        err.contains("--state cannot be used with --redis: "),
        "{err}"
    );
    let status = support::run(&["--redis", &url, "--crawl-id", "opts", "--status"]);
    assert!(status.status.success());
    let out = String::from_utf8_lossy(&status.stdout);
    let done = site.expected().len();
    assert!(out.contains("  finished: "), "{out}");
    assert!(
        out.contains(&format!("{done} done, 0 to do, 0 leased")),
        "{out}"
    );
    assert!(out.contains("worker a: last seen"), "{out}");
    assert!(!out.contains("(status)"), "{out}");
}

/// A worker restarted under its name writes what its file missed: records cut off the end
/// (as by a kill between the log taking them and the file getting them) and a torn last line
/// cut; run again with its file whole, it writes nothing more. A new crawl starts its file
/// afresh.
#[test]
fn a_restarted_worker_writes_what_its_file_missed() {
    let site = GenSite::new(40);
    let server = site.serve(Duration::ZERO);
    let redis = LocalServer::start();
    let dir = dir("missed");
    let root = server.url("/");
    let file = dir.join("a.jsonl");
    finish(worker(&redis, "missed", "a", &file, &root), "the first run");
    let full = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    let kept = lines[..lines.len() - 3].join("\n");
    std::fs::write(&file, format!("{kept}\n{{\"url\":\"http://127.0.0.1:1/tor")).unwrap();
    finish(worker(&redis, "missed", "a", &file, &root), "the restart");
    site.assert_each_once(&server.url(""), &[&file], "one worker");
    finish(
        worker(&redis, "missed", "a", &file, &root),
        "a run of a finished crawl",
    );
    site.assert_each_once(&server.url(""), &[&file], "one worker");
    // A worker new to the crawl, with a file left by something else: the file starts afresh
    // (and stays empty: the crawl has nothing left).
    let other = dir.join("b.jsonl");
    std::fs::write(&other, "{\"url\":\"http://elsewhere.test/\"}\n").unwrap();
    finish(worker(&redis, "missed", "b", &other, &root), "a new worker");
    assert_eq!(support::lines(&other), 0);
    // Another crawl id with the same file: a new crawl, a new file.
    finish(worker(&redis, "other", "a", &file, &root), "a new crawl");
    site.assert_each_once(&server.url(""), &[&file], "one worker");
}

/// With `--record`, each worker records its own exchanges in its own WARC file (warcio reads
/// them): a response for every record with a status in its JSONL. A worker restarted after a
/// kill tore its WARC's last record cuts it off and appends.
#[test]
fn workers_record_their_own_exchanges() {
    let site = GenSite::new(200);
    let server = site.serve(Duration::from_millis(10));
    let redis = LocalServer::start();
    let dir = dir("record");
    let root = server.url("/");
    let jsonl: Vec<PathBuf> = (0..2).map(|i| dir.join(format!("w{i}.jsonl"))).collect();
    let warc = [dir.join("w0.warc.gz"), dir.join("w1.warc")];
    let record = |i: usize| ["--record", warc[i].to_str().unwrap()];
    let children: Vec<Child> = (0..2)
        .map(|i| {
            worker_with(
                &redis,
                "rec",
                &format!("w{i}"),
                &jsonl[i],
                &root,
                &record(i),
            )
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        finish(child, &format!("worker {i}"));
    }
    let files: Vec<&Path> = jsonl.iter().map(PathBuf::as_path).collect();
    site.assert_each_once(&server.url(""), &files, "two recording workers");
    for i in 0..2 {
        let listed = warcio_list(&warc[i]);
        let responses: std::collections::BTreeSet<String> = listed
            .iter()
            .filter(|r| r.kind == "response")
            .filter_map(|r| r.uri.clone())
            .collect();
        for r in support::records(&jsonl[i]) {
            assert!(
                r.status.is_none() || responses.contains(&r.url),
                "worker {i} recorded {} but its WARC has no response for it",
                r.url
            );
        }
    }
    // A kill mid-write tears the last record: the restart cuts it and appends its warcinfo.
    let before = warcio_list(&warc[0]).len();
    let whole = std::fs::read(&warc[0]).unwrap();
    let mut torn = whole.clone();
    torn.extend_from_slice(&whole[..whole.len().min(40)]);
    std::fs::write(&warc[0], &torn).unwrap();
    finish(
        worker_with(&redis, "rec", "w0", &jsonl[0], &root, &record(0)),
        "the restart",
    );
    let after = warcio_list(&warc[0]);
    assert_eq!(after.len(), before + 1, "{after:?}");
    assert_eq!(after[before].kind, "warcinfo");
}

/// A worker stopped (SIGTERM) while Redis is gone does not wait through its retries (the
/// stop cuts a wait between tries short, and the last syncs are tried once): it exits at once,
/// with the error that ended its sync (1) or as a stopped crawl (130), every line it wrote
/// whole. (Tried through, the retries alone would take over 6 s.)
#[test]
fn a_stop_while_redis_is_gone_is_prompt() {
    let (_server, redis, file, child) = worker_under_way("gone");
    drop(redis);
    std::thread::sleep(Duration::from_millis(300));
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (exited, out) = exit_within(child, Duration::from_secs(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(exited, "still running 5 s after SIGTERM: {err}");
    // A stop, not a failure: exit 130 with the report, however the syncs under way failed.
    assert_eq!(out.status.code(), Some(130), "{err}");
    // Every line whole.
    assert!(support::records(&file).len() >= 20);
}

/// Redis loses the crawl mid-crawl (as a restart without persistence does): the worker stops
/// with an error that says so (exit 1) instead of waiting forever for entries that will never
/// come back, every line it wrote whole.
#[test]
fn a_crawl_redis_lost_is_an_error_not_a_hang() {
    let (_server, redis, file, child) = worker_under_way("lost");
    redis.command(&["FLUSHALL"]);
    let (ended, out) = exit_within(child, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        ended,
        "still running 30 s after Redis lost the crawl: {err}"
    );
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("lost entries"), "{err}");
    assert!(!err.contains("is safe"), "{err}");
    assert!(support::records(&file).len() >= 20);
}

/// Worker `a` of crawl `id` on a 400-page site whose pages take 20 ms, once it has written 20
/// lines: the site's server, the redis-server, its JSONL file and the worker.
fn worker_under_way(id: &str) -> (support::server::Server, LocalServer, PathBuf, Child) {
    let server = GenSite::new(400).serve(Duration::from_millis(20));
    let redis = LocalServer::start();
    let file = dir(id).join("a.jsonl");
    let child = worker(&redis, id, "a", &file, &server.url("/"));
    assert!(
        support::poll(LIMIT, || support::lines(&file) >= 20),
        "no 20 lines in {LIMIT:?}"
    );
    (server, redis, file, child)
}

/// Waits at most `limit` for `child` to exit (killing it if it has not): whether it did, and
/// its output.
fn exit_within(mut child: Child, limit: Duration) -> (bool, std::process::Output) {
    let exited = support::poll(limit, || child.try_wait().unwrap().is_some());
    if !exited {
        let _ = child.kill();
    }
    (exited, child.wait_with_output().unwrap())
}

/// A second process with the name of a worker that is running is refused (exit 2) rather
/// than taking that worker's records for its own.
#[test]
fn a_second_live_worker_of_one_name_is_refused() {
    let site = GenSite::new(400);
    let server = site.serve(Duration::from_millis(20));
    let redis = LocalServer::start();
    let dir = dir("twin");
    let root = server.url("/");
    let url = redis.url();
    let args = |file: &Path| {
        vec![
            "--redis".to_string(),
            url.clone(),
            "--crawl-id".into(),
            "twin".into(),
            "--worker".into(),
            "same".into(),
            "--lease".into(),
            "1".into(),
            "--max-tasks".into(),
            "1".into(),
            "-q".into(),
            "--jsonl".into(),
            file.to_str().unwrap().into(),
            root.clone(),
        ]
    };
    let first_args = args(&dir.join("1.jsonl"));
    let first_args: Vec<&str> = first_args.iter().map(String::as_str).collect();
    let mut first = support::crawl(&first_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = support::poll(LIMIT, || support::lines(&dir.join("1.jsonl")) >= 5);
    assert!(started, "the first worker wrote nothing");
    let second_args = args(&dir.join("2.jsonl"));
    let second_args: Vec<&str> = second_args.iter().map(String::as_str).collect();
    let second = support::run(&second_args);
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(err.contains("is running"), "{err}");
    let _ = first.kill();
    let _ = first.wait();
}
