//! The engine's extractor: lol_html's streaming parser, with one handler per element that
//! carries a link.
//!
//! lol_html tokenizes as the HTML standard says and follows the tree builder's switches between
//! tokenizer states (raw text, RCDATA, script data, foreign content, CDATA), so a link written
//! inside a `<script>`, a comment or a `<title>` is never seen, and an SVG `<a>` is known to be
//! one. It builds no tree: elements are reported in source order, which is what a crawler wants,
//! and the few places where the standard's tree construction moves, clones or drops an element
//! are where this extractor and the DOM reference differ by design (the differences are named in
//! `agreement.rs` and tested in `differential.rs`).
//!
//! Two things the parser cannot do alone are done here:
//! - `<template>` contents are not part of the document: an open-template count, kept by the
//!   template's own end-tag handler, silences every handler inside one.
//! - A crawler runs no scripts, so it parses as a browser with scripting disabled does, where
//!   `<noscript>` holds markup. lol_html treats `<noscript>` as raw text (scripting enabled), so
//!   its text is gathered and parsed again as a document of its own, at most [`NOSCRIPT_DEPTH`]
//!   levels deep.
//!
//! Attribute values are read from the document's bytes, where lol_html says they are
//! ([`raw_attr`]), and decoded here as the tokenizer would ([`value`]: newlines, NUL, character
//! references).

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::LazyLock;

use lol_html::html_content::{Element, TextChunk};
use lol_html::{
    ElementContentHandlers, HandlerResult, HtmlRewriter, MemorySettings, Selector, Settings,
};

use super::{Link, LinkKind, Links, values};

/// The namespace of HTML elements (as opposed to SVG and MathML ones).
const HTML: &str = "http://www.w3.org/1999/xhtml";

/// How many `<noscript>` levels are parsed again as markup. The texts of one level are disjoint
/// parts of the text around them, so this bounds the work on a page of nested `<noscript>` tags
/// to this many passes over it.
pub(super) const NOSCRIPT_DEPTH: u32 = 8;

/// The most memory lol_html may use for a document: the part of the input a tag left unfinished
/// (the body arrives in one piece, so only a tag cut off by the end is ever buffered).
const MEMORY_LIMIT: usize = 8 << 20;

/// Why a document's links could not all be read. The links found before the failure are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractError {
    /// The parser gave up on the document (lol_html's error, for example its memory limit).
    Parser(String),
    /// The parser panicked; the panic was caught and is this page's outcome only.
    Panic(String),
    /// The XML reader stopped at an error in the document (where, and why).
    Xml(String),
}

impl std::fmt::Display for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExtractError::Parser(why) => write!(f, "html parser failed: {why}"),
            ExtractError::Panic(why) => write!(f, "link extractor panicked: {why}"),
            ExtractError::Xml(why) => write!(f, "xml parser failed: {why}"),
        }
    }
}

impl std::error::Error for ExtractError {}

/// What the handlers of one document share.
struct DocumentState<'l> {
    /// Where the links go.
    links: &'l mut Links,
    /// Text of the `<noscript>` being read, when it is an HTML one (not an SVG element of that
    /// name, whose content is markup already).
    noscript: Option<String>,
}

/// Adds the links of `body` to `links`, parsing `<noscript>` contents at nesting `depth`.
pub(super) fn extract(body: &[u8], links: &mut Links, depth: u32) -> Result<(), ExtractError> {
    let page = RefCell::new(DocumentState {
        links,
        noscript: None,
    });
    // The end-tag handlers that close templates must be `'static`, hence the `Rc`.
    let templates = Rc::new(Cell::new(0u32));
    let result = {
        let mut rewriter =
            HtmlRewriter::new(settings(body, &page, &templates, depth), |_: &[u8]| {});
        rewriter.write(body).and_then(|()| rewriter.end())
    };
    // A `<noscript>` left open by the end of the document is all raw text to the end.
    let page = page.into_inner();
    if let Some(text) = page.noscript {
        nested(&text, page.links, depth)?;
    }
    result.map_err(|e| ExtractError::Parser(e.to_string()))
}

/// Parses the text of a `<noscript>` as markup, one level deeper, unless that is too deep.
fn nested(text: &str, links: &mut Links, depth: u32) -> Result<(), ExtractError> {
    if depth < NOSCRIPT_DEPTH {
        extract(text.as_bytes(), links, depth + 1)?;
    }
    Ok(())
}

