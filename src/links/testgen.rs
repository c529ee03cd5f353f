//! Random HTML for the differential tests: a grammar biased towards what makes tree
//! construction move, clone or drop links — misnested formatting elements, tables, foreign
//! content, templates, raw-text elements, framesets, character references, comments, quirky
//! DOCTYPEs, stray `\r` and NUL — and towards every element and attribute that carries a link
//! (`link rel`, `iframe`/`frame`/`img`/`script` `src`, `srcset`, `meta` refresh and robots,
//! `rel=nofollow`), with every `@` replaced by a fresh number so that any reordering or cloning
//! of links shows.

use proptest::prelude::*;

const NAMES: &[&str] = &[
    "a",
    "a",
    "a",
    "a href=@",
    "a href=@",
    "a rel=nofollow href=@",
    "link rel=next href=@",
    "link rel=stylesheet href=@",
    "link rel=StyleSheet href=@ rel=next",
    "link href=@ rel='alternate NOFOLLOW'",
    "link rel=preload as=font href=@",
    "link rel=modulepreload href=@",
    "link rel='shortcut icon' href=@",
    "source srcset='@ 1x, @ 2x'",
    "img src=@",
    "img srcset='@ 1x, @ 2x'",
    "img src=@ srcset=@,@",
    "script src=@",
    "iframe src=@",
    "iframe src=@",
    "frame src=@",
    "meta http-equiv=refresh content='0; url=@'",
    "meta content=\"1;'@'\" http-equiv=Refresh",
    "meta name=robots content=nofollow",
    "meta name=robots content=noindex",
    "area",
    "base",
    "p",
    "div",
    "table",
    "tr",
    "td",
    "th",
    "tbody",
    "thead",
    "caption",
    "colgroup",
    "col",
    "b",
    "i",
    "em",
    "font",
    "nobr",
    "s",
    "select",
    "option",
    "optgroup",
    "template",
    "svg",
    "math",
    "foreignObject",
    "desc",
    "title",
    "mi",
    "mtext",
    "annotation-xml",
    "frameset",
    "frame",
    "body",
    "head",
    "html",
    "script",
    "style",
    "textarea",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "plaintext",
    "pre",
    "listing",
    "li",
    "ul",
    "dd",
    "dt",
    "h1",
    "h2",
    "form",
    "input",
    "button",
    "object",
    "applet",
    "marquee",
    "image",
    "br",
    "hr",
    "span",
    "x-y",
    "A",
    "TABLE",
    "Svg",
    "keygen",
    "ruby",
    "rt",
    "rp",
    "rtc",
    "rb",
    "menu",
    "center",
    "address",
    "img",
    "meta",
    "link",
    "mglyph",
    "malignmark",
    "code",
    "big",
    "u",
    "strike",
    "tt",
    "small",
    "strong",
    "frame",
    "isindex",
    "dialog",
    "main",
    "summary",
    "details",
    "sub",
    "embed",
    "param",
    "source",
    "wbr",
    "p\0",
];

const ATTR_NAMES: &[&str] = &[
    "href",
    "href",
    "href",
    "HREF",
    "xlink:href",
    "rel",
    "rel",
    "src",
    "src",
    "srcset",
    "content",
    "content",
    "name",
    "http-equiv",
    "type",
    "encoding",
    "color",
    "face",
    "size",
    "class",
    "id",
    "form",
    "x",
];

const VALUES: &[&str] = &[
    "/a",
    "b.html",
    "",
    "@",
    "nofollow",
    "NoFollow next",
    "stylesheet",
    "alternate",
    "canonical",
    "prev",
    "refresh",
    "REFRESH",
    "robots",
    "noindex, nofollow",
    "none",
    "0; url=@",
    "5;URL='@' x",
    "1, @",
    "@ 1x, @ 2x",
    "@,@ 2x,,@",
    "@ f(1,2), @",
    "hidden",
    "HIDDEN",
    "text/html",
    "application/xhtml+xml",
    "red",
    "&amp;x",
    "&notit;",
    "&not=",
    "&amp=",
    "a&ltb",
    "&#x41;",
    "&#65",
    "&#0;",
    "&#x110000;",
    "&#128;",
    "a\rb",
    "a\r\nb",
    "\r\n\"q\"",
    "a\0b",
    "&",
    "&#",
    "&#x",
    "&;",
    "&zz;",
    "é",
    "\u{FFFD}",
    "&NotEqualTilde;",
    "&#13;",
    "&Tab;",
];

const TEXTS: &[&str] = &[
    "x",
    " ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "text",
    " words here ",
    "&amp;",
    "&#10",
    "&#10;",
    "&#x0a",
    "&NewLine;",
    "&#32;",
    "&not",
    "&",
    "\0",
    "\u{FEFF}",
    "é",
    "<",
    "</",
    "<<",
    "< a",
    "]]>",
    "--",
    "-->",
    "<!--",
    "<script>",
    "</script>",
    "&lt;/a&gt;",
];

