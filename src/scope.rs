//! Which URLs the crawl may fetch.
//!
//! Scope is decided once per discovered URL (link or redirect target alike, which the 500 Lines
//! crawler got wrong for redirects), on the normalised URL:
//!
//! - [`ScopeMode::Strict`]: the host equals a root's host, or that host with `www.` added or
//!   removed. Ports are not compared (as in 500 Lines).
//! - [`ScopeMode::Lenient`]: the registrable domain (public suffix + one label, from the public
//!   suffix list, so `a.example.co.uk` and `b.example.co.uk` match but `x.co.uk` and `y.co.uk` do
//!   not) equals a root's. Hosts without a registrable domain (IP addresses, `localhost`) must
//!   match exactly.
//! - An optional exclude regex, matched against the whole normalised URL, removes URLs from scope.
//!
//! ```
//! use crawler::{Scope, ScopeMode};
//! use url::Url;
//! let roots = [Url::parse("http://www.example.co.uk/").unwrap()];
//! let strict = Scope::new(ScopeMode::Strict, &roots, None);
//! assert!(strict.allows(&Url::parse("http://example.co.uk/a").unwrap()));
//! assert!(!strict.allows(&Url::parse("http://shop.example.co.uk/a").unwrap()));
//! let lenient = Scope::new(ScopeMode::Lenient, &roots, None);
//! assert!(lenient.allows(&Url::parse("http://shop.example.co.uk/a").unwrap()));
//! assert!(!lenient.allows(&Url::parse("http://other.co.uk/").unwrap()));
//! ```

use regex::Regex;
use url::Url;

/// How far from the roots' hosts the crawl may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ScopeMode {
    /// Same host as a root, `www.` toggled. The default.
    #[default]
    Strict,
    /// Same registrable domain as a root (public suffix list).
    Lenient,
}

/// The scope rule of one crawl: mode, the roots' hosts, and the exclude pattern.
#[derive(Debug, Clone)]
pub struct Scope {
    mode: ScopeMode,
    /// Strict: every allowed host. Lenient: every allowed registrable domain (or bare host when
    /// the host has none).
    allowed: Vec<String>,
    exclude: Option<Regex>,
}

impl Scope {
    /// The scope of a crawl started at `roots`.
    pub fn new(mode: ScopeMode, roots: &[Url], exclude: Option<Regex>) -> Self {
        let mut allowed = Vec::new();
        for root in roots {
            let Some(host) = root.host_str() else {
                continue;
            };
            let keys = match mode {
                ScopeMode::Strict => {
                    let toggled = match host.strip_prefix("www.") {
                        Some(bare) => bare.to_string(),
                        None => format!("www.{host}"),
                    };
                    vec![host.to_string(), toggled]
                }
                ScopeMode::Lenient => vec![domain_key(host).to_string()],
            };
            for key in keys {
                if !allowed.contains(&key) {
                    allowed.push(key);
                }
            }
        }
        Scope {
            mode,
            allowed,
            exclude,
        }
    }

    /// `true` when `url` (already normalised) may be fetched.
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let key = match self.mode {
            ScopeMode::Strict => host,
            ScopeMode::Lenient => domain_key(host),
        };
        if !self.allowed.iter().any(|a| a == key) {
            return false;
        }
        match &self.exclude {
            Some(re) => !re.is_match(url.as_str()),
            None => true,
        }
    }

    /// `true` when `url`'s host is in scope, ignoring the exclude pattern.
    pub fn host_allowed(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        match self.mode {
            ScopeMode::Strict => self.allowed.iter().any(|a| a == host),
            ScopeMode::Lenient => self.allowed.iter().any(|a| a == domain_key(host)),
        }
    }
}

/// The registrable domain of `host`, or `host` itself when it has none (IP literal, `localhost`,
/// a bare public suffix).
fn domain_key(host: &str) -> &str {
    if host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return host;
    }
    psl::domain_str(host).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn check(mode: ScopeMode, root: &str, exclude: Option<&str>, url: &str, expected: bool) {
        let scope = Scope::new(mode, &[u(root)], exclude.map(|e| Regex::new(e).unwrap()));
        assert_eq!(scope.allows(&u(url)), expected, "{mode:?} {root} {url}");
    }

    #[test]
    fn strict_toggles_www_and_ignores_port_and_scheme() {
        use ScopeMode::Strict;
        check(
            Strict,
            "http://example.com/",
            None,
            "http://www.example.com/x",
            true,
        );
        check(
            Strict,
            "http://www.example.com/",
            None,
            "https://example.com:8443/",
            true,
        );
        check(
            Strict,
            "http://example.com/",
            None,
            "http://a.example.com/",
            false,
        );
        check(
            Strict,
            "http://127.0.0.1:8080/",
            None,
            "http://127.0.0.1:9/",
            true,
        );
        check(
            Strict,
            "http://127.0.0.1:8080/",
            None,
            "http://127.0.0.2/",
            false,
        );
    }

    #[test]
    fn lenient_uses_the_public_suffix_list() {
        use ScopeMode::Lenient;
        check(
            Lenient,
            "http://a.example.co.uk/",
            None,
            "http://b.c.example.co.uk/",
            true,
        );
        check(
            Lenient,
            "http://a.example.co.uk/",
            None,
            "http://example2.co.uk/",
            false,
        );
        // Not "the last two labels": co.uk alone is a public suffix.
        check(Lenient, "http://x.co.uk/", None, "http://y.co.uk/", false);
        // github.io is a public suffix (private section): users are separate sites.
        check(
            Lenient,
            "http://alice.github.io/",
            None,
            "http://bob.github.io/",
            false,
        );
        check(
            Lenient,
            "http://127.0.0.1/",
            None,
            "http://127.0.0.1:81/a",
            true,
        );
        check(
            Lenient,
            "http://127.0.0.1/",
            None,
            "http://127.0.0.2/",
            false,
        );
        check(
            Lenient,
            "http://localhost/",
            None,
            "http://localhost/",
            true,
        );
    }

    #[test]
    fn exclude_applies_to_the_whole_url() {
        use ScopeMode::Strict;
        check(
            Strict,
            "http://h/",
            Some(r"\.pdf$"),
            "http://h/a.pdf",
            false,
        );
        check(
            Strict,
            "http://h/",
            Some(r"\.pdf$"),
            "http://h/a.html",
            true,
        );
        check(
            Strict,
            "http://h/",
            Some(r"[?&]sort="),
            "http://h/l?sort=asc",
            false,
        );
        let scope = Scope::new(Strict, &[u("http://h/")], Some(Regex::new("a").unwrap()));
        assert!(scope.host_allowed(&u("http://h/a")));
    }
}
