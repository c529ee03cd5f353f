//! Site file tests: loading, normalisation, rendering, and the error messages users see.

use super::*;
use crawler::links;

fn err(json: &str) -> String {
    Site::from_json(json).unwrap_err().to_string()
}

#[test]
fn page_urls_are_normalised_on_load() {
    let site = Site::from_json(
        r#"{"pages": {"HTTP://A.test:80": {}, "http://a.test/x#frag": {"status": 404}}}"#,
    )
    .unwrap();
    assert_eq!(site.find("http://a.test/"), Some(0));
    let x = site.find("http://a.test/x").unwrap();
    assert_eq!(site.page(x).url(), "http://a.test/x");
    assert_eq!(site.page(x).response().status, 404);
    assert_eq!(site.find("http://a.test/y"), None);
    assert_eq!(not_found().status, 404);
}

/// Bodies live in one shared buffer and header lists are shared between equal pages: each page
/// still serves exactly its own body and headers, whatever the pages around it hold.
#[test]
fn shared_bodies_and_headers_serve_each_page_its_own() {
    let site = Site::from_json(
        r#"{"pages": {
            "http://a.test/1": {"body": "one", "content_type": "text/plain"},
            "http://a.test/2": {"redirect": 301, "location": "/1"},
            "http://a.test/3": {"body": ""},
            "http://a.test/4": {"links": ["/1", "/2"]},
            "http://a.test/5": {"body": "five", "content_type": "text/plain"},
            "http://a.test/6": {"links": ["/5"], "headers": {"x-six": "6"}}
        }}"#,
    )
    .unwrap();
    let get = |n: u32| {
        let page = site.page(site.find(&format!("http://a.test/{n}")).unwrap());
        page.response()
    };
    let html = |links: &[&str]| {
        let links: Vec<String> = links.iter().map(|l| l.to_string()).collect();
        render_html(&links, None, None).into_bytes()
    };
    assert_eq!(&get(1).body[..], b"one");
    assert!(get(2).body.is_empty());
    assert!(get(3).body.is_empty());
    assert_eq!(get(4).body[..], html(&["/1", "/2"])[..]);
    assert_eq!(&get(5).body[..], b"five");
    assert_eq!(get(6).body[..], html(&["/5"])[..]);
    assert!(Arc::ptr_eq(&get(1).headers, &get(5).headers));
    assert!(!Arc::ptr_eq(&get(4).headers, &get(6).headers));
    assert_eq!(get(6).header("x-six"), Some("6"));
    assert_eq!(get(4).header("x-six"), None);
    assert_eq!(get(3).header("content-type"), None);
    assert_eq!(get(2).header("location"), Some("/1"));
}

#[test]
fn html_pages_round_trip_through_the_reference_extractor() {
    let hrefs: Vec<String> = ["/a", "b?x=1&y=\"2\"", "http://[", "<odd>", "", "#top"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let html = render_html(&hrefs, Some("/d/&x"), Some(1000));
    let found = links::extract_dom(&html);
    assert_eq!(found.anchors().collect::<Vec<_>>(), hrefs);
    assert_eq!(found.base.as_deref(), Some("/d/&x"));
    assert!(html.len() >= 1000 && html.len() < 1300, "{}", html.len());
}

/// `nofollow` hrefs come after the links, with `rel="nofollow"`, and `images` as `<img src>`;
/// only an HTML page has them.
#[test]
fn nofollow_links_and_images_are_rendered() {
    let site = Site::from_json(
        r#"{"pages": {"http://a.test/": {"links": ["/a"], "nofollow": ["/b", "c"]}}}"#,
    )
    .unwrap();
    let body = site.page(0).response().body;
    let found = links::extract_dom(std::str::from_utf8(&body).unwrap());
    let got: Vec<(&str, bool)> = found
        .links
        .iter()
        .map(|l| (l.url.as_str(), l.nofollow))
        .collect();
    assert_eq!(got, [("/a", false), ("/b", true), ("c", true)]);
    let site = Site::from_json(r#"{"pages": {"http://a.test/": {"images": ["/i.png"]}}}"#).unwrap();
    let body = site.page(0).response().body;
    let found = links::extract_dom(std::str::from_utf8(&body).unwrap());
    let got: Vec<(&str, links::LinkKind)> = found
        .links
        .iter()
        .map(|l| (l.url.as_str(), l.kind))
        .collect();
    assert_eq!(got, [("/i.png", links::LinkKind::Image)]);
    let e = err(r#"{"pages": {"http://a.test/": {"body": "x", "nofollow": ["/b"]}}}"#);
    assert!(e.contains("cannot have \"nofollow\""), "{e}");
}

#[test]
fn kinds_of_page() {
    let site = Site::from_json(
        r#"{"pages": {
            "http://a.test/": {"links": ["/r"], "headers": {"x-extra": "1"}},
            "http://a.test/r": {"redirect": 308, "location": "garbage:::"},
            "http://a.test/n": {"redirect": 302},
            "http://a.test/t": {"body": "plain", "content_type": "text/plain", "status": 201},
            "http://a.test/x": {"links": ["/"], "content_type": "application/xhtml+xml"}
        }}"#,
    )
    .unwrap();
    let get = |u: &str| site.page(site.find(u).unwrap()).response();
    let root = get("http://a.test/");
    assert_eq!(root.media_type().as_deref(), Some("text/html"));
    assert_eq!(root.header("x-extra"), Some("1"));
    let r = get("http://a.test/r");
    assert_eq!((r.status, r.header("location")), (308, Some("garbage:::")));
    assert!(r.body.is_empty());
    assert_eq!(get("http://a.test/n").header("location"), None);
    let t = get("http://a.test/t");
    assert_eq!((t.status, &t.body[..]), (201, &b"plain"[..]));
    assert_eq!(
        get("http://a.test/x").media_type().as_deref(),
        Some("application/xhtml+xml")
    );
}

#[test]
fn scripts_repeat_their_last_outcome() {
    let site = Site::from_json(
        r#"{"pages": {"http://a.test/": {"script": ["500", "reset", "drop", "refused", "ok"]},
                      "http://a.test/b": {}}}"#,
    )
    .unwrap();
    let page = site.page(site.find("http://a.test/").unwrap());
    let got: Vec<Scripted> = (0..7).map(|n| page.scripted(n).unwrap()).collect();
    use Scripted::*;
    assert_eq!(
        got,
        [Status(500), Reset, Drop, Refused, Ok, Ok, Ok],
        "the last outcome repeats"
    );
    assert_eq!(page.scripted(u64::MAX), Some(Ok));
    assert_eq!(
        site.page(site.find("http://a.test/b").unwrap()).scripted(0),
        None
    );
}

