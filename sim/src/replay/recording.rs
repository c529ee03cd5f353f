//! A WARC file loaded for replay: every recorded exchange, by URL, in recorded order.
//!
//! Loading is strict: a recording that cannot be trusted is not replayed at all. What is read,
//! and what is skipped, is documented on [`Recording`].

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use crawler::normalize::{UrlError, parse_root, resolve};
use crawler::{FetchError, FetchErrorKind};
use crawler_warc::{WarcError, WarcRecord, read_records};
use url::Url;

use super::DEFAULT_MAX_BODY;
use super::decode::decode;

pub use crawler_warc::ROOT_FIELD;

/// How a recorded failure says the crawl abandoned the request (see the module documentation).
const ABANDONED: &str = "abandoned";

/// Why a recording could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordingError {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        error: String,
    },
    /// The bytes are not WARC (or not gzip-compressed WARC).
    Warc {
        /// The file, when the recording came from one.
        path: Option<PathBuf>,
        /// What the WARC reader found wrong (`malformed warc at byte 12: ...`).
        message: String,
    },
    /// A record the replay needs is broken.
    Record {
        /// The file, when the recording came from one.
        path: Option<PathBuf>,
        /// The record's position in the file, from 1.
        number: usize,
        /// What is wrong.
        message: String,
    },
}

impl RecordingError {
    fn in_file(self, file: &Path) -> Self {
        let file = Some(file.to_path_buf());
        match self {
            RecordingError::Warc { message, .. } => RecordingError::Warc {
                path: file,
                message,
            },
            RecordingError::Record {
                number, message, ..
            } => RecordingError::Record {
                path: file,
                number,
                message,
            },
            other => other,
        }
    }
}

impl fmt::Display for RecordingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |path: &Option<PathBuf>| match path {
            Some(p) => format!("recording {}", p.display()),
            None => "recording".to_string(),
        };
        match self {
            RecordingError::Read { path, error } => {
                write!(f, "recording {}: cannot read: {error}", path.display())
            }
            RecordingError::Warc { path, message } => write!(f, "{}: {message}", name(path)),
            RecordingError::Record {
                path,
                number,
                message,
            } => write!(f, "{}: record {number}: {message}", name(path)),
        }
    }
}

impl std::error::Error for RecordingError {}

/// One recorded try, as the replay will serve it.
#[derive(Debug, Clone)]
pub(crate) enum Recorded {
    /// A response arrived.
    Response {
        status: u16,
        headers: Arc<[(String, String)]>,
        /// The body as received, before content decoding.
        wire: Bytes,
        /// The recorder marked the body as cut (`WARC-Truncated`).
        truncated: bool,
    },
    /// No response: the recorded error.
    Failed(FetchError),
    /// The crawl gave up waiting (its timeout fired).
    Abandoned,
}

/// A WARC recording loaded for replay: every recorded try, by URL, in recorded order.
///
/// What the replay serves comes from two kinds of record, as `crawl --record` writes them (see
/// [`crawler_warc`]):
///
/// - a `response` record: the status, header fields and body as received (still
///   content-encoded if the server encoded it; `WARC-Truncated` when the recorder cut it);
/// - a `metadata` record with a `crawler-fetch-error: <kind>: <message>` field: a try that got
///   no response. A `timeout` whose message starts with `abandoned` is a request the crawl gave
///   up on (its own timeout fired first); the replay lets it hang, so the engine's timeout ends
///   it again and reports it in the engine's own words.
///
/// `request` records, `warcinfo` fields other than `crawler-root`, other metadata and record
/// types (`resource`, `revisit`, ...) are not needed to answer a request and are skipped, as are
/// records whose target is not an `http(s)` URL. Target URLs are kept parsed; the replay
/// normalises them the way the crawl it serves does, so they match the URLs the engine asks for.
///
/// Anything that is not WARC, or a response record whose block is not an HTTP response, is a
/// [`RecordingError`] naming the file and the record: a recording that cannot be trusted is not
/// replayed at all.
///
/// ```
/// use crawler_warc::{Exchange, Attempt, WarcWriter};
/// use crawler_sim::Recording;
///
/// let mut warc = WarcWriter::new(Vec::new(), true);
/// for (url, status) in [("http://a.test/robots.txt", 404), ("http://a.test/", 200)] {
///     warc.write_exchange(&Exchange {
///         url,
///         date: "2026-11-22T00:00:00Z",
///         request_headers: &[],
///         outcome: Attempt::Response { status, headers: &[], body: b"", truncated: false },
///     })
///     .unwrap();
/// }
/// let recording = Recording::from_bytes(&warc.into_inner()).unwrap();
/// assert_eq!(recording.len(), 2);
/// // No `crawler-root` in a warcinfo record: the first page that is not a robots.txt.
/// assert_eq!(recording.roots(), ["http://a.test/"]);
/// assert!(Recording::from_bytes(b"not a warc").is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Every exchange, in file order (which is, per URL, the order of its tries).
    exchanges: Vec<(Url, Recorded)>,
    /// `crawler-root` fields of the `warcinfo` records.
    roots: Vec<String>,
}