/// A handler for the elements `selector` matches, called outside templates only.
fn on<'h>(
    selector: &'static Selector,
    templates: &Rc<Cell<u32>>,
    mut f: impl FnMut(&mut Element<'_, '_>) -> HandlerResult + 'h,
) -> (Cow<'static, Selector>, ElementContentHandlers<'h>) {
    let templates = Rc::clone(templates);
    let handler = move |el: &mut Element<'_, '_>| {
        if templates.get() == 0 {
            f(el)?;
        }
        Ok(())
    };
    (
        Cow::Borrowed(selector),
        ElementContentHandlers::default().element(handler),
    )
}

/// The selectors of the handlers, parsed once: parsing them for every page cost about a tenth of
/// a 10 KB page's extraction.
struct Selectors {
    template: Selector,
    anchor: Selector,
    link: Selector,
    frame: Selector,
    script: Selector,
    image: Selector,
    source: Selector,
    meta: Selector,
    base: Selector,
    noscript: Selector,
}

static SELECTORS: LazyLock<Selectors> = LazyLock::new(|| {
    let parse = |s: &str| s.parse().expect("the extractor's selectors parse");
    Selectors {
        template: parse("template"),
        anchor: parse("a, area"),
        link: parse("link"),
        frame: parse("iframe, frame"),
        script: parse("script"),
        image: parse("img, image"),
        source: parse("source"),
        meta: parse("meta"),
        base: parse("base"),
        noscript: parse("noscript"),
    }
});

/// The handlers, by the table in the module header of `links`.
fn settings<'h>(
    body: &'h [u8],
    page: &'h RefCell<DocumentState<'_>>,
    templates: &Rc<Cell<u32>>,
    depth: u32,
) -> Settings<'h, 'static> {
    let push = move |kind: LinkKind, nofollow: bool, url: String| {
        page.borrow_mut().links.links.push(Link {
            url,
            kind,
            nofollow,
        })
    };
    let open = Rc::clone(templates);
    let template = move |el: &mut Element<'_, '_>| {
        if el.namespace_uri() == HTML {
            open.set(open.get() + 1);
            let close = Rc::clone(&open);
            el.on_end_tag(Box::new(move |_| {
                close.set(close.get().saturating_sub(1));
                Ok(())
            }))?;
        }
        Ok(())
    };
    // Every noscript sets whether its text is gathered: only an HTML one outside templates (an
    // SVG element of that name has markup for content, which lol_html reads anyway). So no
    // noscript inherits the state of one before it, even an empty one, whose text handler never
    // runs.
    let in_template = Rc::clone(templates);
    let noscript = move |el: &mut Element<'_, '_>| -> HandlerResult {
        let gather = in_template.get() == 0 && el.namespace_uri() == HTML;
        page.borrow_mut().noscript = gather.then(String::new);
        Ok(())
    };
    let noscript_text = move |text: &mut TextChunk<'_>| -> HandlerResult {
        let mut p = page.borrow_mut();
        if let Some(gathered) = p.noscript.as_mut() {
            gathered.push_str(text.as_str());
            if text.last_in_text_node() {
                let gathered = p.noscript.take().unwrap_or_default();
                nested(&gathered, p.links, depth)?;
            }
        }
        Ok(())
    };
    let srcset = move |el: &Element<'_, '_>| {
        if let Some(set) = attr(body, el, "srcset") {
            values::srcset(set.as_bytes(), |r| {
                push(LinkKind::Image, false, set[r].to_string())
            });
        }
    };
    // Not strict: where lol_html cannot tell from the tags alone whether an element starts raw
    // text (`<xmp>` inside `<select>`, say), it guesses as browsers mostly parse, instead of
    // failing the page.
    let sel = &*SELECTORS;
    Settings::new()
        .with_strict(false)
        .with_memory_settings(MemorySettings::new().with_max_allowed_memory_usage(MEMORY_LIMIT))
        .append_element_content_handler((
            Cow::Borrowed(&sel.template),
            ElementContentHandlers::default().element(template),
        ))
        .append_element_content_handler(on(&sel.anchor, templates, move |el| {
            if let Some(href) = href(body, el) {
                // A way for the tests to make a handler panic, as a parser bug would.
                #[cfg(test)]
                assert!(href != "test:panic", "a panic for the tests");
                let nofollow = attr(body, el, "rel")
                    .is_some_and(|r| values::has_token(r.as_bytes(), b"nofollow"));
                push(LinkKind::Anchor, nofollow, href);
            }
            Ok(())
        }))
        .append_element_content_handler(on(&sel.link, templates, move |el| {
            let (Some(href), Some(rel)) = (href(body, el), attr(body, el, "rel")) else {
                return Ok(());
            };
            let rel = values::rel(rel.as_bytes());
            if let Some(kind) = rel.kind() {
                push(kind, rel.nofollow, href);
            }
            Ok(())
        }))
        .append_element_content_handler(on(&sel.frame, templates, move |el| {
            if let Some(src) = attr(body, el, "src") {
                push(LinkKind::Frame, false, src);
            }
            Ok(())
        }))
        .append_element_content_handler(on(&sel.script, templates, move |el| {
            if let Some(src) = attr(body, el, "src") {
                push(LinkKind::Script, false, src);
            }
            Ok(())
        }))
        .append_element_content_handler(on(&sel.image, templates, move |el| {
            // `<image>` is read as `<img>` in HTML, and stays itself in SVG.
            if el.namespace_uri() != HTML && el.tag_name() == "image" {
                return Ok(());
            }
            if let Some(src) = attr(body, el, "src") {
                push(LinkKind::Image, false, src);
            }
            srcset(el);
            Ok(())
        }))
        .append_element_content_handler(on(&sel.source, templates, move |el| {
            srcset(el);
            Ok(())
        }))
        .append_element_content_handler(on(&sel.meta, templates, move |el| {
            let Some(content) = attr(body, el, "content") else {
                return Ok(());
            };
            let is = |name: &str, value: &str| {
                attr(body, el, name).is_some_and(|v| v.eq_ignore_ascii_case(value))
            };
            if is("http-equiv", "refresh")
                && let Some(r) = values::refresh_url(content.as_bytes())
            {
                push(LinkKind::Refresh, false, content[r].to_string());
            }
            if is("name", "robots") {
                page.borrow_mut().links.robots.add(content.as_bytes());
            }
            Ok(())
        }))
        .append_element_content_handler(on(&sel.base, templates, move |el| {
            let mut p = page.borrow_mut();
            if p.links.base.is_none() {
                p.links.base = attr(body, el, "href");
            }
            Ok(())
        }))
        .append_element_content_handler((
            Cow::Borrowed(&sel.noscript),
            ElementContentHandlers::default()
                .element(noscript)
                .text(noscript_text),
        ))
}

