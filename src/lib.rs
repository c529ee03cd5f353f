//! A small, deterministic, single-threaded web crawler.
//!
//! The engine ([`Crawler`]) keeps a frontier of normalised URLs, runs up to `max_tasks` fetches at
//! once as cooperative futures on one thread, follows redirects itself (through the same scope and
//! dedup as links), retries failures with backoff, and returns when nothing is left to do. It sees
//! the world only through two seams: a [`Transport`] (one HTTP request, no redirects followed) and
//! a [`Clock`] (now and sleep). That is what lets `crawler-sim` run the very same engine against a
//! simulated network in virtual time and check, on random site graphs, that no URL is fetched
//! twice, redirect chains stop where they should, and every crawl ends.
//!
//! Parts:
//! - [`Config`]: options with documented defaults, validated by [`ConfigBuilder::build`];
//! - [`Crawler`]: the engine; [`Record`] and [`Summary`]: what it reports;
//! - [`normalize`], [`Scope`], [`links`]: what counts as the same URL, which URLs are in scope,
//!   and which links a page has;
//! - [`report`]: JSON lines and the `reporting.py`-style text report;
//! - [`body`]: response body decoding and caps, for transports;
//! - [`strids`]: the string table behind the URL table, shared with the site format;
//! - [`store`]: the crawl's durable memory, a seam: a stopped crawl goes on where it stopped;
//! - [`shared`]: one crawl shared by many workers, a seam: leases, fencing and a log of
//!   completions.
//!
//! The rest of the workspace does one job per package around this one: `crawler-http` (the
//! real transport and clock), `crawler-warc` (recordings; it needs nothing of the engine),
//! `crawler-site` (site files), `crawler-cli` (options and outputs), `crawl` (the command) and
//! `crawler-sim` (the simulator).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod body;
mod clock;
mod config;
mod engine;
pub mod links;
pub mod normalize;
mod problem;
pub mod report;
mod scope;
pub mod shared;
pub mod store;
pub mod strids;
mod transport;

pub use clock::Clock;
pub use config::{Config, ConfigBuilder, ConfigError, DEFAULT_USER_AGENT};
pub use engine::{
    Crawler, Event, FetchKind, OBSERVER, OutLink, POLL, Progress, SharedView, Stop, WorkerOptions,
};
pub use problem::{Cut, Problem, StatusClass};
pub use report::{Record, Summary};
pub use scope::{Scope, ScopeMode};
pub use shared::{
    Answer, Ask, Claim, Completion, Entry, Held, MemoryShared, Reply, Shared, SharedError,
};
pub use store::{Kept, KeptLinks, KeptRef, KeptResponse, MemoryStore, NoStore, Store};
pub use transport::{FetchError, FetchErrorKind, Request, Response, Transport, Wire};
