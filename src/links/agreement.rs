//! How the streaming extractor may differ from the DOM reference, and the check that it differs
//! in no other way.
//!
//! The reference ([`super::extract_dom`]) builds the DOM as the HTML standard's tree construction
//! does; the streaming extractor ([`super::extract`]) reads tags in source order and builds no
//! tree. Where tree construction moves, clones or drops an element, or where one of the two
//! parsers has a known bug, they differ, by design: each such difference is a [`Rule`], with the
//! markup that makes it possible and why a crawler can live with it. [`check`] holds the two to
//! agreement modulo exactly these rules; the differential tests run it on random HTML and on
//! every fixture, and the `links_differential` fuzz target on arbitrary bytes.
//!
//! ```
//! use crawler::links::agreement::{Rule, check};
//!
//! // An `<a>` misnested around `</p>`: the DOM has it twice, the stream once.
//! let body = b"<p><a href=/x>one</p>two";
//! assert!(Rule::possible(body).contains(&Rule::Cloned));
//! check(body).unwrap();
//! ```

use std::collections::{BTreeMap, BTreeSet};

use super::{LinkKind, Links, extract_dom, extract_into};

/// `Err` with the message unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err(format!($($why)+));
        }
    };
}

/// `Err` with both values and the message unless they are equal.
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($why:tt)+) => {{
        let (left, right) = (&$left, &$right);
        if left != right {
            return Err(format!("{:?} != {:?}: {}", left, right, format!($($why)+)));
        }
    }};
}

/// A way the two extractors may differ, and the markup that lets it happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// Tree construction reconstructs a formatting element left open (`<a>` misnested around a
    /// block), so the reference has a second copy of its link. The crawler dedups URLs, so a
    /// copy changes nothing it fetches.
    Cloned,
    /// Tree construction moves content misplaced in a table to before the table, and the
    /// adoption agency moves blocks out of misnested formatting elements; the reference then
    /// lists those links earlier or later. The crawler finds the same URLs, in source order.
    Moved,
    /// A `<frameset>` after body content makes the reference throw that content away; the
    /// streaming extractor keeps those links, which are on the page, so the crawler may fetch
    /// URLs a frames browser would not show.
    FramesetDropsBody,
    /// html5ever 0.26 ignores tags inside `<select>` (the old standard); browsers with
    /// customizable `<select>` keep them, and so does the streaming extractor.
    SelectDropsTags,
    /// lol_html reads a `<noscript>`'s text as raw text, which ends at the first `</noscript>`;
    /// with scripting disabled that sequence inside a comment, a quoted attribute value or a
    /// raw-text element (`<noscript><iframe></noscript>`) is part of it. The streaming
    /// extractor then reads as markup what the reference sees as text, or the other way round
    /// after it: tricks no real page depends on, costing links of that page only. Possible only
    /// where a noscript's content has such a construct, or a `</template`, before its first
    /// `</noscript` (or the end); other noscripts are compared.
    NoscriptEndsEarly,
    /// lol_html closes a `<template>` when an end tag for an element opened before it arrives
    /// (`<a><template></a>`); tree construction keeps the template open to its own end tag, so
    /// the reference leaves out, as template content, links the streaming extractor reports.
    /// Those URLs are on the page; broken markup costs at most their fetches.
    TemplateClosedEarly,
    /// A formatting element left open in a template is reconstructed after it when another
    /// marker (`<object>`, `<td>`, ...) inside the template kept the template's own from clearing
    /// the list: the reference then reports a template link the streaming extractor, which
    /// skips template contents, does not. Broken markup; a link of that page missed.
    ReconstructedOutOfTemplate,
    /// Tree construction ignores a `<frame>` outside a `<frameset>`; the streaming extractor
    /// reports its `src`, a page of the site that a crawler may as well fetch.
    StrayFrame,
    /// lol_html follows foreign content (SVG, MathML) by the tags alone; where end tags are
    /// misnested around it, it can disagree with the tree builder on an element's namespace,
    /// which decides whether `xlink:href` is an `href` and whether `<style>` is raw text. Such
    /// markup is broken, and the cost is a link missed or read from the other attribute.
    /// Possible only where the foreign content holds an HTML integration point or a tag that
    /// leaves it (`<foreignObject>`, `<title>`, `<p>`, ...): plain inline icons are compared.
    ForeignNamespace,
    /// html5ever 0.26 drops the character after a CR LF that follows an attribute's `=` (a
    /// bug: `href=\r\n"x"` gives `x"`); the standard, browsers and lol_html read `x`. Possible
    /// wherever a CR is in the whitespace after a `=`.
    CrLfAfterEquals,
    /// html5ever 0.26 drops a lone CR right after a character reference in an attribute value
    /// (`&amp;\rx` gives `&x`); the standard, and the streaming extractor, make it a newline.
    CrAfterReference,
    /// A raw-text element inside a `<select>` (`<select><iframe>`): the reference ignores the
    /// tag, lol_html has to guess from the tags alone and reads raw text, so links after it
    /// can be missed up to its end tag. Broken markup; at worst links missed on that page.
    RawTextInSelect,
    /// Inside a `<frameset>` tree construction ignores every tag but `<frameset>`, `<frame>`
    /// and `<noframes>`; lol_html still opens the raw-text elements and templates it sees
    /// there, so frames after a `<title>` or `<template>` in a frameset can be missed.
    /// Broken markup in a format of the 1990s; at worst frames missed on that page.
    FramesetIgnoresTags,
    /// lol_html does not switch to raw text after a start tag that ends in `=>` (an attribute
    /// with `=` and no value: `<title a=>`), so markup inside such a `<title>`, `<style>` or
    /// `<textarea>` is read, and foreign content after it can even stop the parser with an
    /// internal error (`<title a=><svg></svg>`: the page keeps the links found before).
    /// Malformed, rare, and at worst URLs that are on the page as text or links of that page.
    EqualsThenEnd,
}

