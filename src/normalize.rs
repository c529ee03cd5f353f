//! URL normalisation: the one definition of "the same URL" used for dedup and scope.
//!
//! Every URL the engine sees (roots, links, redirect targets) goes through [`resolve`] or
//! [`parse_root`], so two spellings of one resource get one key and one fetch. The `url` crate
//! (WHATWG URL parsing) already lowercases scheme and host, drops the scheme's default port, turns
//! an empty path into `/`, removes dot segments and percent-encodes what must be encoded. On top of
//! that we
//!
//! - drop the fragment (it never reaches the server) and refuse everything but `http`/`https`;
//! - normalise percent-encoding in path and query: escapes of unreserved characters
//!   (`A-Z a-z 0-9 - . _ ~`) are decoded, other escapes get upper-case hex (RFC 3986 §6.2.2),
//!   and a stray `%` becomes `%25`;
//! - drop an empty query (`?` alone) and collapse exact duplicate query parameters (`a=1&a=1`),
//!   keeping the first;
//! - with [`Canon::sort_query`] (`--sort-query`), sort query parameters by name (stable, so the
//!   values of one name keep their order). Off by default: some servers care about order.
//!
//! | input                                        | normalised                           |
//! |----------------------------------------------|--------------------------------------|
//! | `HTTP://Example.COM:80`                      | `http://example.com/`                |
//! | `https://example.com:443/a/./b/../c#x`       | `https://example.com/a/c`            |
//! | `http://example.com/a b`                     | `http://example.com/a%20b`           |
//! | `http://h/%7euser/%41%2f%2a`                 | `http://h/~user/A%2F%2A`             |
//! | `http://h/p?`                                | `http://h/p`                         |
//! | `http://h/p?a=1&b=2&a=1`                     | `http://h/p?a=1&b=2`                 |
//! | `http://h/p?b=2&a=1&a=0` (sort)              | `http://h/p?a=1&a=0&b=2`             |
//! | `http://h/p?q=%7e%3d`                        | `http://h/p?q=~%3D`                  |
//! | `http://h/100%`                              | `http://h/100%25`                    |
//!
//! ```
//! use url::Url;
//! let base = Url::parse("http://example.com/dir/page.html").unwrap();
//! let u = crawler::normalize::resolve(&base, "../Other.html#top").unwrap();
//! assert_eq!(u.as_str(), "http://example.com/Other.html");
//! assert!(crawler::normalize::resolve(&base, "mailto:someone@example.com").is_none());
//! ```

use url::Url;

/// Why a root URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// The text is not a URL at all.
    Invalid(String),
    /// A URL, but not `http` or `https`.
    Scheme(String),
    /// An `http(s)` URL without a host.
    NoHost,
}

impl std::fmt::Display for UrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UrlError::Invalid(e) => write!(f, "invalid url: {e}"),
            UrlError::Scheme(s) => write!(f, "unsupported scheme {s:?} (only http and https)"),
            UrlError::NoHost => write!(f, "url has no host"),
        }
    }
}

impl std::error::Error for UrlError {}

/// Options of the canonical form beyond the always-on rules (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Canon {
    /// Sort query parameters by name. Default: off.
    pub sort_query: bool,
}

impl Canon {
    /// The default canonical form, with query sorting set as given.
    pub fn sorting_query(sort_query: bool) -> Self {
        Canon { sort_query }
    }
}

/// Parses an absolute root URL and normalises it (default [`Canon`]).
pub fn parse_root(text: &str) -> Result<Url, UrlError> {
    parse_root_with(text, Canon::default())
}

/// Parses an absolute root URL and normalises it with `canon`.
pub fn parse_root_with(text: &str, canon: Canon) -> Result<Url, UrlError> {
    let mut url = Url::parse(text.trim()).map_err(|e| UrlError::Invalid(e.to_string()))?;
    check(&url)?;
    finish(&mut url, canon);
    Ok(url)
}

/// Resolves `href` against `base` and normalises the result (default [`Canon`]); `None` when it is
/// not a crawlable `http(s)` URL (unparseable, `mailto:`, `javascript:`, no host, ...).
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    resolve_with(base, href, Canon::default())
}

