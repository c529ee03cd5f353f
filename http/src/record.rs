//! [`Recorder`]: a [`Transport`] that writes every exchange of the transport it wraps to a WARC
//! file as it completes (`crawl --record FILE`).
//!
//! Every request the engine makes goes through its transport, so wrapping the transport records
//! all of them, each try, robots.txt and sitemaps included, and the engine knows nothing about
//! it. What is written is what went over the wire: the transport keeps it in
//! [`Response::wire`](crawler::Response::wire) when built with `keep_wire` (the request fields
//! sent, the body before content decoding), and the recorder takes it out again before the
//! engine sees the response. An exchange without a response is a `metadata` record with the
//! error; a request the crawl abandons (its timeout) is one too, unless the crawl is stopping
//! (Ctrl-C), when it is simply not part of the crawl.
//!
//! Each exchange is written with a single `write` as soon as it completes, so the file holds
//! every exchange finished before an interrupt, and reads cleanly up to there. A file named
//! `*.gz` gets one gzip member per record. WARC-Date is the wall clock at the request's start.
//!
//! ```no_run
//! use crawler_http::{HttpOptions, RealClock, Recorder, SurfTransport};
//! use crawler::{Config, Crawler};
//!
//! let mut options = HttpOptions::default();
//! options.keep_wire = true;
//! let transport = SurfTransport::new(options).unwrap();
//! let recorder = Recorder::create(transport, "crawl.warc.gz".as_ref(), &[]).unwrap();
//! let config = Config::builder().root("http://127.0.0.1:8080/").build().unwrap();
//! let crawler = Crawler::new(config, recorder, RealClock::new());
//! async_std::task::block_on(crawler.run(|_| {}));
//! assert!(crawler.transport().error().is_none());
//! ```

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crawler::Stop;
use crawler::{FetchError, Request, Response, Transport};
use crawler_warc::{Attempt, Exchange, WarcWriter};

/// Records the exchanges of transport `T` to a WARC file; or, made with [`Recorder::off`], passes
/// them through untouched.
pub struct Recorder<T> {
    inner: T,
    file: Option<RefCell<Warc>>,
    stop: Option<Stop>,
}

struct Warc {
    path: PathBuf,
    writer: WarcWriter<OneWrite>,
    /// The first write error; nothing is written after it.
    error: Option<String>,
}