impl Rule {
    /// The rules that can apply to `body`: each needs markup that shows in its source.
    pub fn possible(body: &[u8]) -> BTreeSet<Rule> {
        let text = String::from_utf8_lossy(body).to_ascii_lowercase();
        let tags: BTreeSet<&str> = tag_names(&text).collect();
        let any = |names: &[&str]| names.iter().any(|n| tags.contains(n));
        let mut rules = BTreeSet::new();
        // Only formatting elements are reconstructed, and misnested ones and tables move content.
        let formatting = [
            "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong",
            "tt", "u",
        ];
        if any(&formatting) {
            rules.insert(Rule::Cloned);
            rules.insert(Rule::Moved);
        }
        if any(&["table"]) {
            rules.insert(Rule::Moved);
        }
        if any(&["frameset"]) {
            rules.insert(Rule::FramesetDropsBody);
            rules.insert(Rule::FramesetIgnoresTags);
        }
        if any(&["frame"]) {
            rules.insert(Rule::StrayFrame);
        }
        if any(&["select"]) {
            rules.insert(Rule::SelectDropsTags);
            let raw = [
                "xmp",
                "iframe",
                "noembed",
                "noframes",
                "noscript",
                "style",
                "textarea",
                "title",
                "plaintext",
                "script",
            ];
            if any(&raw) {
                rules.insert(Rule::RawTextInSelect);
            }
        }
        if any(&["template"]) {
            rules.insert(Rule::TemplateClosedEarly);
            if any(&["object", "applet", "marquee", "td", "th", "caption"]) {
                rules.insert(Rule::ReconstructedOutOfTemplate);
            }
        }
        if text.contains('&') && text.contains('\r') {
            rules.insert(Rule::CrAfterReference);
        }
        // What follows each `=`: the whitespace skipped, and the rest.
        for (i, _) in text.match_indices('=') {
            let after = &text[i + 1..];
            let rest = after.trim_start_matches([' ', '\t', '\x0c', '\n', '\r']);
            if rest.starts_with('>') {
                rules.insert(Rule::EqualsThenEnd);
            }
            if after[..after.len() - rest.len()].contains('\r') {
                rules.insert(Rule::CrLfAfterEquals);
            }
        }
        if noscript_may_end_early(&text) {
            rules.insert(Rule::NoscriptEndsEarly);
        }
        if foreign_content_may_be_misread(&text) {
            rules.insert(Rule::ForeignNamespace);
        }
        rules
    }
}

