//! The committed recordings of real crawls in `fixtures/replay/`, replayed: each must give what
//! the real crawl gave (its JSON lines, committed beside it), field by field (`common`).
//!
//! A fixture is three files: `NAME.warc.gz` (written by `crawl --record`), `NAME.jsonl` (the
//! same crawl's `--jsonl`), and `NAME.args` (its crawl options and root, one argument per
//! line). They are made by the `crawl` package's `tests/replay.rs` (top level), which runs
//! the real crawl against hand-made sites on a local server; see `fixtures/replay/README.md`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use crawler::Record;
use crawler_cli::CrawlArgs;
use crawler_sim::{DEFAULT_MAX_BODY, Recording, Replay};

use common::same_outcomes;

/// The options `crawl-sim --replay` takes besides the crawl options.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    crawl: CrawlArgs,
    #[arg(long, default_value_t = DEFAULT_MAX_BODY)]
    max_body: usize,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/replay")
}

/// Every fixture's name, sorted.
fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".warc.gz").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

fn args(name: &str) -> Vec<String> {
    std::fs::read_to_string(dir().join(format!("{name}.args")))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn expected(name: &str) -> Vec<Record> {
    std::fs::read_to_string(dir().join(format!("{name}.jsonl")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_fixtures_are_all_there() {
    assert_eq!(
        fixtures(),
        [
            "content",
            "content-html-only",
            "demo",
            "errors",
            "redirects"
        ]
    );
}

#[test]
fn every_fixture_replays_to_the_records_of_its_real_crawl() {
    for name in fixtures() {
        let recording = Recording::load(dir().join(format!("{name}.warc.gz"))).unwrap();
        let args = args(&name);
        let args = Args::parse_from(std::iter::once("crawl-sim".to_string()).chain(args));
        let replay = Replay::builder(recording).max_body(args.max_body);
        for seed in [0, 1, 2] {
            let config = args.crawl.config().unwrap();
            let run = replay.clone().seed(seed).build().run(&config).unwrap();
            same_outcomes(&expected(&name), &run.run.records)
                .unwrap_or_else(|e| panic!("fixture {name} (seed {seed}):\n{e}"));
            assert!(run.unrecorded.is_empty(), "{name}: {:?}", run.unrecorded);
            assert!(run.exhausted.is_empty(), "{name}: {:?}", run.exhausted);
        }
    }
}

#[test]
fn crawl_sim_replays_a_fixture_to_its_json_lines() {
    let name = "content";
    let jsonl = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-content.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_crawl-sim"))
        .arg("--replay")
        .arg(dir().join(format!("{name}.warc.gz")))
        .args(args(name))
        .arg("--jsonl")
        .arg(&jsonl)
        .args(["--report", "none"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replayed: Vec<Record> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    same_outcomes(&expected(name), &replayed).unwrap();
}
