//! Link extraction from HTML bodies (and, in `xml.rs`, from XML ones: feeds and other XML
//! documents, by [`extract_xml`]; [`format_of`] says which bodies are read, and how).
//!
//! [`extract`], which the engine uses, reads a body with lol_html, a maintained streaming HTML
//! parser that builds no tree (`stream.rs`). [`extract_dom`] is the reference: it builds the whole
//! DOM with html5ever and reads it through `select`, element by element in tree order. Where
//! tree construction moves, clones or drops an element (or one of the two parsers has a known
//! quirk), the two differ by design: each such difference is a named [`agreement::Rule`] with
//! its own test, and the tests hold the first to the second, modulo exactly the rules an input's
//! markup makes possible, on every fixture under `fixtures/html/` and on random HTML.
//!
//! Both parse as a browser with scripting disabled does: a crawler runs no scripts, so
//! `<noscript>` content is markup and its links count (mdBook puts a whole table of contents in
//! `<noscript><iframe src=toc.html>`).
//!
//! What counts, element by element (names and attributes matched by local name, in any
//! namespace, so an SVG `<a xlink:href>` counts; the first of duplicate attributes wins; an
//! attribute that is present counts even when empty):
//!
//! | element | attribute | reported as |
//! |---|---|---|
//! | `a`, `area` | `href` | [`LinkKind::Anchor`], `nofollow` when `rel` has the token `nofollow` |
//! | `link` | `href`, when `rel` has `stylesheet` | [`LinkKind::Stylesheet`] (an asset) |
//! | `link` | `href`, when `rel` has `alternate`, `next`, `prev` or `canonical` (and not `stylesheet`) | [`LinkKind::Related`], `nofollow` as for `a` |
//! | `link` | `href`, when `rel` has `icon` or `apple-touch-icon` (and none of the above) | [`LinkKind::Image`] (an asset) |
//! | `link` | `href`, when `rel` has `preload` or `modulepreload` (and none of the above) | [`LinkKind::Preload`] (an asset) |
//! | `iframe`, `frame` | `src` | [`LinkKind::Frame`] |
//! | `meta` | `content`, when `http-equiv` is `refresh` and the content names a URL | [`LinkKind::Refresh`]: that URL, parsed as browsers do |
//! | `img` (and `<image>`, which HTML reads as `img`) | `src`, then each candidate URL of `srcset` | [`LinkKind::Image`] (assets) |
//! | `source` | each candidate URL of `srcset` | [`LinkKind::Image`] (assets) |
//! | `script` | `src` | [`LinkKind::Script`] (an asset) |
//! | `meta` | `content`, when `name` is `robots` | [`Links::robots`]: `noindex`, `nofollow`, `none` (both), from every such tag |
//! | `base` | `href` | [`Links::base`], from the first `base` that has one |
//!
//! Attribute values compared with a keyword (`rel` tokens, `http-equiv`, `name`, directives) are
//! compared ASCII case-insensitively. Other `rel` values on `link` (`dns-prefetch`, `manifest`, ...) are
//! not reported. Elements that are not in the document do not count: `<template>` contents, anything
//! inside raw text such as `<title>`, `<script>` or `<iframe>`. The value parsers (`srcset`,
//! refresh, `rel`, directives) are shared by both extractors and tested against the HTML standard
//! on their own.
//!
//! Bodies are bytes, read as UTF-8: invalid sequences become U+FFFD, as lossy decoding (which the
//! reference needs for its `&str`) makes them.
//!
//! Extraction returns raw attribute values (entities decoded, nothing resolved); the engine resolves
//! them with [`base_url`] and [`crate::normalize::resolve`].
//!
//! ```
//! use crawler::links::{extract_dom, LinkKind};
//!
//! let links = extract_dom(
//!     r#"<base href="/d/"><a href="x.html" rel=nofollow>x</a><img srcset="s.png 1x, t.png 2x">
//!        <meta http-equiv=refresh content="5; url=/next"><meta name=robots content=noindex>"#,
//! );
//! assert_eq!(links.base.as_deref(), Some("/d/"));
//! let found: Vec<_> = links.links.iter().map(|l| (l.url.as_str(), l.kind, l.nofollow)).collect();
//! assert_eq!(
//!     found,
//!     [
//!         ("x.html", LinkKind::Anchor, true),
//!         ("s.png", LinkKind::Image, false),
//!         ("t.png", LinkKind::Image, false),
//!         ("/next", LinkKind::Refresh, false),
//!     ]
//! );
//! assert!(links.robots.noindex && !links.robots.nofollow);
//! ```

