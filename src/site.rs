//! The site file: a whole web site described as data, served by the simulator (and by the demo
//! server of `crawl demo`).
//!
//! A site file is JSON. It lists pages by URL (normalised on load with [`crate::normalize`], so
//! `HTTP://A.test` and `http://a.test/` are the same page); each page is an HTML page rendered
//! from its `links`, a raw `body`, or a `redirect`. A `script` gives the outcomes of successive
//! requests (`["500", "reset", "ok"]`, the last one repeating), hosts may be `unreachable`, and
//! `latency` and `faults` describe the network. Unlisted URLs answer 404. The format is
//! documented, with examples, in `sim/README.md`.
//!
//! This module is pure data: [`SiteSpec`] is what the file says (serde, so tests can build one
//! and write it out for a replay), [`Site`] is the loaded, validated site with every response
//! body rendered once (as [`Bytes`], so serving a page clones a pointer, not the body). Random
//! draws and request counting belong to whoever serves the site (the simulator's transport, or
//! the demo server), not to the site.
//!
//! ```
//! let site = crawler::site::Site::from_json(r#"{
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

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use rustc_hash::FxHashMap;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::normalize;
use crate::transport::Response;

/// What a site file says, before validation. See the [module documentation](self).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SiteSpec {
    /// Default crawl roots (used when no root is given on the command line).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roots: Vec<String>,
    /// Pages by URL.
    #[serde(default, deserialize_with = "deserialize_pages")]
    pub pages: BTreeMap<String, PageSpec>,
    /// Hosts whose connections are refused (any port).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<String>,
    /// The latency of every request. Default: see [`Latency`].
    #[serde(default)]
    pub latency: Latency,
    /// Fault rates for every URL without its own. Default: none.
    #[serde(default)]
    pub faults: Faults,
}

/// One page as the site file describes it.
///
/// A page is an HTML page (`links`, with optional `base` and `pad`), a raw `body`, or a
/// `redirect`; with none of the three it is an HTML page without links.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PageSpec {
    /// Links rendered as `<a href>`s, verbatim (relative, absolute or garbage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<String>>,
    /// A `<base href>` for the HTML page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Bytes of filler text added to the HTML page, to make it bigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad: Option<usize>,
    /// A raw body, served as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The `Content-Type` header. Default: `text/html; charset=utf-8` for HTML pages, none for a
    /// raw body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// A redirect status: 301, 302, 303, 307 or 308.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<u16>,
    /// The redirect's `Location` header, verbatim; absent means no header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The status of an HTML page or raw body. Default: 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Extra response headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Outcomes of successive requests; the last one repeats. Replaces random faults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub script: Vec<Outcome>,
    /// Fault rates for this URL, instead of the global ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<Faults>,
}

/// What one request gets, in a page's `script`. Written as a string: `"ok"`, `"reset"`,
/// `"drop"`, `"refused"`, or a status code such as `"500"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The page as described.
    Ok,
    /// A response with this status and an empty body.
    Status(u16),
    /// The connection is reset before a response.
    Reset,
    /// No answer at all: the request hangs until the client gives up.
    Drop,
    /// The connection is refused.
    Refused,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::Status(s) => write!(f, "{s}"),
            Outcome::Reset => f.write_str("reset"),
            Outcome::Drop => f.write_str("drop"),
            Outcome::Refused => f.write_str("refused"),
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ok" => Ok(Outcome::Ok),
            "reset" => Ok(Outcome::Reset),
            "drop" => Ok(Outcome::Drop),
            "refused" => Ok(Outcome::Refused),
            _ => match s.parse::<u16>() {
                Ok(status) if (100..=999).contains(&status) => Ok(Outcome::Status(status)),
                _ => Err(format!(
                    "unknown outcome {s:?} (expected \"ok\", \"reset\", \"drop\", \"refused\" \
                     or a status code such as \"500\")"
                )),
            },
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// Request latency: `min_ms` plus an exponentially distributed extra, averaging `mean_ms` in
/// all. Default: `min_ms` 1, `mean_ms` 20.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Latency {
    /// The least latency, in milliseconds.
    pub min_ms: f64,
    /// The mean latency, in milliseconds (at least `min_ms`).
    pub mean_ms: f64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            min_ms: 1.0,
            mean_ms: 20.0,
        }
    }
}

