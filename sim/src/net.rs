//! The simulated network: a [`Transport`] that serves a [`Site`] in virtual time.
//!
//! Each request, on its first poll, is logged, counted in flight, and planned: the host may be
//! unreachable (connection refused), the page may have a script (its `n`th request gets the
//! `n`th outcome), or the fault rates may strike (one uniform draw picks drop, reset, 503, 429,
//! a body cut mid-way, slow, or nothing), unless the request comes after the faults' `until_ms`.
//! A response then goes through the real client's rules ([`crate::client`]: HTML bodies only
//! when asked, no body for 204 and 304, content decoding, the body cap), and the answer waits for
//! a latency of `min_ms` plus an exponential extra, drawn from the run's one [`Rng`]. A dropped
//! request never answers; the engine's timeout abandons it. A body cut mid-way is a transport
//! error (`reset`, "connection closed mid-body") after the latency.
//!
//! The transport keeps the **server-side truth**, independent of the engine: a log of every
//! request (virtual time and URL), the number of requests in flight now, and the most ever. A
//! request counts as in flight from its first poll until it completes or is dropped (an RAII
//! guard in the future decrements it), so the property tests can check the engine's
//! `max_tasks` against what the server saw, not against what the engine believes.

use std::cell::{Ref, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use crawler::{FetchError, FetchErrorKind, Record, Request, Response, Transport};
use crawler_site::{Faults, Latency, Scripted, Site, not_found};
use url::Url;

use crate::client::Answer;
use crate::clock::VirtualClock;
use crate::rng::Rng;
use crate::running::Observed;
use crate::trace::{Trace, TraceEvent};

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// Virtual time of the request's first poll.
    pub at: Duration,
    /// The URL requested.
    pub url: Url,
    /// Virtual time the request ended: answered, or abandoned by the engine (`None` while in
    /// flight).
    pub ended: Option<Duration>,
}

/// A simulated network serving one site. Clones share the same network (the engine holds one,
/// the simulation another to read the log). Made by [`crate::Sim`].
#[derive(Debug, Clone)]
pub struct SimTransport {
    net: Rc<Net>,
}

#[derive(Debug)]
struct Net {
    clock: VirtualClock,
    site: Rc<Site>,
    latency: Latency,
    /// Fault rates for URLs without their own.
    faults: Faults,
    /// Decoded body bytes kept per response, as the real transport's `max_body`.
    max_body: usize,
    rng: RefCell<Rng>,
    trace: RefCell<Trace>,
    server: RefCell<Server>,
}

/// What the server knows.
#[derive(Debug, Default)]
struct Server {
    log: Vec<LoggedRequest>,
    /// Requests so far, by page index (for scripts).
    counts: Vec<u32>,
    in_flight: usize,
    max_in_flight: usize,
}

impl SimTransport {
    pub(crate) fn new(
        site: Rc<Site>,
        clock: VirtualClock,
        seed: u64,
        latency: Latency,
        faults: Faults,
        max_body: usize,
        text: bool,
    ) -> Self {
        let server = Server {
            counts: vec![0; site.pages().len()],
            ..Server::default()
        };
        SimTransport {
            net: Rc::new(Net {
                clock,
                site,
                latency,
                faults,
                max_body,
                rng: RefCell::new(Rng::new(seed)),
                trace: RefCell::new(Trace::new(text)),
                server: RefCell::new(server),
            }),
        }
    }

    /// Every request so far, in the order they reached the server.
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

    /// The trace so far.
    pub fn trace(&self) -> Ref<'_, Trace> {
        self.net.trace.borrow()
    }
}

impl Observed for SimTransport {
    fn in_flight(&self) -> usize {
        SimTransport::in_flight(self)
    }

