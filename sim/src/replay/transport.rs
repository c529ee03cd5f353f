//! [`ReplayTransport`]: a [`Transport`] that answers from a [`Recording`], in virtual time.
//!
//! What each request gets is documented on [`ReplayTransport`]. The bookkeeping (request log,
//! in-flight count kept by an RAII guard, trace events) is the simulated network's, so a replay
//! can be checked with the same tools as a simulated crawl.

use std::cell::{Ref, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crawler::normalize::{Canon, parse_root_with};
use crawler::{FetchError, FetchErrorKind, Record, Request, Response, Transport};
use crawler_site::Latency;
use url::Url;

use super::recording::{Recorded, Recording};
use crate::client::Answer;
use crate::clock::VirtualClock;
use crate::net::LoggedRequest;
use crate::rng::Rng;
use crate::running::Observed;
use crate::trace::{Trace, TraceEvent};

/// The message of the error a request that was never recorded gets.
pub const NOT_RECORDED: &str = "not in the recording";

/// Serves a recording to the engine. Clones share the same replay (the engine holds one, the
/// replay another to read the log). Made by [`crate::Replay`].
///
/// Each request, on its first poll, is logged, counted in flight, and looked up by URL (the
/// recording's URLs normalised as the crawl normalises, so `--sort-query` still matches). The
/// `n`th request for a URL gets the `n`th recorded try (a URL tried twice, 500 then 200, gets
/// 500 then 200); once the tries run out, the last one repeats and the URL is listed as
/// *exhausted*. A recorded response is decoded as the real transport decodes it (see `decode`),
/// a recorded failure comes back as the recorded [`FetchError`], and a request the recorded
/// crawl abandoned hangs until the engine's timeout abandons it again. A request that wants an
/// HTML body only (`--html-bodies-only`) gets a response that is not HTML without its body
/// (`body_skipped`), as from the real transport.
///
/// A URL that was never recorded fails with `other: not in the recording` and is listed as
/// *unrecorded*: never a made-up 404, which would look like a real answer. Every answer waits
/// for a latency from the simulator's seeded model (one draw per request, from the run's one
/// [`Rng`]), so a replay runs in virtual time and the same seed gives the same trace.
#[derive(Debug, Clone)]
pub struct ReplayTransport {
    net: Rc<ReplayNet>,
}

#[derive(Debug)]
struct ReplayNet {
    clock: VirtualClock,
    recording: Rc<Recording>,
    /// Normalised URL to its slot in `tries`; lookups only, nothing iterates it.
    index: BTreeMap<String, usize>,
    /// Per URL: indices of its recorded tries in `recording`, in order.
    tries: Vec<Vec<usize>>,
    latency: Latency,
    max_body: usize,
    rng: RefCell<Rng>,
    trace: RefCell<Trace>,
    server: RefCell<ReplayServer>,
}

/// What the replay server knows.
#[derive(Debug, Default)]
struct ReplayServer {
    log: Vec<LoggedRequest>,
    /// Requests so far, by slot.
    served: Vec<u32>,
    in_flight: usize,
    max_in_flight: usize,
    unrecorded: Listed,
    exhausted: Listed,
}

/// URLs in the order first met, each once.
#[derive(Debug, Default)]
struct Listed {
    urls: Vec<Url>,
    seen: BTreeSet<String>,
    /// Requests counted, repeats included.
    requests: u64,
}

impl Listed {
    fn add(&mut self, url: &Url) {
        self.requests += 1;
        if self.seen.insert(url.as_str().to_string()) {
            self.urls.push(url.clone());
        }
    }
}

impl ReplayTransport {
    pub(crate) fn new(
        recording: Rc<Recording>,
        canon: Canon,
        clock: VirtualClock,
        seed: u64,
        latency: Latency,
        max_body: usize,
        text: bool,
    ) -> Self {
        let mut index = BTreeMap::new();
        let mut tries: Vec<Vec<usize>> = Vec::new();
        for (i, (url, _)) in recording.exchanges().iter().enumerate() {
            // Already normalised with the default canon; this only adds the crawl's options.
            let key = parse_root_with(url.as_str(), canon)
                .map_or_else(|_| url.to_string(), |u| u.to_string());
            let slot = *index.entry(key).or_insert_with(|| {
                tries.push(Vec::new());
                tries.len() - 1
            });
            tries[slot].push(i);
        }
        let server = ReplayServer {
            served: vec![0; tries.len()],
            ..ReplayServer::default()
        };
        ReplayTransport {
            net: Rc::new(ReplayNet {
                clock,
                recording,
                index,
                tries,
                latency,
                max_body,
                rng: RefCell::new(Rng::new(seed)),
                trace: RefCell::new(Trace::new(text)),
                server: RefCell::new(server),
            }),
        }
    }

    /// Every request so far, in the order they reached the replay.
    pub fn requests(&self) -> Ref<'_, [LoggedRequest]> {
        Ref::map(self.net.server.borrow(), |s| s.log.as_slice())
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.net.server.borrow().in_flight
    }

    /// The most requests ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.net.server.borrow().max_in_flight
    }

    /// URLs requested that the recording does not have, in the order first requested.
    pub fn unrecorded(&self) -> Vec<Url> {
        self.net.server.borrow().unrecorded.urls.clone()
    }

    /// Requests for URLs the recording does not have, repeats (retries) included.
    pub fn unrecorded_requests(&self) -> u64 {
        self.net.server.borrow().unrecorded.requests
    }

    /// URLs requested more often than they were recorded (their last try was served again), in
    /// the order first met.
    pub fn exhausted(&self) -> Vec<Url> {
        self.net.server.borrow().exhausted.urls.clone()
    }

    /// The trace so far.
    pub fn trace(&self) -> Ref<'_, Trace> {
        self.net.trace.borrow()
    }
}

