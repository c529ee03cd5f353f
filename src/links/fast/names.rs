//! Tag names as small integers, and the tag sets of the tree construction rules.
//!
//! Every name the tree builder tests for gets a fixed constant; any other name is interned per
//! document (after the same lossy UTF-8 decoding the reference applies to the whole body, so that
//! two byte spellings of one decoded name are one name). Names are compared as integers from then
//! on. The sets mirror html5ever 0.26's `tag_sets.rs` (which is what the reference runs), not the
//! current HTML standard: `search` is not special there, and `foreignObject` is not a scope
//! boundary for `special_tag`.

use rustc_hash::FxHashMap;

/// The namespace of an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ns {
    /// HTML.
    Html,
    /// SVG.
    Svg,
    /// MathML.
    MathMl,
}

/// A lowercase tag name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Name(pub(super) u32);

macro_rules! names {
    ($($id:ident = $text:literal,)*) => {
        // The table is complete, used or not, and the ids are spelled like the constants.
        #[allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]
        mod ids { pub(super) enum Id { $($id,)* Count } }
        $(
            #[doc = concat!("The tag name ", stringify!($id), ".")]
            pub(super) const $id: Name = Name(ids::Id::$id as u32);
        )*
        /// The number of fixed names; interned names are numbered from here.
        const KNOWN: u32 = ids::Id::Count as u32;

        /// The fixed names, by id.
        #[cfg(test)]
        const TEXTS: &[&[u8]] = &[$($text,)*];

        /// The fixed name spelled `bytes`, if it is one.
        fn known(bytes: &[u8]) -> Option<Name> {
            Some(match bytes {
                $($text => $id,)*
                _ => return None,
            })
        }
    };
}

names! {
    A = b"a", ADDRESS = b"address", ANNOTATION_XML = b"annotation-xml", APPLET = b"applet",
    AREA = b"area", ARTICLE = b"article", ASIDE = b"aside", B = b"b", BASE = b"base",
    BASEFONT = b"basefont", BGSOUND = b"bgsound", BIG = b"big", BLOCKQUOTE = b"blockquote",
    BODY = b"body", BR = b"br", BUTTON = b"button", CAPTION = b"caption", CENTER = b"center",
    CODE = b"code", COL = b"col", COLGROUP = b"colgroup", DD = b"dd", DESC = b"desc",
    DETAILS = b"details", DIALOG = b"dialog", DIR = b"dir", DIV = b"div", DL = b"dl", DT = b"dt",
    EM = b"em", EMBED = b"embed", FIELDSET = b"fieldset", FIGCAPTION = b"figcaption",
    FIGURE = b"figure", FONT = b"font", FOOTER = b"footer", FOREIGNOBJECT = b"foreignobject",
    FORM = b"form", FRAME = b"frame", FRAMESET = b"frameset", H1 = b"h1", H2 = b"h2", H3 = b"h3",
    H4 = b"h4", H5 = b"h5", H6 = b"h6", HEAD = b"head", HEADER = b"header", HGROUP = b"hgroup",
    HR = b"hr", HTML = b"html", I = b"i", IFRAME = b"iframe", IMAGE = b"image", IMG = b"img",
    INPUT = b"input", ISINDEX = b"isindex", KEYGEN = b"keygen", LI = b"li", LINK = b"link",
    LISTING = b"listing", MAIN = b"main", MALIGNMARK = b"malignmark", MARQUEE = b"marquee",
    MATH = b"math", MENU = b"menu", META = b"meta", MGLYPH = b"mglyph", MI = b"mi", MN = b"mn",
    MO = b"mo", MS = b"ms", MTEXT = b"mtext", NAV = b"nav", NOBR = b"nobr", NOEMBED = b"noembed",
    NOFRAMES = b"noframes", NOSCRIPT = b"noscript", OBJECT = b"object", OL = b"ol",
    OPTGROUP = b"optgroup", OPTION = b"option", P = b"p", PARAM = b"param",
    PLAINTEXT = b"plaintext", PRE = b"pre", RB = b"rb", RP = b"rp", RT = b"rt", RTC = b"rtc",
    RUBY = b"ruby", S = b"s", SCRIPT = b"script", SECTION = b"section", SELECT = b"select",
    SMALL = b"small", SOURCE = b"source", SPAN = b"span", STRIKE = b"strike", STRONG = b"strong",
    STYLE = b"style", SUB = b"sub", SUMMARY = b"summary", SUP = b"sup", SVG = b"svg",
    TABLE = b"table", TBODY = b"tbody", TD = b"td", TEMPLATE = b"template",
    TEXTAREA = b"textarea", TFOOT = b"tfoot", TH = b"th", THEAD = b"thead", TITLE = b"title",
    TR = b"tr", TRACK = b"track", TT = b"tt", U = b"u", UL = b"ul", VAR = b"var", WBR = b"wbr",
    XMP = b"xmp",
}

