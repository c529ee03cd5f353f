//! Helpers shared by the end-to-end tests: the test HTTP server, a generated site, warcio, and
//! running the `crawl` binary.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod server;
pub mod site;
pub mod warcio;

use std::path::PathBuf;
use std::process::{Command, Output};

use crawler::Record;

/// A fresh path for an output file of test `name`.
pub fn out_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("{name}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// The `crawl` binary with `args`.
pub fn crawl(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crawl"));
    cmd.args(args).env_remove("RUST_LOG");
    cmd
}

/// Runs `crawl args` to the end.
pub fn run(args: &[&str]) -> Output {
    crawl(args).output().expect("run crawl")
}

/// The records of a JSONL file, in file order.
pub fn records(path: &std::path::Path) -> Vec<Record> {
    let text = std::fs::read_to_string(path).expect("read jsonl");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

/// Asks `done` every 5 ms, for at most `limit`: `true` as soon as it says so.
pub fn poll(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    done()
}

/// Lines in the file at `path` so far (0 when it does not exist yet).
pub fn lines(path: &std::path::Path) -> usize {
    std::fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
}