#[test]
fn network_settings_and_unreachable_hosts() {
    let site = Site::from_json(
        r#"{"unreachable": ["Down.Test"], "latency": {"min_ms": 2, "mean_ms": 5},
            "faults": {"reset": 0.5, "slow": 0.5, "slow_ms": 100},
            "pages": {"http://a.test/": {"faults": {"drop": 1}}, "http://a.test/b": {}}}"#,
    )
    .unwrap();
    assert!(site.is_unreachable(&Url::parse("http://down.test:81/x").unwrap()));
    assert!(!site.is_unreachable(&Url::parse("http://a.test/").unwrap()));
    assert_eq!(site.latency(), Latency::new(2.0, 5.0));
    assert_eq!(site.faults_for(site.find("http://a.test/")).drop, 1.0);
    assert_eq!(site.faults_for(site.find("http://a.test/b")).reset, 0.5);
    assert_eq!(site.faults_for(None).slow_ms, 100.0);
    assert!(Faults::default().is_none());
    assert_eq!(Site::from_json("{}").unwrap().latency(), Latency::default());
}

#[test]
fn faults_stop_at_until_ms_and_new_kinds_are_read() {
    let site = Site::from_json(
        r#"{"faults": {"error_429": 0.25, "truncate": 0.25, "retry_after": 3, "until_ms": 500},
            "pages": {"http://a.test/": {"script": ["truncate", "429", "ok"]}}}"#,
    )
    .unwrap();
    let f = site.faults();
    assert_eq!(
        (f.error_429, f.truncate, f.retry_after),
        (0.25, 0.25, Some(3))
    );
    assert!(!f.is_none());
    assert!(f.active_at(499.9));
    assert!(!f.active_at(500.0));
    assert!(!Faults::default().active_at(0.0));
    let page = site.page(site.find("http://a.test/").unwrap());
    assert_eq!(page.scripted(0), Some(Scripted::Truncate));
    assert_eq!(page.scripted(1), Some(Scripted::Status(429)));
    // New keys are written only when set, so older site files read back unchanged.
    let json = serde_json::to_string(&Faults::default()).unwrap();
    assert_eq!(
        json,
        r#"{"drop":0.0,"reset":0.0,"error_5xx":0.0,"slow":0.0,"slow_ms":0.0}"#
    );
    let back: Faults = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
    assert_eq!(back, f);
}

