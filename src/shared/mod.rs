//! One crawl shared by many workers (engines, in one process or many, on one machine or many),
//! as a seam: what they must agree on so that every URL is fetched by one of them and recorded
//! exactly once, politeness holds for the crawl as a whole, and every worker ends when the
//! crawl does.
//!
//! **The design.** A crawl's state is derived from its completions (see [`crate::store`]): the
//! URL table, labels, frontier, robots rules and counters all follow from which URLs finished
//! with which answers. So what the workers share is a *log* of completions ([`Entry`]), plus
//! who holds which URL right now (leases) and when each host may be asked again. Each worker
//! reads the whole log and derives the crawl from it, as a resumed crawl does from its store;
//! before fetching a URL it *claims* it ([`Claim`]), and it hands the outcome back as a
//! [`Completion`], which enters the log only if the worker still holds the URL. A worker
//! applies its own completions, too, only when they come back from the log: what it records is
//! what the log accepted.
//!
//! All of it goes through one call, [`Shared::sync`]: one round trip that hands over what the
//! worker has to say ([`Ask`]) and brings back what it needs ([`Reply`]). A worker makes one
//! sync at a time and batches everything that came up meanwhile into the next one.
//!
//! **The semantics** (one sync is atomic; `now` is the shared state's own clock, leases and
//! waits are durations, so the workers' clocks need not agree):
//!
//! 0. A `cursor` beyond the log's end means the shared state lost entries the worker had read
//!    (a store restarted without its data, keys evicted): the sync fails with
//!    [`SharedError::lost`] and changes nothing. A worker cannot go on from a log that forgot
//!    what it derived its crawl from, and waiting for entries that will never come again would
//!    hang it.
//! 1. Leases whose deadline is `<= now` are dropped; one that had a request running gives its
//!    host's request slot back.
//! 2. The worker is seen at `now`.
//! 3. Each completion in `done`, in order, is *accepted* when its URL has no entry yet and the
//!    worker holds the URL's lease with that token: the entry is appended to the log, the lease
//!    is dropped (and its host's slot given back if a request was running). Otherwise it is
//!    refused and changes nothing (fencing: a worker whose lease expired cannot record a URL
//!    another worker claimed after it).
//! 4. Each of `ended` (a try ended, another will follow) whose lease is held with that token:
//!    its request is no longer running; its host's slot is given back; the lease stays.
//! 5. Each of `release` held with that token: the lease is dropped (slot given back if running).
//! 6. Each of `renew` held with that token: its deadline becomes `now + lease`.
//! 7. Each claim, in order, is answered:
//!    - [`Answer::Done`] when its URL has an entry;
//!    - [`Answer::Held`] when another lease holds it (another worker's, or one whose token is
//!      not the claim's), with the time left on that lease;
//!    - for a page ([`Claim::page`]) that has no place yet (see *Page places* below):
//!      [`Answer::Full`] when the crawl has `max_pages` places taken, else
//!      [`Answer::HostFull`] when its host has `max_pages_per_host`;
//!    - [`Answer::Polite`] when its host has `max_per_host` requests running (`wait` zero: ask
//!      again later) or may not be asked before `next` (`wait`: until then);
//!    - else [`Answer::Granted`]: the lease is taken (or kept, for a claim with the token of a
//!      lease the worker still holds: a retry) with deadline `now + lease` and a request
//!      running, the host's running count goes up by one (unless the lease had a request
//!      running already: it keeps its one slot, which the full-host check above counted) and
//!      its `next` becomes `now + delay`. A new lease gets a new token, greater than every
//!      token given before. A page without a place takes one, in the crawl's count and its
//!      host's. (A worker claims again under its lease only after the try ended, for the same
//!      URL, so on the same host.)
//! 8. The reply brings the log's entries from `cursor` on, at most [`MAX_ENTRIES`] of them
//!    (`more` when there are others after them).
//!
//! **Page places.** `max_pages` and `max_pages_per_host` hold for the crawl, over all workers:
//! a page's first grant gives it a *place* for good, counted for the crawl and for its host,
//! and a lease that lapses keeps it (the next worker to claim the page takes no new one).
//! robots.txt and sitemap fetches take none. Places are kept only by a sync whose ask has a
//! page limit (a crawl's limits are the same in all its asks): a crawl without limits pays
//! nothing for them. A worker claims a page only once robots.txt lets
//! it through, so a place is never given back, counts only grow, and [`Answer::Full`] and
//! [`Answer::HostFull`] are final: a page turned down so is never fetched, by anyone.
//!
//! **Keys.** Claims, leases and entries are keyed by fetch ([`log_key`]): a page by its URL, a
//! robots.txt or a sitemap by its URL with the kind before it, since one crawl may fetch one
//! URL both as a page and as a robots.txt (a robots.txt redirected to a page) or a sitemap.
//! Below, "URL" means that key.
//!
//! **Partitions.** With one log, every worker holds and derives the whole crawl. A crawl with
//! `partitions` above 1 ([`Ask::partitions`], the same in all its asks) splits it by URL
//! ([`partition_of`]) so that a worker derives only the part it follows:
//!
//! - each partition has its own log, of the completions of its URLs (step 3), and an *inbox*
//!   of [`Offer`]s: URLs of the partition that workers following other partitions found (a
//!   link, a redirect's target, a sitemap's page), each with its label;
//! - a worker follows the partitions [`followed`] gives it among the live workers (those seen
//!   within the lease its last ask gave: [`Reply::workers`]), reads their logs and inboxes ([`Ask::reads`]), and
//!   hands every URL it finds outside them over as an offer ([`Ask::offers`]); when the live
//!   workers change, each derives its new partitions afresh. Who follows what only spreads
//!   the work: claims and leases alone keep each URL fetched once;
//! - the shared state keeps, per URL offered, the Pareto-best labels offered so far (the seen
//!   set) and puts an offer in the inbox only when none of them is as good;
//! - a claim answered [`Answer::Done`] brings its entry ([`Reply::found`]): a worker may need
//!   a robots.txt or a sitemap whose URL lies in a partition it does not read;
//! - a partition is *quiet* when a worker that read its log and inbox to their ends said it
//!   had nothing left to do there ([`Ask::quiet`]), and nothing entered either since; the
//!   crawl is over ([`Reply::over`]) when every partition is quiet and no URL is leased.
//!
//! So, for a partitioned ask, between steps 3 and 4: 3b. each offer not dominated by a label
//! its URL was offered with before (fewer or as many link hops, as much redirect budget or
//! more) joins that URL's labels (dropping those it dominates) and is appended to its
//! partition's inbox. Step 0 checks every read's cursors; step 7 puts each `Done` claim's
//! entry in `found`; step 8 brings, for each read in turn, its log's entries and then its
//! inbox's offers from the read's cursors, at most [`MAX_ENTRIES`] in all, `more` when some
//! were left; then 9. with `quiet` and nothing left to bring, each read whose cursors are at
//! its log's and inbox's ends makes its partition quiet at those lengths; 10. for a `quiet`
//! ask, `over` is set; `workers` for every partitioned one. An ask with another number of partitions than the
//! crawl's first, or reading or offering to a partition beyond them, fails
//! ([`SharedError::partitions`]) and changes nothing.
//!
//! [`MemoryShared`] is this in memory: the reference the simulator shares between its engines,
//! and the oracle the Redis implementation is checked against.