/// Like [`resolve`], with `canon`.
pub fn resolve_with(base: &Url, href: &str, canon: Canon) -> Option<Url> {
    let mut url = base.join(href).ok()?;
    check(&url).ok()?;
    finish(&mut url, canon);
    Some(url)
}

/// Normalises an already-parsed URL in place (default [`Canon`]); `false` when it is not
/// crawlable.
pub fn normalize(url: &mut Url) -> bool {
    if check(url).is_err() {
        return false;
    }
    finish(url, Canon::default());
    true
}

/// The canonicalisation steps after parsing. Cheap when there is nothing to do: no `%`, no query.
fn finish(url: &mut Url, canon: Canon) {
    url.set_fragment(None);
    if url.path().contains('%')
        && let Some(path) = percent_normalized(url.path())
    {
        url.set_path(&path);
    }
    match url.query() {
        None => {}
        Some("") => url.set_query(None),
        Some(query) => {
            if let Some(q) = canonical_query(query, canon.sort_query) {
                url.set_query((!q.is_empty()).then_some(q.as_str()));
            }
        }
    }
}

/// `text` with unreserved escapes decoded and other escapes upper-cased; `None` if unchanged.
fn percent_normalized(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| hex_pair(bytes[i + 1], bytes[i + 2]))
            .flatten();
        match escape {
            Some(value) => {
                let is_unreserved = value.is_ascii_alphanumeric() || b"-._~".contains(&value);
                let already = !is_unreserved
                    && !bytes[i + 1].is_ascii_lowercase()
                    && !bytes[i + 2].is_ascii_lowercase();
                if already && out.is_none() {
                    i += 3;
                    continue;
                }
                let o = out.get_or_insert_with(|| text[..i].to_string());
                if is_unreserved {
                    o.push(value as char);
                } else {
                    o.push('%');
                    o.push(bytes[i + 1].to_ascii_uppercase() as char);
                    o.push(bytes[i + 2].to_ascii_uppercase() as char);
                }
                i += 3;
            }
            None if bytes[i] == b'%' => {
                // A stray `%` is written as `%25`; left bare, it could combine with a decoded
                // character into a new escape (`%%330` -> `%30`), and the form would not be stable.
                out.get_or_insert_with(|| text[..i].to_string())
                    .push_str("%25");
                i += 1;
            }
            None => {
                let len = utf8_len(bytes[i]);
                if let Some(o) = &mut out {
                    o.push_str(&text[i..i + len]);
                }
                i += len;
            }
        }
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    let h = (hi as char).to_digit(16)?;
    let l = (lo as char).to_digit(16)?;
    Some((h * 16 + l) as u8)
}

/// The canonical query: escapes normalised, exact duplicate parameters dropped, optionally sorted
/// by name; `None` if unchanged.
fn canonical_query(query: &str, sort: bool) -> Option<String> {
    let normalized = percent_normalized(query);
    let q = normalized.as_deref().unwrap_or(query);
    let mut params: Vec<&str> = Vec::new();
    for p in q.split('&') {
        if !params.contains(&p) {
            params.push(p);
        }
    }
    if sort {
        params.sort_by_key(|p| p.split('=').next().unwrap_or(""));
    }
    let joined = params.join("&");
    (joined != query).then_some(joined)
}