pub mod agreement;
#[cfg(test)]
mod differential;
mod reference;
mod stream;
#[cfg(test)]
mod testgen;
mod values;
mod xml;

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};

use url::Url;

pub use stream::ExtractError;
pub use values::Robots;
pub use xml::{Format, extract_xhtml_into, extract_xml, extract_xml_into, format_of, is_xml};

/// The links of one HTML document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The `href` of the first `<base href>`, if any.
    pub base: Option<String>,
    /// Every link, of every kind, in document order, duplicates kept.
    pub links: Vec<Link>,
    /// The directives of the page's `<meta name=robots>` tags, combined.
    pub robots: Robots,
}

impl Links {
    /// The URLs of the `a`/`area` links, in order.
    pub fn anchors(&self) -> impl Iterator<Item = &str> {
        self.links
            .iter()
            .filter(|l| l.kind == LinkKind::Anchor)
            .map(|l| l.url.as_str())
    }
}

/// One link found in a document: its raw value (entities decoded, nothing resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The URL as written.
    pub url: String,
    /// Which element and attribute it came from.
    pub kind: LinkKind,
    /// Its `rel` has `nofollow` (only `a`, `area` and `link` have one).
    pub nofollow: bool,
}

/// Where a [`Link`] came from (the module header has the full table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum LinkKind {
    /// `a` or `area` `href`.
    Anchor,
    /// `link` `href` with `rel` alternate, next, prev or canonical.
    Related,
    /// `iframe` or `frame` `src`.
    Frame,
    /// The URL of a `<meta http-equiv=refresh>`.
    Refresh,
    /// `link` `href` with `rel` stylesheet (an asset).
    Stylesheet,
    /// `img` `src`, an `img` or `source` `srcset` candidate, or a `link` `rel=icon` or
    /// `apple-touch-icon` (an asset).
    Image,
    /// `script` `src` (an asset).
    Script,
    /// `link` `href` with `rel` `preload` or `modulepreload` (an asset).
    Preload,
    /// In an XML document: an element's `href`, or an RSS `<link>`'s text (see `xml.rs`).
    Xml,
}

impl LinkKind {
    /// `true` for what a page needs to display (stylesheets, images and icons, scripts,
    /// preloads), which the crawler follows only when asked to (`--assets`).
    pub fn is_asset(self) -> bool {
        matches!(
            self,
            LinkKind::Stylesheet | LinkKind::Image | LinkKind::Script | LinkKind::Preload
        )
    }
}

/// `true` for the media types whose bodies are parsed as HTML for links (XHTML included, see
/// [`extract_xhtml_into`]).
pub fn is_html(media_type: &str) -> bool {
    matches!(media_type, "text/html" | "application/xhtml+xml")
}

/// The links of `body`, as the engine reads them. A document the parser gives up on (which
/// [`extract_into`] reports) gives the links found before that point.
///
/// ```
/// let links = crawler::links::extract(b"<p><a href=/a>one</p><noscript><a href='/b'></noscript>");
/// assert_eq!(links.anchors().collect::<Vec<_>>(), ["/a", "/b"]);
/// ```
pub fn extract(body: &[u8]) -> Links {
    let mut links = Links::default();
    // The links found before a failure are the answer here; `extract_into` says why it stopped.
    let _ = extract_into(body, &mut links);
    links
}

