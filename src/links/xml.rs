//! Links in XML bodies: RSS and Atom feeds and other XML documents (and the one fix XHTML needs
//! to be read as HTML, [`extract_xhtml_into`]).
//!
//! The 500 Lines crawler reads `application/xml` bodies for `href`s as it reads HTML ones. A feed
//! is often the one place that lists a site's newest pages, so this crawler reads them too, with
//! quick-xml's streaming reader (no tree is built, and nothing recurses, so neither a huge nor a
//! deeply nested document costs more than one pass). HTML's rules do not apply: in XML no element
//! is raw text, a CDATA section is text, `<x/>` is empty, and the only entities are XML's five
//! and character references.
//!
//! What counts, all reported as [`LinkKind::Xml`] in document order:
//!
//! - every `href` attribute, on any element, matched by local name whatever the element's or the
//!   attribute's namespace prefix (Atom's `<link href>`, `<atom:link href>` in RSS,
//!   `<xhtml:a href>`, `xlink:href`); the first of duplicate attributes wins;
//! - the text of a `<link>` element that has no `href` (RSS 2.0's `<channel><link>` and
//!   `<item><link>`, RSS 1.0's), entities and CDATA decoded, whitespace trimmed, empty ones not
//!   counted;
//! - the `href` of an `<?xml-stylesheet?>` processing instruction, as a
//!   [`LinkKind::Stylesheet`] (an asset, as in HTML).
//!
//! Not read: RSS `<guid>`, even when it is a permalink (its default): many feeds leave
//! `isPermaLink` unset on ids that are not URLs (`12345` would resolve to a page of the feed's
//! directory), and a real permalink is almost always the item's `<link>` again;
//! `<enclosure url>` and `<media:content url>` (media files, not pages); `src` attributes.
//!
//! `xml:base` is honoured, as Atom (RFC 4287 §2) asks: an element's base is its `xml:base`
//! resolved against its parent's (the document's URL at the top), and a link inside one is
//! reported already resolved against it. Outside any `xml:base` a link is reported as written,
//! for the engine to resolve against the document's URL like an HTML link. An `xml:base` nested
//! more than 16 deep, or longer than 4 KiB with its parent's, is ignored (see [`MAX_BASES`]).
//!
//! Bad XML is the document's outcome, never a crash: the links read before the first error are
//! kept and the error says where it stopped. The reader is lenient where a feed's author
//! commonly is sloppy: a bare `&` is text, end tags need not match their start tags, an unknown
//! entity is kept as written. Bytes are read as UTF-8 (invalid sequences become U+FFFD), whatever
//! the XML declaration says, as the HTML extractor does.
//!
//! ```
//! use crawler::links::{extract_xml, LinkKind};
//! use url::Url;
//!
//! let feed = br#"<rss version="2.0"><channel><link>http://h/</link>
//!   <atom:link href="http://h/feed.xml" rel="self" xmlns:atom="http://www.w3.org/2005/Atom"/>
//!   <item><link><![CDATA[/posts/1?a=1&b=2]]></link><guid>1</guid></item></channel></rss>"#;
//! let links = extract_xml(feed, &Url::parse("http://h/feed.xml").unwrap());
//! let found: Vec<_> = links.links.iter().map(|l| (l.url.as_str(), l.kind)).collect();
//! assert_eq!(
//!     found,
//!     [
//!         ("http://h/", LinkKind::Xml),
//!         ("http://h/feed.xml", LinkKind::Xml),
//!         ("/posts/1?a=1&b=2", LinkKind::Xml),
//!     ]
//! );
//! ```

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesRef, BytesStart, Event};
use url::Url;

use super::{ExtractError, Link, LinkKind, Links};

/// `true` for the media types whose bodies are read as XML for links: generic XML, RSS, RSS 1.0
/// (RDF) and Atom. Not every `+xml` type: `image/svg+xml` is an image (its `href`s point at its
/// own fragments, fonts and pictures, not at pages), and the other `+xml` types (SOAP, MathML,
/// vendor formats) are data, not documents of links; with `--html-bodies-only`, this list is also
/// which bodies are downloaded. XHTML is HTML ([`super::is_html`]); sitemaps are fetched as
/// sitemaps, and read by the sitemap reader whatever their type.
pub fn is_xml(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/xml"
            | "text/xml"
            | "application/rss+xml"
            | "application/atom+xml"
            | "application/rdf+xml"
    )
}

