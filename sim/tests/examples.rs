//! `examples/sim_check.rs`, a team's own check of its configuration in the simulator, run on
//! the committed faulty site and on sites made to break it.

#[allow(dead_code)]
#[path = "../../examples/sim_check.rs"]
mod sim_check;

use std::path::{Path, PathBuf};

fn site_file(name: &str, json: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("sim-check-{name}-{}.json", std::process::id()));
    std::fs::write(&path, json).unwrap();
    path
}

#[test]
fn the_configuration_passes_on_the_faulty_shop_site() {
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sites/faulty.json");
    assert_eq!(sim_check::check(&site, 50), Ok(50));
}

#[test]
fn excluded_pages_are_never_requested() {
    let site = site_file(
        "private",
        r#"{"roots": ["http://t.test/"],
            "pages": {
              "http://t.test/": {"links": ["/a", "/private/b"]},
              "http://t.test/a": {"links": ["/private/c"]},
              "http://t.test/private/b": {"links": []},
              "http://t.test/private/c": {"links": []}
            },
            "faults": {"reset": 0.3}}"#,
    );
    assert_eq!(sim_check::check(&site, 30), Ok(30));
}

/// A page nothing links to has no record: the check fails on the first seed and says how to
/// replay it.
#[test]
fn a_page_the_crawl_cannot_reach_fails_the_check_with_its_replay_command() {
    let site = site_file(
        "orphan",
        r#"{"roots": ["http://t.test/"],
            "pages": {
              "http://t.test/": {"links": ["/a"]},
              "http://t.test/a": {"links": []},
              "http://t.test/orphan": {"links": []}
            }}"#,
    );
    let why = sim_check::check(&site, 5).unwrap_err();
    assert!(
        why.starts_with("seed 1: http://t.test/orphan has no record"),
        "{why}"
    );
    assert!(why.contains("replay: crawl-sim --site"), "{why}");
}
