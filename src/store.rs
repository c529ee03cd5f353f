//! The crawl's durable memory, as a seam: what a crawl stopped at any moment (finished,
//! interrupted, killed) needs in order to go on without fetching or recording again what it had
//! already done.
//!
//! The engine lends a [`Store`] one completion per URL it finishes ([`Store::keep_ref`], a
//! [`KeptRef`]; [`Kept`] is its owned form): the record, and what of the answer the engine
//! itself reads ( status, the few header fields it looks at, the
//! links of a page, the whole body of a robots.txt or a sitemap). A new crawl over the same
//! store *replays* every kept completion as it comes to that URL: the completion goes through
//! the same code as a fresh answer (labels, redirects, links, robots rules, sitemaps, limits,
//! counters), without the transport, without politeness delays, and its event says
//! [`Event::replayed`](crate::Event::replayed). Everything else the crawl knows (the URL table
//! and its labels, the frontier, per-host counts, robots decisions, the summary) is derived
//! from the completions, so it is as durable as they are. A URL whose completion the store lost
//! is simply fetched again.
//!
//! A store chooses when what it is handed becomes durable (a batch, a sync); the engine needs
//! only that [`Store::kept`] answers for a prefix of what it was lent in an earlier run. [`MemoryStore`] keeps everything in memory (tests, and one process's stop and restart).
//!
//! ```
//! use crawler::{Clock, Config, Crawler, FetchError, MemoryStore, Request, Response, Store, Transport};
//! use std::time::Duration;
//!
//! struct Site;
//! impl Transport for Site {
//!     async fn fetch(&self, req: Request) -> Result<Response, FetchError> {
//!         Ok(match req.url.path() {
//!             "/" => Response::new(200)
//!                 .with_header("content-type", "text/html")
//!                 .with_body(r#"<a href="/a">a</a> <a href="/b">b</a>"#),
//!             _ => Response::new(404),
//!         })
//!     }
//! }
//! struct Frozen;
//! impl Clock for Frozen {
//!     fn now(&self) -> Duration { Duration::ZERO }
//!     async fn sleep(&self, _: Duration) {}
//! }
//!
//! let config = Config::builder().root("http://h/").robots(false).max_tasks(1).build().unwrap();
//! let crawler = Crawler::new(config, Site, Frozen);
//! let mut store = MemoryStore::default();
//! futures_executor::block_on(crawler.run_with_store(None, &mut store, |_| {}));
//! assert_eq!(store.len(), 3);
//! // Say the process was killed when only the first completion had been made durable.
//! let mut survived = MemoryStore::default();
//! survived.keep(store.iter().next().unwrap().clone());
//! // The next run redoes that one and fetches the rest: each URL fetched once over both runs.
//! let (mut replayed, mut fetched) = (Vec::new(), Vec::new());
//! futures_executor::block_on(crawler.run_with_store(None, &mut survived, |e| {
//!     let list = if e.replayed { &mut replayed } else { &mut fetched };
//!     list.push(e.record.url.clone());
//! }));
//! assert_eq!(replayed, ["http://h/"]);
//! assert_eq!(fetched, ["http://h/a", "http://h/b"]);
//! ```

mod codec;
#[cfg(test)]
mod tests_codec;

use std::sync::Arc;

use bytes::Bytes;
use rustc_hash::FxHashMap;

use crate::engine::FetchKind;
use crate::links::{Link, LinkKind, Links, Robots};
use codec::{Answer, Hrefs, LinkParts};

use crate::report::Record;
use crate::transport::{FetchError, Response};
pub use codec::VERSION;

/// The durable memory of a crawl (see the [module docs](self)).
pub trait Store {
    /// The completion kept for `url` (a normalised URL) by an earlier run, if any.
    fn kept(&mut self, url: &str) -> Option<Kept>;

    /// `kept` finished in this run; it is the store's to make durable, when it chooses.
    fn keep(&mut self, kept: Kept);

    /// The completion kept for `url` as a `fetch` (a robots.txt or a sitemap), if any: a store
    /// that keeps one completion per URL and kind answers for that kind. Default:
    /// [`Store::kept`], when it was kept as that kind.
    fn kept_as(&mut self, url: &str, fetch: FetchKind) -> Option<Kept> {
        self.kept(url).filter(|k| k.fetch == fetch)
    }

