//! The real network: [`SurfTransport`] (surf on async-std), [`RealClock`], and [`Recorder`], which
//! writes a crawl to WARC as it goes.
//!
//! The engine only knows the [`Transport`](crawler::Transport) and [`Clock`](crawler::Clock) seams;
//! this package fills them for real crawls. A fetch is one `GET` through a surf `Client` with an
//! empty middleware stack (so surf never follows a redirect: a 3xx comes back as it arrived),
//! `Accept-Encoding: gzip, deflate`, the configured `User-Agent`, and the body read in chunks,
//! each under the read timeout, decoded and cut at `max_body` as it streams (see [`crawler::body`]). A
//! request marked [`html_body_only`](crawler::Request::html_body_only) whose response the engine
//! does not read for links (not HTML, XHTML or XML: [`format_of`](crawler::links::format_of))
//! stops after the head: the body is not read and its connection is closed (a body announced at
//! 16 KiB or less is read off and dropped instead, which keeps the connection).
//! Failures become a [`FetchErrorKind`](crawler::FetchErrorKind) (see `error`).
//!
//! Each fetch runs on one thread of the transport's own (`io_thread`), beside the engine's: the
//! engine's thread keeps the crawl's CPU work (link extraction, resolution, dedup) and awaits a
//! fetch's result, while socket syscalls, response heads and body decoding happen on the other
//! core. Dropping a fetch future (the engine's timeout, Ctrl-C) cancels the fetch there.
//!
//! # Backend
//!
//! surf runs on the crawler's own HTTP/1.1 client by default ([`Backend::Native`], module
//! `http1`); libcurl through isahc ([`Backend::Curl`]) can be chosen with the hidden
//! `--backend curl` flag, for comparison and for HTTP/2. async-h1, the other client surf offers,
//! returns an empty body for a response delimited by the connection closing, reuses connections
//! whose response was abandoned, and cannot bound connect time, so it was dropped. The own client
//! frames every body (length, chunked, close), pools only connections read to their exact end,
//! and speaks TLS through native-tls (OpenSSL, the system's roots) on the same code path, so body
//! caps, skipped bodies, wire bytes and timeouts mean the same for `http` and `https`, and
//! `https` gets the same savings: it costs under half of curl's CPU per request, over `http` and
//! `https` alike (`cargo bench -p crawler-http --bench transport`; figures in BENCHMARKS.md).
//!
//! ```no_run
//! use crawler_http::{HttpOptions, RealClock, SurfTransport};
//! use crawler::{Config, Crawler};
//!
//! let transport = SurfTransport::new(HttpOptions::default()).unwrap();
//! let config = Config::builder().root("http://127.0.0.1:8080/").build().unwrap();
//! let crawler = Crawler::new(config, transport, RealClock::new());
//! let summary = async_std::task::block_on(crawler.run(|e| println!("{}", e.record.url)));
//! println!("{} urls", summary.urls);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod clock;
mod curl;
mod error;
mod fields;
mod http1;
mod io_thread;
mod record;
mod transport;

pub use clock::RealClock;
pub use record::Recorder;
pub use transport::{Backend, HttpOptions, NetError, SurfTransport};