impl Recording {
    /// Loads a WARC file (gzip-compressed or not).
    pub fn load(path: impl AsRef<Path>) -> Result<Recording, RecordingError> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|e| RecordingError::Read {
            path: path.to_path_buf(),
            error: e.to_string(),
        })?;
        Recording::from_bytes(&data).map_err(|e| e.in_file(path))
    }

    /// Parses the bytes of a WARC file (gzip-compressed or not).
    pub fn from_bytes(data: &[u8]) -> Result<Recording, RecordingError> {
        let records = read_records(data).map_err(|e| RecordingError::Warc {
            path: None,
            message: e.to_string(),
        })?;
        let mut recording = Recording::default();
        for (i, record) in records.iter().enumerate() {
            recording
                .add(record)
                .map_err(|message| RecordingError::Record {
                    path: None,
                    number: i + 1,
                    message,
                })?;
        }
        Ok(recording)
    }

    fn add(&mut self, record: &WarcRecord) -> Result<(), String> {
        let kind = record.header("WARC-Type").unwrap_or("");
        let recorded = match kind {
            "warcinfo" => {
                self.roots.extend(warc_fields(&record.block, ROOT_FIELD));
                return Ok(());
            }
            "response" => {
                let http = record.http_response().map_err(|e| match e {
                    WarcError::Format { message, .. } => format!("response: {message}"),
                    other => format!("response: {other}"),
                })?;
                Recorded::Response {
                    status: http.status,
                    headers: http.headers.into(),
                    wire: Bytes::from(http.body),
                    truncated: record.header("WARC-Truncated").is_some(),
                }
            }
            "metadata" => match record.fetch_error() {
                Some(error) => recorded_failure(error),
                None => return Ok(()),
            },
            _ => return Ok(()),
        };
        let Some(target) = record.header("WARC-Target-URI") else {
            return Err(format!("{kind} record without WARC-Target-URI"));
        };
        // WARC 1.0 wrote the URI in angle brackets; 1.1 does not.
        let target = target.trim_start_matches('<').trim_end_matches('>');
        match parse_root(target) {
            Ok(url) => self.exchanges.push((url, recorded)),
            // dns:, ftp:, ... cannot be requested by the engine: nothing to serve.
            Err(UrlError::Scheme(_)) => {}
            Err(e) => return Err(format!("WARC-Target-URI {target:?}: {e}")),
        }
        Ok(())
    }

    /// Recorded exchanges (responses and failures).
    pub fn len(&self) -> usize {
        self.exchanges.len()
    }

    /// `true` when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.exchanges.is_empty()
    }

    /// The roots of the recorded crawl: the `crawler-root` fields of its `warcinfo` record if it
    /// has any; else the first recorded URL that is neither a robots.txt (the crawl fetches each
    /// host's robots.txt before its first page) nor a sitemap named by a recorded robots.txt
    /// (fetched alongside the first page). Empty for an empty recording. A crawl that started
    /// from `--sitemap` or from several roots needs its roots given.
    pub fn roots(&self) -> Vec<String> {
        if !self.roots.is_empty() {
            return self.roots.clone();
        }
        let sitemaps = self.sitemaps_named();
        self.exchanges
            .iter()
            .map(|(url, _)| url)
            .find(|url| url.path() != "/robots.txt" && !sitemaps.contains(url.as_str()))
            .map(|url| vec![url.to_string()])
            .unwrap_or_default()
    }

    /// The `Sitemap:` URLs of every recorded robots.txt that was answered.
    fn sitemaps_named(&self) -> BTreeSet<String> {
        let mut named = BTreeSet::new();
        for (url, recorded) in &self.exchanges {
            let Recorded::Response { headers, wire, .. } = recorded else {
                continue;
            };
            if url.path() != "/robots.txt" {
                continue;
            }
            let encoding = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
                .map(|(_, v)| v.as_str());
            let Ok((body, _)) = decode(encoding, wire, DEFAULT_MAX_BODY) else {
                continue;
            };
            for line in String::from_utf8_lossy(&body).lines() {
                let Some((field, value)) = line.split_once(':') else {
                    continue;
                };
                if field.trim().eq_ignore_ascii_case("sitemap")
                    && let Some(sitemap) = resolve(url, value.trim())
                {
                    named.insert(sitemap.to_string());
                }
            }
        }
        named
    }

    /// Every recorded exchange, in file order.
    pub(crate) fn exchanges(&self) -> &[(Url, Recorded)] {
        &self.exchanges
    }
}

