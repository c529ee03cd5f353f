//! Resolving simple links by text alone, so that a link to a URL the crawl already knows costs
//! a string build and one dedup lookup, with no URL parsing and no allocation.
//!
//! Most links on real sites are plain paths: `/docs/intro.html`, `../blog/post-1.html`,
//! `http://example.com/about` on `http://example.com/` itself. For those the WHATWG URL parser
//! and [`crate::normalize`] do nothing but join the path to the base and remove dot segments, so
//! the normalised URL can be written down directly. [`resolve`] does that for an href made only of
//! `A-Z a-z 0-9 - . _ ~ /` (nothing to percent-encode or decode, no query, no
//! backslash, no scheme), possibly followed by a fragment (`#` and anything: normalisation drops
//! it), on an `http(s)` base, when the href is
//!
//! - path-absolute (`/x`, but not `//x`, which names a host): the base's origin (scheme,
//!   userinfo, host, port as serialised) and the href's path;
//! - path-relative (`x`, `../x`): the base's origin and path up to its last `/`, then the href
//!   (unless that path has a `%`, which normalisation would rewrite, since a `<base href>` is not
//!   normalised, or a `:` or `|`, since the `url` crate never lets `..` remove a segment that
//!   looks like a Windows drive letter, `C:`, whatever the scheme);
//! - the base's own origin followed by `/` (`http://h:1/x` on `http://h:1/y`): the origin is
//!   already in canonical form, so this is the path-absolute case;
//!
//! - a fragment alone (`#top`): the base itself, when it has no query and no `%` in its path
//!   (which normalisation would rewrite);
//!
//! and in every case removes `.` and `..` segments as the URL standard's path state does (a
//! `..` drops the previous segment, and a trailing `.` or `..` leaves an empty last segment,
//! so `a/..` gives `/`). Anything else is left to the parser. A property test holds this to
//! [`normalize::resolve_with`](crate::normalize::resolve_with) on random bases and hrefs.
//!
//! The result is only used to look the URL up among those already known; a URL seen for the
//! first time still goes through the parser (which must agree, and debug builds check it).

use url::{Position, Url};

/// The bytes a simple href may have (see the module docs): `A-Z a-z 0-9 - . _ ~ /`.
static PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'/');
        b += 1;
    }
    table
};

/// What [`resolve_at`] needs of a base URL, worked out once for all the links of a page: where
/// the base's origin and directory end in its serialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Base {
    /// End of the origin (scheme, userinfo, host, port); `None` when the base is not `http(s)`,
    /// whose links are all left to the parser.
    origin: Option<usize>,
    /// End of the directory (the path up to its last `/`, exclusive); `None` when path-relative
    /// links are left to the parser (see the module docs).
    directory: Option<usize>,
    /// End of the base without its fragment, when that is already normalised (no query, no
    /// `%` in the path): what a fragment-only href (`#top`) resolves to. `None` leaves those
    /// to the parser.
    page: Option<usize>,
}

impl Base {
    /// The parts of `base` that [`resolve_at`] reads.
    pub(super) fn of(base: &Url) -> Base {
        if !matches!(base.scheme(), "http" | "https") {
            return Base {
                origin: None,
                directory: None,
                page: None,
            };
        }
        let origin = base[..Position::BeforePath].len();
        // An http(s) path always starts with `/`.
        let path = base.path();
        let directory = &path[..path.rfind('/').unwrap_or(0)];
        // Normalisation would rewrite its escapes (a `<base href>` is not normalised), and the
        // `url` crate never lets `..` remove a segment like `C:` or `C|` (a Windows drive
        // letter), whatever the scheme.
        let usable = !directory.bytes().any(|b| matches!(b, b'%' | b':' | b'|'));
        let whole = base.query().is_none() && !path.contains('%');
        Base {
            origin: Some(origin),
            directory: usable.then_some(origin + directory.len()),
            page: whole.then(|| base[..Position::AfterPath].len()),
        }
    }
}

/// Writes into `out` the normalised URL `href` resolves to against `base` and returns `true`,
/// when `href` is simple (see the module docs); otherwise returns `false` (`out` is then
/// unspecified).
#[cfg(test)]
pub(super) fn resolve(base: &Url, href: &str, out: &mut String) -> bool {
    resolve_at(base, Base::of(base), href, out)
}