impl Latency {
    /// A latency of `min_ms` plus an exponential extra, `mean_ms` on average.
    pub fn new(min_ms: f64, mean_ms: f64) -> Self {
        Latency { min_ms, mean_ms }
    }

    fn check(&self) -> Result<(), String> {
        let ok = |v: f64| v.is_finite() && (0.0..=1e9).contains(&v);
        if !ok(self.min_ms) || !ok(self.mean_ms) {
            return Err("latency must be between 0 and 1e9 ms".into());
        }
        if self.mean_ms < self.min_ms {
            return Err(format!(
                "latency mean_ms ({}) is less than min_ms ({})",
                self.mean_ms, self.min_ms
            ));
        }
        Ok(())
    }
}

/// Fault rates: the probability that one request meets each fault. The rates add up to at most
/// 1. Default: all zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Faults {
    /// The request hangs and never gets an answer (the client's timeout ends it).
    pub drop: f64,
    /// The connection is reset.
    pub reset: f64,
    /// The server answers 503 with an empty body.
    pub error_5xx: f64,
    /// The answer is late by `slow_ms`.
    pub slow: f64,
    /// How late a slow answer is, in milliseconds.
    pub slow_ms: f64,
}

impl Faults {
    /// `true` when no fault can happen.
    pub fn is_none(&self) -> bool {
        self.drop == 0.0 && self.reset == 0.0 && self.error_5xx == 0.0 && self.slow == 0.0
    }

    fn check(&self) -> Result<(), String> {
        let rates = [
            ("drop", self.drop),
            ("reset", self.reset),
            ("error_5xx", self.error_5xx),
            ("slow", self.slow),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("fault rate {name} ({rate}) is not between 0 and 1"));
            }
        }
        let sum: f64 = rates.iter().map(|(_, r)| r).sum();
        if sum > 1.0 + 1e-9 {
            return Err(format!("fault rates add up to {sum}, more than 1"));
        }
        if !(self.slow_ms.is_finite() && (0.0..=1e9).contains(&self.slow_ms)) {
            return Err("faults slow_ms must be between 0 and 1e9".into());
        }
        Ok(())
    }
}

/// Reads `pages` in file order, naming the page in any error and refusing duplicate keys.
fn deserialize_pages<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, PageSpec>, D::Error> {
    struct Pages;
    impl<'de> Visitor<'de> for Pages {
        type Value = BTreeMap<String, PageSpec>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of pages by url")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut pages = BTreeMap::new();
            while let Some(url) = map.next_key::<String>()? {
                let page = map
                    .next_value::<PageSpec>()
                    .map_err(|e| de::Error::custom(format!("pages[{url:?}]: {e}")))?;
                if pages.insert(url.clone(), page).is_some() {
                    return Err(de::Error::custom(format!("pages[{url:?}]: listed twice")));
                }
            }
            Ok(pages)
        }
    }
    deserializer.deserialize_map(Pages)
}

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

/// A loaded, validated site with every response rendered. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Site {
    roots: Vec<String>,
    pages: Vec<Page>,
    /// Normalised URL to index in `pages` (lookups only; nothing iterates it).
    index: FxHashMap<Box<str>, u32>,
    unreachable: Vec<String>,
    latency: Latency,
    faults: Faults,
}

