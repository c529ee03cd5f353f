//! A generated site big enough that a crawl of it takes a while, and the URL set a full crawl of
//! it must fetch, worked out from the site's model alone (no code of the crawler's).
//!
//! Page 0 is `/`, page `i` is `/p/i`. Each page links to its two children in a binary tree
//! (`2i+1`, `2i+2`: every page is reachable, about log2(n) hops deep), the second by a relative
//! href with a fragment, and to one page across the tree. Some pages also link to a redirect
//! (`/r/i`, 301, to another page; every other one with an absolute `Location`), a chain of two
//! (`/c/i`, 302, to `/r/i`), a missing page (`/missing/i`, 404) and a page robots.txt
//! disallows (`/private/i`, never fetched). The server waits a little before each answer, so
//! that a crawl lasts long enough to be stopped in the middle.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::server::{Body, Reply, Req, Server};

/// The site's model: `pages` pages and the paths around them.
#[derive(Debug, Clone, Copy)]
pub struct GenSite {
    /// Pages `/` and `/p/1` .. `/p/{pages-1}`.
    pub pages: usize,
}

/// What one path answers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// A page with links, each as written in the HTML and as the path it means.
    Page(Vec<(String, String)>),
    /// A redirect: status, `Location` (absolute ones are built from the `Host` header), and the
    /// path it means.
    Redirect(u16, Location),
    /// robots.txt.
    Robots,
    /// 404.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    Relative(String),
    Absolute(String),
}

impl Location {
    fn path(&self) -> &str {
        match self {
            Location::Relative(p) | Location::Absolute(p) => p,
        }
    }
}

/// The path of page `i`.
fn page(i: usize) -> String {
    match i {
        0 => "/".to_string(),
        i => format!("/p/{i}"),
    }
}

impl GenSite {
    /// A site of `pages` pages (at least 2).
    pub fn new(pages: usize) -> Self {
        assert!(pages >= 2);
        GenSite { pages }
    }

    fn links(&self, i: usize) -> Vec<(String, String)> {
        let n = self.pages;
        let mut links = Vec::new();
        for (k, child) in [2 * i + 1, 2 * i + 2].into_iter().enumerate() {
            if child < n {
                // From /p/i, the href `c#top` means /p/c; from / it would not.
                let href = match (k, i) {
                    (1, 1..) => format!("{child}#top"),
                    _ => page(child),
                };
                links.push((href, page(child)));
            }
        }
        let across = page((i * 37 + 11) % n);
        links.push((across.clone(), across));
        let mut extra = |path: String| links.push((path.clone(), path));
        if i.is_multiple_of(10) {
            extra(format!("/r/{i}"));
        }
        if i.is_multiple_of(100) {
            extra(format!("/c/{i}"));
        }
        if i % 60 == 7 {
            extra(format!("/missing/{i}"));
        }
        if i % 250 == 3 {
            extra(format!("/private/{i}"));
        }
        links
    }

    fn answer(&self, path: &str) -> Answer {
        let (kind, i) = match path {
            "/" => ("p", 0),
            "/robots.txt" => return Answer::Robots,
            _ => {
                let mut parts = path[1..].splitn(2, '/');
                let kind = parts.next().unwrap_or("");
                match parts.next().and_then(|i| i.parse::<usize>().ok()) {
                    Some(i) if i < self.pages => (kind, i),
                    _ => return Answer::Missing,
                }
            }
        };
        match kind {
            "p" => Answer::Page(self.links(i)),
            "r" if i % 20 == 0 => {
                Answer::Redirect(301, Location::Absolute(page((i * 7 + 3) % self.pages)))
            }
            "r" => Answer::Redirect(301, Location::Relative(page((i * 7 + 3) % self.pages))),
            "c" => Answer::Redirect(302, Location::Relative(format!("/r/{i}"))),
            "private" => Answer::Page(Vec::new()),
            _ => Answer::Missing,
        }
    }

    /// Serves the site on 127.0.0.1, waiting `delay` before each answer.
    pub fn serve(self, delay: Duration) -> Server {
        Server::start(move |req: &Req| {
            std::thread::sleep(delay);
            match self.answer(&req.path) {
                Answer::Page(links) => {
                    let mut html = format!("<!doctype html><title>{}</title>\n", req.path);
                    for (href, _) in links {
                        html.push_str(&format!("<a href=\"{href}\">{href}</a>\n"));
                    }
                    // Some text, so that a WARC record is more than its headers.
                    html.push_str(&format!("<p>{}</p>\n", "lorem ipsum ".repeat(30)));
                    Reply::html(html)
                }
                Answer::Redirect(status, Location::Relative(to)) => Reply::redirect(status, &to),
                Answer::Redirect(status, Location::Absolute(to)) => {
                    let host = req.header("host").unwrap_or("");
                    Reply::redirect(status, &format!("http://{host}{to}"))
                }
                Answer::Robots => Reply::status(200)
                    .header("content-type", "text/plain")
                    .body(Body::Length(
                        b"User-agent: *\nDisallow: /private/\n".to_vec(),
                    )),
                Answer::Missing => Reply::status(404),
            }
        })
    }

    /// Every path a full crawl from `/` fetches (robots.txt included, disallowed paths not),
    /// with the status it gets.
    pub fn expected(&self) -> BTreeMap<String, u16> {
        let mut seen = BTreeMap::from([("/robots.txt".to_string(), 200)]);
        let mut queue = VecDeque::from(["/".to_string()]);
        while let Some(path) = queue.pop_front() {
            if seen.contains_key(&path) || path.starts_with("/private/") {
                continue;
            }
            let (status, next) = match self.answer(&path) {
                Answer::Page(links) => (200, links.into_iter().map(|(_, p)| p).collect()),
                Answer::Redirect(status, to) => (status, vec![to.path().to_string()]),
                Answer::Robots => (200, Vec::new()),
                Answer::Missing => (404, Vec::new()),
            };
            seen.insert(path, status);
            queue.extend(next);
        }
        seen
    }

    /// Asserts that the JSONL `files` together hold every path of [`GenSite::expected`] once
    /// and nothing else, each with its status (`base`: the server's URL, which paths are
    /// written under); `what` starts every message. Returns the paths and statuses.
    pub fn assert_each_once(
        &self,
        base: &str,
        files: &[&std::path::Path],
        what: &str,
    ) -> BTreeMap<String, u16> {
        let mut got: BTreeMap<String, Vec<Option<u16>>> = BTreeMap::new();
        for file in files {
            for r in super::records(file) {
                let path = r.url.strip_prefix(base).unwrap_or(&r.url).to_string();
                got.entry(path).or_default().push(r.status);
            }
        }
        let twice: Vec<_> = got.iter().filter(|(_, s)| s.len() > 1).collect();
        assert!(
            twice.is_empty(),
            "{what}: URLs in more than one line: {twice:?}"
        );
        let got: BTreeMap<String, u16> = got
            .into_iter()
            .map(|(p, s)| (p, s[0].unwrap_or(0)))
            .collect();
        let want = self.expected();
        let missing: Vec<_> = want.keys().filter(|p| !got.contains_key(*p)).collect();
        let extra: Vec<_> = got.keys().filter(|p| !want.contains_key(*p)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{what}: {} missing {missing:?}, {} extra {extra:?}",
            missing.len(),
            extra.len()
        );
        assert_eq!(got, want, "{what}: statuses");
        got
    }
}
