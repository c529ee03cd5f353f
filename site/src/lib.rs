//! The site file: a whole web site described as data, served by the simulator (and by the demo
//! server of `crawl demo`).
//!
//! A site file is JSON. It lists pages by URL (normalised on load with [`crawler::normalize`], so
//! `HTTP://A.test` and `http://a.test/` are the same page); each page is an HTML page rendered
//! from its `links`, a raw `body`, or a `redirect`. A `script` gives the outcomes of successive
//! requests (`["500", "reset", "ok"]`, the last one repeating), hosts may be `unreachable`, and
//! `latency` and `faults` describe the network. Unlisted URLs answer 404. The format is
//! documented, with examples, in `sim/README.md`.
//!
//! This crate is pure data: [`SiteSpec`] is what the file says (serde, so tests can build one
//! and write it out for a replay), [`Site`] is the loaded, validated site with every response
//! body rendered once (as [`Bytes`], so serving a page clones a pointer, not the body). Random
//! draws and request counting belong to whoever serves the site (the simulator's transport, or
//! the demo server), not to the site.
//!
//! ```
//! let site = crawler_site::Site::from_json(r#"{
//!     "roots": ["http://a.test/"],
//!     "pages": {
//!         "HTTP://A.TEST": {"links": ["/b", "/old"]},
//!         "http://a.test/old": {"redirect": 301, "location": "/b"},
//!         "http://a.test/b": {"body": "hello", "content_type": "text/plain"}
//!     }
//! }"#).unwrap();
//! let root = site.find("http://a.test/").unwrap();
//! let response = site.page(root).response();
//! assert_eq!(response.status, 200);
//! assert!(std::str::from_utf8(&response.body).unwrap().contains(r#"<a href="/old">"#));
//! assert!(site.find("http://a.test/missing").is_none()); // served as a 404
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod render;
mod spec;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use rustc_hash::FxHashSet;
use url::Url;

use crawler::Response;
use crawler::normalize;
use crawler::strids::StrIds;

use render::render;
pub use render::render_html;
pub use spec::{Faults, Latency, PageSpec, Scripted, SiteSpec};

/// Why a site file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SiteError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        error: String,
    },
    /// The file is not valid JSON, or not a valid site.
    Invalid {
        /// The file, when the site came from one.
        path: Option<PathBuf>,
        /// What is wrong, and where (`pages["http://a.test/"]: unknown field "lnks", ...`).
        message: String,
    },
}

impl SiteError {
    fn invalid(message: impl Into<String>) -> Self {
        SiteError::Invalid {
            path: None,
            message: message.into(),
        }
    }

    fn in_file(self, file: &Path) -> Self {
        match self {
            SiteError::Invalid {
                path: None,
                message,
            } => SiteError::Invalid {
                path: Some(file.to_path_buf()),
                message,
            },
            other => other,
        }
    }
}

impl fmt::Display for SiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SiteError::Read { path, error } => {
                write!(f, "site file {}: cannot read: {error}", path.display())
            }
            SiteError::Invalid {
                path: Some(path),
                message,
            } => write!(f, "site file {}: {message}", path.display()),
            SiteError::Invalid {
                path: None,
                message,
            } => write!(f, "site file: {message}"),
        }
    }
}

impl std::error::Error for SiteError {}

/// `url` with its last decimal number increased by one (`/cal/2026/7` -> `/cal/2026/8`), or with
/// `1` appended when it has none.
fn next_number(url: &str) -> String {
    let bytes = url.as_bytes();
    let Some(end) = bytes.iter().rposition(u8::is_ascii_digit).map(|i| i + 1) else {
        return format!("{url}1");
    };
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    // Decimal, digit by digit: any length, leading zeros dropped as a number drops them.
    let digits = url[start..end].trim_start_matches('0');
    let mut next = digits.as_bytes().to_vec();
    let mut i = next.len();
    loop {
        if i == 0 {
            next.insert(0, b'1');
            break;
        }
        i -= 1;
        if next[i] == b'9' {
            next[i] = b'0';
        } else {
            next[i] += 1;
            break;
        }
    }
    let next = String::from_utf8(next).expect("ASCII digits");
    format!("{}{next}{}", &url[..start], &url[end..])
}