    /// The same, lent rather than given: what the engine calls. A store that keeps
    /// completions in bytes encodes it ([`KeptRef::encode`]) without building a [`Kept`], so
    /// nothing is copied or allocated per URL. Default: [`Store::keep`] of
    /// [`KeptRef::to_kept`].
    fn keep_ref(&mut self, kept: KeptRef<'_>) {
        self.keep(kept.to_kept());
    }
}

/// One store shared by the engine and its owner (which commits it, or reads it back after a
/// run): every call passes through to the store inside.
impl<S: Store + ?Sized> Store for std::rc::Rc<std::cell::RefCell<S>> {
    fn kept(&mut self, url: &str) -> Option<Kept> {
        self.borrow_mut().kept(url)
    }

    fn keep(&mut self, kept: Kept) {
        self.borrow_mut().keep(kept);
    }

    fn kept_as(&mut self, url: &str, fetch: FetchKind) -> Option<Kept> {
        self.borrow_mut().kept_as(url, fetch)
    }

    fn keep_ref(&mut self, kept: KeptRef<'_>) {
        self.borrow_mut().keep_ref(kept);
    }
}

/// No memory at all: every run starts afresh (what [`Crawler::run`](crate::Crawler::run) uses).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoStore;

impl Store for NoStore {
    fn kept(&mut self, _: &str) -> Option<Kept> {
        None
    }

    fn keep(&mut self, _: Kept) {}

    /// Nothing is built: a crawl without a store pays nothing for the seam.
    fn keep_ref(&mut self, _: KeptRef<'_>) {}
}

/// A [`Store`] in memory: everything kept is kept at once.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    by_url: FxHashMap<String, Kept>,
    order: Vec<String>,
}

impl MemoryStore {
    /// How many completions are kept.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// `true` when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The kept completions, in the order they were kept.
    pub fn iter(&self) -> impl Iterator<Item = &Kept> {
        self.order.iter().map(|url| &self.by_url[url])
    }
}

impl Store for MemoryStore {
    fn kept(&mut self, url: &str) -> Option<Kept> {
        self.by_url.get(url).cloned()
    }

    fn keep(&mut self, kept: Kept) {
        let url = kept.record.url.clone();
        if self.by_url.insert(url.clone(), kept).is_none() {
            self.order.push(url);
        }
    }
}

/// One finished URL, as kept: enough to redo it without the transport.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Kept {
    /// The record, as the event carried it.
    pub record: Record,
    /// What the fetch was for.
    pub fetch: FetchKind,
    /// The answer, as far as the engine reads it, or why there was none.
    pub outcome: Result<KeptResponse, FetchError>,
}

/// What the engine reads of a response.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct KeptResponse {
    /// The status.
    pub status: u16,
    /// The header fields the engine reads (`content-type`, `location`, `retry-after`).
    pub headers: Vec<(String, String)>,
    /// The whole body of a robots.txt or a sitemap; empty for a page (its links are kept).
    pub body: Bytes,
    /// The body's length as it arrived.
    pub body_len: u64,
    /// The body was cut at the transport's cap.
    pub truncated: bool,
    /// The body was not downloaded.
    pub body_skipped: bool,
    /// The links of a page read for links.
    pub links: Option<KeptLinks>,
}

/// A page's links as a store keeps them: the hrefs back to back in one string, each as its
/// kind's letter (upper case for `rel=nofollow`), its length in bytes, `:` and the href, so a
/// page's hundreds of links cost one string to keep and about what their hrefs take on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeptLinks {
    /// The `<base href>`, if any.
    pub base: Option<String>,
    /// The page's meta robots.
    pub robots: Robots,
    /// The links, encoded as above.
    pub hrefs: String,
    /// Why reading stopped early, if it did (the record's `links: ...` error).
    pub why: Option<String>,
}

/// Every link kind and its letter.
const KINDS: [(LinkKind, char); 9] = [
    (LinkKind::Anchor, 'a'),
    (LinkKind::Related, 'r'),
    (LinkKind::Frame, 'f'),
    (LinkKind::Refresh, 'h'),
    (LinkKind::Stylesheet, 's'),
    (LinkKind::Image, 'i'),
    (LinkKind::Script, 'j'),
    (LinkKind::Preload, 'p'),
    (LinkKind::Xml, 'x'),
];