/// Names of one document: the fixed table plus the names met so far.
#[derive(Debug, Default)]
pub(super) struct Interner {
    /// Interned names by their (lossily decoded) bytes.
    map: FxHashMap<Box<[u8]>, u32>,
}

#[cfg(test)]
impl Interner {
    /// The text of `name` (for tests that print the skeleton).
    pub(super) fn text(&self, name: Name) -> String {
        if name.0 < KNOWN {
            return String::from_utf8_lossy(TEXTS[name.0 as usize]).into_owned();
        }
        let (bytes, _) = self
            .map
            .iter()
            .find(|(_, id)| **id == name.0)
            .expect("an interned name");
        String::from_utf8_lossy(bytes).into_owned()
    }
}

impl Interner {
    /// Forgets this document's names (keeping the allocation), for the next document.
    pub(super) fn clear(&mut self) {
        self.map.clear();
    }

    /// The name spelled by `bytes` (already lowercased by the tokenizer).
    pub(super) fn name(&mut self, bytes: &[u8]) -> Name {
        if let Some(name) = known(bytes) {
            return name;
        }
        // The reference sees the body after lossy UTF-8 decoding: normalise the same way so that
        // different invalid bytes that decode to the same U+FFFD are the same name.
        let text = String::from_utf8_lossy(bytes);
        let next = KNOWN + self.map.len() as u32;
        Name(*self.map.entry(text.as_bytes().into()).or_insert(next))
    }
}

/// An element: namespace and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct El {
    /// Namespace.
    pub(super) ns: Ns,
    /// Name.
    pub(super) name: Name,
}

impl El {
    /// An HTML element named `name`.
    pub(super) fn is(self, name: Name) -> bool {
        self.ns == Ns::Html && self.name == name
    }

    /// An HTML element with one of `names`.
    pub(super) fn is_any(self, names: &[Name]) -> bool {
        self.ns == Ns::Html && names.contains(&self.name)
    }
}

/// `mi`, `mo`, `mn`, `ms`, `mtext` in MathML.
pub(super) fn mathml_text_integration_point(e: El) -> bool {
    e.ns == Ns::MathMl && matches!(e.name, MI | MO | MN | MS | MTEXT)
}

/// `foreignObject`, `desc`, `title` in SVG.
pub(super) fn svg_html_integration_point(e: El) -> bool {
    e.ns == Ns::Svg && matches!(e.name, FOREIGNOBJECT | DESC | TITLE)
}

/// The default scope boundaries.
pub(super) fn default_scope(e: El) -> bool {
    e.is_any(&[
        APPLET, CAPTION, HTML, TABLE, TD, TH, MARQUEE, OBJECT, TEMPLATE,
    ]) || mathml_text_integration_point(e)
        || svg_html_integration_point(e)
}

/// List item scope: default scope plus `ol`, `ul`.
pub(super) fn list_item_scope(e: El) -> bool {
    default_scope(e) || e.is_any(&[OL, UL])
}

