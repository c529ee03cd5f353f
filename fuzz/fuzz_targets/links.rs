//! Link extraction. Any bytes: the engine's extractor agrees with the reference `extract_dom`
//! and never panics. As a differential: hrefs written by the site renderer (`render_html`,
//! attribute-escaped) come back from `extract_dom` exactly as written.
#![no_main]

use crawler::links::{extract, extract_dom};
use crawler::site::render_html;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let found = extract(data);
    assert_eq!(found, extract_dom(&String::from_utf8_lossy(data)));
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
    let back = extract_dom(&html);
    assert_eq!(back.anchors().collect::<Vec<_>>(), hrefs, "{html}");
    assert_eq!(back.base.as_deref(), base, "{html}");
});