/// The tag names (of start and end tags) in `text`, in order, as the tokenizer reads them: a
/// letter after `<` or `</`, then everything up to whitespace, `/` or `>` (lowercase where
/// `text` is).
fn tag_names(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices('<').filter_map(|(i, _)| {
        let rest = &text[i + 1..];
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let end = rest
            .find([' ', '\t', '\n', '\r', '\x0c', '/', '>'])
            .unwrap_or(rest.len());
        Some(&rest[..end])
    })
}

/// Whether some `<noscript>` of `text` (lowercased) has content in which its first
/// `</noscript` might not be an end tag when read as markup: inside a comment or a bogus one, a
/// raw-text or RCDATA element, a template, a select, foreign content, or a tag or quoted value
/// still open where it comes.
fn noscript_may_end_early(text: &str) -> bool {
    // Raw text and RCDATA: they hide the end only if their own end tag does not come first.
    const RAW: &[&str] = &[
        "iframe", "xmp", "style", "textarea", "title", "script", "noembed", "noframes",
    ];
    const HIDES_AN_END: &[&str] = &["plaintext", "template", "svg", "math", "select"];
    text.match_indices("<noscript").any(|(start, _)| {
        let Some(len) = text[start..].find("</noscript") else {
            // Left open, it is text to the end for lol_html: a `</template>` in it does not
            // end a template around it, as it does in markup.
            return text[start..].contains("</template");
        };
        let content = &text[start..start + len];
        let bogus_end = content
            .match_indices("</")
            .any(|(i, _)| !content[i + 2..].starts_with(|c: char| c.is_ascii_alphabetic()));
        let open_raw_text = content.match_indices('<').skip(1).any(|(i, _)| {
            let name = tag_names(&content[i..]).next().unwrap_or("");
            if content[i + 1..].starts_with('/') {
                return false;
            }
            HIDES_AN_END.contains(&name)
                || (RAW.contains(&name) && !has_end_tag(&content[i..], name))
        });
        // A `</template>` in it does not end a template around it for lol_html, as it does in
        // markup.
        content.contains("<!")
            || content.contains("</template")
            || content.contains("<?")
            || bogus_end
            || open_raw_text
            || ends_inside_a_tag(content)
    })
}

/// Whether `text` holds an end tag `</name` that ends raw text: followed by whitespace, `/` or
/// `>`.
fn has_end_tag(text: &str, name: &str) -> bool {
    let end = format!("</{name}");
    text.match_indices(&end).any(|(i, _)| {
        let next = text[i + end.len()..].chars().next();
        matches!(next, Some(' ' | '\t' | '\n' | '\r' | '\x0c' | '/' | '>'))
    })
}

/// Whether `text` ends inside a tag or a quoted attribute value, read as tags are: a `<` and a
/// letter or `/` open a tag, a quote right after `=` opens a value, which only its own quote
/// closes, and a `>` outside values closes the tag.
fn ends_inside_a_tag(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (mut in_tag, mut quote) = (false, None);
    for (i, &c) in bytes.iter().enumerate() {
        match (in_tag, quote) {
            (_, Some(q)) => {
                if c == q {
                    quote = None;
                }
            }
            (false, None) => {
                let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                in_tag = c == b'<' && (next.is_ascii_alphabetic() || next == b'/');
            }
            (true, None) => match c {
                b'>' => in_tag = false,
                b'"' | b'\'' => {
                    let before = text[..i].trim_end_matches([' ', '\t', '\n', '\r', '\x0c']);
                    if before.ends_with('=') {
                        quote = Some(c);
                    }
                }
                _ => {}
            },
        }
    }
    in_tag || quote.is_some()
}

