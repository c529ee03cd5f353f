//! Link extraction from HTML bodies.
//!
//! [`extract_dom`] is the reference: it builds a DOM with `select` (html5ever underneath) and
//! reads the elements below, in document order. [`extract`], which the engine uses, is a port of
//! the same parser that keeps only an element skeleton instead of a DOM (see the `fast` module's
//! notes for why it has to be a port and not a scan for `<a href>`); it gives the same [`Links`]
//! on every input, and the tests hold it to that on every fixture under `fixtures/html/` and on
//! random HTML.
//!
//! What counts, element by element (names and attributes matched as `select` matches them: by
//! local name, in any namespace, so an SVG `<a xlink:href>` counts; the first of duplicate
//! attributes wins; an attribute that is present counts even when empty):
//!
//! | element | attribute | reported as |
//! |---|---|---|
//! | `a`, `area` | `href` | [`Kind::Anchor`], `nofollow` when `rel` has the token `nofollow` |
//! | `link` | `href`, when `rel` has `stylesheet` | [`Kind::Stylesheet`] (an asset) |
//! | `link` | `href`, when `rel` has `alternate`, `next`, `prev` or `canonical` (and not `stylesheet`) | [`Kind::Related`], `nofollow` as for `a` |
//! | `iframe`, `frame` | `src` | [`Kind::Frame`] |
//! | `meta` | `content`, when `http-equiv` is `refresh` and the content names a URL | [`Kind::Refresh`]: that URL, parsed as browsers do |
//! | `img` | `src`, then each candidate URL of `srcset` | [`Kind::Image`] (assets) |
//! | `script` | `src` | [`Kind::Script`] (an asset) |
//! | `meta` | `content`, when `name` is `robots` | [`Links::robots`]: `noindex`, `nofollow`, `none` (both), from every such tag |
//! | `base` | `href` | [`Links::base`], from the first one |
//!
//! Attribute values compared with a keyword (`rel` tokens, `http-equiv`, `name`, directives) are
//! compared ASCII case-insensitively. Other `rel` values on `link` (`icon`, `preload`, ...) are not
//! reported. Elements that are not in the document tree do not count: `<template>` contents,
//! anything a `<frameset>` throws away, anything inside raw text such as `<noscript>` or
//! `<title>`. The value parsers (`srcset`, refresh, `rel`, directives) are shared by both
//! extractors and tested against the HTML standard on their own.
//!
//! Bodies are bytes. The reference needs a `&str`, which the engine would get by lossy UTF-8
//! decoding; the fast extractor reads the bytes directly and decodes lossily only the values it
//! returns, which gives the same strings (every byte that steers HTML parsing is ASCII, and lossy
//! decoding never merges an ASCII byte into a replacement character).
//!
//! Extraction returns raw attribute values (entities decoded, nothing resolved); the engine resolves
//! them with [`base_url`] and [`crate::normalize::resolve`].
//!
//! ```
//! use crawler::links::{extract_dom, Kind};
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
//!         ("x.html", Kind::Anchor, true),
//!         ("s.png", Kind::Image, false),
//!         ("t.png", Kind::Image, false),
//!         ("/next", Kind::Refresh, false),
//!     ]
//! );
//! assert!(links.robots.noindex && !links.robots.nofollow);
//! ```

#[cfg(test)]
mod differential;
mod fast;
mod reference;
#[cfg(test)]
mod testgen;
mod values;

use std::borrow::Cow;

use url::Url;

pub use values::Robots;

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
            .filter(|l| l.kind == Kind::Anchor)
            .map(|l| l.url.as_str())
    }
}

/// One link found in a document: its raw value (entities decoded, nothing resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The URL as written.
    pub url: String,
    /// Which element and attribute it came from.
    pub kind: Kind,
    /// Its `rel` has `nofollow` (only `a`, `area` and `link` have one).
    pub nofollow: bool,
}

