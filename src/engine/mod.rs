//! The crawl engine: a frontier, `max_tasks` fetches in flight, redirects, retries, and a crawl that
//! ends when nothing is left.
//!
//! [`Crawler::run`] is one future. Fetch jobs are multiplexed inside it with a `FuturesUnordered`;
//! their results come back to one loop that owns all crawl state (`&mut`, no locks), turns
//! each into a [`Record`], and feeds new URLs to the frontier. The engine depends only on the
//! [`Transport`] and [`Clock`] it is given: no sockets, no wall clock, no OS randomness, no spawning.
//!
//! The loop and an example are documented on [`Crawler`].

mod event;
mod fetch;
mod frontier;
mod memo;
mod rng;
mod robots;
mod schedule;
mod shared_run;
mod shared_side;
mod shared_view;
mod shortcut;
mod sitemap;
mod state;
mod stop;
mod traps;

use std::pin::pin;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use futures_util::stream::FuturesUnordered;

use crate::clock::Clock;
use crate::config::Config;
use crate::report::Summary;
use crate::scope::Scope;
use crate::store::{NoStore, Store};
use crate::transport::Transport;
use state::CrawlState;

pub use event::{Event, FetchKind, OutLink, Progress};
pub use shared_run::{POLL, WorkerOptions};
pub use shared_view::{OBSERVER, SharedView};
pub use stop::Stop;

/// A crawler: configuration, transport and clock.
///
/// The loop, as in the 500 Lines crawler but in one task:
///
/// 1. start jobs from the frontier until `max_tasks` are in flight (or `max_pages` were started);
/// 2. if nothing is in flight, the crawl is over: the frontier is empty (or capped);
/// 3. wait for the next job (or the stop signal), record it, discover its links or redirect target.
///
/// ```
/// use crawler::{Clock, Config, Crawler, FetchError, Request, Response, Transport};
/// use std::time::Duration;
///
/// struct Site;
/// impl Transport for Site {
///     async fn fetch(&self, req: Request) -> Result<Response, FetchError> {
///         Ok(match req.url.path() {
///             "/" => Response::new(200)
///                 .with_header("content-type", "text/html")
///                 .with_body(r#"<a href="/a">a</a> <a href="/old">old</a>"#),
///             "/old" => Response::new(301).with_header("location", "/a"),
///             _ => Response::new(404),
///         })
///     }
/// }
/// struct Frozen;
/// impl Clock for Frozen {
///     fn now(&self) -> Duration { Duration::ZERO }
///     async fn sleep(&self, _: Duration) {}
/// }
///
/// let config = Config::builder().root("http://h/").build().unwrap();
/// let crawler = Crawler::new(config, Site, Frozen);
/// let mut urls = Vec::new();
/// let summary = futures_executor::block_on(crawler.run(|e| urls.push(e.record.url.clone())));
/// // robots.txt first (a 404 here: everything allowed), then the pages.
/// assert_eq!(urls, ["http://h/robots.txt", "http://h/", "http://h/a", "http://h/old"]);
/// assert_eq!(summary.redirects, 1);
/// ```
#[derive(Debug)]
pub struct Crawler<T, C> {
    config: Config,
    scope: Scope,
    transport: T,
    clock: C,
}

impl<T: Transport, C: Clock> Crawler<T, C> {
    /// A crawler that fetches through `transport` and keeps time with `clock`.
    pub fn new(config: Config, transport: T, clock: C) -> Self {
        let scope = config.scope();
        Crawler {
            config,
            scope,
            transport,
            clock,
        }
    }