/// Whether the foreign content of `text` (lowercased), each `<svg` or `<math` to the end tag
/// that closes it (or the end), has a tag where tree construction and
/// lol_html's tag-by-tag view can part: an HTML integration point, a tag that leaves foreign
/// content, an end tag of another element, or an `<svg/>` closed in its own tag.
fn foreign_content_may_be_misread(text: &str) -> bool {
    const RISKY: &[&str] = &[
        "foreignobject",
        "desc",
        "title",
        "mi",
        "mo",
        "mn",
        "ms",
        "mtext",
        "annotation-xml",
        "font",
        "b",
        "big",
        "blockquote",
        "body",
        "br",
        "center",
        "code",
        "dd",
        "div",
        "dl",
        "dt",
        "em",
        "embed",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "hr",
        "i",
        "img",
        "li",
        "listing",
        "menu",
        "meta",
        "nobr",
        "ol",
        "p",
        "pre",
        "ruby",
        "s",
        "small",
        "span",
        "strong",
        "strike",
        "sub",
        "sup",
        "table",
        "tt",
        "u",
        "ul",
        "var",
        "html",
        "template",
    ];
    let starts = ["<svg", "<math"];
    // The foreign regions: from an `<svg` or `<math` that opens one to the end tag that closes
    // it (counting nested ones), or to the end.
    let mut regions = Vec::new();
    let (mut depth, mut from) = (0usize, 0usize);
    for (i, _) in text.match_indices('<') {
        let end_tag = text[i + 1..].starts_with('/');
        let name = tag_names(&text[i..]).next().unwrap_or("");
        if name != "svg" && name != "math" {
            continue;
        }
        if !end_tag {
            if depth == 0 {
                from = i;
            }
            depth += 1;
        } else if depth > 0 {
            depth -= 1;
            if depth == 0 {
                regions.push(&text[from..i]);
            }
        }
    }
    if depth > 0 {
        regions.push(&text[from..]);
    }
    // End tags of anything but the usual SVG elements can close HTML elements around the
    // foreign content (`</a>` among them: SVG has an `a` too), and a self-closed `<svg/>`
    // opens none.
    const SVG: &[&str] = &[
        "svg",
        "math",
        "g",
        "path",
        "use",
        "symbol",
        "defs",
        "circle",
        "rect",
        "line",
        "polyline",
        "polygon",
        "ellipse",
        "text",
        "tspan",
        "lineargradient",
        "radialgradient",
        "stop",
        "clippath",
        "mask",
        "pattern",
        "image",
        "filter",
        "marker",
    ];
    let odd_end = |region: &str| {
        region.match_indices("</").any(|(i, _)| {
            let name = tag_names(&region[i..]).next().unwrap_or("");
            !SVG.contains(&name)
        })
    };
    let self_closed = starts.iter().any(|t| {
        text.match_indices(t).any(|(i, _)| {
            let tag = &text[i..];
            tag.find('>').is_some_and(|gt| tag[..gt].ends_with('/'))
        })
    });
    // Where a foreign tag stands inside another tag or a quoted value (as tags are read), the
    // regions above are not where the parsers see them.
    let hidden = ["<svg", "</svg", "<math", "</math"].iter().any(|t| {
        text.match_indices(t)
            .any(|(i, _)| ends_inside_a_tag(&text[..i]))
    });
    self_closed
        || hidden
        || regions
            .iter()
            .any(|r| odd_end(r) || tag_names(r).any(|n| RISKY.contains(&n)))
}

/// One link as the comparison sees it.
type LinkKey = (String, LinkKind, bool);

fn keys(links: &Links) -> Vec<LinkKey> {
    links
        .links
        .iter()
        .map(|l| (l.url.clone(), l.kind, l.nofollow))
        .collect()
}

fn counts(keys: &[LinkKey]) -> BTreeMap<&LinkKey, usize> {
    let mut counts = BTreeMap::new();
    for k in keys {
        *counts.entry(k).or_insert(0) += 1;
    }
    counts
}