/// How the engine reads a body for links, by its media type ([`format_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// HTML (`text/html`): [`extract_into`](super::extract_into).
    Html,
    /// XHTML (`application/xhtml+xml`): read as HTML, by [`extract_xhtml_into`].
    Xhtml,
    /// An XML document or feed ([`is_xml`]): [`extract_xml_into`].
    Xml,
}

/// How a body of `media_type` is read for links; `None` when it is not read at all. This also
/// says which bodies are wanted when only those read for links are (see
/// [`Request::html_body_only`](crate::Request::html_body_only)).
pub fn format_of(media_type: &str) -> Option<Format> {
    match media_type {
        "text/html" => Some(Format::Html),
        "application/xhtml+xml" => Some(Format::Xhtml),
        _ if is_xml(media_type) => Some(Format::Xml),
        _ => None,
    }
}

/// The elements whose content HTML reads as raw text (or RCDATA) up to their end tag, and which
/// an XHTML document may write empty (`<script src="a.js"/>`). Read as HTML, such an empty
/// element would swallow the rest of the document, links and all.
const RAW_TEXT: [&[u8]; 8] = [
    b"script",
    b"style",
    b"title",
    b"textarea",
    b"iframe",
    b"xmp",
    b"noembed",
    b"noframes",
];

/// [`extract_into`](super::extract_into) for an XHTML document: read as HTML, except that an
/// empty element HTML would read as raw text to the end (`<script src="a.js"/>`, `<title/>`,
/// `style`, `textarea`, `iframe`, `xmp`, `noembed`, `noframes`), as an XML reader finds them up
/// to its first error, is closed where XML closes it. Everything else XML and HTML read alike
/// enough for links: `<a href="x"/>` is an anchor either way, `<br/>` and `<link .../>` are void,
/// the five XML entities and character references are HTML's too. A CDATA section outside SVG
/// and MathML is where they differ: HTML reads it as a comment ending at the first `>`.
pub fn extract_xhtml_into(body: &[u8], links: &mut Links) -> Result<(), ExtractError> {
    super::extract_into(&close_raw_text(body), links)
}

/// `body` with each empty [`RAW_TEXT`] element, as an XML reader finds them, rewritten as a start
/// tag and an end tag; `body` itself (no copy) when it has none. Reading stops at the first XML
/// error: what follows is left as it is.
fn close_raw_text(body: &[u8]) -> Cow<'_, [u8]> {
    let mut reader = lenient(body);
    // Where each such element's `/>` is, and its name.
    let mut empty = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Empty(e)) if RAW_TEXT.contains(&e.name().as_ref()) => {
                let end = usize::try_from(reader.buffer_position()).unwrap_or(body.len());
                empty.push((end.saturating_sub(2), e.name().as_ref().to_vec()));
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    if empty.is_empty() {
        return Cow::Borrowed(body);
    }
    let mut out = Vec::with_capacity(body.len() + empty.len() * 12);
    let mut from = 0;
    for (at, name) in empty {
        out.extend_from_slice(&body[from..at]);
        out.extend_from_slice(b"></");
        out.extend_from_slice(&name);
        out.push(b'>');
        from = at + 2;
    }
    out.extend_from_slice(&body[from..]);
    Cow::Owned(out)
}

/// A reader of `body` that is lenient where documents are sloppy: depth is counted by the
/// caller, so a mismatched end tag only ends the innermost element, and a bare `&` is text.
fn lenient(body: &[u8]) -> Reader<&[u8]> {
    let mut reader = Reader::from_reader(body);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    reader
}

/// The links of the XML document `body` (a feed, or any XML; see the module header) found at
/// `document`, which its `xml:base`s resolve against. A document the reader stops on gives the
/// links found before that point.
pub fn extract_xml(body: &[u8], document: &Url) -> Links {
    let mut links = Links::default();
    // As for `extract`: the links found before an error are the answer.
    let _ = extract_xml_into(body, document, &mut links);
    links
}

