//! The shared state of a crawl by several simulated workers: the engine's reference model,
//! [`MemoryShared`], on the simulation's virtual clock, behind seeded slow replies.
//!
//! A real shared state is a round trip away: a sync's request travels, the state applies it at
//! one instant, the reply travels back. [`SimShared::sync`] does the same in virtual time: it
//! sleeps a drawn delay, lets the model apply the ask atomically (so the model's own semantics
//! are untouched: everything it decides happens at the instant of the apply), then sleeps
//! another drawn delay before the worker sees the reply. A worker dropped (crashed) during the
//! second sleep never hears what the model did for it.
//!
//! Besides passing the model through, it keeps what the fuzzer's checks need and no worker can
//! see (each a list in the order things happened, so nothing depends on a hash map's order):
//!
//! - every grant ([`Grant`]): which worker was granted which URL, with which token, when;
//! - every completion the model accepted whose reply its worker never received
//!   ([`SimShared::unheard`]).
//!
//! ```
//! use std::time::Duration;
//! use crawler::{Ask, Claim};
//! use crawler_sim::{Executor, SimShared, VirtualClock};
//!
//! let clock = VirtualClock::new();
//! let shared = SimShared::new(clock.clone(), 7, Duration::from_millis(300));
//! let mut ask = Ask::default();
//! ask.worker = "w0".into();
//! ask.lease = Duration::from_secs(2);
//! ask.max_per_host = 1;
//! ask.claims = vec![Claim {
//!     url: "http://a.test/".into(),
//!     host: "http://a.test".into(),
//!     delay: Duration::ZERO,
//!     token: None,
//!     page: true,
//! }];
//! let mut exec = Executor::new(clock.clone(), Duration::from_secs(60), 7);
//! let reply = exec.block_on(crawler::Shared::sync(&shared, &ask)).unwrap().unwrap();
//! assert_eq!(reply.answers.len(), 1);
//! assert_eq!(shared.grants().len(), 1);
//! assert!(clock.now() <= Duration::from_millis(600));
//! ```

use std::cell::RefCell;
use std::time::Duration;

use crawler::{Answer, Ask, MemoryShared, Reply, Shared, SharedError};

use crate::clock::VirtualClock;
use crate::rng::Rng;

/// A grant the model made: `worker` may run a request for `url` under `token` from `at` on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Grant {
    /// The worker's name.
    pub worker: String,
    /// The fetch's key ([`crawler::shared::log_key`]: a robots.txt or sitemap URL has its
    /// kind before it).
    pub url: String,
    /// The host, as the claim named it.
    pub host: String,
    /// The delay the claim asked for after this request's start (the worker's `--delay`, or
    /// the host's `Crawl-delay`): the model grants no other request of the host before it.
    pub delay: Duration,
    /// The lease's token.
    pub token: u64,
    /// Virtual time of the apply that granted it.
    pub at: Duration,
}

/// [`MemoryShared`] on virtual time, with seeded slow replies: each sync sleeps a drawn delay
/// before the model applies it at one instant, and another before the worker has the reply.
#[derive(Debug)]
pub struct SimShared {
    clock: VirtualClock,
    model: MemoryShared<VirtualClock>,
    /// The most a sync sleeps before, and again after, the apply.
    slow: Duration,
    rng: RefCell<Rng>,
    seen: RefCell<Seen>,
}

/// What the checks need that the model does not tell.
#[derive(Debug, Default)]
struct Seen {
    grants: Vec<Grant>,
    /// Completions accepted whose reply was never received: worker, fetch key.
    unheard: Vec<(String, String)>,
}

impl SimShared {
    /// An empty shared crawl on `clock`, whose replies are slow by up to `slow` before and up
    /// to `slow` after the model applies them, drawn from a generator seeded with `seed`.
    pub fn new(clock: VirtualClock, seed: u64, slow: Duration) -> SimShared {
        SimShared {
            model: MemoryShared::new(clock.clone()),
            clock,
            slow,
            rng: RefCell::new(Rng::new(seed)),
            seen: RefCell::default(),
        }
    }

    /// The model, to read its log and status.
    pub fn model(&self) -> &MemoryShared<VirtualClock> {
        &self.model
    }

    /// Every grant, in the order the model made them.
    pub fn grants(&self) -> Vec<Grant> {
        self.seen.borrow().grants.clone()
    }

    /// Completions the model accepted whose worker was dropped before the reply reached it:
    /// (worker, fetch key), in order.
    pub fn unheard(&self) -> Vec<(String, String)> {
        self.seen.borrow().unheard.clone()
    }

    fn delay(&self) -> Duration {
        if self.slow.is_zero() {
            return Duration::ZERO;
        }
        let ms = self.slow.as_millis() as u64;
        Duration::from_millis(self.rng.borrow_mut().below(ms + 1))
    }

    /// The model's apply, with what the checks keep of it.
    fn apply(&self, ask: &Ask) -> Result<Reply, SharedError> {
        let now = self.clock.now();
        let reply = self.model.apply(ask)?;
        let mut seen = self.seen.borrow_mut();
        for (claim, answer) in ask.claims.iter().zip(&reply.answers) {
            if let Answer::Granted { token } = *answer {
                seen.grants.push(Grant {
                    worker: ask.worker.clone(),
                    url: claim.url.clone(),
                    host: claim.host.clone(),
                    delay: claim.delay,
                    token,
                    at: now,
                });
            }
        }
        Ok(reply)
    }
}

/// Completions a reply carries that its worker has not received yet: kept as unheard if the
/// sync is dropped before it returns.
struct Undelivered<'s> {
    shared: &'s SimShared,
    worker: String,
    urls: Vec<String>,
}

impl Drop for Undelivered<'_> {
    fn drop(&mut self) {
        let mut seen = self.shared.seen.borrow_mut();
        for url in self.urls.drain(..) {
            seen.unheard.push((self.worker.clone(), url));
        }
    }
}

impl Shared for SimShared {
    async fn sync(&self, ask: &Ask) -> Result<Reply, SharedError> {
        let before = self.delay();
        let after = self.delay();
        if !before.is_zero() {
            self.clock.sleep(before).await;
        }
        let worker = ask.worker.clone();
        let sent: Vec<String> = ask
            .done
            .iter()
            .map(|c| crawler::shared::log_key(c.kept.fetch, &c.kept.record.url))
            .collect();
        let reply = self.apply(ask)?;
        let accepted = sent
            .into_iter()
            .zip(&reply.accepted)
            .filter(|(_, ok)| **ok)
            .map(|(url, _)| url)
            .collect();
        let mut pending = Undelivered {
            shared: self,
            worker,
            urls: accepted,
        };
        if !after.is_zero() {
            self.clock.sleep(after).await;
        }
        pending.urls.clear();
        Ok(reply)
    }
}
