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
//! chosen with the hidden `--backend h1` flag for comparison. Measured with `benches/transport.rs`
//! against nginx on 127.0.0.1 (2,080 URLs, 21 MB), async-h1 costs 29-48 µs of CPU per request and
//! curl 75-90 µs (isahc runs curl on an agent thread and hands each body across), at the same
//! memory. curl is the default all the same, because async-h1 gives silently wrong results:
//! it reads no body that is delimited by the connection closing (it returns it empty), it puts a
//! connection whose response was abandoned mid-way (body cap, timeout) back into its pool so the
//! next request on it reads the leftovers, and it cannot bound connect time. curl frames every
//! body, drops abandoned transfers, uses OpenSSL with the system's roots, and speaks HTTP/2 to TLS
//! sites.
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