/// [`resolve`] with the parts of `base` already worked out (`at` must be `Base::of(base)`).
pub(super) fn resolve_at(base: &Url, at: Base, href: &str, out: &mut String) -> bool {
    debug_assert_eq!(at, Base::of(base), "{base}");
    let Some(origin_end) = at.origin else {
        return false;
    };
    let text = base.as_str();
    if href.starts_with('#') {
        let Some(end) = at.page else {
            return false;
        };
        out.clear();
        out.push_str(&text[..end]);
        return true;
    }
    let origin = &text[..origin_end];
    let (directory, rest) = match href.as_bytes() {
        [] | [b'/', b'/', ..] => return false,
        [b'/', ..] => ("", &href[1..]),
        _ => match href.strip_prefix(origin) {
            Some(rest) if rest.starts_with('/') && !rest.starts_with("//") => ("", &rest[1..]),
            _ => match at.directory {
                Some(end) => (&text[origin_end..end], href),
                None => return false,
            },
        },
    };
    // Normalisation drops the fragment, and what follows the first `#` never changes how what
    // comes before it parses.
    let rest = match rest.bytes().position(|b| !PLAIN[b as usize]) {
        None => rest,
        Some(i) if rest.as_bytes()[i] == b'#' => &rest[..i],
        Some(_) => return false,
    };
    out.clear();
    out.push_str(origin);
    let root = out.len();
    out.push_str(directory);
    // Leading `../` and `./` (the usual relative links) drop a directory segment or nothing,
    // as the loop below would, without splitting.
    let mut rest = rest;
    loop {
        if let Some(after) = rest.strip_prefix("../") {
            let cut = out[root..].rfind('/').map_or(root, |i| root + i);
            out.truncate(cut);
            rest = after;
        } else if let Some(after) = rest.strip_prefix("./") {
            rest = after;
        } else {
            break;
        }
    }
    // Only a segment that starts with `.` can be `.` or `..`; without one the segments are
    // written as they are.
    let bytes = rest.as_bytes();
    if !memchr::memchr_iter(b'.', bytes).any(|i| i == 0 || bytes[i - 1] == b'/') {
        out.push('/');
        out.push_str(rest);
        return true;
    }
    let mut segments = rest.split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match segment {
            ".." => {
                let cut = out[root..].rfind('/').map_or(root, |i| root + i);
                out.truncate(cut);
                if last {
                    out.push('/');
                }
            }
            "." => {
                if last {
                    out.push('/');
                }
            }
            _ => {
                out.push('/');
                out.push_str(segment);
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::normalize::{self, Canon};

    /// `resolve` gives the slow path's URL when it answers at all.
    fn agrees(base: &Url, href: &str) -> Result<bool, TestCaseError> {
        let mut out = String::from("junk");
        if !resolve(base, href, &mut out) {
            return Ok(false);
        }
        let slow = normalize::resolve_with(base, href, Canon::default());
        prop_assert_eq!(
            Some(out.as_str()),
            slow.as_ref().map(Url::as_str),
            "{:?} on {}",
            href,
            base
        );
        Ok(true)
    }

    #[test]
    fn examples() {
        let base = Url::parse("http://u@h:81/a/b/c.html?q#f").unwrap();
        let cases = [
            ("x", Some("http://u@h:81/a/b/x")),
            ("../x", Some("http://u@h:81/a/x")),
            ("../../../../x", Some("http://u@h:81/x")),
            ("..", Some("http://u@h:81/a/")),
            (".", Some("http://u@h:81/a/b/")),
            ("./", Some("http://u@h:81/a/b/")),
            ("x/./y/../z//", Some("http://u@h:81/a/b/x/z//")),
            ("/", Some("http://u@h:81/")),
            ("/x/..", Some("http://u@h:81/")),
            ("http://u@h:81/y", Some("http://u@h:81/y")),
            ("http://u@h:81", None),
            ("http://u@h:811/y", None),
            ("http://h:81/y", None),
            ("//h/x", None),
            ("", None),
            ("x?y", None),
            ("x#y", Some("http://u@h:81/a/b/x")),
            ("../x#y?z", Some("http://u@h:81/a/x")),
            ("/#", Some("http://u@h:81/")),
            ("#top", None),
            ("x?y#z", None),
            ("a%41", None),
            ("a\\b", None),
            ("a:b", None),
        ];
        let drive = Url::parse("http://h/C:/f").unwrap();
        assert!(!resolve(&drive, "..", &mut String::new()));
        assert_eq!(drive.join("..").unwrap().as_str(), "http://h/C:/");
        for (href, expected) in cases {
            let mut out = String::new();
            let got = resolve(&base, href, &mut out).then_some(out);
            assert_eq!(got.as_deref(), expected, "{href:?}");
            agrees(&base, href).unwrap();
        }
        let mut out = String::new();
        assert!(!resolve(&Url::parse("ftp://h/a/").unwrap(), "x", &mut out));
        // A fragment-only href is the base itself, when the base has no query to normalise.
        let page = Url::parse("http://h/a/b.html#f").unwrap();
        for href in ["#top", "#", "#a b?c"] {
            assert!(resolve(&page, href, &mut out), "{href:?}");
            assert_eq!(out, "http://h/a/b.html");
            agrees(&page, href).unwrap();
        }
    }

    fn base() -> impl Strategy<Value = Url> {
        let scheme = prop::sample::select(vec!["http", "https", "ftp", "file", "foo"]);
        let auth = prop::sample::select(vec![
            "h",
            "H",
            "u@h",
            "u:p@h",
            "h:80",
            "h:443",
            "h:8080",
            "127.0.0.1:1",
            "[::1]",
        ]);
        let path = prop::collection::vec(
            prop::sample::select(vec!["a", "b", "..", ".", "", "%2e", "%41", "x;y", "C:"]),
            0..4,
        );
        let file = prop::sample::select(vec!["", "f", "g.html", "?q", "#x", "f?q=1#y", ".."]);
        (scheme, auth, path, file).prop_filter_map("parseable base", |(s, a, p, f)| {
            let mut text = format!("{s}://{a}/");
            for seg in p {
                text.push_str(seg);
                text.push('/');
            }
            text.push_str(f);
            Url::parse(&text).ok()
        })
    }

    fn href(base: Url) -> impl Strategy<Value = (Url, String)> {
        let origin = base[..Position::BeforePath].to_string();
        let piece = prop::sample::select(vec![
            "/",
            "//",
            ".",
            "..",
            "./",
            "../",
            "a",
            "B",
            "-",
            "_",
            "~",
            "0",
            "%2e",
            "?",
            "#",
            "#f",
            "#%zz",
            ":",
            "\\",
            " ",
            "http://h/",
            "HTTP://",
        ]);
        (any::<bool>(), prop::collection::vec(piece, 0..7)).prop_map(move |(own, pieces)| {
            let mut href = if own { origin.clone() } else { String::new() };
            href.push_str(&pieces.concat());
            (base.clone(), href)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Wherever the shortcut answers, it gives the parser's normalised URL.
        #[test]
        fn agrees_with_the_slow_path((base, href) in base().prop_flat_map(href)) {
            agrees(&base, &href)?;
        }
    }
}