/// The non-empty values of field `name` in an `application/warc-fields` block.
fn warc_fields(block: &[u8], name: &str) -> Vec<String> {
    String::from_utf8_lossy(block)
        .lines()
        .filter_map(|line| {
            let (k, v) = line.split_once(':')?;
            let v = v.trim();
            (k.trim().eq_ignore_ascii_case(name) && !v.is_empty()).then(|| v.to_string())
        })
        .collect()
}

/// A recorded `kind: message` back as the error it was. An unknown kind (a newer crawler's) is
/// kept whole as the message of an `other` error.
fn recorded_failure(text: &str) -> Recorded {
    let (kind, message) = text.split_once(": ").unwrap_or((text, ""));
    let Some(kind) = kind_named(kind) else {
        return Recorded::Failed(FetchError::new(FetchErrorKind::Other, text));
    };
    if kind == FetchErrorKind::Timeout && message.starts_with(ABANDONED) {
        return Recorded::Abandoned;
    }
    Recorded::Failed(FetchError::new(kind, message))
}

fn kind_named(name: &str) -> Option<FetchErrorKind> {
    use FetchErrorKind::*;
    [Dns, Connect, Tls, Reset, Protocol, Timeout, Other]
        .into_iter()
        .find(|k| k.as_str() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crawler_warc::{Attempt, Exchange, WarcWriter};

    fn exchange<'a>(url: &'a str, outcome: Attempt<'a>) -> Exchange<'a> {
        Exchange {
            url,
            date: "2026-11-22T00:00:00Z",
            request_headers: &[],
            outcome,
        }
    }

    fn response(status: u16, body: &[u8], truncated: bool) -> Attempt<'_> {
        Attempt::Response {
            status,
            headers: &[],
            body,
            truncated,
        }
    }

    #[test]
    fn responses_and_failures_in_file_order() {
        let mut w = WarcWriter::new(Vec::new(), false);
        w.write_warcinfo("2026-11-22T00:00:00Z", "x.warc", &[("software", "t")])
            .unwrap();
        w.write_exchange(&exchange("http://a.test/x", response(500, b"", false)))
            .unwrap();
        let failed = Attempt::Failed {
            error: "reset: connection reset by peer",
        };
        w.write_exchange(&exchange("http://a.test/x", failed))
            .unwrap();
        let abandoned = Attempt::Failed {
            error: "timeout: abandoned by the crawl before a response arrived",
        };
        w.write_exchange(&exchange("HTTP://A.test:80/x#f", abandoned))
            .unwrap();
        w.write_exchange(&exchange("http://a.test/x", response(200, b"ok", true)))
            .unwrap();
        let rec = Recording::from_bytes(&w.into_inner()).unwrap();
        assert_eq!(rec.len(), 4);
        let got: Vec<String> = rec
            .exchanges()
            .iter()
            .map(|(url, r)| match r {
                Recorded::Response {
                    status,
                    wire,
                    truncated,
                    ..
                } => format!("{url} {status} {wire:?} {truncated}"),
                Recorded::Failed(e) => format!("{url} {e}"),
                Recorded::Abandoned => format!("{url} abandoned"),
            })
            .collect();
        assert_eq!(
            got,
            [
                "http://a.test/x 500 b\"\" false",
                "http://a.test/x reset: connection reset by peer",
                "http://a.test/x abandoned",
                "http://a.test/x 200 b\"ok\" true",
            ]
        );
        assert_eq!(rec.roots(), ["http://a.test/x"]);
    }

    #[test]
    fn failures_keep_their_kind() {
        let failed = |text| match recorded_failure(text) {
            Recorded::Failed(e) => (e.kind, e.message),
            other => panic!("{other:?}"),
        };
        assert_eq!(failed("dns: no such host").0, FetchErrorKind::Dns);
        assert_eq!(
            failed("timeout: no response within 30s"),
            (FetchErrorKind::Timeout, "no response within 30s".into())
        );
        assert_eq!(failed("tls"), (FetchErrorKind::Tls, String::new()));
        assert_eq!(
            failed("quantum: decoherence"),
            (FetchErrorKind::Other, "quantum: decoherence".into())
        );
        assert!(matches!(
            recorded_failure("timeout: abandoned by the crawl"),
            Recorded::Abandoned
        ));
    }

    #[test]
    fn warcinfo_roots_win_and_other_records_are_skipped() {
        let mut w = WarcWriter::new(Vec::new(), true);
        w.write_warcinfo(
            "2026-11-22T00:00:00Z",
            "x.warc.gz",
            &[
                (ROOT_FIELD, "http://b.test/"),
                (ROOT_FIELD, "http://c.test/"),
            ],
        )
        .unwrap();
        w.write_exchange(&exchange("http://a.test/", response(200, b"", false)))
            .unwrap();
        // Not http(s): nothing the engine could ask for.
        w.write_exchange(&exchange("ftp://a.test/", response(200, b"", false)))
            .unwrap();
        let rec = Recording::from_bytes(&w.into_inner()).unwrap();
        assert_eq!(rec.roots(), ["http://b.test/", "http://c.test/"]);
        assert_eq!(rec.len(), 1);
        assert!(Recording::default().roots().is_empty());
    }

    #[test]
    fn the_inferred_root_is_neither_a_robots_txt_nor_a_sitemap_it_names() {
        let mut w = WarcWriter::new(Vec::new(), false);
        let robots = b"User-agent: *\nSITEMAP : /maps/site.xml\n";
        let gz = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(robots).unwrap();
            e.finish().unwrap()
        };
        let encoded = [("Content-Encoding".to_string(), "gzip".to_string())];
        let gzipped = Attempt::Response {
            status: 200,
            headers: &encoded,
            body: &gz,
            truncated: false,
        };
        w.write_exchange(&exchange("http://a.test/robots.txt", gzipped))
            .unwrap();
        // The sitemap happened to finish before the root page.
        for url in ["http://a.test/maps/site.xml", "http://a.test/home"] {
            w.write_exchange(&exchange(url, response(200, b"", false)))
                .unwrap();
        }
        let rec = Recording::from_bytes(&w.into_inner()).unwrap();
        assert_eq!(rec.roots(), ["http://a.test/home"]);
    }

    #[test]
    fn broken_input_is_a_one_line_error_naming_the_record() {
        let err = |data: &[u8]| Recording::from_bytes(data).unwrap_err().to_string();
        assert!(err(b"hello").starts_with("recording: malformed warc at byte 0"));
        let record = |head: &str, block: &str| {
            format!(
                "WARC/1.1\r\n{head}Content-Length: {}\r\n\r\n{block}\r\n\r\n",
                block.len()
            )
        };
        let bad_http = record(
            "WARC-Type: response\r\nWARC-Target-URI: http://a/\r\n",
            "200 OK",
        );
        assert_eq!(
            err(bad_http.as_bytes()),
            "recording: record 1: response: http response head never ends"
        );
        let no_target = record("WARC-Type: response\r\n", "HTTP/1.1 200 OK\r\n\r\n");
        let both = record("WARC-Type: warcinfo\r\n", "") + &no_target;
        assert_eq!(
            err(both.as_bytes()),
            "recording: record 2: response record without WARC-Target-URI"
        );
        let bad_url = record(
            "WARC-Type: response\r\nWARC-Target-URI: http://\r\n",
            "HTTP/1.1 200 OK\r\n\r\n",
        );
        assert!(
            err(bad_url.as_bytes()).starts_with("recording: record 1: WARC-Target-URI \"http://\"")
        );
        for e in [err(b"x"), err(bad_url.as_bytes())] {
            assert!(!e.contains('\n'), "{e}");
        }
        let missing = Recording::load("/nonexistent/x.warc")
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("recording /nonexistent/x.warc: cannot read: "),
            "{missing}"
        );
    }
}
