//! The crawl engine: a frontier, `max_tasks` fetches in flight, redirects, retries, and a crawl that
//! ends when nothing is left.
//!
//! [`Crawler::run`] is one future. Fetch jobs are multiplexed inside it with a `FuturesUnordered`;
//! their results come back to one loop that owns all crawl state (`&mut`, no locks, no `Rc`), turns
//! each into a [`Record`], and feeds new URLs to the frontier. The engine depends only on the
//! [`Transport`] and [`Clock`] it is given: no sockets, no wall clock, no randomness, no spawning.
//!
//! The loop, as in the 500 Lines crawler but in one task:
//!
//! 1. start jobs from the frontier until `max_tasks` are in flight (or `max_pages` were started);
//! 2. if nothing is in flight, the crawl is over: the frontier is empty (or capped);
//! 3. wait for the next job (or the stop signal), record it, discover its links or redirect target.
//!
//! ```
//! use crawler::{Clock, Config, Crawler, FetchError, Request, Response, Transport};
//! use std::time::Duration;
//!
//! struct Site;
//! impl Transport for Site {
//!     async fn fetch(&self, req: Request) -> Result<Response, FetchError> {
//!         Ok(match req.url.path() {
//!             "/" => Response::new(200)
//!                 .with_header("content-type", "text/html")
//!                 .with_body(r#"<a href="/a">a</a> <a href="/old">old</a>"#),
//!             "/old" => Response::new(301).with_header("location", "/a"),
//!             _ => Response::new(404),
//!         })
//!     }
//! }
//! struct Frozen;
//! impl Clock for Frozen {
//!     fn now(&self) -> Duration { Duration::ZERO }
//!     async fn sleep(&self, _: Duration) {}
//! }
//!
//! let config = Config::builder().root("http://h/").build().unwrap();
//! let crawler = Crawler::new(config, Site, Frozen);
//! let mut urls = Vec::new();
//! let summary = futures_executor::block_on(crawler.run(|r, _| urls.push(r.url.clone())));
//! assert_eq!(urls, ["http://h/", "http://h/a", "http://h/old"]);
//! assert_eq!(summary.redirects, 1);
//! ```

mod fetch;
mod frontier;
mod rng;
mod schedule;
mod stop;
mod traps;

use std::pin::pin;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use futures_util::stream::FuturesUnordered;
use url::Url;

use crate::clock::Clock;
use crate::config::Config;
use crate::links;
use crate::normalize;
use crate::report::{Record, Summary};
use crate::scope::Scope;
use crate::transport::{FetchError, Response, Transport};
use fetch::Fetched;
use frontier::{Label, State, Table};
use rng::Rng;
use schedule::{Job, Scheduler};

pub use stop::Stop;

/// Where the crawl stands, handed to the record callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// URLs fetched so far (records emitted, this one included).
    pub done: u64,
    /// Requests in flight now.
    pub in_flight: usize,
    /// URLs waiting (queued, or waiting to be retried).
    pub queued: usize,
}

/// A crawler: configuration, transport and clock. See the [module documentation](self).
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

    /// Crawls until the frontier is empty and nothing is in flight. `on_record` is called once per
    /// fetched URL, as soon as its outcome is known.
    pub async fn run(&self, on_record: impl FnMut(&Record, &Progress)) -> Summary {
        self.run_until(None, on_record).await
    }

    /// Like [`run`](Self::run), but returns early once `stop` is signalled: no new URL is started,
    /// requests in flight are cancelled (and counted in `todo`), and the summary says
    /// `interrupted`.
    pub async fn run_until(
        &self,
        stop: Option<&Stop>,
        mut on_record: impl FnMut(&Record, &Progress),
    ) -> Summary {
        let config = &self.config;
        let start = self.clock.now();
        let mut state = CrawlState::new(config, &self.scope);
        for root in &config.roots {
            state.add_root(root.clone());
        }
        let mut stopped = pin!(stopped(stop));
        let mut in_flight = FuturesUnordered::new();
        loop {
            let now = self.clock.now();
            state.admit(now);
            state.schedule.release_due(now);
            while in_flight.len() < config.max_tasks {
                let Some(job) = state.schedule.pop(now) else {
                    break;
                };
                in_flight.push(fetch::fetch_once(
                    &self.transport,
                    &self.clock,
                    config.timeout,
                    job,
                ));
            }
            let next_due = state.schedule.next_due();
            if in_flight.is_empty() && next_due.is_none() {
                break;
            }
            // Wake for whichever comes first: a finished request, a timer (a host's delay or a
            // retry), or the stop signal. Polled in that order, so ties are deterministic.
            let timer = pin!(async {
                match next_due {
                    Some(at) => self.clock.sleep(at.saturating_sub(now)).await,
                    None => std::future::pending().await,
                }
            });
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
                    if let Some(record) = state.finish(fetched, now) {
                        let progress = Progress {
                            done: state.summary.urls,
                            in_flight: in_flight.len(),
                            queued: state.schedule.queued() + state.table.queued(),
                        };
                        on_record(&record, &progress);
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
        let not_followed = state.table.never_allowed();
        let mut summary = state.summary;
        if not_followed > 0 {
            summary.cuts.insert("not_followed".into(), not_followed);
        }
        summary.todo += (state.schedule.queued() + state.table.queued()) as u64;
        summary.elapsed = self.clock.now().saturating_sub(start);
        summary.max_tasks = config.max_tasks;
        summary
    }
}

/// Completes when `stop` is signalled; never when there is none.
async fn stopped(stop: Option<&Stop>) {
    match stop {
        Some(stop) => stop.wait().await,
        None => std::future::pending().await,
    }
}

/// Everything the crawl loop owns and mutates.
struct CrawlState<'a> {
    config: &'a Config,
    scope: &'a Scope,
    table: Table,
    schedule: Scheduler,
    rng: Rng,
    summary: Summary,
    /// URLs handed to the scheduler so far (for `max_pages`).
    admitted: u64,
    /// Scratch list for labels passed on by [`Table::offer`].
    follow_up: Vec<(u32, Label)>,
}

