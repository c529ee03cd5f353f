//! What a site file says, as serde reads and writes it (see [`crate`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a site file says, before validation. See the [module documentation](crate).
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
    /// Endless parts of the site (spider traps), by URL prefix: every unlisted URL starting with
    /// the prefix answers an HTML page with these links (`{next}` in a link stands for the URL
    /// with its last number increased by one). The longest matching prefix wins.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub generated: BTreeMap<String, Vec<String>>,
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
    /// Links rendered after those as `<a rel="nofollow" href>`s: counted by a crawler, never
    /// followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nofollow: Option<Vec<String>>,
    /// Images rendered after those as `<img src>`s: assets, followed only by a crawl that
    /// follows assets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<String>>,
    /// A `<base href>` for the HTML page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The `content` of a `<meta name="robots">` for the HTML page (`nofollow`, `noindex`,
    /// `none`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_robots: Option<String>,
    /// Bytes of filler text added to the HTML page, to make it bigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad: Option<usize>,
    /// A raw body, served as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Serve the raw `body` gzip-compressed, as a `.gz` file is served (no `Content-Encoding`):
    /// a gzipped sitemap, for example.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gzip: bool,
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
    pub script: Vec<Scripted>,
    /// Fault rates for this URL, instead of the global ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<Faults>,
}

/// What one request gets, in a page's `script`. Written as a string: `"ok"`, `"reset"`,
/// `"drop"`, `"refused"`, `"truncate"`, or a status code such as `"500"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scripted {
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
    /// The status line and headers arrive, then the connection breaks off mid-body: a transport
    /// error (`reset`), not a short body.
    Truncate,
}

impl fmt::Display for Scripted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scripted::Ok => f.write_str("ok"),
            Scripted::Status(s) => write!(f, "{s}"),
            Scripted::Reset => f.write_str("reset"),
            Scripted::Drop => f.write_str("drop"),
            Scripted::Refused => f.write_str("refused"),
            Scripted::Truncate => f.write_str("truncate"),
        }
    }
}

/// The statuses a site may answer with: final ones. A real client skips 1xx heads (or fails on
/// 101) and turns anything past 599 into a protocol error, so the simulator must not serve them.
pub(crate) const FINAL_STATUSES: std::ops::RangeInclusive<u16> = 200..=599;

impl std::str::FromStr for Scripted {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ok" => Ok(Scripted::Ok),
            "reset" => Ok(Scripted::Reset),
            "drop" => Ok(Scripted::Drop),
            "refused" => Ok(Scripted::Refused),
            "truncate" => Ok(Scripted::Truncate),
            _ => match s.parse::<u16>() {
                Ok(status) if FINAL_STATUSES.contains(&status) => Ok(Scripted::Status(status)),
                _ => Err(format!(
                    "unknown outcome {s:?} (expected \"ok\", \"reset\", \"drop\", \"refused\", \
                     \"truncate\" or a final status code, 200 to 599, such as \"500\")"
                )),
            },
        }
    }
}

impl Serialize for Scripted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scripted {
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

    pub(super) fn check(&self) -> Result<(), String> {
        let ok = |v: f64| v.is_finite() && (0.0..=1e9).contains(&v);
        if !ok(self.min_ms) || !ok(self.mean_ms) {
            return Err("min_ms and mean_ms must be between 0 and 1e9".into());
        }
        if self.mean_ms < self.min_ms {
            return Err(format!(
                "mean_ms ({}) is less than min_ms ({}); mean_ms is {} unless given",
                self.mean_ms,
                self.min_ms,
                Latency::default().mean_ms
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
    /// The server answers 429 (too many requests) with an empty body.
    #[serde(skip_serializing_if = "is_zero")]
    pub error_429: f64,
    /// The status line and headers arrive, then the connection breaks off mid-body: a transport
    /// error, as a real client sees a body shorter than its `Content-Length`.
    #[serde(skip_serializing_if = "is_zero")]
    pub truncate: f64,
    /// The answer is late by `slow_ms`.
    pub slow: f64,
    /// How late a slow answer is, in milliseconds.
    pub slow_ms: f64,
    /// The `Retry-After` header (whole seconds) of injected 429 and 503 answers. Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    /// Faults strike only requests that reach the server before this virtual time (in
    /// milliseconds); from then on the network is calm. Default: forever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<f64>,
}

fn is_zero(rate: &f64) -> bool {
    *rate == 0.0
}

impl Faults {
    /// `true` when no fault can happen.
    pub fn is_none(&self) -> bool {
        self.rates().iter().all(|(_, rate)| *rate == 0.0)
    }

    /// `true` when a request reaching the server at `at_ms` (virtual milliseconds) may meet a
    /// fault.
    pub fn active_at(&self, at_ms: f64) -> bool {
        !self.is_none() && self.until_ms.is_none_or(|until| at_ms < until)
    }

    /// The rates by name, in the order one uniform draw tries them.
    pub fn rates(&self) -> [(&'static str, f64); 6] {
        [
            ("drop", self.drop),
            ("reset", self.reset),
            ("error_5xx", self.error_5xx),
            ("error_429", self.error_429),
            ("truncate", self.truncate),
            ("slow", self.slow),
        ]
    }

    pub(super) fn check(&self) -> Result<(), String> {
        let rates = self.rates();
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
            return Err("slow_ms must be between 0 and 1e9".into());
        }
        if let Some(until) = self.until_ms
            && !(until.is_finite() && (0.0..=1e12).contains(&until))
        {
            return Err("until_ms must be between 0 and 1e12".into());
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
