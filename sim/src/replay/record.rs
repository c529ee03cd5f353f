//! Recording a simulated crawl as WARC, the way `crawl --record` records a real one.
//!
//! [`Sim::run_recorded`] runs a crawl on a site file with every exchange written to a WARC
//! file through the same [`WarcWriter`] the real recorder uses, with the same conventions: one
//! exchange per try (robots.txt and retries included), written as it completes; a try without a
//! response as a failure `metadata` record (`kind: message`); a request the crawl abandons (its
//! timeout fired) as `timeout: abandoned by the crawl before a response arrived`. The
//! `warcinfo` record names the crawl's roots ([`ROOT_FIELD`](super::ROOT_FIELD)).
//!
//! That gives the replay guarantee an oracle that needs no network: crawl a site, record it,
//! replay the recording, and compare the records (the property tests do this on random sites).
//! WARC-Date is a fixed instant: virtual time has no calendar.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use crawler::{Config, FetchError, Request, Response, Transport};
use crawler_warc::{Attempt, Exchange, WarcWriter};

use super::recording::ROOT_FIELD;
use crate::sim::{Sim, SimError, SimRun};

/// WARC-Date of every record.
const DATE: &str = "2000-01-01T00:00:00Z";

/// What the real recorder writes for a request the crawl gave up on.
const ABANDONED: &str = "timeout: abandoned by the crawl before a response arrived";

type Writer = Rc<RefCell<WarcWriter<RecordingState>>>;

/// The file's bytes, shared by the writer (inside the crawl) and the caller (after it).
#[derive(Clone, Default)]
struct RecordingState(Rc<RefCell<Vec<u8>>>);

impl Write for RecordingState {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sim {
    /// Runs a crawl with `config` to the end, like [`run`](Sim::run), and returns it with the
    /// WARC recording of every exchange (gzip per record with `gzip`), written as
    /// `crawl --record` writes one: each try its own exchange, robots.txt included; a try
    /// without a response as a failure record; a try the crawl abandoned (its timeout) as
    /// `timeout: abandoned by the crawl before a response arrived`; the roots as
    /// [`ROOT_FIELD`](crate::ROOT_FIELD) fields of the `warcinfo` record. WARC-Date is a fixed
    /// instant: virtual time has no calendar.
    ///
    /// ```
    /// use crawler_sim::{Recording, Replay, Sim};
    /// let site = crawler_site::Site::from_json(r#"{"pages": {
    ///     "http://a.test/": {"links": ["/b"]},
    ///     "http://a.test/b": {"script": ["503", "ok"]}
    /// }}"#).unwrap();
    /// let config = crawler::Config::builder().root("http://a.test/").build().unwrap();
    /// let sim = Sim::builder().site(site).build().unwrap();
    /// let (run, warc) = sim.run_recorded(&config, true).unwrap();
    /// let recording = Recording::from_bytes(&warc).unwrap();
    /// assert_eq!(recording.len(), run.requests.len()); // robots.txt, /, /b twice
    /// let replayed = Replay::builder(recording).seed(9).build().run(&config).unwrap();
    /// assert!(replayed.unrecorded.is_empty());
    /// assert_eq!(replayed.run.records.len(), run.records.len());
    /// ```
    pub fn run_recorded(&self, config: &Config, gzip: bool) -> Result<(SimRun, Vec<u8>), SimError> {
        let bytes = RecordingState::default();
        let mut writer = WarcWriter::new(bytes.clone(), gzip);
        let roots: Vec<String> = config.roots().iter().map(|r| r.to_string()).collect();
        let mut fields = vec![("software", "crawler-sim")];
        fields.extend(roots.iter().map(|r| (ROOT_FIELD, r.as_str())));
        // Writing to memory cannot fail.
        let _ = writer.write_warcinfo(DATE, "simulated.warc", &fields);
        let writer = Rc::new(RefCell::new(writer));
        let records = Rc::new(RefCell::new(Vec::new()));
        let sink = records.clone();
        let running = self.start_wrapped(
            config,
            None,
            move |r| sink.borrow_mut().push(r.clone()),
            move |network| SimRecorder {
                inner: network,
                writer,
            },
        );
        let mut run = running.finish()?;
        run.records = std::mem::take(&mut *records.borrow_mut());
        let warc = std::mem::take(&mut *bytes.0.borrow_mut());
        Ok((run, warc))
    }
}

/// Writes every exchange of `inner` to the shared WARC writer as it completes.
struct SimRecorder<T> {
    inner: T,
    writer: Writer,
}

impl<T> SimRecorder<T> {
    fn write(&self, url: &str, result: &Result<Response, FetchError>) {
        let error;
        let outcome = match result {
            Ok(r) => Attempt::Response {
                status: r.status,
                headers: &r.headers,
                body: &r.body,
                truncated: r.truncated,
            },
            Err(e) => {
                error = e.to_string();
                Attempt::Failed { error: &error }
            }
        };
        write(&self.writer, url, outcome);
    }
}

fn write(writer: &Writer, url: &str, outcome: Attempt<'_>) {
    let exchange = Exchange {
        url,
        date: DATE,
        request_headers: &[],
        outcome,
    };
    // Writing to memory cannot fail.
    let _ = writer.borrow_mut().write_exchange(&exchange);
}

/// A request under way; dropped while still open, the crawl abandoned it.
struct Unwritten<'a> {
    writer: &'a Writer,
    url: String,
    open: bool,
}

impl Drop for Unwritten<'_> {
    fn drop(&mut self) {
        if self.open {
            write(self.writer, &self.url, Attempt::Failed { error: ABANDONED });
        }
    }
}

impl<T: Transport> Transport for SimRecorder<T> {
    async fn fetch(&self, request: Request) -> Result<Response, FetchError> {
        let mut pending = Unwritten {
            writer: &self.writer,
            url: request.url.to_string(),
            open: true,
        };
        let result = self.inner.fetch(request).await;
        pending.open = false;
        self.write(&pending.url, &result);
        result
    }
}