mod memory;

use std::future::Future;
use std::time::Duration;

use crate::engine::FetchKind;
use crate::store::Kept;

pub use memory::{MemoryShared, SharedStatus};

/// The key of a fetch of `url` as `fetch` in the shared state: the URL for a page (a redirect
/// hop too), `robots.txt URL` or `sitemap URL` for those (URLs have no spaces).
pub fn log_key(fetch: FetchKind, url: &str) -> String {
    match fetch {
        FetchKind::Page | FetchKind::Redirect => url.to_string(),
        FetchKind::Robots => format!("robots.txt {url}"),
        FetchKind::Sitemap => format!("sitemap {url}"),
    }
}

/// The URL of a [`log_key`].
pub fn url_of_key(key: &str) -> &str {
    key.strip_prefix("robots.txt ")
        .or_else(|| key.strip_prefix("sitemap "))
        .unwrap_or(key)
}

/// Entries (and offers) one reply brings at most.
pub const MAX_ENTRIES: usize = 1000;

/// The partition of the fetch key `key` ([`log_key`]) among `partitions`: that of its URL, so
/// that a page and a robots.txt or sitemap fetch of the same URL share one (FNV-1a over the
/// URL's bytes; fixed, because every worker of a crawl, and the shared state's logs, must
/// agree). One partition, or none: 0.
pub fn partition_of(key: &str, partitions: u32) -> u32 {
    if partitions <= 1 {
        return 0;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in url_of_key(key).bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(partitions)) as u32
}