impl<'a> CrawlState<'a> {
    fn new(config: &'a Config, scope: &'a Scope) -> Self {
        CrawlState {
            config,
            scope,
            table: Table::default(),
            schedule: Scheduler::new(config.max_per_host.unwrap_or(usize::MAX), config.delay),
            rng: Rng::new(config.seed),
            summary: Summary::default(),
            admitted: 0,
            follow_up: Vec::new(),
        }
    }

    /// Moves newly queued URLs to the scheduler, up to `max_pages` in all.
    fn admit(&mut self, now: Duration) {
        let max_pages = self.config.max_pages.unwrap_or(u64::MAX);
        while self.admitted < max_pages {
            let Some((id, url)) = self.table.pop() else {
                break;
            };
            self.admitted += 1;
            let (host, _new) = self.schedule.host_of(&url);
            let per_host = self.schedule.admit(host);
            if self
                .config
                .max_pages_per_host
                .is_some_and(|max| per_host > max)
            {
                self.table.finish(id, State::Cut);
                *self
                    .summary
                    .cuts
                    .entry("pages_per_host".into())
                    .or_default() += 1;
                continue;
            }
            let job = Job {
                id,
                url,
                host,
                try_no: 1,
            };
            self.schedule.push(job, now);
        }
    }

    /// Takes a finished request: schedules a retry, or turns it into the URL's record.
    fn finish(&mut self, fetched: Fetched, now: Duration) -> Option<Record> {
        self.summary.requests += 1;
        self.schedule.finish(fetched.job.host, now);
        let job = &fetched.job;
        if job.try_no < self.config.max_tries && fetch::retryable(&fetched.outcome) {
            let next_try = job.try_no + 1;
            let wait = fetch::retry_wait(self.config, &fetched.outcome, next_try, &mut self.rng);
            let job = Job {
                try_no: next_try,
                ..fetched.job
            };
            self.schedule.retry_at(job, now + wait);
            return None;
        }
        Some(self.complete(fetched.job, fetched.outcome))
    }

    fn add_root(&mut self, url: Url) {
        // Roots are fetched even when the exclude pattern matches them: the user named them.
        let id = self.table.intern(&url, |_| true).id();
        let label = Label {
            depth: 0,
            budget: self.config.max_redirect,
        };
        self.offer(id, label, Some(url));
    }

    /// The id of a discovered URL; a new one is checked against the scope and the trap rules
    /// (cuts are counted).
    fn intern(&mut self, url: &Url) -> u32 {
        let (scope, config, cuts) = (self.scope, self.config, &mut self.summary.cuts);
        let allowed = |u: &Url| {
            if !scope.allows(u) {
                return false;
            }
            match traps::check(u, config) {
                Some(trap) => {
                    *cuts.entry(trap.as_str().to_string()).or_default() += 1;
                    false
                }
                None => true,
            }
        };
        self.table.intern(url, allowed).id()
    }

