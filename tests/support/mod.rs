//! Helpers shared by the end-to-end tests: the test HTTP server and running the `crawl` binary.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod server;

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
