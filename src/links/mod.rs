//! Link extraction from HTML bodies.
//!
//! [`extract_dom`] is the reference: it builds a DOM with `select` (html5ever underneath) and
//! reads `a[href]`, `area[href]` and the first `base[href]`, in document order. [`extract`], which
//! the engine uses, is a port of the same parser that keeps only an element skeleton instead of a
//! DOM (see the `fast` module's notes for why it has to be a port and not a scan for `<a href>`);
//! it gives the same [`Links`] on every input, and the tests hold it to that on every fixture under
//! `fixtures/html/` and on random HTML.
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
//! let links = crawler::links::extract_dom(
//!     r#"<base href="/d/"><a href="x.html">x</a><map><area href="y"></map><a name=no-href>"#,
//! );
//! assert_eq!(links.base.as_deref(), Some("/d/"));
//! assert_eq!(links.hrefs, ["x.html", "y"]);
//! ```

#[cfg(test)]
mod differential;
mod fast;
#[cfg(test)]
mod testgen;

use select::document::Document;
use select::predicate::{Name, Or, Predicate};
use url::Url;

/// The links of one HTML document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The `href` of the first `<base href>`, if any.
    pub base: Option<String>,
    /// Every `a`/`area` `href`, in document order, duplicates kept.
    pub hrefs: Vec<String>,
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
/// assert_eq!(links.hrefs, ["/a", "/a", "/b"]);
/// ```
pub fn extract(body: &[u8]) -> Links {
    fast::extract(body)
}

/// Reference extractor: builds the DOM with `select`.
pub fn extract_dom(html: &str) -> Links {
    let doc = Document::from(html);
    let base = doc
        .find(Name("base"))
        .find_map(|n| n.attr("href"))
        .map(str::to_string);
    let hrefs = doc
        .find(Or(Name("a"), Name("area")).and(|n: &select::node::Node| n.attr("href").is_some()))
        .filter_map(|n| n.attr("href").map(str::to_string))
        .collect();
    Links { base, hrefs }
}

/// The URL relative links resolve against: `<base href>` resolved against the document's URL, or
/// the document's URL when there is no usable base (as the HTML standard says: unparseable, or a
/// `data:`/`javascript:` URL, falls back to the document URL).
pub fn base_url(document: &Url, base: Option<&str>) -> Url {
    match base.and_then(|b| document.join(b).ok()) {
        Some(u) if !matches!(u.scheme(), "data" | "javascript") => u,
        _ => document.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that both extractors find `base` and `hrefs` in `html`.
    fn check(html: impl AsRef<[u8]>, base: Option<&str>, hrefs: &[&str]) {
        let html = html.as_ref();
        let expected = Links {
            base: base.map(str::to_string),
            hrefs: hrefs.iter().map(|h| h.to_string()).collect(),
        };
        let shown = String::from_utf8_lossy(html);
        assert_eq!(extract_dom(&shown), expected, "reference on {shown:?}");
        assert_eq!(extract(html), expected, "fast extractor on {shown:?}");
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
        assert_eq!(links.hrefs, ["one", "two", "three", "four", "&five<", ""]);
    }

    #[test]
    fn base_url_falls_back_to_the_document() {
        let doc = Url::parse("http://h/a/b.html").unwrap();
        assert_eq!(base_url(&doc, None), doc);
        assert_eq!(base_url(&doc, Some("/x/")).as_str(), "http://h/x/");
        assert_eq!(base_url(&doc, Some("http://[")), doc);
        assert_eq!(base_url(&doc, Some("javascript:alert(1)")), doc);
    }

    #[test]
    fn html_media_types() {
        assert!(is_html("text/html"));
        assert!(is_html("application/xhtml+xml"));
        assert!(!is_html("text/plain"));
        assert!(!is_html("image/png"));
    }
}