    fn max_in_flight(&self) -> usize {
        SimTransport::max_in_flight(self)
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

impl Net {
    /// Logs the request, counts it in flight, and decides its answer and delay. Returns the
    /// request's index in the log.
    fn begin(&self, request: Request) -> (usize, Duration, Answer) {
        let Request {
            url,
            html_body_only,
            ..
        } = request;
        let now = self.clock.now();
        let mut rng = self.rng.borrow_mut();
        let mut server = self.server.borrow_mut();
        let extra = rng.exponential(self.latency.mean_ms - self.latency.min_ms);
        let mut delay_ms = self.latency.min_ms + extra;
        let page = self.site.find(url.as_str());
        let respond = || match page {
            Some(i) => Answer::Respond(self.site.page(i).response()),
            None => Answer::Respond(self.site.generate(url.as_str()).unwrap_or_else(not_found)),
        };
        let answer = if self.site.is_unreachable(&url) {
            fail(FetchErrorKind::Connect, "refused")
        } else {
            let scripted = page.and_then(|i| {
                let n = server.counts[i];
                server.counts[i] = n.saturating_add(1);
                self.site.page(i).scripted(u64::from(n))
            });
            match scripted {
                Some(Scripted::Ok) => respond(),
                Some(Scripted::Status(status)) => Answer::Respond(Response::new(status)),
                Some(Scripted::Reset) => fail(FetchErrorKind::Reset, "reset"),
                Some(Scripted::Refused) => fail(FetchErrorKind::Connect, "refused"),
                Some(Scripted::Truncate) => fail(FetchErrorKind::Reset, "truncate"),
                Some(Scripted::Drop) => Answer::Hang,
                // Unknown future outcomes behave like "ok".
                Some(_) => respond(),
                None => {
                    let faults = page
                        .and_then(|i| self.site.page(i).faults().copied())
                        .unwrap_or(self.faults);
                    if !faults.active_at(now.as_secs_f64() * 1000.0) {
                        respond()
                    } else {
                        let mut u = rng.f64();
                        let mut hit = |rate: f64| {
                            let hit = u < rate;
                            u -= rate;
                            hit
                        };
                        let refusal = |status: u16| {
                            let mut r = Response::new(status);
                            if let Some(secs) = faults.retry_after {
                                r = r.with_header("retry-after", secs.to_string());
                            }
                            Answer::Respond(r)
                        };
                        // The order of `Faults::rates`: one draw, at most one fault.
                        if hit(faults.drop) {
                            Answer::Hang
                        } else if hit(faults.reset) {
                            fail(FetchErrorKind::Reset, "reset")
                        } else if hit(faults.error_5xx) {
                            refusal(503)
                        } else if hit(faults.error_429) {
                            refusal(429)
                        } else if hit(faults.truncate) {
                            fail(FetchErrorKind::Reset, "truncate")
                        } else {
                            if hit(faults.slow) {
                                delay_ms += faults.slow_ms;
                            }
                            respond()
                        }
                    }
                }
            }
        };
        // What the server sent, as the real client would hand it on.
        let answer = match answer {
            Answer::Respond(sent) => Answer::received(sent, html_body_only, self.max_body),
            other => other,
        };
        let mut trace = self.trace.borrow_mut();
        trace.event(now, TraceEvent::Request { url: url.as_str() });
        if let Answer::Hang = answer {
            trace.event(
                now,
                TraceEvent::Fault {
                    url: url.as_str(),
                    fault: "drop",
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
        // Whole microseconds: the trace must not hinge on the last bits of a logarithm.
        let delay = Duration::from_micros((delay_ms * 1000.0).round() as u64);
        (server.log.len() - 1, delay, answer)
    }

    /// Traces the answer to request `index` and turns it into the transport's result.
    fn complete(&self, index: usize, answer: Answer) -> Result<Response, FetchError> {
        let server = self.server.borrow();
        let url = server.log[index].url.as_str();
        answer.complete(&mut self.trace.borrow_mut(), self.clock.now(), url)
    }
}

/// A transport error of `kind`, with the message the real transport gives it, traced as `fault`.
fn fail(kind: FetchErrorKind, fault: &'static str) -> Answer {
    let message = match (kind, fault) {
        (FetchErrorKind::Connect, _) => "connection refused",
        (_, "truncate") => "connection closed mid-body",
        _ => "connection reset by peer",
    };
    Answer::Fail(FetchError::new(kind, message), fault)
}

/// Counts a request in flight for as long as its future lives.
struct InFlight<'a> {
    net: &'a Net,
    index: usize,
    completed: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut server = self.net.server.borrow_mut();
        server.in_flight -= 1;
        server.log[self.index].ended = Some(self.net.clock.now());
        if !self.completed {
            let url = server.log[self.index].url.as_str();
            self.net
                .trace
                .borrow_mut()
                .event(self.net.clock.now(), TraceEvent::Abandoned { url });
        }
    }
}

impl Transport for SimTransport {
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response, FetchError>> {
        let net = &*self.net;
        // An async block does nothing until its first poll: that is when the server sees it.
        async move {
            let (index, delay, answer) = net.begin(request);
            let mut guard = InFlight {
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