/// Where a [`Link`] came from (the module header has the full table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
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
    /// `img` `src` or a `srcset` candidate (an asset).
    Image,
    /// `script` `src` (an asset).
    Script,
}

impl Kind {
    /// `true` for what a page needs to display (stylesheets, images, scripts), which the
    /// crawler follows only when asked to (`--assets`).
    pub fn is_asset(self) -> bool {
        matches!(self, Kind::Stylesheet | Kind::Image | Kind::Script)
    }
}

/// `true` for the media types whose bodies are parsed for links.
pub fn is_html(media_type: &str) -> bool {
    matches!(media_type, "text/html" | "application/xhtml+xml")
}

/// The extractor the engine uses: the links of `body`, equal to
/// `extract_dom(&String::from_utf8_lossy(body))`, several times faster.
///
/// ```
/// let links = crawler::links::extract(b"<p><a href=/a>one</p>two <a href='/b'>");
/// // The `<a>` left open across `</p>` is reconstructed around "two": html5ever (and so
/// // `select`) reports it twice.
/// assert_eq!(links.anchors().collect::<Vec<_>>(), ["/a", "/a", "/b"]);
/// ```
pub fn extract(body: &[u8]) -> Links {
    Extractor::default().extract(body)
}

/// [`extract`] for many documents in a row: the parser's buffers (a dozen vectors of a few
/// kilobytes for a typical page) are kept from one document to the next instead of being
/// allocated and freed per page, which the crawl engine does for every HTML response.
///
/// ```
/// let mut extractor = crawler::links::Extractor::default();
/// for page in [&b"<a href=/a>a</a>"[..], b"<a href=/b>b</a><a href=/c>c</a>"] {
///     assert_eq!(extractor.extract(page), crawler::links::extract(page));
/// }
/// ```
#[derive(Default)]
pub struct Extractor {
    spare: fast::Spare,
    /// Strings of an earlier [`Extractor::extract_into`] result, for the next one's URLs.
    strings: Vec<String>,
}

/// The most URL strings, and links' room, [`Extractor::extract_into`] keeps for the next page: a
/// page with a million links must not leave a vector that size behind.
const KEEP_LINKS: usize = 4096;

/// Longer strings are not kept for reuse.
const KEEP_STRING: usize = 4096;

impl std::fmt::Debug for Extractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extractor").finish_non_exhaustive()
    }
}

impl Extractor {
    /// The links of `body`, as [`extract`] gives them.
    pub fn extract(&mut self, body: &[u8]) -> Links {
        let mut links = Links::default();
        fast::extract(body, &mut self.spare, &mut links, &mut Vec::new());
        links
    }

    /// [`Extractor::extract`] into `links`, whose previous contents are replaced: its vector
    /// and the strings of its URLs are reused for the new ones, so that a crawl does not
    /// allocate and free a string per link.
    ///
    /// ```
    /// let mut extractor = crawler::links::Extractor::default();
    /// let mut links = crawler::links::Links::default();
    /// for page in [&b"<a href=/a>a</a><base href=/x/>"[..], b"<a href=/b>b</a>"] {
    ///     extractor.extract_into(page, &mut links);
    ///     assert_eq!(links, crawler::links::extract(page));
    /// }
    /// ```
    pub fn extract_into(&mut self, body: &[u8], links: &mut Links) {
        let room = KEEP_LINKS.saturating_sub(self.strings.len());
        let old = links.links.drain(..).map(|link| link.url);
        let keep = |s: &String| s.capacity() <= KEEP_STRING;
        self.strings
            .extend(old.chain(links.base.take()).filter(keep).take(room));
        if links.links.capacity() > KEEP_LINKS {
            links.links = Vec::new();
        }
        links.robots = Robots::default();
        fast::extract(body, &mut self.spare, links, &mut self.strings);
    }
}