/// A loaded, validated site with every response rendered. See the [module documentation](crate).
#[derive(Debug, Clone)]
pub struct Site {
    roots: Vec<String>,
    pages: Vec<Page>,
    /// The pages' normalised URLs; a URL's id is its page's index in `pages`.
    index: StrIds,
    unreachable: Vec<String>,
    latency: Latency,
    faults: Faults,
    /// Generated (endless) parts: prefix and link templates, longest prefix first.
    generated: Vec<(Box<str>, Vec<String>)>,
}

/// One page, ready to serve.
#[derive(Debug, Clone)]
pub struct Page {
    url: Box<str>,
    status: u16,
    headers: Arc<[(String, String)]>,
    body: Bytes,
    script: Box<[Scripted]>,
    faults: Option<Faults>,
}

impl Page {
    /// The page's normalised URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The page's response as described (status, headers, body); cheap to call.
    pub fn response(&self) -> Response {
        let mut response = Response::new(self.status);
        response.headers = Arc::clone(&self.headers);
        response.body = self.body.clone();
        response
    }

    /// The scripted outcome of request number `n` (0 for the first) to this URL, if it has a
    /// script: the `n`th entry, or the last one once the script has run out.
    pub fn scripted(&self, n: u64) -> Option<Scripted> {
        let last = self.script.len().checked_sub(1)?;
        let i = usize::try_from(n).unwrap_or(usize::MAX).min(last);
        Some(self.script[i])
    }

    /// The page's own fault rates, if it has them.
    pub fn faults(&self) -> Option<&Faults> {
        self.faults.as_ref()
    }
}