/// [`extract`] into `links`, whose previous contents are replaced (its vector's room is reused
/// from one page to the next). On an error, `links` holds what was found before it: a page the
/// parser cannot finish is that page's outcome, never the crawl's, and no panic escapes.
///
/// ```
/// let mut links = crawler::links::Links::default();
/// for page in [&b"<a href=/a>a</a><base href=/x/>"[..], b"<a href=/b>b</a>"] {
///     crawler::links::extract_into(page, &mut links).unwrap();
///     assert_eq!(links, crawler::links::extract(page));
/// }
/// ```
pub fn extract_into(body: &[u8], links: &mut Links) -> Result<(), ExtractError> {
    fresh(links, |links| stream::extract(body, links, 0))
}

/// Empties `links` (keeping at most [`KEEP_LINKS`] of room) and runs `extract` on it, a panic
/// caught and returned as [`ExtractError::Panic`].
fn fresh(
    links: &mut Links,
    extract: impl FnOnce(&mut Links) -> Result<(), ExtractError>,
) -> Result<(), ExtractError> {
    links.links.clear();
    if links.links.capacity() > KEEP_LINKS {
        links.links = Vec::new();
    }
    links.base = None;
    links.robots = Robots::default();
    catch_unwind(AssertUnwindSafe(|| extract(links))).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_string());
        Err(ExtractError::Panic(why))
    })
}

/// The most links' room [`extract_into`] keeps for the next page: a page with a million links
/// must not leave a vector that size behind.
const KEEP_LINKS: usize = 4096;

/// Reference extractor: builds the DOM with html5ever (scripting disabled), reads it through
/// `select` element by element, by the module header's table.
pub fn extract_dom(html: &str) -> Links {
    reference::extract(html)
}

