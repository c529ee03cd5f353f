//! What the crawl hands its caller for each fetched URL: an [`Event`].
//!
//! A [`Record`] is what the command line writes (one JSON line). An embedder wants more: the
//! response's header fields, its body, the links the page has, and whether the fetch was a page
//! at all or the crawl's own robots.txt or sitemap. The event lends all of it for the length of
//! the callback: nothing is copied to build it (the body is shared [`Bytes`]: keeping it is a
//! reference count), and links are resolved only when [`Event::links`] is called.

use bytes::Bytes;
use url::Url;

use crate::links::{self, LinkKind, Links};
use crate::normalize::{self, Canon};
use crate::problem::Problem;
use crate::report::Record;
use crate::transport::{FetchError, Response};

/// Where the crawl stands, handed to the caller with each event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// URLs fetched so far (records emitted, this one included).
    pub done: u64,
    /// Requests in flight now.
    pub in_flight: usize,
    /// URLs waiting (queued, or waiting to be retried).
    pub queued: usize,
}

/// What a fetch was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FetchKind {
    /// A page (a root, a link, a sitemap entry or a redirect target) that did not answer with a
    /// redirect: a success, an error status, or no response at all.
    Page,
    /// A page that answered with a redirect (3xx): one hop of a chain.
    Redirect,
    /// A robots.txt file, fetched by the crawl before the pages of its hosts (its redirect hops
    /// included).
    Robots,
    /// A sitemap or sitemap index (its redirect hops included).
    Sitemap,
}

/// One fetched URL, after its last try: its record, its response, and its links. The crawl
/// lends it to the callback of [`Crawler::run`](crate::Crawler::run); nothing is copied to build
/// it, and links are resolved only when [`links`](Event::links) is called.
///
/// ```
/// use crawler::{Clock, Config, Crawler, FetchError, FetchKind, Request, Response, Transport};
/// use std::time::Duration;
///
/// struct Site;
/// impl Transport for Site {
///     async fn fetch(&self, req: Request) -> Result<Response, FetchError> {
///         Ok(match req.url.path() {
///             "/" => Response::new(200)
///                 .with_header("content-type", "text/html")
///                 .with_body(r#"<a href="/a">a</a> <img src="/i.png">"#),
///             _ => Response::new(404),
///         })
///     }
/// }
/// struct Frozen;
/// impl Clock for Frozen {
///     fn now(&self) -> Duration { Duration::ZERO }
///     async fn sleep(&self, _: Duration) {}
/// }
///
/// let config = Config::builder().root("http://h/").robots(false).build().unwrap();
/// let crawler = Crawler::new(config, Site, Frozen);
/// let mut seen = Vec::new();
/// futures_executor::block_on(crawler.run(|event| {
///     if event.fetch == FetchKind::Page && event.status() == Some(200) {
///         let links: Vec<String> = event.links().map(|l| l.url.to_string()).collect();
///         seen.push((event.record.url.clone(), event.body().map(|b| b.len()), links));
///     }
/// }));
/// let links = vec!["http://h/a".to_string(), "http://h/i.png".to_string()];
/// assert_eq!(seen, [("http://h/".to_string(), Some(37), links)]);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Event<'a> {
    /// `true` when the URL was finished by an earlier run over the same store and is redone
    /// from what it kept (see [`crate::store`]): nothing was fetched, and its record was
    /// written out then.
    pub replayed: bool,
    /// The completion is this worker's own: fetched in this run (`replayed` is `false`), or,
    /// in a shared crawl (see [`crate::shared`]), by a worker of the same name in an earlier
    /// run, one that may have been killed before it wrote its record out. Always
    /// `!replayed` outside shared crawls.
    pub mine: bool,
    /// The URL's record, as the command line writes it.
    pub record: &'a Record,
    /// What the fetch was for.
    pub fetch: FetchKind,
    /// The response, or why none arrived.
    pub outcome: &'a Result<Response, FetchError>,
    /// What went wrong, if anything: the record's `error`, as a type.
    pub problem: Option<&'a Problem>,
    /// Where the crawl stands.
    pub progress: Progress,
    /// The page's links, when it was an HTML page read for links, and the URL they resolve
    /// against.
    pub(super) found: Option<(&'a Links, &'a Url)>,
    pub(super) canon: Canon,
}

/// A link of a page, resolved and normalised as the crawl does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutLink {
    /// The absolute, normalised URL.
    pub url: Url,
    /// What element it came from.
    pub kind: LinkKind,
    /// `true` when the link carries `rel=nofollow` or its page's `<meta name=robots>` says
    /// `nofollow`: the crawl counts it but does not follow it.
    pub nofollow: bool,
}

impl<'a> Event<'a> {
    /// The response, when one arrived.
    pub fn response(&self) -> Option<&'a Response> {
        self.outcome.as_ref().ok()
    }

    /// The status of the response, when one arrived.
    pub fn status(&self) -> Option<u16> {
        self.response().map(|r| r.status)
    }

    /// The response's header fields in the order received (names lowercase); empty when no
    /// response arrived.
    pub fn headers(&self) -> &'a [(String, String)] {
        self.response().map_or(&[], |r| &r.headers)
    }

    /// The body as received (decoded, cut at the body cap), when it was downloaded. Cloning it
    /// is a reference count.
    pub fn body(&self) -> Option<&'a Bytes> {
        self.response().filter(|r| !r.body_skipped).map(|r| &r.body)
    }

    /// Every link of an HTML page the crawl read, in document order, resolved against the page's
    /// base and normalised (those that are not `http(s)` URLs left out), whether or not the
    /// crawl follows it: assets are listed even without `--assets`, and out-of-scope URLs too.
    /// Empty for anything else.
    pub fn links(&self) -> impl Iterator<Item = OutLink> + 'a {
        let canon = self.canon;
        self.found.into_iter().flat_map(move |(found, base)| {
            found.links.iter().filter_map(move |link: &links::Link| {
                Some(OutLink {
                    url: normalize::resolve_with(base, &link.url, canon)?,
                    kind: link.kind,
                    nofollow: link.nofollow || found.robots.nofollow,
                })
            })
        })
    }
}
