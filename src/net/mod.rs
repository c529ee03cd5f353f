//! The real network: [`SurfTransport`] (surf on async-std) and [`RealClock`], feature `http`.
//!
//! The engine only knows the [`Transport`](crate::Transport) and [`Clock`](crate::Clock) seams;
//! this module fills them for real crawls. A fetch is one `GET` through a surf `Client` with an
//! empty middleware stack (so surf never follows a redirect: a 3xx comes back as it arrived),
//! `Accept-Encoding: gzip, deflate`, the configured `User-Agent`, and the body read in chunks,
//! each under the read timeout, decoded and cut at `max_body` as it streams (see `body`).
//! Failures become a [`FetchErrorKind`](crate::FetchErrorKind) (see `error`).
//!
//! # Backend
//!
//! surf runs on libcurl by default ([`Backend::Curl`]); `async-h1` ([`Backend::H1`]) can be
//! chosen with the hidden `--backend h1` flag for comparison. async-h1 reads no body that is
//! delimited by the connection closing (it returns it empty), cannot bound connect time, and
//! returns a pooled connection whose response was abandoned mid-way to the pool; curl has none of
//! these problems.
//!
//! ```no_run
//! use crawler::net::{HttpOptions, RealClock, SurfTransport};
//! use crawler::{Config, Crawler};
//!
//! let transport = SurfTransport::new(HttpOptions::default()).unwrap();
//! let config = Config::builder().root("http://127.0.0.1:8080/").build().unwrap();
//! let crawler = Crawler::new(config, transport, RealClock::new());
//! let summary = async_std::task::block_on(crawler.run(|record, _| println!("{}", record.url)));
//! println!("{} urls", summary.urls);
//! ```

mod body;
mod clock;
mod curl;
mod error;
mod transport;

pub use clock::RealClock;
pub use transport::{Backend, HttpOptions, NetError, SurfTransport};