impl Site {
    /// Reads and validates the site file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Site, SiteError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| SiteError::Read {
            path: path.to_path_buf(),
            error: e.to_string(),
        })?;
        Site::from_json(&text).map_err(|e| e.in_file(path))
    }

    /// Parses and validates a site from JSON text.
    pub fn from_json(text: &str) -> Result<Site, SiteError> {
        // An editor's byte order mark is no reason to refuse a file.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let spec: SiteSpec = serde_json::from_str(text).map_err(|e| {
            // serde quotes names with backticks, the rest of our messages double quotes, and
            // it names the Rust types expected, which mean nothing to the file's author.
            let mut message = e.to_string().replace('`', "\"");
            for (rust, json) in [
                ("struct SiteSpec", "a site (an object)"),
                ("struct PageSpec", "a page (an object)"),
                ("struct Latency", "latency (an object)"),
                ("struct Faults", "faults (an object)"),
            ] {
                message = message.replace(rust, json);
            }
            SiteError::invalid(message)
        })?;
        Site::from_spec(spec)
    }

    /// Validates `spec` and renders every page.
    pub fn from_spec(spec: SiteSpec) -> Result<Site, SiteError> {
        spec.latency
            .check()
            .map_err(|e| SiteError::invalid(format!("latency: {e}")))?;
        spec.faults
            .check()
            .map_err(|e| SiteError::invalid(format!("faults: {e}")))?;
        for (i, root) in spec.roots.iter().enumerate() {
            normalize::parse_root(root)
                .map_err(|e| SiteError::invalid(format!("roots[{i}] {root:?}: {e}")))?;
        }
        let mut unreachable = Vec::with_capacity(spec.unreachable.len());
        for (i, host) in spec.unreachable.iter().enumerate() {
            let url = normalize::parse_root(&format!("http://{host}/"))
                .ok()
                .filter(|u| u.port().is_none() && u.path() == "/")
                .ok_or_else(|| {
                    SiteError::invalid(format!("unreachable[{i}]: {host:?} is not a host name"))
                })?;
            unreachable.push(url.host_str().unwrap_or_default().to_string());
        }
        let mut pages = Vec::with_capacity(spec.pages.len());
        let mut index = StrIds::with_capacity(spec.pages.len());
        // Pages with the same header fields (most of a site: one content type) share one list,
        // which then stays in the cache however many pages are served. Lookups only.
        let mut header_lists: FxHashSet<Arc<[(String, String)]>> = FxHashSet::default();
        // Every body goes into one buffer as it is rendered, and each page's body becomes a
        // slice of it. Serving a page clones its body, which touches the reference count of the
        // buffer it lies in: one count for the whole site stays in the cache, where one per page
        // is a cache miss per request on a large site (and another when the response is
        // dropped).
        let mut bodies = Vec::new();
        let mut spans = Vec::with_capacity(spec.pages.len());
        for (key, page) in spec.pages {
            let at = |message: String| SiteError::invalid(format!("pages[{key:?}]: {message}"));
            let url = normalize::parse_root(&key).map_err(|e| at(e.to_string()))?;
            let mut page = render(url.as_str(), page).map_err(at)?;
            match header_lists.get(&page.headers) {
                Some(shared) => page.headers = Arc::clone(shared),
                None => {
                    header_lists.insert(Arc::clone(&page.headers));
                }
            }
            let hash = index.hash(url.as_str());
            if index.find(url.as_str(), hash).is_some() {
                return Err(at(format!("{} is listed twice", url.as_str())));
            }
            let id = index
                .push(url.as_str(), hash)
                .ok_or_else(|| at("too many pages".into()))?;
            debug_assert_eq!(id as usize, pages.len());
            let start = bodies.len();
            let body = std::mem::take(&mut page.body);
            bodies.try_reserve(body.len()).map_err(|_| {
                at(format!(
                    "no memory for its body ({} bytes, after {start} bytes of other bodies)",
                    body.len()
                ))
            })?;
            bodies.extend_from_slice(&body);
            spans.push(start..bodies.len());
            pages.push(page);
        }
        let bodies = Bytes::from(bodies);
        for (page, span) in pages.iter_mut().zip(spans) {
            page.body = bodies.slice(span);
        }
        let mut generated = Vec::with_capacity(spec.generated.len());
        for (prefix, links) in spec.generated {
            let url = normalize::parse_root(&prefix)
                .map_err(|e| SiteError::invalid(format!("generated[{prefix:?}]: {e}")))?;
            if generated
                .iter()
                .any(|(p, _): &(Box<str>, _)| **p == *url.as_str())
            {
                return Err(SiteError::invalid(format!(
                    "generated[{prefix:?}]: {} is listed twice",
                    url.as_str()
                )));
            }
            generated.push((url.as_str().into(), links));
        }
        generated.sort_by_key(|(p, _): &(Box<str>, Vec<String>)| std::cmp::Reverse(p.len()));
        Ok(Site {
            roots: spec.roots,
            pages,
            index,
            unreachable,
            latency: spec.latency,
            faults: spec.faults,
            generated,
        })
    }

    /// The site's default crawl roots, as written.
    pub fn roots(&self) -> &[String] {
        &self.roots
    }

    /// The index of the page at `url` (a normalised URL, as the engine requests it), or `None`
    /// when the site does not list it (answer 404, see [`not_found`]).
    pub fn find(&self, url: &str) -> Option<usize> {
        self.index
            .find(url, self.index.hash(url))
            .map(|i| i as usize)
    }

    /// The page at `index` (from [`find`](Self::find)).
    ///
    /// # Panics
    ///
    /// When `index` is out of range.
    pub fn page(&self, index: usize) -> &Page {
        &self.pages[index]
    }

    /// Every page, in URL order.
    pub fn pages(&self) -> &[Page] {
        &self.pages
    }

    /// The generated page an unlisted `url` answers, if it falls under a `generated` prefix.
    pub fn generate(&self, url: &str) -> Option<Response> {
        let (_, links) = self.generated.iter().find(|(p, _)| url.starts_with(&**p))?;
        let next = next_number(url);
        let links: Vec<String> = links.iter().map(|l| l.replace("{next}", &next)).collect();
        Some(
            Response::new(200)
                .with_header("content-type", "text/html; charset=utf-8")
                .with_body(render::render_html(&links, None, None)),
        )
    }

    /// `true` when connections to `url`'s host are refused.
    pub fn is_unreachable(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        self.unreachable.iter().any(|h| h == host)
    }

    /// The unreachable hosts, normalised.
    pub fn unreachable(&self) -> &[String] {
        &self.unreachable
    }

    /// The latency of every request.
    pub fn latency(&self) -> Latency {
        self.latency
    }

    /// The global fault rates.
    pub fn faults(&self) -> Faults {
        self.faults
    }

    /// The fault rates that apply to page `index`, or the global ones for `None` (unlisted).
    pub fn faults_for(&self, index: Option<usize>) -> Faults {
        index
            .and_then(|i| self.pages[i].faults)
            .unwrap_or(self.faults)
    }
}

/// The answer to a URL the site does not list.
pub fn not_found() -> Response {
    Response::new(404)
        .with_header("content-type", "text/plain")
        .with_body(Bytes::from_static(b"not found"))
}

#[cfg(test)]
mod tests;