/// One page, ready to serve.
#[derive(Debug, Clone)]
pub struct Page {
    url: Box<str>,
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
    script: Box<[Outcome]>,
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
        response.headers.clone_from(&self.headers);
        response.body = self.body.clone();
        response
    }

    /// The scripted outcome of request number `n` (0 for the first) to this URL, if it has a
    /// script: the `n`th entry, or the last one once the script has run out.
    pub fn scripted(&self, n: u64) -> Option<Outcome> {
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
        let spec: SiteSpec = serde_json::from_str(text)
            // serde quotes names with backticks; the rest of our messages use double quotes.
            .map_err(|e| SiteError::invalid(e.to_string().replace('`', "\"")))?;
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
        let mut index = FxHashMap::default();
        index.reserve(spec.pages.len());
        for (key, page) in spec.pages {
            let at = |message: String| SiteError::invalid(format!("pages[{key:?}]: {message}"));
            let url = normalize::parse_root(&key).map_err(|e| at(e.to_string()))?;
            let page = render(url.as_str(), page).map_err(at)?;
            let id = u32::try_from(pages.len()).map_err(|_| at("too many pages".into()))?;
            if index.insert(url.as_str().into(), id).is_some() {
                return Err(at(format!("{} is listed twice", url.as_str())));
            }
            pages.push(page);
        }
        Ok(Site {
            roots: spec.roots,
            pages,
            index,
            unreachable,
            latency: spec.latency,
            faults: spec.faults,
        })
    }

    /// The site's default crawl roots, as written.
    pub fn roots(&self) -> &[String] {
        &self.roots
    }

    /// The index of the page at `url` (a normalised URL, as the engine requests it), or `None`
    /// when the site does not list it (answer 404, see [`not_found`]).
    pub fn find(&self, url: &str) -> Option<usize> {
        self.index.get(url).map(|&i| i as usize)
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

const REDIRECTS: [u16; 5] = [301, 302, 303, 307, 308];

/// Checks one page and renders its response.
fn render(url: &str, spec: PageSpec) -> Result<Page, String> {
    if let Some(faults) = &spec.faults {
        faults.check().map_err(|e| format!("faults: {e}"))?;
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    let (status, body) = if let Some(status) = spec.redirect {
        if !REDIRECTS.contains(&status) {
            return Err(format!(
                "redirect {status} is not one of 301, 302, 303, 307, 308"
            ));
        }
        let html_or_body = [
            ("links", spec.links.is_some()),
            ("base", spec.base.is_some()),
            ("pad", spec.pad.is_some()),
            ("body", spec.body.is_some()),
            ("status", spec.status.is_some()),
            ("content_type", spec.content_type.is_some()),
        ];
        if let Some((name, _)) = html_or_body.iter().find(|(_, set)| *set) {
            return Err(format!("a redirect cannot have {name:?}"));
        }
        if let Some(location) = spec.location {
            headers.push(("location".into(), location));
        }
        (status, Bytes::new())
    } else {
        if spec.location.is_some() {
            return Err("\"location\" needs \"redirect\"".into());
        }
        let status = spec.status.unwrap_or(200);
        if !(100..=999).contains(&status) {
            return Err(format!("status {status} is not between 100 and 999"));
        }
        let body = match spec.body {
            Some(body) => {
                let html_only = [
                    ("links", spec.links.is_some()),
                    ("base", spec.base.is_some()),
                    ("pad", spec.pad.is_some()),
                ];
                if let Some((name, _)) = html_only.iter().find(|(_, set)| *set) {
                    return Err(format!("a raw \"body\" cannot have {name:?}"));
                }
                if let Some(ct) = spec.content_type {
                    headers.push(("content-type".into(), ct));
                }
                Bytes::from(body)
            }
            None => {
                let ct = spec
                    .content_type
                    .unwrap_or_else(|| "text/html; charset=utf-8".into());
                headers.push(("content-type".into(), ct));
                let links = spec.links.unwrap_or_default();
                Bytes::from(render_html(&links, spec.base.as_deref(), spec.pad))
            }
        };
        (status, body)
    };
    headers.extend(spec.headers);
    Ok(Page {
        url: url.into(),
        status,
        headers,
        body,
        script: spec.script.into_boxed_slice(),
        faults: spec.faults,
    })
}

/// A small HTML document with one `<a href>` per link, an optional `<base href>`, and `pad`
/// bytes of filler text.
pub fn render_html(links: &[String], base: Option<&str>, pad: Option<usize>) -> String {
    let pad = pad.unwrap_or(0);
    let size = 64 + links.iter().map(|l| l.len() + 24).sum::<usize>() + pad;
    let mut html = String::with_capacity(size);
    html.push_str("<!doctype html><html><head>");
    if let Some(base) = base {
        html.push_str("<base href=\"");
        escape_into(&mut html, base);
        html.push_str("\">");
    }
    html.push_str("</head><body>\n");
    for link in links {
        html.push_str("<a href=\"");
        escape_into(&mut html, link);
        html.push_str("\">link</a>\n");
    }
    if pad > 0 {
        const FILLER: &str = "lorem ipsum dolor sit amet, consectetur adipiscing elit. ";
        html.push_str("<p>");
        let mut left = pad;
        while left > 0 {
            let n = left.min(FILLER.len());
            html.push_str(&FILLER[..n]);
            left -= n;
        }
        html.push_str("</p>\n");
    }
    html.push_str("</body></html>\n");
    html
}

/// Escapes `text` for a double-quoted HTML attribute value.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests;
