//! Sitemaps, through the engine: the fuzzer's bytes (XML, gzip, or anything) are the body of
//! every `.xml`/`.gz` URL, so sitemap indexes recurse into themselves. The engine must end,
//! fetch each URL once, and fetch only `http(s)` URLs in their canonical form.
#![no_main]

use crawler::normalize::parse_root;
use crawler::{Config, Response};
use crawler_fuzz::{Serve, assert_once, crawl, html};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let body = data.to_vec();
    let answer = move |url: &Url| {
        let path = url.path();
        if path.ends_with(".xml") || path.ends_with(".gz") {
            Response::new(200)
                .with_header("content-type", "application/xml")
                .with_body(body.clone())
        } else {
            html(&[])
        }
    };
    let config = Config::builder()
        .root("http://h.test/")
        .sitemap("http://h.test/sitemap.xml")
        .robots(false)
        .max_tries(1)
        .max_pages(200)
        .build()
        .unwrap();
    let (records, summary) = crawl(config, Serve(answer));
    assert_once(&records);
    assert!(summary.sitemaps >= 1);
    for r in &records {
        let again = parse_root(&r.url).expect("records hold crawlable urls");
        assert_eq!(again.as_str(), r.url, "not canonical");
    }
});