fn check(url: &Url) -> Result<(), UrlError> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(UrlError::Scheme(other.to_string())),
    }
    match url.host_str() {
        Some(h) if !h.is_empty() => Ok(()),
        _ => Err(UrlError::NoHost),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_root(input: &str, expected: &str) {
        assert_eq!(
            parse_root(input).unwrap().as_str(),
            expected,
            "input {input:?}"
        );
    }

    #[test]
    fn table_from_the_module_docs() {
        check_root("HTTP://Example.COM:80", "http://example.com/");
        check_root(
            "https://example.com:443/a/./b/../c#x",
            "https://example.com/a/c",
        );
        check_root("http://example.com/a b", "http://example.com/a%20b");
        check_root("  http://example.com:8080  ", "http://example.com:8080/");
    }

    #[test]
    fn canonical_forms() {
        check_root("http://h/%7euser/%41%2f%2a", "http://h/~user/A%2F%2A");
        check_root("http://h/p?", "http://h/p");
        check_root("http://h/p?a=1&b=2&a=1", "http://h/p?a=1&b=2");
        check_root("http://h/p?q=%7e%3d", "http://h/p?q=~%3D");
        check_root("http://h/p?a=1&a=2", "http://h/p?a=1&a=2");
        check_root(
            "http://h/%E2%82%AC/%e2%82%ac",
            "http://h/%E2%82%AC/%E2%82%AC",
        );
        check_root("http://h/100%/%zz/%4", "http://h/100%25/%25zz/%254");
        check_root("http://h/%%330", "http://h/%2530");
        check_root("http://h/ü?x=ü", "http://h/%C3%BC?x=%C3%BC");
        let sorted = parse_root_with("http://h/p?b=2&a=1&a=0", Canon::sorting_query(true));
        assert_eq!(sorted.unwrap().as_str(), "http://h/p?a=1&a=0&b=2");
        assert_eq!(
            parse_root("http://h/p?b=2&a=1&a=0").unwrap().as_str(),
            "http://h/p?b=2&a=1&a=0"
        );
    }

    #[test]
    fn canonical_form_is_a_fixed_point() {
        for input in [
            "http://h/%7e%2f?%41=%2a&%41=%2a",
            "http://h/a%2F?",
            "http://h/?&&",
            "http://h/x?a&a=&a",
        ] {
            let once = parse_root(input).unwrap();
            let twice = parse_root(once.as_str()).unwrap();
            assert_eq!(once, twice, "{input}");
        }
    }

    proptest::proptest! {
        #[test]
        fn canonicalisation_is_idempotent(
            path in "(/|[a-zA-Z0-9]|%[0-9a-fA-F]{2}|%|[~._-]|\\.\\.)*",
            query in proptest::option::of("([a-c]=?[0-9]?|&|%[0-9a-fA-F]{2})*"),
            sort in proptest::bool::ANY,
        ) {
            let canon = Canon::sorting_query(sort);
            let text = match &query {
                Some(q) => format!("http://h/{path}?{q}"),
                None => format!("http://h/{path}"),
            };
            if let Ok(once) = parse_root_with(&text, canon) {
                let twice = parse_root_with(once.as_str(), canon).unwrap();
                proptest::prop_assert_eq!(&once, &twice);
                let base = Url::parse("http://h/x/y").unwrap();
                let resolved = resolve_with(&base, once.as_str(), canon).unwrap();
                proptest::prop_assert_eq!(once, resolved);
            }
        }
    }

    #[test]
    fn roots_that_are_refused() {
        assert!(matches!(parse_root("not a url"), Err(UrlError::Invalid(_))));
        assert!(matches!(parse_root("ftp://x/"), Err(UrlError::Scheme(_))));
        assert!(matches!(parse_root("http://"), Err(UrlError::Invalid(_))));
        assert_eq!(
            parse_root("mailto:a@b").unwrap_err().to_string(),
            "unsupported scheme \"mailto\" (only http and https)"
        );
    }

    #[test]
    fn resolving_links() {
        let base = Url::parse("http://h/a/b/c.html").unwrap();
        let r = |h: &str| resolve(&base, h).map(|u| u.to_string());
        assert_eq!(r("d.html").as_deref(), Some("http://h/a/b/d.html"));
        assert_eq!(r("../../").as_deref(), Some("http://h/"));
        assert_eq!(r("/x?q=1#f").as_deref(), Some("http://h/x?q=1"));
        assert_eq!(r("#top").as_deref(), Some("http://h/a/b/c.html"));
        assert_eq!(r("").as_deref(), Some("http://h/a/b/c.html"));
        assert_eq!(
            r("//other.example").as_deref(),
            Some("http://other.example/")
        );
        assert_eq!(r(" \n/y\t ").as_deref(), Some("http://h/y"));
        assert_eq!(r("javascript:void(0)"), None);
        assert_eq!(r("mailto:x@y"), None);
        assert_eq!(r("tel:123"), None);
        assert_eq!(r("http://[bad"), None);
        assert_eq!(r("file:///etc/passwd"), None);
    }
}