/// The bytes of the value of the first attribute named one of `names` in `body`, the document
/// `el` is read from (so the first of duplicate attributes); empty for one without a value.
///
/// Read from the source rather than through lol_html's `value()`, which decodes with BOM
/// sniffing: a value that begins with the bytes FF FE came back decoded as UTF-16 (found by the
/// `links_differential` fuzz target).
fn raw_attr<'b>(body: &'b [u8], el: &Element<'_, '_>, names: &[&str]) -> Option<&'b [u8]> {
    let named = |a: &&lol_html::html_content::Attribute<'_>| {
        let at = a.name_source_location().map(|l| l.bytes());
        at.and_then(|r| body.get(r)).is_some_and(|n| {
            names
                .iter()
                .any(|name| n.eq_ignore_ascii_case(name.as_bytes()))
        })
    };
    let found = el.attributes().iter().find(named)?;
    let value = found.value_source_location().map(|l| l.bytes());
    Some(value.and_then(|r| body.get(r)).unwrap_or(b""))
}

/// The value of attribute `name` of `el`, decoded (see [`raw_attr`] and [`value`]).
fn attr(body: &[u8], el: &Element<'_, '_>, name: &str) -> Option<String> {
    raw_attr(body, el, &[name]).map(value)
}

/// An `href`, which in SVG and MathML may also be written `xlink:href` (the tree builder gives
/// that attribute the local name `href`, and the first of the two in the tag wins).
fn href(body: &[u8], el: &Element<'_, '_>) -> Option<String> {
    let names: &[&str] = if el.namespace_uri() == HTML {
        &["href"]
    } else {
        &["href", "xlink:href"]
    };
    raw_attr(body, el, names).map(value)
}

/// An attribute value's bytes as the tokenizer hands the value on: lossy UTF-8, CR LF and CR
/// become LF, NUL becomes U+FFFD, and character references are decoded by the rules for
/// attribute values (a legacy reference without `;` stays as written before `=` or an
/// alphanumeric).
fn value(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw).into_owned();
    if memchr::memchr3(b'&', b'\r', b'\0', raw).is_none() {
        return text;
    }
    let mut text = text.replace("\r\n", "\n").replace('\r', "\n");
    if text.contains('\0') {
        text = text.replace('\0', "\u{fffd}");
    }
    match htmlize::unescape_attribute(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(decoded) => decoded,
    }
}
