//! A deterministic simulator for the `crawler` engine: simulated network, virtual clock,
//! single-threaded executor.
//!
//! The engine sees the world through two seams, [`crawler::Transport`] and [`crawler::Clock`].
//! This crate implements both over a [site file](crawler_site) in virtual time, and runs the
//! real, unchanged engine on them:
//!
//! - [`Rng`]: the one seeded random source (xoshiro256++), for latency and fault draws;
//! - [`VirtualClock`]: time jumps to the next timer; ties go by the order timers were set;
//! - [`Executor`]: polls the crawl whenever it was woken, advances the clock only when nothing
//!   is runnable, and reports a deadlock or a budget overrun as a [`SimError`];
//! - [`SimTransport`]: serves the site with latency, faults and scripts, and keeps the server's
//!   own log of every request and of how many were in flight;
//! - [`Trace`]: one event per line, virtual time first, and a hash of it all;
//! - [`Sim`]: the builder that ties them together: one seed, `run` built on `step`;
//! - [`SimStore`]: a durable store that syncs in batches and loses the rest at a crash, for
//!   the crash tests of resumed crawls;
//! - [`SimShared`]: the shared state of a crawl by several workers (the engine's reference
//!   model on virtual time) with seeded slow replies, for the fuzzer's multi-worker cases;
//! - [`Replay`]: the same, serving a WARC [`Recording`] of a real crawl instead of a site
//!   (`crawl-sim --replay`), so a recorded crawl can be re-run offline and in virtual time;
//! - [`fuzz`]: random cases with swarm faults, the independent oracle, the checks and the
//!   shrinker behind the property tests and `crawl-sim fuzz`.
//!
//! Nothing here reads the wall clock, spawns a thread or draws from the OS: the same seed, site
//! and config give the same trace hash, on any machine, every time. The `crawl-sim` binary runs
//! a site file with the same options and outputs as the real `crawl`.
//!
//! ```
//! use crawler_sim::Sim;
//! let site = crawler_site::Site::from_json(r#"{
//!     "pages": {
//!         "http://a.test/": {"links": ["/b", "/old"]},
//!         "http://a.test/old": {"redirect": 301, "location": "/b"}
//!     },
//!     "faults": {"reset": 0.2}
//! }"#).unwrap();
//! let sim = Sim::builder().seed(42).site(site).build().unwrap();
//! let config = crawler::Config::builder().root("http://a.test/").build().unwrap();
//! let run = sim.run(&config).unwrap();
//! assert_eq!(run.summary.urls, 4); // robots.txt (a 404: all allowed), /, /b, /old
//! assert!(run.max_in_flight <= config.max_tasks());
//! println!("trace hash {:016x}", run.trace_hash);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod client;
mod clock;
mod executor;
pub mod fuzz;
mod net;
mod replay;
mod rng;
mod running;
mod shared;
mod sim;
mod store;
mod trace;

pub use clock::{Sleep, VirtualClock};
pub use executor::{Executor, Step};
pub use net::{LoggedRequest, SimTransport};
pub use replay::{
    DEFAULT_MAX_BODY, NOT_RECORDED, ROOT_FIELD, Recording, RecordingError, Replay, ReplayBuilder,
    ReplayRun, ReplayRunning, ReplayTransport,
};
pub use rng::Rng;
pub use shared::{Grant, SimShared};
pub use sim::{DEFAULT_BUDGET, Running, Sim, SimBuilder, SimError, SimRun, replay_command};
pub use store::{SharedStore, SimStore};
pub use trace::{Trace, TraceEvent};