impl KeptLinks {
    /// `found`, kept (with the parser's complaint, if any).
    pub fn of(found: &Links, why: Option<String>) -> KeptLinks {
        let size: usize = found.links.iter().map(|l| l.url.len() + 8).sum();
        let mut bytes = Vec::with_capacity(size);
        codec::write_hrefs(&mut bytes, &found.links);
        KeptLinks {
            base: found.base.clone(),
            robots: found.robots,
            hrefs: String::from_utf8(bytes).expect("ASCII letters, digits and UTF-8 URLs"),
            why,
        }
    }

    /// The links again; an encoding that does not read (a damaged store) is an error.
    pub fn links(&self) -> Result<Links, String> {
        let mut links = Vec::new();
        let mut rest = self.hrefs.as_str();
        while let Some(c) = rest.chars().next() {
            let bad = || {
                let excerpt = rest
                    .char_indices()
                    .nth(40)
                    .map_or(rest, |(i, _)| &rest[..i]);
                format!("kept links: cannot read {excerpt:?}")
            };
            let kind = KINDS
                .iter()
                .find(|(_, k)| *k == c.to_ascii_lowercase())
                .map(|(kind, _)| *kind)
                .ok_or_else(bad)?;
            let after = &rest[c.len_utf8()..];
            let (len, after) = after.split_once(':').ok_or_else(bad)?;
            let len: usize = len.parse().map_err(|_| bad())?;
            let url = after.get(..len).ok_or_else(bad)?;
            links.push(Link {
                url: url.to_string(),
                kind,
                nofollow: c.is_ascii_uppercase(),
            });
            rest = &after[len..];
        }
        Ok(Links {
            base: self.base.clone(),
            links,
            robots: self.robots,
        })
    }
}

/// The header fields the engine reads.
const READ_FIELDS: [&str; 3] = ["content-type", "location", "retry-after"];

/// A header field the engine reads (one of [`READ_FIELDS`], in any case): what is kept of a
/// response's head.
fn is_read_field(name: &str) -> bool {
    READ_FIELDS.iter().any(|f| name.eq_ignore_ascii_case(f))
}

impl Kept {
    /// A completion with no answer: the fetch failed with `error` (for stores that read
    /// completions back, and tests).
    pub fn failed(record: Record, fetch: FetchKind, error: FetchError) -> Kept {
        Kept {
            record,
            fetch,
            outcome: Err(error),
        }
    }

    /// Appends the completion in bytes to `out`: a compact binary form for stores that keep
    /// completions on disk or send them away, everything but the URL, which the store keys the
    /// bytes by and hands back to [`Kept::decode`]. The same bytes as [`KeptRef::encode`] of
    /// what this was made from.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let outcome = self.outcome.as_ref().map(|k| {
            // Every field named: a field added does not compile until it is encoded.
            let KeptResponse {
                status,
                headers,
                body,
                body_len,
                truncated,
                body_skipped,
                links,
            } = k;
            Answer {
                status: *status,
                headers,
                body,
                body_len: *body_len,
                truncated: *truncated,
                body_skipped: *body_skipped,
                links: links.as_ref().map(|l| LinkParts {
                    base: l.base.as_deref(),
                    robots: l.robots,
                    hrefs: Hrefs::Text(&l.hrefs),
                    why: l.why.as_deref(),
                }),
            }
        });
        codec::encode(out, &self.record, self.fetch, outcome);
    }

    /// The completion of `url` that [`Kept::encode`] (or [`KeptRef::encode`]) wrote as
    /// `bytes`; bytes that do not read (a damaged store, another version's) are an error.
    pub fn decode(url: &str, bytes: &[u8]) -> Result<Kept, String> {
        codec::decode(url, bytes)
    }

    /// The answer as the transport would have given it (a page's body left out).
    pub(crate) fn response(&self) -> Result<Response, FetchError> {
        match &self.outcome {
            Err(e) => Err(e.clone()),
            Ok(k) => {
                let mut r = Response::new(k.status);
                r.headers = Arc::from(k.headers.clone());
                r.body = k.body.clone();
                r.truncated = k.truncated;
                r.body_skipped = k.body_skipped;
                Ok(r)
            }
        }
    }
}

/// A finished URL lent to a store ([`Store::keep_ref`]): what a [`Kept`] would hold, borrowed
/// from the engine, so that a store which encodes it copies only what it writes.
#[derive(Debug, Clone, Copy)]
pub struct KeptRef<'a> {
    record: &'a Record,
    fetch: FetchKind,
    outcome: &'a Result<Response, FetchError>,
    /// The page's links when it was read for them, with the parser's complaint, if any.
    links: Option<(&'a Links, Option<&'a str>)>,
}

