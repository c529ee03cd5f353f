//! Link extraction. Any bytes: the engine's extractor finishes the document (no parser error, no
//! panic). As a round trip: hrefs written by the site renderer (`render_html`,
//! attribute-escaped) come back from both extractors exactly as written.
#![no_main]

use crawler::links::{Links, extract_dom, extract_into};
use crawler_site::render_html;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut found = Links::default();
    if let Err(e) = extract_into(data, &mut found) {
        panic!("{e}");
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // HTML parsing turns CR into LF and NUL into U+FFFD before anything else: leave them out.
    if text.contains(['\r', '\0']) {
        return;
    }
    let mut lines = text.split('\n');
    let base = lines.next().filter(|b| !b.is_empty());
    let hrefs: Vec<String> = lines.map(str::to_string).collect();
    let html = render_html(&hrefs, base, None);
    for back in [extract_dom(&html), crawler::links::extract(html.as_bytes())] {
        assert_eq!(back.anchors().collect::<Vec<_>>(), hrefs, "{html}");
        assert_eq!(back.base.as_deref(), base, "{html}");
    }
});