impl<T> fmt::Debug for Recorder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("file", &self.file.as_ref().map(|w| w.borrow().path.clone()))
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Recorder<T> {
    /// A recorder writing to a new file at `path` (gzip per record if the name ends in `.gz`),
    /// opened with its `warcinfo` record.
    pub fn create(inner: T, path: &Path, roots: &[url::Url]) -> Result<Self, String> {
        let file =
            File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Recorder::open(inner, file, path, roots)
    }

    /// A recorder appending to `file` (already cut back to what a resumed crawl kept of the
    /// recording at `path`: `crawler_cli::cut_back`), with a `warcinfo` record for this run.
    pub fn resume(inner: T, file: File, path: &Path, roots: &[url::Url]) -> Result<Self, String> {
        Recorder::open(inner, file, path, roots)
    }

    fn open(inner: T, file: File, path: &Path, roots: &[url::Url]) -> Result<Self, String> {
        let cannot = |e: io::Error| format!("cannot write {}: {e}", path.display());
        let gzip = path.extension().is_some_and(|e| e == "gz");
        let mut writer = WarcWriter::new(
            OneWrite {
                file,
                pending: Vec::new(),
            },
            gzip,
        );
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut fields = vec![
            ("software", crawler::DEFAULT_USER_AGENT),
            ("format", "WARC File Format 1.1"),
            (
                "conformsTo",
                "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            ),
        ];
        // The roots, so a replay starts where the crawl started (not where it guesses).
        fields.extend(roots.iter().map(|r| (crawler_warc::ROOT_FIELD, r.as_str())));
        writer
            .write_warcinfo(&rfc3339(SystemTime::now()), &name, &fields)
            .map_err(cannot)?;
        Ok(Recorder {
            inner,
            file: Some(RefCell::new(Warc {
                path: path.to_path_buf(),
                writer,
                error: None,
            })),
            stop: None,
        })
    }

    /// A recorder that records nothing.
    pub fn off(inner: T) -> Self {
        Recorder {
            inner,
            file: None,
            stop: None,
        }
    }

    /// Requests abandoned once `stop` is signalled are cancelled, not timed out: they are not
    /// recorded.
    pub fn with_stop(mut self, stop: Stop) -> Self {
        self.stop = Some(stop);
        self
    }

    /// The first error writing the file, if any (`cannot write PATH: ...`). Recording stops at
    /// it; the crawl should too.
    pub fn error(&self) -> Option<String> {
        self.file.as_ref().and_then(|w| w.borrow().error.clone())
    }

    /// The file's length now (every exchange recorded so far is written out whole) and a handle
    /// to sync it with (none when recording is off): a crawl state syncs the file, then keeps
    /// the length, to cut the file back to it on resume.
    pub fn flushed(&self) -> Result<(u64, Option<File>), String> {
        let Some(file) = &self.file else {
            return Ok((0, None));
        };
        let mut warc = file.borrow_mut();
        // After a failed write the file may end in part of a record: its length is no place
        // to resume from, and the exchanges since were not recorded.
        if let Some(e) = &warc.error {
            return Err(e.clone());
        }
        let path = warc.path.display().to_string();
        let out = &warc.writer.get_mut().file;
        let cannot = |e: io::Error| format!("cannot write {path}: {e}");
        let len = out.metadata().map_err(cannot)?.len();
        Ok((len, Some(out.try_clone().map_err(cannot)?)))
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    fn write(&self, url: &str, date: &str, result: &mut Result<Response, FetchError>) {
        let Some(file) = &self.file else { return };
        let mut warc = file.borrow_mut();
        if warc.error.is_some() {
            return;
        }
        match result {
            Ok(response) => {
                let wire = response.wire.take();
                let wire = wire.as_deref();
                warc.put(&Exchange {
                    url,
                    date,
                    request_headers: wire.map_or(&[][..], |w| &w.request_headers[..]),
                    outcome: Attempt::Response {
                        status: response.status,
                        headers: &response.headers,
                        body: wire.map_or(&response.body[..], |w| &w.body[..]),
                        truncated: response.truncated || response.body_skipped,
                    },
                });
            }
            Err(e) => warc.put(&Exchange {
                url,
                date,
                request_headers: &[],
                outcome: Attempt::Failed {
                    error: &e.to_string(),
                },
            }),
        }
    }
}

impl Warc {
    /// Writes one exchange, keeping the first error.
    fn put(&mut self, exchange: &Exchange<'_>) {
        if let Err(e) = self.writer.write_exchange(exchange) {
            self.error = Some(format!("cannot write {}: {e}", self.path.display()));
        }
    }
}

impl<T: Transport> Transport for Recorder<T> {
    async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        if self.file.is_none() {
            return self.inner.fetch(request).await;
        }
        let mut pending = Pending {
            recorder: self,
            url: request.url.to_string(),
            date: rfc3339(SystemTime::now()),
            open: true,
        };
        let mut result = self.inner.fetch(request).await;
        pending.open = false;
        self.write(&pending.url, &pending.date, &mut result);
        result
    }
}

/// A request under way; dropped while still open, it was abandoned by the crawl.
struct Pending<'a, T: Transport> {
    recorder: &'a Recorder<T>,
    url: String,
    date: String,
    open: bool,
}

impl<T: Transport> Drop for Pending<'_, T> {
    fn drop(&mut self) {
        let stopping = self.recorder.stop.as_ref().is_some_and(Stop::is_stopped);
        if self.open && !stopping {
            let mut abandoned = Err(FetchError::new(
                crawler::FetchErrorKind::Timeout,
                "abandoned by the crawl before a response arrived",
            ));
            self.recorder.write(&self.url, &self.date, &mut abandoned);
        }
    }
}

/// A file written once per flush: the WARC writer flushes after each exchange, so an exchange
/// lands in the file whole, in one `write` (or not at all).
struct OneWrite {
    file: File,
    pending: Vec<u8>,
}

impl Write for OneWrite {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.file.write_all(&self.pending);
        self.pending.clear();
        result
    }
}

/// `time` as an RFC 3339 UTC timestamp with seconds (`2026-11-22T01:36:15Z`), as WARC-Date wants
/// (jiff does the calendar; a time before 1970 or past jiff's range is written as the epoch).
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let at = jiff::Timestamp::try_from(time).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("{at:.0}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use std::time::UNIX_EPOCH;

    #[test]
    fn dates_are_rfc_3339() {
        let at = |secs: u64| rfc3339(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_311_375), "2026-11-22T01:36:15Z");
        // Checked against httpdate's own calendar for a spread of days.
        for day in (0..40_000u64).step_by(97) {
            let t = UNIX_EPOCH + Duration::from_secs(day * 86_400 + 3723);
            let http = httpdate::fmt_http_date(t);
            let ours = rfc3339(t);
            let (y, m, d) = (&ours[0..4], &ours[5..7], &ours[8..10]);
            let months = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            let month = months[m.parse::<usize>().unwrap() - 1];
            assert!(
                http.contains(&format!("{d} {month} {y} 01:02:03")),
                "{http} vs {ours}"
            );
        }
    }
}