    /// Offers `label` to `id`, then passes on whatever improved labels that releases. Returns
    /// `true` when `id` itself was queued.
    fn offer(&mut self, id: u32, label: Label, url: Option<Url>) -> bool {
        let (max_redirect, max_depth) = (self.config.max_redirect, self.config.max_depth);
        let queued = self
            .table
            .offer(id, label, url, &mut self.follow_up, max_redirect, max_depth);
        while let Some((id, label)) = self.follow_up.pop() {
            self.table.offer(
                id,
                label,
                None,
                &mut self.follow_up,
                max_redirect,
                max_depth,
            );
        }
        queued
    }

    /// Turns a URL's last try into its record and feeds what it found to the frontier.
    fn complete(&mut self, job: Job, outcome: Result<Response, FetchError>) -> Record {
        let Job {
            id,
            url,
            try_no: tries,
            ..
        } = job;
        let depth = self.table.entry(id).depth();
        self.summary.urls += 1;
        let response = match outcome {
            Ok(response) => response,
            Err(error) => {
                self.summary.failures += 1;
                *self
                    .summary
                    .failures_by_kind
                    .entry(error.kind.as_str().to_string())
                    .or_default() += 1;
                self.table.finish(id, State::Fetched);
                return Record::failure(url.as_str(), tries, depth, error.to_string());
            }
        };
        let mut record = Record::response(url.as_str(), response.status, tries, depth);
        record.content_type = response.media_type();
        record.size = Some(response.body.len() as u64);
        record.truncated = response.truncated;
        self.summary.truncated += u64::from(response.truncated);
        *self
            .summary
            .status_classes
            .entry(format!("{}xx", response.status / 100))
            .or_default() += 1;
        let success = (200..300).contains(&response.status);
        let html = record.content_type.as_deref().is_some_and(links::is_html);
        if matches!(response.status, 301 | 302 | 303 | 307 | 308) {
            self.redirect(id, &url, &response, &mut record);
        } else if success && html {
            self.summary.html += 1;
            self.summary.html_bytes += response.body.len() as u64;
            self.links(id, &url, depth, &response, &mut record);
        } else {
            if success {
                self.summary.other += 1;
                self.summary.other_bytes += response.body.len() as u64;
            } else {
                self.summary.error_status += 1;
            }
            self.table.finish(id, State::Fetched);
        }
        record
    }

    fn redirect(&mut self, id: u32, url: &Url, response: &Response, record: &mut Record) {
        let location = response.header("location");
        let Some(target) =
            location.and_then(|l| normalize::resolve_with(url, l, self.config.canon()))
        else {
            self.summary.bad_redirects += 1;
            record.error = Some(match location {
                Some(l) => format!("redirect with unusable location {l:?}"),
                None => "redirect without location".to_string(),
            });
            self.table.finish(id, State::Redirected(None));
            return;
        };
        self.summary.redirects += 1;
        record.location = Some(target.to_string());
        let target_id = self.intern(&target);
        self.table.finish(id, State::Redirected(Some(target_id)));
        let labels: Vec<Label> = self.table.entry(id).labels().to_vec();
        let mut followed = false;
        for label in labels.into_iter().filter(|l| l.budget > 0) {
            followed = true;
            let next = Label {
                depth: label.depth,
                budget: label.budget - 1,
            };
            self.offer(target_id, next, Some(target.clone()));
        }
        if !followed {
            self.summary.redirect_cuts += 1;
            record.error = Some(format!(
                "redirect limit reached (max_redirect={})",
                self.config.max_redirect
            ));
        }
    }

    fn links(&mut self, id: u32, url: &Url, depth: u32, response: &Response, record: &mut Record) {
        self.table.finish(id, State::Fetched);
        let found = links::extract(&response.body);
        let base = links::base_url(url, found.base.as_deref());
        let follow = self.config.max_depth.is_none_or(|max| depth < max);
        let keep_out_links = self.config.max_depth.is_some();
        let next = Label {
            depth: depth + 1,
            budget: self.config.max_redirect,
        };
        let canon = self.config.canon();
        let (mut count, mut new) = (0u32, 0u32);
        let mut out_links = Vec::new();
        for href in &found.hrefs {
            let Some(link) = normalize::resolve_with(&base, href, canon) else {
                continue;
            };
            count += 1;
            let link_id = self.intern(&link);
            if keep_out_links {
                out_links.push(link_id);
            }
            if follow && self.offer(link_id, next, Some(link)) {
                new += 1;
            }
        }
        if keep_out_links {
            self.table.set_out_links(id, out_links);
        }
        record.links = Some(count);
        record.new_links = Some(new);
    }
}

#[cfg(test)]
mod tests;
