//! Engine tests for what the caller is handed: one [`Event`] per fetched URL, with what the
//! fetch was, the response as the transport gave it (the body shared, not copied), the links of
//! an HTML page, and the record's problem as a type.

use std::cell::RefCell;
use std::collections::BTreeMap;

use bytes::Bytes;

use super::tests::SkipClock;
use super::*;
use crate::links::LinkKind;
use crate::transport::{FetchError, FetchErrorKind, Request, Response};
use crate::{Config, Problem};

/// Answers from fixed responses by path; remembers the body of `/` to compare pointers with.
struct Fixed {
    page: Bytes,
    sitemap: Bytes,
}

impl Transport for Fixed {
    async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        Ok(match request.url.path() {
            "/robots.txt" => Response::new(404),
            "/" => Response::new(200)
                .with_header("content-type", "text/html")
                .with_header("x-served-by", "fixed")
                .with_body(self.page.clone()),
            "/sitemap.xml" => Response::new(200)
                .with_header("content-type", "application/xml")
                .with_body(self.sitemap.clone()),
            "/old" => Response::new(301).with_header("location", "/a"),
            "/nowhere" => Response::new(302),
            "/broken" => {
                return Err(FetchError::new(FetchErrorKind::Reset, "connection reset"));
            }
            _ => Response::new(200).with_header("content-type", "text/plain"),
        })
    }
}

/// What an event showed, kept past the callback.
#[derive(Debug)]
struct Seen {
    fetch: FetchKind,
    status: Option<u16>,
    error: Option<String>,
    problem: Option<Problem>,
}

#[test]
fn every_fetch_is_an_event_with_its_kind_response_links_and_problem() {
    let fixed = Fixed {
        page: Bytes::from_static(
            br#"<a href="/a">a</a> <a href="old#top">old</a> <a href=/nowhere>x</a>
                <a href="/broken" rel=nofollow>b</a> <img src="/i.png"> <a href="mailto:x@h">m</a>"#,
        ),
        sitemap: Bytes::from_static(
            br#"<urlset><url><loc>http://h/a</loc></url></urlset>"#,
        ),
    };
    let config = Config::builder()
        .root("http://h/")
        .sitemap("http://h/sitemap.xml")
        .max_tries(1)
        .build()
        .unwrap();
    let crawler = Crawler::new(config, &fixed, SkipClock::default());
    let seen = RefCell::new(BTreeMap::new());
    let mut links = Vec::new();
    let mut shared = false;
    futures_executor::block_on(crawler.run(|event| {
        if event.record.url == "http://h/" {
            assert_eq!(event.headers()[1], ("x-served-by".into(), "fixed".into()));
            // The very bytes the transport answered with: shared, not copied.
            shared = event
                .body()
                .is_some_and(|b| b.as_ptr() == fixed.page.as_ptr());
            links = event
                .links()
                .map(|l| (l.url.to_string(), l.kind, l.nofollow))
                .collect();
        } else {
            assert_eq!(event.links().count(), 0, "{}", event.record.url);
        }
        assert_eq!(
            event.problem.map(Problem::to_string),
            event.record.error,
            "the record's error is the problem's text"
        );
        let seen_now = Seen {
            fetch: event.fetch,
            status: event.status(),
            error: event.record.error.clone(),
            problem: event.problem.cloned(),
        };
        seen.borrow_mut().insert(event.record.url.clone(), seen_now);
    }));
    assert!(shared);
    assert_eq!(
        links,
        [
            ("http://h/a".to_string(), LinkKind::Anchor, false),
            ("http://h/old".to_string(), LinkKind::Anchor, false),
            ("http://h/nowhere".to_string(), LinkKind::Anchor, false),
            ("http://h/broken".to_string(), LinkKind::Anchor, true),
            // Assets are listed even when the crawl does not follow them.
            ("http://h/i.png".to_string(), LinkKind::Image, false),
        ]
    );
    let seen = seen.into_inner();
    let kind = |url: &str| seen[url].fetch;
    assert_eq!(kind("http://h/robots.txt"), FetchKind::Robots);
    assert_eq!(kind("http://h/sitemap.xml"), FetchKind::Sitemap);
    assert_eq!(kind("http://h/"), FetchKind::Page);
    assert_eq!(kind("http://h/a"), FetchKind::Page);
    assert_eq!(kind("http://h/old"), FetchKind::Redirect);
    assert_eq!(kind("http://h/nowhere"), FetchKind::Redirect);
    assert_eq!(
        seen["http://h/nowhere"].problem,
        Some(Problem::RedirectWithoutLocation)
    );
    assert_eq!(seen["http://h/nowhere"].status, Some(302));
    // The nofollow link was not fetched; nothing else has a problem, none left over from
    // another URL.
    assert!(!seen.contains_key("http://h/broken"));
    for (url, s) in &seen {
        if url != "http://h/nowhere" {
            assert_eq!((&s.problem, &s.error), (&None, &None), "{url}");
        }
    }
}

#[test]
fn a_failed_fetch_carries_its_error_as_a_problem() {
    let fixed = Fixed {
        page: Bytes::from_static(br#"<a href="/broken">b</a>"#),
        sitemap: Bytes::new(),
    };
    let config = Config::builder()
        .root("http://h/")
        .robots(false)
        .max_tries(1)
        .build()
        .unwrap();
    let crawler = Crawler::new(config, &fixed, SkipClock::default());
    let mut failed = Vec::new();
    futures_executor::block_on(crawler.run(|event| {
        if let Some(problem) = event.problem {
            assert!(event.outcome.is_err() && event.response().is_none());
            assert_eq!(event.headers(), &[]);
            failed.push((event.record.url.clone(), problem.clone()));
        }
    }));
    let reset = FetchError::new(FetchErrorKind::Reset, "connection reset");
    assert_eq!(
        failed,
        [("http://h/broken".to_string(), Problem::Fetch(reset))]
    );
    assert!(failed[0].1.no_page());
}
