//! What a crawl tells its user: one [`Record`] per fetched URL and a [`Summary`] at the end.
//!
//! Records are handed to the caller as each fetch finishes (the command line writes them straight
//! to the JSONL file, so an interrupted crawl loses nothing); the summary comes back when the crawl
//! returns. [`write_text`] renders both like the 500 Lines crawler's `reporting.py`: per-URL lines
//! sorted by URL, "Finished N urls in X secs", counters, todo and done.
//!
//! JSON keys of a record: `url`, `status`, `location` (redirect target), `error`, `tries`,
//! `content_type`, `size`, `links`, `new_links`, `depth`, `truncated`; `null` where not applicable.
//!
//! ```
//! let r = crawler::Record::failure("http://h/", 4, 0, "timeout: no response within 30s");
//! let line = serde_json::to_string(&r).unwrap();
//! assert!(line.starts_with(r#"{"url":"http://h/","status":null,"location":null,"error":"timeout"#));
//! ```

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::problem::{Cut, StatusClass};
use crate::transport::FetchErrorKind;

/// The outcome of one fetched URL (after its retries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// The normalised URL that was requested.
    pub url: String,
    /// The HTTP status of the last try; `null` when no response arrived.
    pub status: Option<u16>,
    /// For a redirect: the normalised absolute target (followed or not).
    pub location: Option<String>,
    /// Why the URL failed, or what went wrong with its redirect; `null` when all went well.
    pub error: Option<String>,
    /// Attempts made (1 when the first try settled it).
    pub tries: u32,
    /// The media type of the response (`text/html`), without parameters.
    pub content_type: Option<String>,
    /// Body bytes received (after content decoding); `null` when no response arrived, or when
    /// its body was not downloaded (`--html-bodies-only` and not read for links).
    pub size: Option<u64>,
    /// Links found in an HTML body, or in an XML one (a feed): every kind the crawl follows
    /// (assets only with `--assets`, see [`crate::links`]), those not followed because of
    /// `nofollow` included; `null` when the body was not parsed.
    pub links: Option<u32>,
    /// How many of those links were URLs never seen before in this crawl.
    pub new_links: Option<u32>,
    /// Link hops from the nearest root through which this URL was first reached.
    pub depth: u32,
    /// `true` when the body was cut at the transport's size cap, or may have been cut short (it
    /// ended where its TLS connection did, with no close_notify; see [`crate::Response::truncated`]).
    #[serde(default)]
    pub truncated: bool,
    /// `true` when the page's `<meta name=robots>` says `noindex` (or `none`): the crawler indexes
    /// nothing, but reports that the page asked not to be.
    #[serde(default)]
    pub noindex: bool,
}

impl Record {
    /// A record for a URL that got no response after `tries` attempts.
    pub fn failure(url: &str, tries: u32, depth: u32, error: impl Into<String>) -> Self {
        Record {
            url: url.to_string(),
            status: None,
            location: None,
            error: Some(error.into()),
            tries,
            content_type: None,
            size: None,
            links: None,
            new_links: None,
            depth,
            truncated: false,
            noindex: false,
        }
    }

    /// A record for a URL that got a response with `status`.
    pub fn response(url: &str, status: u16, tries: u32, depth: u32) -> Self {
        Record {
            status: Some(status),
            error: None,
            ..Record::failure(url, tries, depth, "")
        }
    }
}