/// [`extract_xml`] into `links`, as [`extract_into`](super::extract_into) does for HTML: previous
/// contents replaced, the links before an error kept, no panic escaping.
pub fn extract_xml_into(
    body: &[u8],
    document: &Url,
    links: &mut Links,
) -> Result<(), ExtractError> {
    super::fresh(links, |links| extract(body, document, links))
}

/// The most `xml:base`s in scope at once: one nested deeper is ignored. With
/// [`MAX_BASE_LENGTH`], this bounds what resolving one costs, so that a document of nested or
/// repeated `xml:base`s costs time in proportion to its size, not to its square.
const MAX_BASES: usize = 16;

/// The longest base and `xml:base` value, together, that are resolved: a longer one is ignored
/// (a URL this long would be cut by the crawl's `max_url_length` anyway, 2048 bytes by default).
const MAX_BASE_LENGTH: usize = 4096;

/// The longest entity name looked for after a `&` in an attribute value (`&#x10FFFF;` fits).
const MAX_REFERENCE: usize = 10;

/// Adds the links of the XML document `body`, found at `document`, to `links`. On an error the
/// links before it are kept.
fn extract(body: &[u8], document: &Url, links: &mut Links) -> Result<(), ExtractError> {
    let mut reader = lenient(body);
    let mut state = Reading {
        links,
        document,
        bases: Vec::new(),
        depth: 0,
        text: None,
    };
    loop {
        let event = reader.read_event();
        let at = reader.buffer_position();
        let fail = |why: String| ExtractError::Xml(format!("at byte {at}: {why}"));
        match event {
            Ok(Event::Start(e)) => state.element(&e, true).map_err(fail)?,
            Ok(Event::Empty(e)) => {
                state.element(&e, false).map_err(fail)?;
                state.end();
            }
            Ok(Event::End(_)) => state.end(),
            Ok(Event::Text(t)) if state.text.is_some() => state.text(&String::from_utf8_lossy(&t)),
            Ok(Event::CData(t)) if state.text.is_some() => {
                state.text(&String::from_utf8_lossy(&t));
            }
            Ok(Event::GeneralRef(r)) if state.text.is_some() => state.text(&reference(&r)),
            Ok(Event::PI(pi)) if pi.target() == b"xml-stylesheet" => {
                if let Some(href) = href(pi.attributes()).map_err(fail)? {
                    state.push(href, LinkKind::Stylesheet);
                }
            }
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                let at = reader.error_position();
                return Err(ExtractError::Xml(format!("at byte {at}: {e}")));
            }
        }
    }
}

/// What the reader keeps between events.
struct Reading<'l> {
    /// Where the links go.
    links: &'l mut Links,
    /// The document's URL: the base of the outermost `xml:base`.
    document: &'l Url,
    /// The `xml:base`s in scope, innermost last, each with the depth of its element.
    bases: Vec<(u32, Url)>,
    /// Elements open now.
    depth: u32,
    /// The text of the `<link>` being read, and its element's depth.
    text: Option<(u32, String)>,
}