impl Observed for ReplayTransport {
    fn in_flight(&self) -> usize {
        ReplayTransport::in_flight(self)
    }

    fn max_in_flight(&self) -> usize {
        ReplayTransport::max_in_flight(self)
    }

    fn trace_hash(&self) -> u64 {
        self.net.trace.borrow().hash()
    }

    fn take_trace_text(&self) -> Option<String> {
        self.net.trace.borrow_mut().take_text()
    }

    fn take_requests(&self) -> Vec<LoggedRequest> {
        std::mem::take(&mut self.net.server.borrow_mut().log)
    }

    fn trace_record(&self, record: &Record) {
        self.net.trace.borrow_mut().event(
            self.net.clock.now(),
            TraceEvent::Record {
                url: &record.url,
                status: record.status,
                tries: record.tries,
                location: record.location.as_deref(),
                error: record.error.as_deref(),
            },
        );
    }
}

impl ReplayNet {
    /// Logs the request, counts it in flight, and decides its answer and delay. Returns the
    /// request's index in the log.
    fn begin(&self, request: Request) -> (usize, Duration, Answer) {
        let now = self.clock.now();
        let html_only = request.html_body_only;
        let url = request.url;
        let extra = self
            .rng
            .borrow_mut()
            .exponential(self.latency.mean_ms - self.latency.min_ms);
        let delay_ms = self.latency.min_ms + extra;
        let mut server = self.server.borrow_mut();
        let answer = match self.index.get(url.as_str()) {
            None => {
                server.unrecorded.add(&url);
                let error = FetchError::new(FetchErrorKind::Other, NOT_RECORDED);
                Answer::Fail(error, "unrecorded")
            }
            Some(&slot) => {
                let tries = &self.tries[slot];
                let n = server.served[slot] as usize;
                server.served[slot] = server.served[slot].saturating_add(1);
                if n >= tries.len() {
                    server.exhausted.add(&url);
                }
                // A slot exists only for a URL with at least one try.
                let at = tries[n.min(tries.len() - 1)];
                self.answer(&self.recording.exchanges()[at].1, html_only)
            }
        };
        let mut trace = self.trace.borrow_mut();
        trace.event(now, TraceEvent::Request { url: url.as_str() });
        if let Answer::Hang = answer {
            let fault = "drop";
            trace.event(
                now,
                TraceEvent::Fault {
                    url: url.as_str(),
                    fault,
                },
            );
        }
        server.in_flight += 1;
        server.max_in_flight = server.max_in_flight.max(server.in_flight);
        server.log.push(LoggedRequest {
            at: now,
            url,
            ended: None,
        });
        // Whole microseconds, as the simulated network: the trace must not hinge on the last
        // bits of a logarithm.
        let delay = Duration::from_micros((delay_ms.max(0.0) * 1000.0).round() as u64);
        (server.log.len() - 1, delay, answer)
    }

    /// The answer to a recorded try; with `html_only`, a body that is not HTML is skipped, as
    /// the real transport skips it (before decoding, so it cannot fail the fetch).
    fn answer(&self, recorded: &Recorded, html_only: bool) -> Answer {
        match recorded {
            Recorded::Response {
                status,
                headers,
                wire,
                truncated,
            } => {
                let mut sent = Response::new(*status);
                sent.headers = Arc::clone(headers);
                sent.body = wire.clone();
                match Answer::received(sent, html_only, self.max_body) {
                    Answer::Respond(mut response) => {
                        response.truncated |= *truncated && !response.body_skipped;
                        Answer::Respond(response)
                    }
                    other => other,
                }
            }
            Recorded::Failed(error) => Answer::Fail(error.clone(), error.kind.as_str()),
            Recorded::Abandoned => Answer::Hang,
        }
    }

    /// Traces the answer to request `index` and turns it into the transport's result.
    fn complete(&self, index: usize, answer: Answer) -> Result<Response, FetchError> {
        let server = self.server.borrow();
        let url = server.log[index].url.as_str();
        answer.complete(&mut self.trace.borrow_mut(), self.clock.now(), url)
    }
}

/// Counts a request in flight for as long as its future lives.
struct ReplayInFlight<'a> {
    net: &'a ReplayNet,
    index: usize,
    completed: bool,
}

impl Drop for ReplayInFlight<'_> {
    fn drop(&mut self) {
        let mut server = self.net.server.borrow_mut();
        server.in_flight -= 1;
        server.log[self.index].ended = Some(self.net.clock.now());
        if !self.completed {
            let url = server.log[self.index].url.as_str();
            let now = self.net.clock.now();
            self.net
                .trace
                .borrow_mut()
                .event(now, TraceEvent::Abandoned { url });
        }
    }
}

impl Transport for ReplayTransport {
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response, FetchError>> {
        let net = &*self.net;
        // An async block does nothing until its first poll: that is when the replay sees it.
        async move {
            let (index, delay, answer) = net.begin(request);
            let mut guard = ReplayInFlight {
                net,
                index,
                completed: false,
            };
            if let Answer::Hang = answer {
                std::future::pending::<()>().await;
            }
            net.clock.sleep(delay).await;
            guard.completed = true;
            net.complete(index, answer)
        }
    }
}