/// Totals of one crawl.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Summary {
    /// URLs fetched (one record each).
    pub urls: u64,
    /// Requests made, retries included.
    pub requests: u64,
    /// Records by status class: `"2xx"`, `"3xx"`, ...
    pub status_classes: BTreeMap<StatusClass, u64>,
    /// Successful HTML and XHTML pages (2xx, parsed for links).
    pub html: u64,
    /// Bytes of those pages.
    pub html_bytes: u64,
    /// Other successful responses (2xx, not HTML; XML documents and feeds, read for links too,
    /// included).
    pub other: u64,
    /// Bytes of those.
    pub other_bytes: u64,
    /// Redirect responses (3xx with a usable `Location`).
    pub redirects: u64,
    /// Redirects not followed because the chain reached `max_redirect`.
    pub redirect_cuts: u64,
    /// 3xx responses without a usable `Location`.
    pub bad_redirects: u64,
    /// Responses with a 4xx/5xx (or other non-2xx, non-redirect) status.
    pub error_status: u64,
    /// URLs that got no response after all tries.
    pub failures: u64,
    /// Failures by kind (`"timeout"`, `"connect"`, ...).
    pub failures_by_kind: BTreeMap<FetchErrorKind, u64>,
    /// Bodies cut at the size cap or maybe cut short (records with `truncated`).
    pub truncated: u64,
    /// robots.txt fetches (redirect hops included); not counted as html/other/error.
    #[serde(default)]
    pub robots: u64,
    /// Sitemap fetches; not counted as html/other/error.
    #[serde(default)]
    pub sitemaps: u64,
    /// URLs discovered but never fetched (left when the crawl was stopped or hit `max_pages`).
    pub todo: u64,
    /// URLs left out by a limit, by its name: spider-trap rules (`url_length`, `path_depth`,
    /// `repeated_segment`), `pages_per_host`, `not_followed` (in scope, but only reachable past
    /// `max_depth` or `max_redirect`), and `nofollow` (links not followed because of their
    /// `rel=nofollow` or their page's `<meta name=robots content=nofollow>`, one per link).
    #[serde(default)]
    pub cuts: BTreeMap<Cut, u64>,
    /// Time on the crawl's clock from start to end; in JSON, seconds as a number (`1.25`).
    #[serde(with = "seconds")]
    pub elapsed: Duration,
    /// The `max_tasks` the crawl ran with.
    pub max_tasks: usize,
    /// `true` when the crawl was stopped before the frontier ran dry.
    pub interrupted: bool,
}

impl Summary {
    /// The counters of `reporting.py`'s `Stats`, by name, sorted.
    pub fn counters(&self) -> BTreeMap<String, u64> {
        let mut c = BTreeMap::new();
        let mut put = |k: &str, v: u64| {
            if v > 0 {
                c.insert(k.to_string(), v);
            }
        };
        put("html", self.html);
        put("html_bytes", self.html_bytes);
        put("other", self.other);
        put("other_bytes", self.other_bytes);
        put("redirect", self.redirects);
        put("redirect_cut", self.redirect_cuts);
        put("redirect_bad", self.bad_redirects);
        put("error", self.error_status);
        put("fail", self.failures);
        put("truncated", self.truncated);
        put("robots", self.robots);
        put("sitemap", self.sitemaps);
        for (kind, n) in &self.failures_by_kind {
            c.insert(format!("fail_{kind}"), *n);
        }
        for (name, n) in &self.cuts {
            c.insert(format!("cut_{name}"), *n);
        }
        for (class, n) in &self.status_classes {
            c.insert(format!("status_{class}"), *n);
        }
        c
    }
}

/// Writes `record` as one JSON line.
pub fn write_jsonl(out: &mut impl Write, record: &Record) -> io::Result<()> {
    serde_json::to_writer(&mut *out, record)?;
    out.write_all(b"\n")
}

/// One `reporting.py`-style line for `record` (no newline).
pub fn text_line(r: &Record) -> String {
    let mut line = r.url.clone();
    match (r.status, &r.location) {
        (None, _) => {
            line.push_str(" error ");
            line.push_str(r.error.as_deref().unwrap_or("unknown"));
            return line;
        }
        (Some(s), Some(loc)) => {
            line.push_str(&format!(" {s} redirect {loc}"));
        }
        (Some(s), None) => {
            // No size (`-`) when the body was not downloaded, as the JSONL's `null`.
            let size = r.size.map_or_else(|| "-".to_string(), |n| n.to_string());
            line.push_str(&format!(
                " {s} {} {size}",
                r.content_type.as_deref().unwrap_or("-"),
            ));
            if let (Some(links), Some(new)) = (r.links, r.new_links) {
                line.push_str(&format!(" {new}/{links}"));
            }
        }
    }
    if r.truncated {
        line.push_str(" (truncated)");
    }
    if let Some(e) = &r.error {
        line.push_str(&format!(" ({e})"));
    }
    line
}

/// The whole text report: records sorted by URL, then the summary.
pub fn write_text(out: &mut impl Write, records: &[Record], summary: &Summary) -> io::Result<()> {
    writeln!(out, "*** Report ***")?;
    let mut sorted: Vec<&Record> = records.iter().collect();
    sorted.sort_by(|a, b| a.url.cmp(&b.url));
    for r in sorted {
        writeln!(out, "{}", text_line(r))?;
    }
    write_summary(out, summary)
}