/// The URL relative links resolve against: `<base href>` resolved against the document's URL, or
/// the document's URL when there is no usable base (as the HTML standard says: unparseable, or a
/// `data:`/`javascript:` URL, falls back to the document URL). Borrowed in that case, so a page
/// without a base costs no copy of its URL.
pub fn base_url<'a>(document: &'a Url, base: Option<&str>) -> Cow<'a, Url> {
    match base.and_then(|b| document.join(b).ok()) {
        Some(u) if !matches!(u.scheme(), "data" | "javascript") => Cow::Owned(u),
        _ => Cow::Borrowed(document),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_into_keeps_no_more_than_its_bounds() {
        let big: String = (0..2 * KEEP_LINKS)
            .map(|i| format!("<a href=/{i}>"))
            .collect();
        let mut links = Links::default();
        extract_into(big.as_bytes(), &mut links).unwrap();
        assert_eq!(links.links.len(), 2 * KEEP_LINKS);
        extract_into(b"<a href=/x>", &mut links).unwrap();
        assert_eq!(links, extract(b"<a href=/x>"));
        assert!(
            links.links.capacity() <= KEEP_LINKS,
            "{}",
            links.links.capacity()
        );
    }

    #[test]
    fn a_panic_in_the_parser_is_the_pages_outcome() {
        // The anchor handler panics on this href in test builds, as a parser bug would.
        let mut links = Links::default();
        let body = b"<base href=/b/><a href=/kept><meta name=robots content=noindex>\
                     <a href='test:panic'><a href=/after>";
        let err = extract_into(body, &mut links).unwrap_err();
        assert_eq!(err, ExtractError::Panic("a panic for the tests".into()));
        assert_eq!(links.anchors().collect::<Vec<_>>(), ["/kept"]);
        assert_eq!(links.base.as_deref(), Some("/b/"));
        assert!(links.robots.noindex);
        // The next page is read afresh.
        extract_into(b"<a href=/next>", &mut links).unwrap();
        assert_eq!(links, extract(b"<a href=/next>"));
    }

    #[test]
    fn a_page_the_parser_gives_up_on_keeps_its_links_and_says_why() {
        // A tag left open by the end of the body is the one thing the parser buffers: past its
        // memory limit it gives up, and the links before it are kept.
        let mut body = b"<a href=/before><img src=".to_vec();
        body.resize(body.len() + 9 * 1024 * 1024, b'x');
        let mut links = Links::default();
        let err = extract_into(&body, &mut links).unwrap_err();
        assert!(matches!(err, ExtractError::Parser(_)), "{err:?}");
        assert!(err.to_string().starts_with("html parser failed: "), "{err}");
        assert_eq!(links.anchors().collect::<Vec<_>>(), ["/before"]);
        assert_eq!(extract(&body).anchors().collect::<Vec<_>>(), ["/before"]);
    }

    /// Asserts that both extractors give the same [`Links`] on `html`, and returns them.
    fn both(html: &[u8]) -> Links {
        let shown = String::from_utf8_lossy(html);
        let reference = extract_dom(&shown);
        assert_eq!(extract(html), reference, "streaming extractor on {shown:?}");
        reference
    }

    fn check(html: impl AsRef<[u8]>, base: Option<&str>, hrefs: &[&str]) {
        let html = html.as_ref();
        let links = both(html);
        let shown = String::from_utf8_lossy(html);
        assert_eq!(links.base.as_deref(), base, "base in {shown:?}");
        assert_eq!(links.anchors().collect::<Vec<_>>(), hrefs, "in {shown:?}");
    }

    /// Asserts that both extractors find exactly `expected` (URL, kind, nofollow) in `html`.
    fn check_links(html: &str, expected: &[(&str, LinkKind, bool)]) -> Robots {
        let links = both(html.as_bytes());
        let found: Vec<_> = links
            .links
            .iter()
            .map(|l| (l.url.as_str(), l.kind, l.nofollow))
            .collect();
        assert_eq!(found, expected, "in {html:?}");
        links.robots
    }

    #[test]
    fn every_kind_in_document_order() {
        use LinkKind::*;
        check_links(
            r#"<!doctype html><html><head>
            <link rel=stylesheet href=/s.css><link rel="alternate" hreflang=de href=/de/>
            <link rel=icon href=/favicon.ico><link href=/no-rel><link rel=next>
            <link rel=modulepreload href=/m.js><link rel=dns-prefetch href=//cdn.example>
            <link rel="Canonical" href=/c><link rel="PREV nofollow" href=/p>
            <link rel="alternate stylesheet" href=/alt.css>
            <meta http-equiv=Refresh content="3; URL='/r'"><meta http-equiv=refresh content=5>
            <script src=/j.js></script><script>var a = '<a href=/in-js>';</script>
            </head><body>
            <a href=/a rel="external NoFollow">a</a><map><area href=/m rel=nofollowed></map>
            <img src=/i.png srcset="/i2.png 2x, /i3.png 3x"><img alt=none><img srcset=/only.png>
            <iframe src=/f></iframe><iframe></iframe>
            <noscript><img src=/ns.png></noscript>
            <picture><source srcset="/p.webp 1x, /p2.webp 2x" src=/not-a-link><img src=/p.png></picture>
            </body></html>"#,
            &[
                ("/s.css", Stylesheet, false),
                ("/de/", Related, false),
                ("/favicon.ico", Image, false),
                ("/m.js", Preload, false),
                ("/c", Related, false),
                ("/p", Related, true),
                ("/alt.css", Stylesheet, false),
                ("/r", Refresh, false),
                ("/j.js", Script, false),
                ("/a", Anchor, true),
                ("/m", Anchor, false),
                ("/i.png", Image, false),
                ("/i2.png", Image, false),
                ("/i3.png", Image, false),
                ("/only.png", Image, false),
                ("/f", Frame, false),
                ("/ns.png", Image, false),
                ("/p.webp", Image, false),
                ("/p2.webp", Image, false),
                ("/p.png", Image, false),
            ],
        );
        // Frames live in a frameset; `<image>` is an `img`; `<svg><script>` matches by local name.
        check_links(
            "<frameset><frame src=/top><frame></frameset>",
            &[("/top", Frame, false)],
        );
        check_links(
            "<image src=/im.png><svg><script src=/svg.js></script><link xlink:href=/x rel=next></svg>",
            &[
                ("/im.png", Image, false),
                ("/svg.js", Script, false),
                ("/x", Related, false),
            ],
        );
        // Links in templates do not count.
        check_links(
            "<template><img src=/t.png><meta name=robots content=none></template>\
             <p><a href=/n rel=nofollow>x</a></p>y",
            &[("/n", Anchor, true)],
        );
    }

    #[test]
    fn meta_robots_directives_combine() {
        let robots = |html: &str| {
            let r = check_links(html, &[]);
            (r.noindex, r.nofollow)
        };
        assert_eq!(
            robots("<meta name=robots content='index,follow'>"),
            (false, false)
        );
        assert_eq!(
            robots("<meta name=ROBOTS content='NoIndex'>"),
            (true, false)
        );
        assert_eq!(
            robots("<meta name=robots content=noindex><body><meta name=robots content=nofollow>"),
            (true, true)
        );
        assert_eq!(robots("<meta name=robots content=none>"), (true, true));
        // Other robots' names, and a robots meta without content, say nothing.
        assert_eq!(
            robots("<meta name=googlebot content=none><meta name=robots>"),
            (false, false)
        );
        // One tag can be a refresh and robots directives at once.
        let r = check_links(
            "<meta name=robots http-equiv=refresh content='0, nofollow'>",
            &[("nofollow", LinkKind::Refresh, false)],
        );
        assert_eq!((r.noindex, r.nofollow), (false, true));
    }

    #[test]
    fn attribute_quoting_case_and_duplicates() {
        check(
            r#"<a href="d">1</a><a href='s'>2</a><a href=u>3</a><A HREF=U>4</A><a href>5</a>"#,
            None,
            &["d", "s", "u", "U", ""],
        );
        // The first of duplicate attributes wins.
        check("<a href=1 href=2>", None, &["1"]);
        check("<a title=x href=1 HREF=2>", None, &["1"]);
        // A tag cut off by the end of input is dropped.
        check("<a href=1><a href=2", None, &["1"]);
        check("<a href=\"1", None, &[]);
    }

    #[test]
    fn character_references_in_values() {
        check("<a href='?a=1&amp;b=2'>", None, &["?a=1&b=2"]);
        // Legacy names without `;`: literal before `=` or an alphanumeric, decoded otherwise.
        check(
            "<a href='?x&amp=1'><a href='?x&copyz'><a href='&copy'>",
            None,
            &["?x&amp=1", "?x&copyz", "\u{a9}"],
        );
        check("<a href='&notit;'>", None, &["&notit;"]);
        check(
            "<a href='&#x41;&#66&#0;&#x80;'>",
            None,
            &["AB\u{fffd}\u{20ac}"],
        );
        check("<a href='&#;&zz;&'>", None, &["&#;&zz;&"]);
    }

    #[test]
    fn comments_raw_text_and_cdata_hide_links() {
        check("<!-- <a href=1> --><a href=2>", None, &["2"]);
        check(
            "<!--><a href=1><!---><a href=2><!-- --!><a href=3>",
            None,
            &["1", "2", "3"],
        );
        check("<!-- unterminated <a href=1>", None, &[]);
        check("<?pi <a href=1>?><a href=2>", None, &["2"]);
        check(
            "<title><a href=1></title><textarea><a href=2></textarea><style><a href=3></style>",
            None,
            &[],
        );
        check(
            "<script><!--<script></script><a href=1>--></script><a href=2>",
            None,
            &["2"],
        );
        check(
            "<xmp><a href=1></xmp><noembed><a href=2></noembed><iframe><a href=3></iframe>",
            None,
            &[],
        );
        check("<plaintext></plaintext><a href=1>", None, &[]);
        check("<![CDATA[<a href=1>]]><a href=2>", None, &["2"]);
        check("<svg><![CDATA[<a href=1>]]><a href=2></svg>", None, &["2"]);
    }

    #[test]
    fn noscript_is_markup_as_with_scripting_disabled() {
        check(
            "<noscript><a href=1></a><noscript><a href=2></a></noscript></noscript><a href=3>",
            None,
            &["1", "2", "3"],
        );
        // In the head, a noscript's links and meta robots count too; a `<noscript>` left open
        // runs to the end.
        let links = check_links(
            "<head><noscript><link rel=stylesheet href=/ns.css><meta name=robots content=noindex>\
             </noscript></head><body><noscript><iframe src=toc.html>",
            &[
                ("/ns.css", LinkKind::Stylesheet, false),
                ("toc.html", LinkKind::Frame, false),
            ],
        );
        assert!(links.noindex);
        // Inside a template it is not in the document either.
        check(
            "<template><noscript><a href=1></noscript></template>",
            None,
            &[],
        );
        // SVG has an element of that name, whose content is markup anyway.
        check(
            "<svg><noscript><a href=1></a></noscript></svg>",
            None,
            &["1"],
        );
        // SVG and MathML anchors count, xlink:href as href.
        check(
            "<svg><a xlink:href=1></a><a href=2 xlink:href=3></svg><math><a href=4>",
            None,
            &["1", "2", "4"],
        );
    }

    #[test]
    fn base_is_the_first_base_with_an_href() {
        check(
            "<base target=x><base href=/b/><base href=/c/>",
            Some("/b/"),
            &[],
        );
        check("<body><a href=1><base href=/late/>", Some("/late/"), &["1"]);
        check("<template><base href=/t/></template>", None, &[]);
    }

    #[test]
    fn bytes_newlines_and_nul() {
        // Invalid UTF-8 becomes U+FFFD, as lossy decoding would make it.
        check(b"<a href='/caf\xe9'>".as_slice(), None, &["/caf\u{fffd}"]);
        // Bytes that look like a byte order mark are not one inside a value.
        check(
            b"<a href=\xff\xfex><a href='\xef\xbb\xbfy'>".as_slice(),
            None,
            &["\u{fffd}\u{fffd}x", "\u{feff}y"],
        );
        check(
            b"<a href='/\xe2\x82&amp;'>".as_slice(),
            None,
            &["/\u{fffd}&"],
        );
        check("<a href='a\r\nb\rc'>", None, &["a\nb\nc"]);
        check("<a href='a\0b'><a\0 href=c>", None, &["a\u{fffd}b"]);
        check("\u{feff}<!DOCTYPE html><a href=1>", None, &["1"]);
    }

    #[test]
    fn document_order_across_a_and_area_and_odd_markup() {
        let html = r##"<!doctype html><html><head><title><a href="in-title"></title>
            <base href="http://b.example/first/"><base href="/second/">
            <script>var s = '<a href="in-script">';</script></head>
            <body><a href="one">1</a><!-- <a href="commented"> -->
            <map><area href="two" alt=""></map>
            <A HREF='three'>3</A><a href=four>4</a><a>none</a>
            <a href="&amp;five&lt;">5</a><a href="">empty</a></body></html>"##;
        let links = extract_dom(html);
        assert_eq!(links.base.as_deref(), Some("http://b.example/first/"));
        assert_eq!(
            links.anchors().collect::<Vec<_>>(),
            ["one", "two", "three", "four", "&five<", ""]
        );
    }

    #[test]
    fn base_url_falls_back_to_the_document() {
        let doc = Url::parse("http://h/a/b.html").unwrap();
        assert!(matches!(base_url(&doc, None), Cow::Borrowed(u) if *u == doc));
        assert_eq!(base_url(&doc, Some("/x/")).as_str(), "http://h/x/");
        assert_eq!(*base_url(&doc, Some("http://[")), doc);
        assert_eq!(*base_url(&doc, Some("javascript:alert(1)")), doc);
    }

    #[test]
    fn html_media_types() {
        assert!(is_html("text/html"));
        assert!(is_html("application/xhtml+xml"));
        assert!(!is_html("text/plain"));
        assert!(!is_html("image/png"));
    }
}