impl Reading<'_> {
    /// An element's start (`open`) or an empty element: its `xml:base`, its `href`, and for a
    /// `<link>` without one, the start of its text.
    fn element(&mut self, e: &BytesStart<'_>, open: bool) -> Result<(), String> {
        self.depth += 1;
        let mut href_value = None;
        for attr in e.attributes().with_checks(false) {
            let attr = attr.map_err(|e| e.to_string())?;
            let key = attr.key;
            if key.as_ref() == b"xml:base" {
                let base = self.bases.last().map_or(self.document, |(_, b)| b);
                let fits = self.bases.len() < MAX_BASES
                    && base.as_str().len() + attr.value.len() <= MAX_BASE_LENGTH;
                if let Some(url) = fits.then(|| base.join(&decode(&attr.value)).ok()).flatten() {
                    self.bases.push((self.depth, url));
                }
            } else if href_value.is_none()
                && key.local_name().as_ref() == b"href"
                && key.prefix().is_none_or(|p| p.as_ref() != b"xmlns")
            {
                href_value = Some(decode(&attr.value));
            }
        }
        let is_link = e.local_name().as_ref() == b"link";
        match href_value {
            Some(href) => self.push(href, LinkKind::Xml),
            None if is_link && open && self.text.is_none() => {
                self.text = Some((self.depth, String::new()));
            }
            None => {}
        }
        Ok(())
    }

    /// An element's end: a `<link>`'s text becomes a link, its `xml:base` goes out of scope.
    fn end(&mut self) {
        if self.text.as_ref().is_some_and(|(d, _)| *d == self.depth)
            && let Some((_, text)) = self.text.take()
        {
            let url = text.trim();
            if !url.is_empty() {
                self.push(url.to_string(), LinkKind::Xml);
            }
        }
        while self.bases.last().is_some_and(|(d, _)| *d >= self.depth) {
            self.bases.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }

    /// Text inside the element whose text is being read, if any.
    fn text(&mut self, text: &str) {
        if let Some((_, into)) = &mut self.text {
            into.push_str(text);
        }
    }

    /// Adds the link `url`, resolved against the `xml:base` in scope if there is one (one that
    /// does not resolve is left out: it is not a URL).
    fn push(&mut self, url: String, kind: LinkKind) {
        let url = match self.bases.last() {
            None => url,
            Some((_, base)) => match base.join(&url) {
                Ok(u) => u.into(),
                Err(_) => return,
            },
        };
        self.links.links.push(Link {
            url,
            kind,
            nofollow: false,
        });
    }
}

/// The value of the first `href` among `attributes`.
fn href(mut attributes: Attributes<'_>) -> Result<Option<String>, String> {
    for attr in attributes.with_checks(false) {
        let attr = attr.map_err(|e| e.to_string())?;
        if attr.key.as_ref() == b"href" {
            return Ok(Some(decode(&attr.value)));
        }
    }
    Ok(None)
}

/// A reference in text: a character reference or one of XML's five entities; anything else is
/// kept as written.
fn reference(r: &BytesRef<'_>) -> String {
    match r.resolve_char_ref() {
        Ok(Some(c)) => c.to_string(),
        _ => {
            let name = String::from_utf8_lossy(r);
            match resolve_predefined_entity(&name) {
                Some(s) => s.to_string(),
                None => format!("&{name};"),
            }
        }
    }
}

/// An attribute value as XML reads it, leniently: invalid UTF-8 becomes U+FFFD, tabs and line
/// ends become spaces (`\r\n` one), character references and XML's five entities are decoded,
/// and a `&` that starts neither is kept as written.
fn decode(raw: &[u8]) -> String {
    let raw = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(raw.len());
    let mut rest = &*raw;
    while let Some(i) = rest.find(['&', '\t', '\n', '\r']) {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        rest = &rest[i + 1..];
        if c != b'&' {
            if !(c == b'\r' && rest.starts_with('\n')) {
                out.push(' ');
            }
            continue;
        }
        let entity = rest
            .char_indices()
            .take(MAX_REFERENCE + 1)
            .find(|&(_, c)| c == ';')
            .and_then(|(end, _)| Some((end, entity(&rest[..end])?)));
        match entity {
            Some((end, c)) => {
                out.push_str(&c);
                rest = &rest[end + 1..];
            }
            None => out.push('&'),
        }
    }
    out.push_str(rest);
    out
}

/// The text of the entity or character reference `name` (between `&` and `;`), if it is one.
fn entity(name: &str) -> Option<String> {
    if let Some(number) = name.strip_prefix('#') {
        let (digits, radix) = match number.strip_prefix('x') {
            Some(hex) => (hex, 16),
            None => (number, 10),
        };
        // `from_str_radix` would take a sign too.
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        let code = u32::from_str_radix(digits, radix).ok()?;
        return char::from_u32(code).map(String::from);
    }
    resolve_predefined_entity(name).map(str::to_string)
}

#[cfg(test)]
mod tests;
