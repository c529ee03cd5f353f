//! The attribute values that carry more than one URL or a directive: `rel` token lists,
//! `srcset`, `<meta http-equiv=refresh content>` and `<meta name=robots content>`.
//!
//! Both extractors call these on the attribute values they found, so the differential tests
//! compare the parsers' element and attribute choices, and the unit tests below hold these
//! functions to the HTML standard. They work on bytes and return byte ranges into their input:
//! every delimiter they look at is ASCII, so a range found in the raw bytes of a value and the
//! same range found in its lossy UTF-8 decoding cut out the same text (lossy decoding never
//! merges an ASCII byte into a replacement character).

use std::ops::Range;

/// ASCII whitespace as the HTML standard defines it (no vertical tab).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

/// Whether the space-separated token list `value` (a `rel`) holds `token`, ASCII
/// case-insensitively.
pub(crate) fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| is_space(b))
        .any(|t| t.eq_ignore_ascii_case(token))
}

/// What a `rel` value says about a link, for the tokens the crawler acts on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rel {
    /// `nofollow`.
    pub(crate) nofollow: bool,
    /// `stylesheet` (with or without `alternate`).
    pub(crate) stylesheet: bool,
    /// One of `alternate`, `next`, `prev`, `canonical`.
    pub(crate) related: bool,
    /// `icon` (also as in `shortcut icon`) or `apple-touch-icon`: an image the browser shows.
    pub(crate) icon: bool,
    /// `preload` or `modulepreload`: something the page will need, fetched early.
    pub(crate) preload: bool,
}

impl Rel {
    /// What a `link` with this `rel` is, by the first of: `stylesheet`, one of the related
    /// tokens, an icon, a preload; `None` for a `link` the crawler does not report.
    pub(crate) fn kind(&self) -> Option<super::LinkKind> {
        use super::LinkKind;
        [
            (self.stylesheet, LinkKind::Stylesheet),
            (self.related, LinkKind::Related),
            (self.icon, LinkKind::Image),
            (self.preload, LinkKind::Preload),
        ]
        .into_iter()
        .find_map(|(has, kind)| has.then_some(kind))
    }
}

/// Reads the tokens of a `rel` value.
pub(crate) fn rel(value: &[u8]) -> Rel {
    let mut rel = Rel::default();
    for t in value.split(|&b| is_space(b)) {
        let lower = |s: &[u8]| t.eq_ignore_ascii_case(s);
        if lower(b"nofollow") {
            rel.nofollow = true;
        } else if lower(b"stylesheet") {
            rel.stylesheet = true;
        } else if lower(b"alternate") || lower(b"next") || lower(b"prev") || lower(b"canonical") {
            rel.related = true;
        } else if lower(b"icon") || lower(b"apple-touch-icon") {
            rel.icon = true;
        } else if lower(b"preload") || lower(b"modulepreload") {
            rel.preload = true;
        }
    }
    rel
}