/// The first occurrences of `keys`, in order.
fn firsts(keys: &[LinkKey]) -> Vec<&LinkKey> {
    let mut seen = BTreeSet::new();
    keys.iter().filter(|k| seen.insert(*k)).collect()
}

/// Checks that the streaming extractor reads `body` to its end (unless [`Rule::EqualsThenEnd`]
/// is possible) and agrees with the reference on it, up to the
/// [`Rule`]s its markup makes possible and no further:
/// - with no rule, the same [`Links`] exactly;
/// - only [`Rule::ForeignNamespace`], [`Rule::CrLfAfterEquals`], [`Rule::CrAfterReference`],
///   [`Rule::RawTextInSelect`], [`Rule::FramesetIgnoresTags`], [`Rule::NoscriptEndsEarly`],
///   [`Rule::ReconstructedOutOfTemplate`] or [`Rule::EqualsThenEnd`] let a link be missed or read otherwise
///   (and then nothing else is compared);
/// - only [`Rule::FramesetDropsBody`], [`Rule::SelectDropsTags`],
///   [`Rule::TemplateClosedEarly`] or [`Rule::StrayFrame`] let the streaming extractor find more (or more meta robots
///   directives);
/// - only [`Rule::Cloned`] lets the reference have more copies of a link;
/// - only [`Rule::Moved`] lets the first occurrences come in another order;
/// - the base is the same unless content can be moved or dropped.
pub fn check(body: &[u8]) -> Result<(), String> {
    let shown = String::from_utf8_lossy(body);
    let mut got = Links::default();
    let rules = Rule::possible(body);
    if let Err(e) = extract_into(body, &mut got) {
        if rules.contains(&Rule::EqualsThenEnd) {
            return Ok(());
        }
        return Err(format!("{e} on {shown:?}"));
    }
    let want = extract_dom(&shown);
    if rules.is_empty() {
        ensure_eq!(got, want, "body {:?}", shown);
        return Ok(());
    }
    let any = |of: &[Rule]| of.iter().any(|r| rules.contains(r));
    // Rules under which the streaming extractor may find more, or something else.
    let drops = any(&[
        Rule::FramesetDropsBody,
        Rule::SelectDropsTags,
        Rule::TemplateClosedEarly,
        Rule::StrayFrame,
    ]);
    let other = any(&[
        Rule::ForeignNamespace,
        Rule::CrLfAfterEquals,
        Rule::CrAfterReference,
        Rule::RawTextInSelect,
        Rule::FramesetIgnoresTags,
        Rule::NoscriptEndsEarly,
        Rule::ReconstructedOutOfTemplate,
        Rule::EqualsThenEnd,
    ]);
    let (g, w) = (keys(&got), keys(&want));
    let (gc, wc) = (counts(&g), counts(&w));
    for (key, &n) in &wc {
        let found = gc.get(key).copied().unwrap_or(0);
        ensure!(other || found > 0, "{:?} missed in {:?}", key, shown);
        if !rules.contains(&Rule::Cloned) && !other {
            ensure!(found >= n, "{:?}: {} < {} in {:?}", key, found, n, shown);
        }
    }
    for (key, &n) in &gc {
        let expected = wc.get(key).copied().unwrap_or(0);
        let more = drops || other;
        ensure!(more || expected > 0, "{:?} extra in {:?}", key, shown);
        ensure!(
            more || n <= expected,
            "{:?}: {} > {} in {:?}",
            key,
            n,
            expected,
            shown
        );
    }
    if other {
        return Ok(());
    }
    if !drops {
        ensure_eq!(got.robots, want.robots, "robots in {:?}", shown);
        if !rules.contains(&Rule::Moved) {
            ensure_eq!(firsts(&g), firsts(&w), "order in {:?}", shown);
            ensure_eq!(got.base, want.base, "base in {:?}", shown);
        }
    } else {
        ensure!(got.robots.noindex || !want.robots.noindex, "{:?}", shown);
        ensure!(got.robots.nofollow || !want.robots.nofollow, "{:?}", shown);
    }
    Ok(())
}
