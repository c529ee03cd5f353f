//! The fuzz machinery: committed regression files, a sweep of seeds, replays through
//! `crawl-sim`, and the `crawl-sim fuzz` command.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crawler_sim::Sim;
use crawler_sim::fuzz::{self, Counterexample, Regression};
use crawler_site::Site;

/// The committed regression files: every `*.json` of `fixtures/regressions/`, sorted by name.
fn regression_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Every committed regression reads back to a case and passes every check. Each file keeps the
/// case as its site file, options and seed, so it means the same whatever the generator does
/// next; its `why` says what was wrong, and the fix has a unit test of its own next to it.
#[test]
fn committed_regressions_pass() {
    let files = regression_files();
    assert!(files.len() >= 2, "{files:?}");
    for path in files {
        let name = path.display();
        let kept = Regression::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !kept.why.trim().is_empty() && !kept.why.contains("(say what was wrong"),
            "{name}: say why it is kept"
        );
        let case = kept.case().unwrap_or_else(|e| panic!("{name}: {e}"));
        // The file is exactly what writing its case gives, so a rewrite shows in review.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, Regression::of(&case, &kept.why).to_json(), "{name}");
        if let Err(failure) = fuzz::check(&case) {
            panic!(
                "{name} fails again: {failure}\nwhy it is kept: {}",
                kept.why
            );
        }
    }
}

/// A small deterministic sweep, so `cargo test` alone exercises the swarm generator.
#[test]
fn a_sweep_of_seeds_passes() {
    for seed in 1000..1300 {
        if let Err(failure) = fuzz::check_seed(seed) {
            panic!(
                "seed {seed}: {failure}\nre-check with: crawl-sim fuzz --seed-start {seed} --cases 1"
            );
        }
    }
}

fn crawl_sim(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crawl-sim"))
        .args(args)
        .output()
        .unwrap()
}

/// Splits a command line of plain words and single-quoted words (what `replay_command` writes).
fn shell_split(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    args.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        args.push(cur);
    }
    args
}

/// A case written out and replayed by `crawl-sim` gives the very trace the fuzzer checked: same
/// site after the JSON round trip, same options, same seed.
#[test]
fn written_cases_replay_with_crawl_sim_event_for_event() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-replay");
    for seed in 0..24 {
        let case = fuzz::generate(seed);
        let written = Counterexample::write(&dir, &format!("seed-{seed}"), &case).unwrap();
        // The regression file written beside it reads back to the case that was checked.
        let kept = Regression::load(&written.regression).unwrap();
        let again = kept.case().unwrap();
        assert_eq!(again.site(), case.site(), "seed {seed}");
        assert_eq!(again.seed, seed);
        let args = shell_split(&written.replay);
        assert_eq!(args[0], "crawl-sim");
        // Its options are the replay command's, between `--budget B` and the roots.
        assert_eq!(args[7..7 + kept.args.len()], kept.args[..], "seed {seed}");
        let mut args = args[1..].to_vec();
        args.extend(["--report".into(), "none".into()]);
        let out = crawl_sim(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "seed {seed}: {stderr}");
        let config = case.config();
        let sim = Sim::builder()
            .seed(case.seed)
            .site(Site::from_spec(case.site()).unwrap())
            .budget(case.budget(&config))
            .build()
            .unwrap();
        let run = sim.run(&config).unwrap();
        assert!(
            stderr.contains(&format!("trace hash {:016x}", run.trace_hash)),
            "seed {seed}: {stderr}"
        );
    }
}

/// `crawl-sim fuzz --regression FILE` checks a committed file and prints its replay command,
/// which replays it; a file that does not read back is bad input.
#[test]
fn crawl_sim_fuzz_checks_a_regression_file() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-regression");
    let path = &regression_files()[0];
    let args = |file: &Path| -> Vec<String> {
        let (file, out) = (file.display(), out.display());
        vec![
            "fuzz".into(),
            format!("--regression={file}"),
            format!("--out={out}"),
        ]
    };
    let run = crawl_sim(&args(path));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains(" passed: "), "{stdout}");
    let replay = stdout
        .lines()
        .find_map(|l| l.strip_prefix("  crawl-sim "))
        .unwrap_or_else(|| panic!("no replay command in {stdout}"));
    let replayed = crawl_sim(&shell_split(replay));
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let bare = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sites/small.json");
    let run = crawl_sim(&args(&bare));
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("no \"format\" field"), "{stderr}");
}

#[test]
fn crawl_sim_fuzz_runs_seeds_and_prints_the_rate() {
    let args: Vec<String> = [
        "fuzz",
        "--seconds",
        "60",
        "--seed-start",
        "5",
        "--cases",
        "40",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = crawl_sim(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("seeds from 5"), "{stdout}");
    assert!(stdout.contains("crawl-sim fuzz: 40 cases in "), "{stdout}");
    assert!(stdout.contains(" cases/s "), "{stdout}");
    assert!(stdout.contains("; 0 failed"), "{stdout}");
    // One line counts, per feature, the cases that drew it; each count is the generator's own.
    let drawn = stdout
        .lines()
        .find_map(|l| l.strip_prefix("drawn: "))
        .unwrap_or_else(|| panic!("no drawn: line in {stdout}"));
    let counts: Vec<(&str, u64)> = drawn
        .split(", ")
        .map(|pair| {
            let (name, n) = pair.split_once(' ').unwrap();
            (name, n.parse().unwrap())
        })
        .collect();
    let names: Vec<&str> = counts.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, fuzz::FEATURES, "{stdout}");
    for (i, (name, n)) in counts.iter().enumerate() {
        let want = (5..45)
            .filter(|&seed| fuzz::generate(seed).drawn()[i])
            .count() as u64;
        assert_eq!(*n, want, "{name}: {stdout}");
    }
    // The crawl options belong to the crawl, not to the subcommand.
    let mixed: Vec<String> = ["fuzz", "--site", "x.json"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let out = crawl_sim(&mixed);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument '--site'"));
    let bad: Vec<String> = ["fuzz", "--seconds", "0"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(crawl_sim(&bad).status.code(), Some(2));
}