const MARKUP: &[&str] = &[
    "<!-- c -->",
    "<!-->",
    "<!--->",
    "<!-- a --!>",
    "<!-- a -- b -->",
    "<!-",
    "<!--",
    "<?php x ?>",
    "</ x>",
    "</>",
    "<!doctype html>",
    "<!DOCTYPE html>",
    "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">",
    "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">",
    "<!DOCTYPE html SYSTEM \"about:legacy-compat\">",
    "<!doctype html\r\npublic \"html\">",
    "<!DOCTYPE>",
    "<!doctypehtml>",
    "<![CDATA[ x ]]>",
    "<![CDATA[<a href=c>]]>",
    "<![CDATA[",
    "<!--<script>",
    "<!--<script>--></script>",
    "\u{FEFF}",
];

fn attr() -> impl Strategy<Value = String> {
    (
        prop::sample::select(ATTR_NAMES),
        0..5usize,
        prop::sample::select(VALUES),
    )
        .prop_map(|(name, quote, value)| match quote {
            0 => format!(" {name}=\"{}\"", value.replace('"', "")),
            1 => format!(" {name}='{}'", value.replace('\'', "")),
            2 => format!(" {name}={}", value.replace([' ', '>'], "")),
            3 => format!(" {name}"),
            _ => format!("\r\n{name} = \"{}\"", value.replace('"', "")),
        })
}

fn tag() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::sample::select(NAMES),
        prop::collection::vec(attr(), 0..3),
        0..6usize,
    )
        .prop_map(|(end, name, attrs, close)| {
            let slash = if end { "/" } else { "" };
            let close = match close {
                0 => "/>",
                1 => "",
                _ => ">",
            };
            format!("<{slash}{name}{}{close}", attrs.concat())
        })
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => tag(),
        2 => prop::sample::select(TEXTS).prop_map(str::to_string),
        1 => prop::sample::select(MARKUP).prop_map(str::to_string),
    ]
}

/// Elements for the nested grammar, weighted towards what moves or clones links.
const NEST: &[&str] = &[
    "a",
    "a",
    "a",
    "a",
    "b",
    "b",
    "i",
    "nobr",
    "font",
    "em",
    "p",
    "p",
    "div",
    "div",
    "li",
    "table",
    "table",
    "tr",
    "td",
    "th",
    "tbody",
    "caption",
    "colgroup",
    "select",
    "option",
    "template",
    "svg",
    "math",
    "foreignObject",
    "desc",
    "mi",
    "annotation-xml",
    "span",
    "button",
    "object",
    "marquee",
    "h1",
    "ul",
    "dd",
    "form",
    "ruby",
    "rt",
    "center",
    "body",
    "html",
    "head",
    "frameset",
    "noscript",
    "title",
    "textarea",
    "xmp",
    "style",
    "script",
    "iframe",
    "pre",
    "listing",
    "link",
    "img",
    "meta",
    "frame",
];

/// Snippets that need an exact neighbourhood to matter.
const SNIPPETS: &[&str] = &[
    "<pre>\n",
    "<pre>\r\n",
    "<listing>\n",
    "<textarea>\n</textarea>",
    "<pre>&#10",
    "<pre></>\n",
    "<script></script>\u{FEFF}",
    "<script>x</script>\u{FEFF}x",
    "<!DOCTYPE html>",
    "x",
    " ",
    "<table>",
    "</table>",
    "<p>",
    "</p>",
    "</a>",
    "</b>",
    "<b>",
    "<input type=hidden>",
    "<input>",
    "<frameset>",
    "<frame>",
    "</body>",
    "</html>",
    "<base href=B>",
    "<area href=@>",
    "<svg><a xlink:href=@>",
    "<math><annotation-xml encoding=text/html><a href=@>",
    "<a href=@ rel=nofollow>",
    "<link rel=canonical href=@>",
    "<link rel=stylesheet href=@>",
    "<img src=@ srcset='@ 1x, @ 2x'>",
    "<image src=@>",
    "<script src=@></script>",
    "<iframe src=@></iframe>",
    "<frame src=@>",
    "<meta http-equiv=refresh content='1;url=@'>",
    "<meta name=robots content=none>",
    "<svg><script xlink:href=@ src=@></script><link href=@ rel=next>",
];

/// One node of the nested grammar; `@` stands for a fresh link number.
fn node() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        3 => prop::sample::select(TEXTS).prop_map(str::to_string),
        2 => prop::sample::select(SNIPPETS).prop_map(str::to_string),
        1 => prop::sample::select(MARKUP).prop_map(str::to_string),
        2 => Just("<a href=@>".to_string()),
        1 => Just("<a href=same>".to_string()),
        1 => Just("<img src=@ srcset='@ 2x'>".to_string()),
        1 => Just("<link rel=stylesheet href=@><meta http-equiv=refresh content=0;@>".to_string()),
        1 => Just("<iframe src=@></iframe>".to_string()),
        1 => Just("<meta name=Robots content='noindex,NOFOLLOW'>".to_string()),
    ];
    leaf.prop_recursive(5, 60, 6, |inner| {
        (
            prop::sample::select(NEST),
            prop::collection::vec(attr(), 0..2),
            prop::collection::vec(inner, 0..6),
            0..4usize,
        )
            .prop_map(|(name, attrs, children, end)| {
                let attrs = if name == "a" && attrs.is_empty() {
                    " href=@".to_string()
                } else {
                    attrs.concat()
                };
                let end = match end {
                    0 => String::new(),
                    // Misnested: close something else.
                    1 => "</b></a></p>".to_string(),
                    _ => format!("</{name}>"),
                };
                format!("<{name}{attrs}>{}{end}", children.concat())
            })
    })
}