/// The summary part of the text report.
pub fn write_summary(out: &mut impl Write, s: &Summary) -> io::Result<()> {
    if s.interrupted {
        writeln!(out, "Interrupted")?;
    }
    let secs = s.elapsed.as_secs_f64();
    let speed = if secs > 0.0 && s.max_tasks > 0 {
        s.urls as f64 / secs / s.max_tasks as f64
    } else {
        0.0
    };
    writeln!(
        out,
        "Finished {} urls in {secs:.3} secs (max_tasks={}) ({speed:.3} urls/sec/task)",
        s.urls, s.max_tasks
    )?;
    for (k, v) in s.counters() {
        writeln!(out, "{k:>14} {v}")?;
    }
    writeln!(out, "Requests: {}", s.requests)?;
    writeln!(out, "Todo: {}", s.todo)?;
    writeln!(out, "Done: {}", s.urls)
}

/// A `Duration` in JSON as seconds, a number. Summaries written before (`{"secs": 1, "nanos":
/// 250000000}`) still read.
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Seconds(f64),
        Parts { secs: u64, nanos: u32 },
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Written::deserialize(d)? {
            Written::Seconds(secs) => Duration::try_from_secs_f64(secs)
                .map_err(|e| serde::de::Error::custom(format!("elapsed {secs}: {e}"))),
            Written::Parts { secs, nanos } => Ok(Duration::new(secs, nanos)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_has_every_key_with_nulls() {
        let mut out = Vec::new();
        write_jsonl(&mut out, &Record::response("http://h/", 404, 1, 2)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\"url\":\"http://h/\",\"status\":404,\"location\":null,\"error\":null,\"tries\":1,\
             \"content_type\":null,\"size\":null,\"links\":null,\"new_links\":null,\"depth\":2,\
             \"truncated\":false,\"noindex\":false}\n"
        );
        // Lines written before `noindex` existed still read.
        let old: Record = serde_json::from_str(
            "{\"url\":\"http://h/\",\"status\":404,\"location\":null,\"error\":null,\"tries\":1,\
             \"content_type\":null,\"size\":null,\"links\":null,\"new_links\":null,\"depth\":2}",
        )
        .unwrap();
        assert!(!old.noindex && !old.truncated);
        let back: Record = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(back, Record::response("http://h/", 404, 1, 2));
    }

    #[test]
    fn text_lines_like_reporting_py() {
        let mut page = Record::response("http://h/", 200, 1, 0);
        page.content_type = Some("text/html".into());
        page.size = Some(120);
        page.links = Some(5);
        page.new_links = Some(3);
        assert_eq!(text_line(&page), "http://h/ 200 text/html 120 3/5");
        let mut skipped = Record::response("http://h/a.pdf", 200, 1, 0);
        skipped.content_type = Some("application/pdf".into());
        assert_eq!(text_line(&skipped), "http://h/a.pdf 200 application/pdf -");
        let mut redirect = Record::response("http://h/r", 301, 1, 0);
        redirect.location = Some("http://h/x".into());
        assert_eq!(text_line(&redirect), "http://h/r 301 redirect http://h/x");
        let fail = Record::failure("http://h/f", 4, 0, "connect: refused");
        assert_eq!(text_line(&fail), "http://h/f error connect: refused");
    }

    #[test]
    fn summary_block() {
        let mut s = Summary {
            urls: 2,
            requests: 3,
            html: 1,
            html_bytes: 10,
            failures: 1,
            max_tasks: 4,
            elapsed: Duration::from_millis(500),
            ..Summary::default()
        };
        s.failures_by_kind.insert(FetchErrorKind::Timeout, 1);
        let mut out = Vec::new();
        write_text(&mut out, &[], &s).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Finished 2 urls in 0.500 secs (max_tasks=4) (1.000 urls/sec/task)"));
        assert!(text.contains("  fail_timeout 1\n"));
        assert!(text.ends_with("Requests: 3\nTodo: 0\nDone: 2\n"));
    }

    /// `elapsed` is a number of seconds in JSON; the old `{secs, nanos}` form still reads.
    #[test]
    fn elapsed_is_seconds_in_json() {
        let s = Summary {
            elapsed: Duration::from_millis(1250),
            ..Summary::default()
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["elapsed"], serde_json::json!(1.25));
        let back: Summary = serde_json::from_value(json).unwrap();
        assert_eq!(back.elapsed, Duration::from_millis(1250));
        let mut old = serde_json::to_value(&s).unwrap();
        old["elapsed"] = serde_json::json!({"secs": 1, "nanos": 250_000_000});
        let back: Summary = serde_json::from_value(old).unwrap();
        assert_eq!(back.elapsed, Duration::from_millis(1250));
        let mut bad = serde_json::to_value(&s).unwrap();
        bad["elapsed"] = serde_json::json!(-1.0);
        assert!(serde_json::from_value::<Summary>(bad).is_err());
    }
}