/// Reference extractor: builds the DOM with `select` and reads it element by element, by the
/// module header's table.
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
        let mut extractor = Extractor::default();
        let mut links = Links::default();
        extractor.extract_into(big.as_bytes(), &mut links);
        assert_eq!(links.links.len(), 2 * KEEP_LINKS);
        extractor.extract_into(b"<a href=/x>", &mut links);
        assert_eq!(links, extract(b"<a href=/x>"));
        assert!(
            links.links.capacity() <= KEEP_LINKS,
            "{}",
            links.links.capacity()
        );
        assert!(extractor.strings.len() <= KEEP_LINKS);
        assert!(
            extractor.strings.capacity() <= KEEP_LINKS,
            "{}",
            extractor.strings.capacity()
        );
    }

    /// Asserts that both extractors find `base` and `hrefs` in `html`.
    /// Asserts that both extractors give the same [`Links`] on `html`, and returns them.
    fn both(html: &[u8]) -> Links {
        let shown = String::from_utf8_lossy(html);
        let reference = extract_dom(&shown);
        assert_eq!(extract(html), reference, "fast extractor on {shown:?}");
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
    fn check_links(html: &str, expected: &[(&str, Kind, bool)]) -> Robots {
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
        use Kind::*;
        check_links(
            r#"<!doctype html><html><head>
            <link rel=stylesheet href=/s.css><link rel="alternate" hreflang=de href=/de/>
            <link rel=icon href=/favicon.ico><link href=/no-rel><link rel=next>
            <link rel="Canonical" href=/c><link rel="PREV nofollow" href=/p>
            <link rel="alternate stylesheet" href=/alt.css>
            <meta http-equiv=Refresh content="3; URL='/r'"><meta http-equiv=refresh content=5>
            <script src=/j.js></script><script>var a = '<a href=/in-js>';</script>
            </head><body>
            <a href=/a rel="external NoFollow">a</a><map><area href=/m rel=nofollowed></map>
            <img src=/i.png srcset="/i2.png 2x, /i3.png 3x"><img alt=none><img srcset=/only.png>
            <iframe src=/f></iframe><iframe></iframe>
            <noscript><img src=/ns.png></noscript>
            </body></html>"#,
            &[
                ("/s.css", Stylesheet, false),
                ("/de/", Related, false),
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
        // Links in templates do not count, and misnested `<a rel=nofollow>` is cloned whole.
        check_links(
            "<template><img src=/t.png><meta name=robots content=none></template>\
             <p><a href=/n rel=nofollow>x</p>y",
            &[("/n", Anchor, true), ("/n", Anchor, true)],
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
            &[("nofollow", Kind::Refresh, false)],
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
            "<xmp><a href=1></xmp><noscript><a href=2></noscript><iframe><a href=3></iframe>",
            None,
            &[],
        );
        check("<plaintext></plaintext><a href=1>", None, &[]);
        check("<![CDATA[<a href=1>]]><a href=2>", None, &["2"]);
        check("<svg><![CDATA[<a href=1>]]><a href=2></svg>", None, &["2"]);
    }

    #[test]
    fn tree_construction_moves_clones_and_drops_links() {
        // Reconstructed after </p>: one tag, two elements.
        check("<p><a href=1>x</p>y", None, &["1", "1"]);
        // Foster parenting puts the stray link before the table.
        check(
            "<table><tr><td><a href=1></td></tr><a href=2></table>",
            None,
            &["2", "1"],
        );
        // Template contents and links inside <select> are not in the document.
        check(
            "<template><a href=1></template><select><a href=2></select><a href=3>",
            None,
            &["3"],
        );
        // <frameset> throws away a body that has only links in it.
        check("<a href=1></a><frameset>", None, &[]);
        check("<a href=1>text</a><frameset>", None, &["1"]);
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
        check(
            b"<a href='/\xe2\x82&amp;'>".as_slice(),
            None,
            &["/\u{fffd}&"],
        );
        check("<a href='a\r\nb\rc'>", None, &["a\nb\nc"]);
        // html5ever's quirk: after `=` and CRLF the opening quote is swallowed.
        check("<a href=\r\n\"x\">", None, &["x\""]);
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
