//! Spider-trap defences: URL shapes that generate endless URLs.
//!
//! Calendars with a "next month" link, relative links that append a segment on every page
//! (`a/a/a/...`), session ids in paths: each new URL looks new, so dedup alone never ends the crawl.
//! These checks run once per newly discovered URL (roots are exempt) and each cut is counted in
//! the summary under its name, so a user sees what was left out and why.
//!
//! | check | default | cuts |
//! | --- | --- | --- |
//! | `url_length` | 2048 bytes | URLs longer than `max_url_length` |
//! | `path_depth` | 32 segments | paths with more than `max_path_segments` segments |
//! | `repeated_segment` | 3 | paths where one segment occurs more than `max_segment_repeats` times |
//!
//! Per-host page caps (`max_pages_per_host`) and `max_depth` are enforced by the scheduler and the
//! labels; their cuts are counted too.

use crate::config::Config;
use crate::problem::Cut;
use url::Url;

/// The first trap rule `url` breaks, if any: [`Cut::UrlLength`], [`Cut::PathDepth`] or
/// [`Cut::RepeatedSegment`].
pub(crate) fn check(url: &Url, config: &Config) -> Option<Cut> {
    if url.as_str().len() > config.max_url_length {
        return Some(Cut::UrlLength);
    }
    let path = url.path();
    let segments = path.split('/').filter(|s| !s.is_empty());
    let count = segments.clone().count();
    if count > config.max_path_segments {
        return Some(Cut::PathDepth);
    }
    // No segment can occur more often than there are segments: most paths stop here, before
    // anything is collected.
    let limit = config.max_segment_repeats;
    if count <= limit {
        return None;
    }
    let segs: Vec<&str> = segments.collect();
    if segs
        .iter()
        .any(|s| segs.iter().filter(|t| *t == s).count() > limit)
    {
        return Some(Cut::RepeatedSegment);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_url(url: &str, expected: Option<Cut>) {
        let config = Config::builder()
            .root("http://h/")
            .max_url_length(60)
            .max_path_segments(6)
            .max_segment_repeats(2)
            .build()
            .unwrap();
        assert_eq!(check(&Url::parse(url).unwrap(), &config), expected, "{url}");
    }

    #[test]
    fn each_rule() {
        check_url("http://h/a/b/c", None);
        check_url(
            &format!("http://h/{}", "x".repeat(60)),
            Some(Cut::UrlLength),
        );
        check_url("http://h/1/2/3/4/5/6/", None);
        check_url("http://h/1/2/3/4/5/6/7", Some(Cut::PathDepth));
        check_url("http://h/a/b/a/c", None);
        check_url("http://h/a/a/", None);
        check_url("http://h/a/a/a", Some(Cut::RepeatedSegment));
        check_url("http://h/a/b/a/c/a", Some(Cut::RepeatedSegment));
        check_url("http://h/cal/2026/01/01/01", Some(Cut::RepeatedSegment));
    }
}