/// Calls `each` with the range of every candidate URL of a `srcset` value, in order.
///
/// This is the standard's "parse a srcset attribute" up to the URLs: candidates are separated by
/// commas that end a URL or stand outside parentheses in the descriptors; a URL is a run of
/// non-whitespace with its trailing commas removed. Descriptors are skipped, not validated, so a
/// candidate the standard would drop for a bad descriptor (`a.png 2q`) is still reported: the
/// crawler wants the URL, not the choice a browser would make.
pub(crate) fn srcset(value: &[u8], mut each: impl FnMut(Range<usize>)) {
    let len = value.len();
    let mut i = 0;
    loop {
        // Splitting loop: whitespace and commas before a candidate.
        while i < len && (is_space(value[i]) || value[i] == b',') {
            i += 1;
        }
        if i >= len {
            return;
        }
        let start = i;
        while i < len && !is_space(value[i]) {
            i += 1;
        }
        let mut end = i;
        if value[end - 1] == b',' {
            while end > start && value[end - 1] == b',' {
                end -= 1;
            }
            each(start..end);
            continue;
        }
        each(start..end);
        // Descriptors: up to a comma outside parentheses, or the end.
        let mut parens = false;
        while i < len {
            match value[i] {
                b'(' => parens = true,
                b')' => parens = false,
                b',' if !parens => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// The range of the URL in the `content` of a `<meta http-equiv=refresh>`, if it names one.
///
/// The standard's "shared declarative refresh steps": optional whitespace, a time (digits and
/// dots, at least one leading digit or a dot), then `;`, `,` or whitespace, then optionally
/// `url=` (any case, whitespace around `=`) and a value that may be quoted (a quoted value ends at
/// its closing quote; an unquoted one runs to the end). `None` when the content is invalid, names
/// no URL (a plain reload), or the URL is empty (which also reloads the page itself).
pub(crate) fn refresh_url(content: &[u8]) -> Option<Range<usize>> {
    let len = content.len();
    let at = |i: usize| content.get(i).copied();
    let mut i = 0;
    while at(i).is_some_and(is_space) {
        i += 1;
    }
    let digits = i;
    while at(i).is_some_and(|b| b.is_ascii_digit()) {
        i += 1;
    }
    if i == digits && at(i) != Some(b'.') {
        return None;
    }
    while at(i).is_some_and(|b| b.is_ascii_digit() || b == b'.') {
        i += 1;
    }
    let sep = at(i)?;
    if !(sep == b';' || sep == b',' || is_space(sep)) {
        return None;
    }
    while at(i).is_some_and(is_space) {
        i += 1;
    }
    if matches!(at(i), Some(b';' | b',')) {
        i += 1;
    }
    while at(i).is_some_and(is_space) {
        i += 1;
    }
    if i >= len {
        return None;
    }
    // "url=" is optional; where it is only partly there, the URL is everything from here.
    let unlabelled = i;
    let mut j = i;
    let jump_to_parse = 'label: {
        for expected in [b'u', b'r', b'l'] {
            if at(j).is_some_and(|b| b.eq_ignore_ascii_case(&expected)) {
                j += 1;
            } else {
                // A `u` not followed by `rl=` is part of the URL; anything else may be a quote.
                break 'label j != unlabelled;
            }
        }
        while at(j).is_some_and(is_space) {
            j += 1;
        }
        if at(j) != Some(b'=') {
            break 'label true;
        }
        j += 1;
        while at(j).is_some_and(is_space) {
            j += 1;
        }
        false
    };
    let (start, end) = if jump_to_parse {
        // Jumped straight to "parse": the URL is the rest, from before any partial label.
        (unlabelled, len)
    } else {
        match at(j) {
            Some(q @ (b'\'' | b'"')) => {
                let start = j + 1;
                let end = content[start..]
                    .iter()
                    .position(|&b| b == q)
                    .map_or(len, |p| start + p);
                (start, end)
            }
            _ => (j, len),
        }
    };
    (start < end).then_some(start..end)
}

/// The directives of `<meta name=robots>` tags the crawler honours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Robots {
    /// `noindex` or `none`: the page asks not to be indexed.
    pub noindex: bool,
    /// `nofollow` or `none`: the page asks that none of its links be followed.
    pub nofollow: bool,
}

impl Robots {
    /// Adds the directives of one `content` value: comma- or whitespace-separated, ASCII
    /// case-insensitive; `none` means both; unknown directives (`all`, `noarchive`, ...) are
    /// ignored. Directives only ever add restrictions: several tags combine.
    pub(crate) fn add(&mut self, content: &[u8]) {
        for t in content.split(|&b| b == b',' || is_space(b)) {
            if t.eq_ignore_ascii_case(b"noindex") {
                self.noindex = true;
            } else if t.eq_ignore_ascii_case(b"nofollow") {
                self.nofollow = true;
            } else if t.eq_ignore_ascii_case(b"none") {
                self.noindex = true;
                self.nofollow = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srcset_urls(value: &str) -> Vec<&str> {
        let mut out = Vec::new();
        srcset(value.as_bytes(), |r| out.push(&value[r]));
        out
    }

    #[test]
    fn srcset_candidates() {
        assert_eq!(srcset_urls(""), Vec::<&str>::new());
        assert_eq!(srcset_urls(" , ,"), Vec::<&str>::new());
        assert_eq!(srcset_urls("a.png"), ["a.png"]);
        assert_eq!(srcset_urls("a.png 1x, b.png 2x"), ["a.png", "b.png"]);
        assert_eq!(srcset_urls("a.png 100w,b.png 200w"), ["a.png", "b.png"]);
        // A comma ending a URL ends the candidate; commas inside a URL stay.
        assert_eq!(srcset_urls("a.png,b.png"), ["a.png,b.png"]);
        assert_eq!(srcset_urls("a.png,, b.png"), ["a.png", "b.png"]);
        assert_eq!(
            srcset_urls("data:image/png;base64,AAA= 1x"),
            ["data:image/png;base64,AAA="]
        );
        // Commas inside parentheses do not split (future descriptor syntax).
        assert_eq!(srcset_urls("a.png f(1, 2), b.png"), ["a.png", "b.png"]);
        // An unclosed parenthesis swallows the rest.
        assert_eq!(srcset_urls("a.png (x, b.png"), ["a.png"]);
        // Bad descriptors do not hide the URL.
        assert_eq!(srcset_urls("\ta.png 2q 3x,\n b.png"), ["a.png", "b.png"]);
    }

    fn refresh(content: &str) -> Option<&str> {
        refresh_url(content.as_bytes()).map(|r| &content[r])
    }

    #[test]
    fn refresh_urls() {
        assert_eq!(refresh("5; url=/next"), Some("/next"));
        assert_eq!(refresh("0;URL='/q'"), Some("/q"));
        assert_eq!(refresh("0; url=\"/q\" trailing"), Some("/q"));
        assert_eq!(refresh("0; url='/unclosed"), Some("/unclosed"));
        assert_eq!(refresh("  3 , url = /sp "), Some("/sp "));
        assert_eq!(refresh("3 /bare"), Some("/bare"));
        assert_eq!(refresh("3;/bare"), Some("/bare"));
        assert_eq!(refresh(".5; url=/dot"), Some("/dot"));
        assert_eq!(refresh("1.5.6; url=/dots"), Some("/dots"));
        // A partial label is part of the URL.
        assert_eq!(refresh("1; uri=/x"), Some("uri=/x"));
        assert_eq!(refresh("1; urlx"), Some("urlx"));
        assert_eq!(refresh("1; u"), Some("u"));
        assert_eq!(refresh("1; 'quoted'"), Some("quoted"));
        // Plain reloads, and invalid contents.
        assert_eq!(refresh("5"), None);
        assert_eq!(refresh("5;"), None);
        assert_eq!(refresh("5; url="), None);
        assert_eq!(refresh("5; url=''"), None);
        assert_eq!(refresh("url=/x"), None);
        assert_eq!(refresh("5x; url=/x"), None);
        assert_eq!(refresh(""), None);
        assert_eq!(refresh("-1; url=/x"), None);
    }

    #[test]
    fn rel_tokens() {
        assert_eq!(rel(b""), Rel::default());
        let r = rel(b"NoFollow\tnext");
        assert!(r.nofollow && r.related && !r.stylesheet);
        let r = rel(b"alternate stylesheet");
        assert!(r.stylesheet && r.related && !r.nofollow);
        assert_eq!(rel(b"nofollowx prev-ish iconic"), Rel::default());
        assert!(rel(b"Shortcut ICON").icon && rel(b"apple-touch-icon").icon);
        assert!(rel(b"preload").preload && rel(b"modulepreload").preload);
        use super::super::LinkKind;
        let kind = |v: &[u8]| rel(v).kind();
        assert_eq!(
            kind(b"icon alternate stylesheet"),
            Some(LinkKind::Stylesheet)
        );
        assert_eq!(kind(b"preload icon next"), Some(LinkKind::Related));
        assert_eq!(kind(b"modulepreload icon"), Some(LinkKind::Image));
        assert_eq!(kind(b"preload"), Some(LinkKind::Preload));
        assert_eq!(kind(b"dns-prefetch nofollow"), None);
        assert!(rel(b" canonical ").related);
        assert!(has_token(b"a NOFOLLOW", b"nofollow"));
        assert!(!has_token(b"no-follow", b"nofollow"));
    }

    #[test]
    fn robots_directives() {
        let read = |contents: &[&str]| {
            let mut r = Robots::default();
            for c in contents {
                r.add(c.as_bytes());
            }
            (r.noindex, r.nofollow)
        };
        assert_eq!(read(&["index, follow"]), (false, false));
        assert_eq!(read(&["NOINDEX"]), (true, false));
        assert_eq!(read(&["noindex,nofollow"]), (true, true));
        assert_eq!(read(&["all", "nofollow"]), (false, true));
        assert_eq!(read(&["None"]), (true, true));
        assert_eq!(read(&["noindexes nofollowing"]), (false, false));
        assert_eq!(read(&["max-snippet:0 noarchive"]), (false, false));
    }
}
