//! Defaults, validation errors and their messages.

use super::*;

#[test]
fn defaults_are_the_documented_ones() {
    let c = Config::builder().root("http://h/").build().unwrap();
    assert_eq!(c.max_tasks, 100);
    assert_eq!(c.max_redirect, 10);
    assert_eq!(c.max_tries, 4);
    assert_eq!(c.timeout, Duration::from_secs(30));
    assert_eq!(c.scope, ScopeMode::Strict);
    assert!(c.exclude.is_none() && c.max_pages.is_none() && c.max_depth.is_none());
}

#[test]
fn bad_input_is_an_error_with_a_clear_message() {
    let err = |b: ConfigBuilder| b.build().unwrap_err().to_string();
    let b = || Config::builder().root("http://h/");
    assert_eq!(err(Config::builder()), "no root url given");
    assert_eq!(
        err(Config::builder().root("ftp://h/")),
        "root \"ftp://h/\": unsupported scheme \"ftp\" (only http and https)"
    );
    assert_eq!(err(b().max_tasks(0)), "max_tasks must be greater than zero");
    assert_eq!(err(b().max_tries(0)), "max_tries must be greater than zero");
    assert_eq!(
        err(b().timeout(Duration::ZERO)),
        "timeout must be greater than zero"
    );
    assert_eq!(err(b().max_pages(0)), "max_pages must be greater than zero");
    assert_eq!(
        err(b().exclude("(")),
        "invalid exclude pattern: regex parse error: unclosed group"
    );
    assert_eq!(
        err(b().user_agent(" ")),
        "user agent must be one non-empty line"
    );
    assert_eq!(
        err(b().user_agent("a\nb")),
        "user agent must be one non-empty line"
    );
}

#[test]
fn roots_are_normalised_and_deduplicated() {
    let c = Config::builder()
        .roots(["HTTP://H:80/#a", "http://h/"])
        .build()
        .unwrap();
    assert_eq!(c.roots.len(), 1);
    assert_eq!(c.roots[0].as_str(), "http://h/");
}

#[test]
fn getters_give_the_built_options_and_with_seed_changes_only_the_seed() {
    let c = Config::builder()
        .root("http://h/")
        .max_tasks(7)
        .exclude("x")
        .seed(3)
        .build()
        .unwrap();
    assert_eq!((c.max_tasks(), c.seed()), (7, 3));
    assert_eq!(c.exclude().map(|re| re.as_str()), Some("x"));
    let seeded = c.clone().with_seed(9);
    assert_eq!(seeded.seed(), 9);
    assert_eq!(
        format!("{:?}", seeded.with_seed(3)),
        format!("{c:?}"),
        "nothing but the seed moved"
    );
}