    /// The configuration this crawler runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The transport (for inspection after a run).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Crawls until the frontier is empty and nothing is in flight. `on_event` is called once
    /// per fetched URL, as soon as its outcome is known (see [`Event`]).
    pub async fn run(&self, on_event: impl FnMut(&Event<'_>)) -> Summary {
        self.run_until(None, on_event).await
    }

    /// Like [`run`](Self::run), but returns early once `stop` is signalled: no new URL is started,
    /// requests in flight are cancelled (and counted in `todo`), and the summary says
    /// `interrupted`.
    pub async fn run_until(
        &self,
        stop: Option<&Stop>,
        on_event: impl FnMut(&Event<'_>),
    ) -> Summary {
        self.run_with_store(stop, &mut NoStore, on_event).await
    }

    /// Like [`run_until`](Self::run_until), with `store` as the crawl's durable memory (see
    /// [`crate::store`]): every URL finished is handed to it, and every URL an earlier run over
    /// the same store finished is redone from it rather than fetched, its event saying
    /// [`Event::replayed`].
    pub async fn run_with_store(
        &self,
        stop: Option<&Stop>,
        store: &mut dyn Store,
        mut on_event: impl FnMut(&Event<'_>),
    ) -> Summary {
        let config = &self.config;
        let start = self.clock.now();
        let mut state = CrawlState::seeded(config, &self.scope, store, start);
        let mut stopped = pin!(stopped(stop));
        let mut in_flight = FuturesUnordered::new();
        loop {
            let now = self.clock.now();
            state.admit(now);
            // What earlier runs finished is redone first, at once: no transport, no slot, no
            // delay; what it finds is admitted in turn.
            while let Some((job, kept)) = state.replay.pop_front() {
                if stop.is_some_and(Stop::is_stopped) {
                    // Left to do: the next run replays it.
                    state.replay.push_front((job, kept));
                    break;
                }
                let done = state.finish_kept(job, kept, now);
                on_event(&state.event(&done, state.progress(in_flight.len(), 0)));
                state.admit(now);
            }
            state.schedule.release_due(now);
            while in_flight.len() < config.max_tasks {
                let Some(job) = state.next_job(now) else {
                    break;
                };
                in_flight.push(fetch::fetch_once(&self.transport, &self.clock, config, job));
            }
            let next_due = state.schedule.next_due();
            if in_flight.is_empty() && next_due.is_none() {
                break;
            }
            // Wake for whichever comes first: a finished request, a timer (a host's delay or a
            // retry), or the stop signal. Polled in that order, so ties are deterministic.
            let timer = pin!(sleep_until(&self.clock, next_due, now));
            let next_done = pin!(async {
                if in_flight.is_empty() {
                    // An empty FuturesUnordered yields `None` at once; wait for the timer instead.
                    std::future::pending().await
                } else {
                    in_flight.next().await
                }
            });
            let event = select(next_done, timer);
            match select(event, stopped.as_mut()).await {
                Either::Left((Either::Left((Some(fetched), _)), _)) => {
                    let now = self.clock.now();
                    if let Some(done) = state.finish(fetched, now) {
                        state.keep(&done);
                        on_event(&state.event(&done, state.progress(in_flight.len(), 0)));
                    }
                }
                Either::Left((Either::Left((None, _)), _))
                | Either::Left((Either::Right(_), _)) => {}
                Either::Right(((), _)) => {
                    state.summary.interrupted = true;
                    state.summary.todo += in_flight.len() as u64;
                    break;
                }
            }
        }
        state.end_summary(self.clock.now().saturating_sub(start), 0)
    }
}

/// Sleeps on `clock` until `at` (`now` being the time now); never wakes without one.
pub(super) async fn sleep_until<C: Clock>(clock: &C, at: Option<Duration>, now: Duration) {
    match at {
        Some(at) => clock.sleep(at.saturating_sub(now)).await,
        None => std::future::pending().await,
    }
}

/// Completes when `stop` is signalled; never when there is none.
async fn stopped(stop: Option<&Stop>) {
    match stop {
        Some(stop) => stop.wait().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_events;
#[cfg(test)]
mod tests_links;
#[cfg(test)]
mod tests_robots;
#[cfg(test)]
mod tests_shared;
#[cfg(test)]
mod tests_store;