/// The partitions worker `worker` follows when `workers` (sorted) are live: every
/// `workers.len()`-th one, from the worker's place among them. None when it is not among
/// them.
pub fn followed(worker: &str, workers: &[String], partitions: u32) -> Vec<u32> {
    let Ok(at) = workers.binary_search_by(|w| w.as_str().cmp(worker)) else {
        return Vec::new();
    };
    (0..partitions)
        .filter(|p| *p as usize % workers.len() == at)
        .collect()
}

/// The state a crawl's workers share (see the [module docs](self)).
pub trait Shared {
    /// One round trip: hands over `ask`, brings back the reply (see the module docs for what
    /// happens in between).
    fn sync(&self, ask: &Ask) -> impl Future<Output = Result<Reply, SharedError>>;
}

impl<S: Shared + ?Sized> Shared for &S {
    fn sync(&self, ask: &Ask) -> impl Future<Output = Result<Reply, SharedError>> {
        (**self).sync(ask)
    }
}

/// What a worker hands over in one sync.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Ask {
    /// Who asks: the same name after a restart.
    pub worker: String,
    /// Log entries the worker has already read.
    pub cursor: u64,
    /// How long a lease lasts without being renewed.
    pub lease: Duration,
    /// Requests one host may have running at once, over all workers.
    pub max_per_host: u32,
    /// Pages the crawl fetches at most, over all workers (see *Page places*).
    pub max_pages: Option<u64>,
    /// Pages one host gives at most, over all workers.
    pub max_pages_per_host: Option<u64>,
    /// URLs finished, each with the lease it was fetched under.
    pub done: Vec<Completion>,
    /// Tries that ended, another to follow: the request no longer runs, the lease is kept.
    pub ended: Vec<Held>,
    /// Leases given up (the worker stops).
    pub release: Vec<Held>,
    /// Leases to extend.
    pub renew: Vec<Held>,
    /// Requests the worker would start.
    pub claims: Vec<Claim>,
    /// The crawl's partitions (see *Partitions*); 0 or 1: one log, which every worker reads
    /// whole from `cursor`, and `reads`, `offers` and `quiet` are not looked at.
    pub partitions: u32,
    /// The partitions whose log and inbox the worker reads, and from where.
    pub reads: Vec<Read>,
    /// URLs, with a label, that the worker found for partitions it does not follow.
    pub offers: Vec<Offer>,
    /// The worker has nothing to do in the partitions it reads, having read them to the
    /// cursors in `reads`.
    pub quiet: bool,
}

/// Where a worker has read one partition's log and inbox to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// The partition.
    pub partition: u32,
    /// Entries of its log read.
    pub log: u64,
    /// Offers of its inbox read.
    pub inbox: u64,
}

/// A URL found, and how it was reached, for the worker that follows its partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The normalised URL.
    pub url: String,
    /// Its partition ([`partition_of`]).
    pub partition: u32,
    /// Link hops from a root.
    pub depth: u32,
    /// Redirect hops that may still be followed from it.
    pub budget: u32,
}

/// A lease a worker holds: a URL and the token it was granted with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The URL's key ([`log_key`]).
    pub url: String,
    /// The token of its grant.
    pub token: u64,
}

/// A finished URL, and the lease under which it was fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The token of the lease.
    pub token: u64,
    /// The completion (its key is [`log_key`] of `kept.fetch` and `kept.record.url`).
    pub kept: Kept,
}

