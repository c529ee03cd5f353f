//! `crawl --state DIR`: the crawl state kept on disk, and the rules of a resume.
//!
//! The state ([`crawler_store::SqliteStore`]) keeps every finished URL's completion; a run over
//! it replays those and fetches the rest. What is decided here:
//!
//! - which options *define* a crawl ([`defining_options`]): roots, scope, exclude, limits,
//!   robots, assets, retries, ... are kept in the state at the first run, with the `--jsonl`
//!   and `--record` files (a resume cuts those back), and a resume with other ones is refused,
//!   naming the option ([`check_options`]); options about *how* to crawl (timeouts,
//!   `--max-tasks`, politeness, progress, verbosity) may change;
//! - when to commit: [`commit`] hands the state the outputs' lengths and files, which its writer
//!   syncs before it commits, so the outputs are never shorter than the state says (on resume
//!   they are cut back to those lengths).

use std::collections::BTreeMap;

use crawler::{Config, Transport};
use crawler_cli::{Output, args_of};
use crawler_http::Recorder;
use crawler_store::{Offsets, SqliteStore};

/// Flags that do not change what a crawl is, only how fast or how politely it goes: they may
/// differ on resume.
pub const HOW_NOT_WHAT: [&str; 8] = [
    "--max-tasks",
    "--timeout",
    "--backoff",
    "--max-backoff",
    "--max-retry-after",
    "--delay",
    "--max-per-host",
    "--max-crawl-delay",
];

/// The options that define the crawl `config` describes, as command-line arguments (roots
/// last), leaving out the flags that `may_differ` (e.g. [`HOW_NOT_WHAT`], for a resume).
pub fn defining_options(config: &Config, may_differ: &[&str]) -> Vec<String> {
    args_of(config)
        .into_iter()
        .filter(|a| !may_differ.contains(&a.split('=').next().unwrap_or_default()))
        .collect()
}

/// `Ok` when `now` defines the same crawl as `kept` (the state's); else the first option that
/// differs, said as a user can act on it.
pub fn check_options(kept: &[String], now: &[String]) -> Result<(), String> {
    check_options_of(kept, now, &Refusal::STATE)
}

/// Who kept the options, and what to do for another crawl: in the words of a refusal.
#[derive(Debug, Clone, Copy)]
pub struct Refusal<'a> {
    /// What the options were kept by ("the crawl state").
    pub by: &'a str,
    /// When they cannot change ("when it resumes").
    pub when: &'a str,
    /// What to do instead ("start a new state folder for a new crawl").
    pub instead: &'a str,
}

impl Refusal<'static> {
    /// A `--state` folder's.
    pub const STATE: Refusal<'static> = Refusal {
        by: "the crawl state",
        when: "when it resumes",
        instead: "start a new state folder for a new crawl",
    };
}

/// [`check_options`], said as `words` say.
pub fn check_options_of(
    kept: &[String],
    now: &[String],
    words: &Refusal<'_>,
) -> Result<(), String> {
    let split = |args: &[String]| {
        let mut flags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut roots = Vec::new();
        for a in args {
            match a.strip_prefix("--") {
                Some(flag) => {
                    let (name, value) = flag.split_once('=').unwrap_or((flag, ""));
                    flags
                        .entry(format!("--{name}"))
                        .or_default()
                        .push(value.to_string());
                }
                None => roots.push(a.clone()),
            }
        }
        (flags, roots)
    };
    let ((was, was_roots), (is, is_roots)) = (split(kept), split(now));
    let spell = |name: &str, values: Option<&Vec<String>>| match values {
        None => format!("no {name}"),
        Some(v) if v.iter().all(String::is_empty) => name.to_string(),
        Some(v) => v
            .iter()
            .map(|v| format!("{name}={v}"))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let names: std::collections::BTreeSet<&String> = was.keys().chain(is.keys()).collect();
    for name in names {
        if was.get(name) != is.get(name) {
            return Err(format!(
                "{} was made with {}, this run has {}: options that define a crawl cannot \
                 change {} ({})",
                words.by,
                spell(name, was.get(name)),
                spell(name, is.get(name)),
                words.when,
                words.instead
            ));
        }
    }
    if was_roots != is_roots {
        return Err(format!(
            "{} was made with the roots {was_roots:?}, this run has {is_roots:?}: the roots \
             cannot change {} ({})",
            words.by, words.when, words.instead
        ));
    }
    Ok(())
}

/// Commits the state with the outputs' lengths; the state's writer syncs the outputs first.
pub fn commit<T: Transport>(
    state: &mut SqliteStore,
    output: &mut Output,
    recorder: &Recorder<T>,
) -> Result<(), String> {
    let (jsonl, jsonl_file) = output.flushed()?;
    let (warc, warc_file) = recorder.flushed()?;
    let files = jsonl_file.into_iter().chain(warc_file).collect();
    state
        .commit(Offsets { jsonl, warc }, files)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn a_changed_defining_option_is_named() {
        let kept = args(&["--max-depth=2", "--lenient", "http://h/"]);
        assert!(check_options(&kept, &kept).is_ok());
        let e = check_options(&kept, &args(&["--max-depth=3", "--lenient", "http://h/"]));
        assert!(
            e.unwrap_err()
                .contains("made with --max-depth=2, this run has --max-depth=3")
        );
        let e = check_options(&kept, &args(&["--max-depth=2", "http://h/"]));
        assert!(
            e.unwrap_err()
                .contains("made with --lenient, this run has no --lenient")
        );
        let e = check_options(&kept, &args(&["--max-depth=2", "--lenient", "http://g/"]));
        assert!(e.unwrap_err().contains("roots"));
    }

    #[test]
    fn how_to_crawl_is_not_what_to_crawl() {
        let config = |extra: &[&str]| {
            use clap::Parser;
            #[derive(Parser)]
            struct W {
                #[command(flatten)]
                crawl: crawler_cli::CrawlArgs,
            }
            let all = ["crawl"].iter().chain(extra).chain(&["http://h/"]);
            W::parse_from(all).crawl.config().unwrap()
        };
        let base = defining_options(&config(&[]), &HOW_NOT_WHAT);
        let polite = defining_options(
            &config(&["--max-tasks=3", "--delay=1", "--timeout=5"]),
            &HOW_NOT_WHAT,
        );
        assert_eq!(base, polite);
        let deeper = defining_options(&config(&["--max-depth=1"]), &HOW_NOT_WHAT);
        assert_ne!(base, deeper);
    }
}