#[test]
fn a_spec_survives_a_round_trip_through_json() {
    let mut spec = SiteSpec::default();
    spec.roots.push("http://a.test/".into());
    spec.unreachable.push("down.test".into());
    spec.faults.reset = 0.25;
    let page = PageSpec {
        links: Some(vec!["/b".into()]),
        script: vec![Scripted::Status(503), Scripted::Ok],
        ..PageSpec::default()
    };
    spec.pages.insert("http://a.test/".into(), page);
    let redirect = PageSpec {
        redirect: Some(301),
        ..PageSpec::default()
    };
    spec.pages.insert("http://a.test/r".into(), redirect);
    let json = serde_json::to_string_pretty(&spec).unwrap();
    let back: SiteSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(back, spec);
    assert!(json.contains("\"503\""), "{json}");
    Site::from_spec(back).unwrap();
}

#[test]
fn errors_name_the_page_and_the_problem() {
    assert!(
        err(r#"{"pages": {"http://a/": {"lnks": []}}}"#)
            .starts_with(r#"site file: pages["http://a/"]: unknown field "lnks", expected one of"#),
        "{}",
        err(r#"{"pages": {"http://a/": {"lnks": []}}}"#)
    );
    assert!(err(r#"{"pagez": {}}"#).starts_with(r#"site file: unknown field "pagez""#));
    assert!(err("{").starts_with("site file: EOF while parsing"));
    let check = |json: &str, expected: &str| assert_eq!(err(json), expected, "{json}");
    check(
        r#"{"pages": {"http://a/": {"redirect": 200}}}"#,
        r#"site file: pages["http://a/"]: redirect 200 is not one of 301, 302, 303, 307, 308"#,
    );
    check(
        r#"{"pages": {"http://a/": {"redirect": 301, "links": []}}}"#,
        r#"site file: pages["http://a/"]: a redirect cannot have "links""#,
    );
    check(
        r#"{"pages": {"http://a/": {"location": "/x"}}}"#,
        r#"site file: pages["http://a/"]: "location" needs "redirect""#,
    );
    check(
        r#"{"pages": {"http://a/": {"body": "x", "pad": 3}}}"#,
        r#"site file: pages["http://a/"]: a raw "body" cannot have "pad""#,
    );
    check(
        r#"{"pages": {"ftp://a/": {}}}"#,
        r#"site file: pages["ftp://a/"]: unsupported scheme "ftp" (only http and https)"#,
    );
    check(
        r#"{"pages": {"http://a/": {}, "HTTP://A/": {}}}"#,
        r#"site file: pages["http://a/"]: http://a/ is listed twice"#,
    );
    check(
        r#"{"roots": ["nope"]}"#,
        r#"site file: roots[0] "nope": invalid url: relative URL without a base"#,
    );
    check(
        r#"{"unreachable": ["a b/c"]}"#,
        r#"site file: unreachable[0]: "a b/c" is not a host name"#,
    );
    check(
        r#"{"faults": {"drop": 0.7, "reset": 0.7}}"#,
        "site file: faults: fault rates add up to 1.4, more than 1",
    );
    check(
        r#"{"faults": {"error_429": 0.5, "truncate": 0.6}}"#,
        "site file: faults: fault rates add up to 1.1, more than 1",
    );
    check(
        r#"{"faults": {"until_ms": -1}}"#,
        "site file: faults: until_ms must be between 0 and 1e12",
    );
    check(
        r#"{"latency": {"min_ms": 5, "mean_ms": 1}}"#,
        "site file: latency: mean_ms (1) is less than min_ms (5); mean_ms is 20 unless given",
    );
    assert!(
        err(r#"{"pages": {"http://a/": {"script": ["ok", "maybe"]}}}"#).contains(
            r#"pages["http://a/"]: unknown outcome "maybe" (expected "ok", "reset", "drop", "refused", "truncate" or a final status code, 200 to 599, such as "500")"#
        )
    );
    assert!(err(r#"{"pages": {"http://a/": {}, "http://a/": {}}}"#).contains("listed twice"));
    // Only final statuses: a real client never gets a 1xx or a status past 599 as an answer.
    for status in [100, 101, 199, 600, 999] {
        check(
            &format!(r#"{{"pages": {{"http://a/": {{"status": {status}}}}}}}"#),
            &format!(
                r#"site file: pages["http://a/"]: status {status} is not a final HTTP status (200 to 599): a real client never gets it as an answer"#
            ),
        );
        let script = format!(r#"{{"pages": {{"http://a/": {{"script": ["{status}"]}}}}}}"#);
        assert!(err(&script).contains("unknown outcome"), "{script}");
    }
    assert!(
        Site::from_json(r#"{"pages": {"http://a/": {"status": 599, "script": ["200"]}}}"#).is_ok()
    );
    // A pad too large for memory is an error, not an abort (nor an overflow).
    for pad in ["1073741825", "18446744073709551615"] {
        check(
            &format!(r#"{{"pages": {{"http://a/": {{"pad": {pad}}}}}}}"#),
            &format!(r#"site file: pages["http://a/"]: pad {pad} is over 1073741824 bytes"#),
        );
    }
}

#[test]
fn load_names_the_file() {
    let missing = Site::load("/nonexistent/site.json")
        .unwrap_err()
        .to_string();
    assert!(
        missing.starts_with("site file /nonexistent/site.json: cannot read: "),
        "{missing}"
    );
    let dir = std::env::temp_dir().join(format!("crawler-site-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.json");
    std::fs::write(&path, r#"{"pages": {"http://a/": {"lnks": []}}}"#).unwrap();
    let bad = Site::load(&path).unwrap_err().to_string();
    assert!(
        bad.starts_with(&format!(
            "site file {}: pages[\"http://a/\"]: unknown field \"lnks\"",
            path.display()
        )),
        "{bad}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generated_prefixes_answer_endless_pages() {
    let site = Site::from_json(
        r#"{"pages": {"http://t.test/cal/listed": {"links": []}},
            "generated": {"http://t.test/cal/": ["{next}"], "http://t.test/cal/x/": ["y/"]}}"#,
    )
    .unwrap();
    let body = |url: &str| {
        let r = site.generate(url).unwrap();
        String::from_utf8(r.body.to_vec()).unwrap()
    };
    assert!(
        body("http://t.test/cal/2026/7?d=9").contains("href=\"http://t.test/cal/2026/7?d=10\"")
    );
    assert!(body("http://t.test/cal/none").contains("href=\"http://t.test/cal/none1\""));
    // The longest prefix wins.
    assert!(body("http://t.test/cal/x/1").contains("href=\"y/\""));
    assert!(site.generate("http://t.test/other").is_none());
    // A listed page is served as listed (the transport asks `find` first).
    assert!(site.find("http://t.test/cal/listed").is_some());
    assert!(Site::from_json(r#"{"generated": {"nope": []}}"#).is_err());
    // Numbers of any length go up by one; leading zeros go, as a number's would.
    let long = "9".repeat(45);
    let next = format!("1{}", "0".repeat(45));
    assert!(body(&format!("http://t.test/cal/{long}")).contains(&format!("cal/{next}\"")));
    assert!(body("http://t.test/cal/007").contains("cal/8\""));
    assert!(body("http://t.test/cal/0").contains("cal/1\""));
    // Two spellings of one prefix are one prefix listed twice.
    assert_eq!(
        err(r#"{"generated": {"http://t.test/cal/": [], "HTTP://T.TEST:80/cal/": []}}"#),
        r#"site file: generated["http://t.test/cal/"]: http://t.test/cal/ is listed twice"#
    );
}

#[test]
fn a_byte_order_mark_is_read_past_and_types_are_named_for_the_file() {
    assert!(Site::from_json("\u{feff}{\"pages\": {}}").is_ok());
    let e = err(r#"{"pages": {"http://a/": "x"}}"#);
    assert!(e.contains("expected a page (an object)"), "{e}");
    assert!(err(r#""x""#).contains("expected a site (an object)"));
}

#[test]
fn a_gzip_page_serves_its_body_compressed() {
    use std::io::Read;
    let site = Site::from_json(
        r#"{"pages": {"http://a.test/s.xml.gz": {"body": "<urlset/>", "gzip": true}}}"#,
    )
    .unwrap();
    let body = site.page(0).response().body;
    assert_eq!(body[..2], [0x1f, 0x8b]);
    let mut out = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, "<urlset/>");
    let no_body = err(r#"{"pages": {"http://a.test/": {"gzip": true}}}"#);
    assert!(
        no_body.contains("\"gzip\" needs a raw \"body\""),
        "{no_body}"
    );
    let redirect = err(r#"{"pages": {"http://a.test/": {"redirect": 301, "gzip": true}}}"#);
    assert!(
        redirect.contains("a redirect cannot have \"gzip\""),
        "{redirect}"
    );
}

#[test]
fn a_meta_robots_tag_goes_in_the_head() {
    let site = Site::from_json(
        r#"{"pages": {"http://a.test/": {"links": ["/b"], "meta_robots": "noindex, nofollow"}}}"#,
    )
    .unwrap();
    let body = site.page(0).response().body;
    let html = std::str::from_utf8(&body).unwrap();
    assert!(
        html.contains(r#"<head><meta name="robots" content="noindex, nofollow"></head>"#),
        "{html}"
    );
    let found = links::extract(html.as_bytes());
    assert!(found.robots.nofollow && found.robots.noindex);
    let raw = err(r#"{"pages": {"http://a.test/": {"body": "x", "meta_robots": "none"}}}"#);
    assert!(
        raw.contains("a raw \"body\" cannot have \"meta_robots\""),
        "{raw}"
    );
}
