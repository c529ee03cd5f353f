//! URL normalisation: the one definition of "the same URL" used for dedup and scope.
//!
//! Every URL the engine sees (roots, links, redirect targets) goes through [`resolve`] or
//! [`parse_root`], so two spellings of one resource get one key and one fetch. The `url` crate
//! (WHATWG URL parsing) already lowercases scheme and host, drops the scheme's default port, turns
//! an empty path into `/`, removes dot segments and percent-encodes what must be encoded; on top of
//! that we drop the fragment (it never reaches the server) and refuse everything but `http` and
//! `https`.
//!
//! | input                                   | normalised                      |
//! |-----------------------------------------|---------------------------------|
//! | `HTTP://Example.COM:80`                 | `http://example.com/`           |
//! | `https://example.com:443/a/./b/../c#x`  | `https://example.com/a/c`       |
//! | `http://example.com/a b`                | `http://example.com/a%20b`      |
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

/// Parses an absolute root URL and normalises it.
pub fn parse_root(text: &str) -> Result<Url, UrlError> {
    let mut url = Url::parse(text.trim()).map_err(|e| UrlError::Invalid(e.to_string()))?;
    check(&url)?;
    url.set_fragment(None);
    Ok(url)
}

/// Resolves `href` against `base` and normalises the result; `None` when it is not a crawlable
/// `http(s)` URL (unparseable, `mailto:`, `javascript:`, no host, ...).
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    let mut url = base.join(href).ok()?;
    check(&url).ok()?;
    url.set_fragment(None);
    Some(url)
}

/// Normalises an already-parsed URL in place; `false` when it is not crawlable.
pub fn normalize(url: &mut Url) -> bool {
    if check(url).is_err() {
        return false;
    }
    url.set_fragment(None);
    true
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