impl<'a> KeptRef<'a> {
    /// The completion of a fetch: `links` are the page's links when it was read for them (with
    /// the parser's complaint, if any).
    pub(crate) fn new(
        record: &'a Record,
        fetch: FetchKind,
        outcome: &'a Result<Response, FetchError>,
        links: Option<(&'a Links, Option<&'a str>)>,
    ) -> KeptRef<'a> {
        KeptRef {
            record,
            fetch,
            outcome,
            links,
        }
    }

    /// The URL (the record's).
    pub fn url(&self) -> &'a str {
        &self.record.url
    }

    /// The body kept: a robots.txt's or a sitemap's whole body; none of a page's.
    fn body(&self, r: &'a Response) -> &'a Bytes {
        static NONE: Bytes = Bytes::new();
        match self.fetch {
            FetchKind::Robots | FetchKind::Sitemap => &r.body,
            _ => &NONE,
        }
    }

    /// The completion, owned.
    pub fn to_kept(&self) -> Kept {
        let outcome = match self.outcome {
            Err(e) => Err(e.clone()),
            Ok(r) => Ok(KeptResponse {
                status: r.status,
                headers: r
                    .headers
                    .iter()
                    .filter(|(name, _)| is_read_field(name))
                    .cloned()
                    .collect(),
                body: self.body(r).clone(),
                body_len: r.body.len() as u64,
                truncated: r.truncated,
                body_skipped: r.body_skipped,
                links: self
                    .links
                    .map(|(l, why)| KeptLinks::of(l, why.map(str::to_string))),
            }),
        };
        Kept {
            record: self.record.clone(),
            fetch: self.fetch,
            outcome,
        }
    }

    /// Appends the completion in bytes to `out`, as [`Kept::encode`] does for
    /// [`KeptRef::to_kept`], without building it.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let outcome = self.outcome.as_ref().map(|r| Answer {
            status: r.status,
            headers: &r.headers,
            body: self.body(r),
            body_len: r.body.len() as u64,
            truncated: r.truncated,
            body_skipped: r.body_skipped,
            links: self.links.map(|(l, why)| LinkParts {
                base: l.base.as_deref(),
                robots: l.robots,
                hrefs: Hrefs::Found(&l.links),
                why,
            }),
        });
        codec::encode(out, self.record, self.fetch, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept page's links come back as they were, whatever their kind, flags or characters.
    #[test]
    fn kept_links_round_trip_through_bytes() {
        let kinds = [
            LinkKind::Anchor,
            LinkKind::Related,
            LinkKind::Frame,
            LinkKind::Refresh,
            LinkKind::Stylesheet,
            LinkKind::Image,
            LinkKind::Script,
            LinkKind::Preload,
            LinkKind::Xml,
        ];
        let mut found = Links {
            base: Some("/b/".into()),
            ..Links::default()
        };
        for (i, kind) in kinds.into_iter().enumerate() {
            found.links.push(Link {
                url: format!("/p{i}?a=\"1\"\n\u{e9}"),
                kind,
                nofollow: i % 2 == 0,
            });
        }
        found.links.push(Link {
            url: String::new(),
            kind: LinkKind::Anchor,
            nofollow: false,
        });
        let response = Response::new(200).with_header("content-type", "text/html");
        let record = Record::response("http://h/", 200, 1, 0);
        let outcome = Ok(response);
        let lent = KeptRef::new(
            &record,
            FetchKind::Page,
            &outcome,
            Some((&found, Some("cut"))),
        );
        let kept = lent.to_kept();
        let (mut bytes, mut lent_bytes) = (Vec::new(), Vec::new());
        kept.encode(&mut bytes);
        lent.encode(&mut lent_bytes);
        assert_eq!(bytes, lent_bytes);
        let back = Kept::decode("http://h/", &bytes).unwrap();
        assert_eq!(back, kept);
        let Ok(KeptResponse {
            links: Some(links), ..
        }) = &back.outcome
        else {
            panic!("{back:?}")
        };
        assert_eq!(links.links(), Ok(found.clone()));
        assert_eq!(links.why.as_deref(), Some("cut"));
        let long = format!("z{}", "\u{e9}".repeat(30));
        for bad in ["z3:abc", "a3abc", "a9:abc", "ax:abc", "a1:\u{e9}", &long] {
            let bad = KeptLinks {
                hrefs: bad.into(),
                ..links.clone()
            };
            assert!(bad.links().is_err(), "{bad:?}");
        }
    }
}