/// Numbers each `@` so that any reordering or cloning of links shows.
fn number(text: String) -> String {
    let mut pieces = text.split('@');
    let mut out = pieces.next().unwrap_or_default().to_string();
    for (n, piece) in pieces.enumerate() {
        out.push_str(&format!("{}{piece}", n + 1));
    }
    out
}

/// Inserts the odd invalid UTF-8 byte.
fn with_bad_bytes(text: String, bad: Vec<(prop::sample::Index, u8)>) -> Vec<u8> {
    let mut bytes = text.into_bytes();
    for (at, b) in bad {
        if !bytes.is_empty() {
            let i = at.index(bytes.len());
            bytes.insert(i, b);
        }
    }
    bytes
}

/// Tag soup from the grammar.
pub(super) fn soup() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(piece(), 0..40),
        prop::collection::vec((any::<prop::sample::Index>(), 0x80u8..=0xff), 0..2),
    )
        .prop_map(|(pieces, bad)| with_bad_bytes(number(pieces.concat()), bad))
}

/// Nested markup, sometimes after a DOCTYPE.
pub(super) fn nested() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(&["", "", "<!DOCTYPE html>", "<!DOCTYPE html PUBLIC \"html\">"][..]),
        prop::collection::vec(node(), 1..5),
        prop::collection::vec((any::<prop::sample::Index>(), 0x80u8..=0xff), 0..2),
    )
        .prop_map(|(doctype, nodes, bad)| {
            with_bad_bytes(number(format!("{doctype}{}", nodes.concat())), bad)
        })
}

/// Tags whose insides are random tag syntax: names, `=`, quotes, whitespace of every kind, `/`,
/// `&`, `\r`, NUL, case, and a link attribute now and then. Aimed at the edges of the tokenizer's
/// tag and attribute states, where a value starts and ends.
pub(super) fn tag_syntax() -> impl Strategy<Value = Vec<u8>> {
    let inside = prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(
                &[" ", "\t", "\n", "\x0c", "=", "\"", "'", "/", ">", "<", "&amp;", "&", "\r", "\0",
                  "`", "x", "Y", "1"][..]
            ),
            2 => prop::sample::select(&[" href=", " HREF=", " src=", " rel=", " a", "nofollow"][..]),
            2 => prop::sample::select(&["\"/x\"", "'/y'", "/z", "\"\"", "''"][..]),
        ],
        0..12,
    );
    prop::collection::vec(
        (
            prop::sample::select(
                &[
                    "<a", "<A", "</a", "<area", "<base", "<link", "<img", "<p", "</p", "<b",
                ][..],
            ),
            inside,
            prop::sample::select(&[">", "/>", "", ">text"][..]),
        ),
        1..8,
    )
    .prop_map(|tags| {
        tags.into_iter()
            .map(|(open, inside, close)| format!("{open}{}{close}", inside.concat()))
            .collect::<String>()
            .into_bytes()
    })
}

/// Bytes that are mostly HTML punctuation, some anything.
pub(super) fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(b"<>/!-=&;#x'\" \r\n\0ahrefbsvgtp[]".to_vec()),
            1 => any::<u8>(),
        ],
        0..200,
    )
}

/// Tokens for misnesting soup: formatting elements, blocks and text in a small alphabet, so
/// that the adoption agency, reconstruction and the Noah's Ark clause run all the time.
const FORMATTING: &[&str] = &[
    "<b>",
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    "<a href=@>",
    "<a href=same>",
    "<a href=same>",
    "</a>",
    "<nobr>",
    "</nobr>",
    "<font>",
    "</font>",
    "<b class=x>",
    "<div>",
    "</div>",
    "<p>",
    "</p>",
    "x",
    " ",
    "<table>",
    "<td>",
    "</table>",
    "<span>",
    "</span>",
    "<li>",
    "<object>",
    "</object>",
    "<h1>",
    "</h2>",
    "<button>",
    "<em>",
    "</em>",
    "<area href=@>",
    "<a href=@ rel=nofollow>",
    "<img src=@>",
    "<link rel=prev href=@>",
    "<link rel=preload href=@>",
];

/// Misnesting soup.
pub(super) fn formatting() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(FORMATTING), 0..40)
        .prop_map(|tokens| number(tokens.concat()).into_bytes())
}
