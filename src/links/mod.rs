//! Link extraction from HTML bodies.
//!
//! [`extract_dom`] is the reference: it builds a DOM with `select` (html5ever underneath) and
//! reads `a[href]`, `area[href]` and the first `base[href]`, in document order. Whatever faster
//! extractor the engine uses on its hot path must give the same [`Links`] on every input; the tests
//! hold it to that.
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

/// The extractor the engine uses. Bodies that are not valid UTF-8 are decoded lossily first.
pub fn extract(body: &[u8]) -> Links {
    extract_dom(&String::from_utf8_lossy(body))
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