/// A request a worker would start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The URL's key ([`log_key`]).
    pub url: String,
    /// Its host, as the scheduler keys hosts (`scheme://host:port`, no path).
    pub host: String,
    /// How long after this request starts the host may be asked again (the worker's
    /// `--delay`, or the host's `Crawl-delay`).
    pub delay: Duration,
    /// The token of the lease the worker holds on the URL already (a retry), if any.
    pub token: Option<u64>,
    /// A page (or a redirect hop): it needs one of the crawl's page places. robots.txt and
    /// sitemap fetches do not.
    pub page: bool,
}

/// What one sync brings back.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Reply {
    /// Log entries from the ask's `cursor` on.
    pub entries: Vec<Entry>,
    /// More entries follow these: sync again soon.
    pub more: bool,
    /// One answer per claim, in order.
    pub answers: Vec<Answer>,
    /// One flag per completion, in order: `true` when it entered the log.
    pub accepted: Vec<bool>,
    /// Offers from the inboxes read (partitioned), each with its partition.
    pub offers: Vec<Offer>,
    /// The entries of the claims answered [`Answer::Done`] (partitioned), in order.
    pub found: Vec<Entry>,
    /// (Partitioned) the live workers (each seen within the lease its last ask gave),
    /// sorted: who follows which partition ([`followed`]).
    pub workers: Vec<String>,
    /// The crawl is over (partitioned, and only in reply to a quiet ask): every partition is
    /// quiet and no URL is leased.
    pub over: bool,
}

/// One completion in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The worker whose completion it is.
    pub worker: String,
    /// The token of the lease it was fetched under.
    pub token: u64,
    /// The partition whose log holds it (0 with one log).
    pub partition: u32,
    /// The completion.
    pub kept: Kept,
}

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Start the request: the URL is leased to the worker with `token`.
    Granted {
        /// The lease's token.
        token: u64,
    },
    /// The URL is in the log already.
    Done,
    /// Another lease holds the URL for `wait` more.
    Held {
        /// Time left on the other lease.
        wait: Duration,
    },
    /// The host may not be asked yet: for `wait` more, or (zero) until one of its running
    /// requests ends.
    Polite {
        /// Time until the host's delay has passed; zero when its request slots are full.
        wait: Duration,
    },
    /// A page without a place, and the crawl's `max_pages` are taken: it is never fetched.
    Full,
    /// A page without a place, and its host's `max_pages_per_host` are taken: it is never
    /// fetched.
    HostFull,
}

/// Why a sync failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedError {
    /// What went wrong, for people.
    pub message: String,
    /// The shared state lost entries ([`SharedError::lost`]): trying again cannot help.
    lost: bool,
}

impl SharedError {
    /// An error saying `message`.
    pub fn new(message: impl Into<String>) -> SharedError {
        SharedError {
            message: message.into(),
            lost: false,
        }
    }

    /// The shared state lost entries a worker had read ([`SharedError::lost`]): the crawl
    /// cannot go on, and trying the sync again cannot help.
    pub fn is_lost(&self) -> bool {
        self.lost
    }

    /// The shared state's log (or, partitioned, an inbox) has `len` entries, fewer than the
    /// `cursor` a worker has read (step 0 of the [semantics](self)).
    pub fn lost(len: u64, cursor: u64) -> SharedError {
        let message = format!(
            "the shared crawl's log (or inbox) has {len} entries, fewer than the {cursor} this \
             worker has read: the shared state lost entries (restarted without its data, or keys \
             evicted), and this crawl cannot go on; start it again under another crawl id"
        );
        SharedError {
            message,
            lost: true,
        }
    }
}

impl SharedError {
    /// The shared crawl has `partitions` partitions, and an ask said another number, or read
    /// or offered to one beyond them (nothing is applied).
    pub fn partitions(partitions: u32) -> SharedError {
        SharedError::new(format!(
            "the shared crawl has {partitions} partition(s), and a worker asked with another \
             number of them, or named one beyond them: every worker of a crawl must run with \
             the same partitions"
        ))
    }
}

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SharedError {}