/// Button scope: default scope plus `button`.
pub(super) fn button_scope(e: El) -> bool {
    default_scope(e) || e.is(BUTTON)
}

/// Table scope.
pub(super) fn table_scope(e: El) -> bool {
    e.is_any(&[HTML, TABLE, TEMPLATE])
}

/// Select scope: everything but `optgroup` and `option`.
pub(super) fn select_scope(e: El) -> bool {
    !e.is_any(&[OPTGROUP, OPTION])
}

/// Elements closed by "clear the stack back to a table body context".
pub(super) fn table_body_context(e: El) -> bool {
    e.is_any(&[TBODY, TFOOT, THEAD, TEMPLATE, HTML])
}

/// Elements closed by "clear the stack back to a table row context".
pub(super) fn table_row_context(e: El) -> bool {
    e.is_any(&[TR, TEMPLATE, HTML])
}

/// `td`, `th`.
pub(super) fn td_th(e: El) -> bool {
    e.is_any(&[TD, TH])
}

/// Elements with implied end tags.
pub(super) fn cursory_implied_end(e: El) -> bool {
    e.is_any(&[DD, DT, LI, OPTION, OPTGROUP, P, RB, RP, RT, RTC])
}

/// Implied end tags, thoroughly.
pub(super) fn thorough_implied_end(e: El) -> bool {
    cursory_implied_end(e) || e.is_any(&[CAPTION, COLGROUP, TBODY, TD, TFOOT, TH, THEAD, TR])
}

/// `h1` to `h6`.
pub(super) fn heading(e: El) -> bool {
    e.is_any(&[H1, H2, H3, H4, H5, H6])
}

/// The "special" category (HTML elements only, as in html5ever 0.26).
pub(super) fn special(e: El) -> bool {
    e.ns == Ns::Html
        && matches!(
            e.name,
            ADDRESS
                | APPLET
                | AREA
                | ARTICLE
                | ASIDE
                | BASE
                | BASEFONT
                | BGSOUND
                | BLOCKQUOTE
                | BODY
                | BR
                | BUTTON
                | CAPTION
                | CENTER
                | COL
                | COLGROUP
                | DD
                | DETAILS
                | DIR
                | DIV
                | DL
                | DT
                | EMBED
                | FIELDSET
                | FIGCAPTION
                | FIGURE
                | FOOTER
                | FORM
                | FRAME
                | FRAMESET
                | H1
                | H2
                | H3
                | H4
                | H5
                | H6
                | HEAD
                | HEADER
                | HGROUP
                | HR
                | HTML
                | IFRAME
                | IMG
                | INPUT
                | ISINDEX
                | LI
                | LINK
                | LISTING
                | MAIN
                | MARQUEE
                | MENU
                | META
                | NAV
                | NOEMBED
                | NOFRAMES
                | NOSCRIPT
                | OBJECT
                | OL
                | P
                | PARAM
                | PLAINTEXT
                | PRE
                | SCRIPT
                | SECTION
                | SELECT
                | SOURCE
                | STYLE
                | SUMMARY
                | TABLE
                | TBODY
                | TD
                | TEMPLATE
                | TEXTAREA
                | TFOOT
                | TH
                | THEAD
                | TITLE
                | TR
                | TRACK
                | UL
                | WBR
                | XMP
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_and_interned_names() {
        let mut names = Interner::default();
        assert_eq!(names.name(b"a"), A);
        assert_eq!(names.name(b"xmp"), XMP);
        assert_eq!(names.name(b"annotation-xml"), ANNOTATION_XML);
        let custom = names.name(b"my-widget");
        assert!(custom.0 >= KNOWN);
        assert_eq!(names.name(b"my-widget"), custom);
        assert_ne!(names.name(b"my-other"), custom);
        // Two invalid bytes decode to the same U+FFFD, hence one name.
        assert_eq!(names.name(b"x\xff"), names.name(b"x\xfe"));
    }
}
