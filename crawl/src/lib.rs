//! The `crawl` command as a library: the engine ([`crawler`]) on the real network
//! ([`crawler_http`]), with the options and outputs `crawl-sim` shares ([`crawler_cli`]).
//!
//! - [`app`]: flags, the crawl over real HTTP, progress, Ctrl-C, the report and exit codes;
//! - [`demo`]: `crawl demo`, a sample site ([`crawler_site`]) served on 127.0.0.1;
//! - [`state`]: `crawl --state DIR`, the crawl state on disk ([`crawler_store`]) and the rules of
//!   a resume;
//! - [`workers`]: `crawl --redis URL --crawl-id NAME`, one worker of a crawl shared through
//!   Redis ([`crawler_redis`]).
//!
//! `src/main.rs` parses [`app::Cli`], calls [`app::run`] and maps the result to an exit code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

pub mod app;
pub mod demo;
pub mod state;
pub mod workers;
