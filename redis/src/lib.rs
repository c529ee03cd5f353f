//! One crawl shared by many workers through Redis: [`RedisShared`], the real implementation of
//! the [`crawler::Shared`] seam, which [`crawler::MemoryShared`] models in memory.
//!
//! **Why Redis, and why one script.** The seam's semantics (crawler's `src/shared/mod.rs`,
//! steps 0 to 8) make one sync atomic: expired leases dropped, the worker seen, completions
//! fenced by their lease's token, tries ended, leases released and renewed, claims answered
//! against other leases and per-host politeness, and the log read from a cursor. Redis runs a
//! Lua script with nothing else in between, so each [`Shared::sync`] is *one* round trip: an
//! `EVALSHA` of `lua/sync.lua` (an `EVAL` the first time a server has not seen it, which also
//! caches it). Time is the server's (`TIME`, in milliseconds), so the workers' clocks need not
//! agree; leases, delays and waits are whole milliseconds (a lease or delay is rounded up). It
//! needs Redis 5 or later (or Valkey): a script that reads `TIME` and then writes is replicated
//! by its effects.
//!
//! **Keys**, all under `crawl:{ID}:` (the braces make the id a cluster hash tag, so one crawl's
//! keys live together):
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `log` | LIST | the entries, in order (index = position): worker, token, URL and the `Kept` in the engine's binary form, LZ4-compressed from 256 bytes (`wire.rs`); partition 0's, in partitions |
//! | `log:P` | LIST | partition P's entries (P from 1; partitioned crawls) |
//! | `inbox:P` | LIST | partition P's offers, `depth budget URL` (P from 0; partitioned) |
//! | `seen` | HASH | URL offered → its Pareto-best labels, `depth,budget;...` (partitioned) |
//! | `quiet` | HASH | partition → `log-length inbox-length` when it was last said quiet (partitioned) |
//! | `partitions` | STRING | the crawl's partitions, set by its first sync |
//! | `done` | HASH | URL → its entry's index (partitioned: `partition:index`) |
//! | `leases` | HASH | URL → JSON `[worker, token, running (0/1), host]` |
//! | `deadlines` | ZSET | URL by its lease's deadline (ms): expiry reads only what expired |
//! | `running` | HASH | host → requests running |
//! | `next` | HASH | host → when (ms) it may be asked again |
//! | `workers` | HASH | worker → when (ms) it was last seen |
//! | `lease_of` | HASH | worker → the lease (ms) its last sync gave: it is live that long after |
//! | `token` | STRING | the last token given (`INCR`) |
//! | `placed` | SET | the pages that took a place (`max_pages` counts them) |
//! | `host_pages` | HASH | host → places its pages took (`max_pages_per_host`) |
//! | `options` | STRING | the crawl's defining options (JSON list), set once |
//! | `finished` | STRING | present once the crawl is marked finished |
//!
//! **The client.** The `redis` crate (redis-rs), 1.x: the maintained Redis client for Rust.
//! Its async side runs on tokio or smol; async-std, the command line's runtime, is no longer
//! one of them (its support ended with 0.32, after async-std itself was discontinued), but
//! async-std and smol share one reactor (`async-io`), so the smol flavour works under
//! async-std's executor as it is. The multiplexed connection's driver runs as a task on smol's
//! global executor (one thread of its own); [`RedisShared`] itself is used from one thread. The
//! crate's default response timeout (half a second) would turn a slow sync into an error after
//! the script may have run; here it is [`RESPONSE_TIMEOUT`]. A connection that broke is made
//! again on the next call.
//!
//! ```no_run
//! use crawler::{Ask, Shared};
//! use crawler_redis::RedisShared;
//!
//! async_std::task::block_on(async {
//!     let shared = RedisShared::connect("redis://127.0.0.1:6379/0", "my-crawl").await?;
//!     let mut ask = Ask::default();
//!     ask.worker = "w1".into();
//!     let reply = shared.sync(&ask).await?;
//!     println!("{} entries, {} round trips", reply.entries.len(), shared.round_trips());
//!     Ok::<_, crawler::SharedError>(())
//! })
//! .unwrap();
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod error;
mod local;
mod wire;

pub use error::redacted;
pub use local::LocalServer;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::time::Duration;

use crawler::{Ask, Reply, Shared, SharedError};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, Value};

use error::{Place, describe};
use wire::{array, int, text, uint};

/// How long a command may take to answer before it is an error. Default for syncs, statuses
/// and the rest: 10 s.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

const SYNC_SCRIPT: &str = include_str!("lua/sync.lua");
const STATUS_SCRIPT: &str = include_str!("lua/status.lua");

/// A crawl's shared state in Redis, as one worker sees it (see the [crate docs](crate)).
pub struct RedisShared {
    client: Client,
    /// The connection; `None` after it broke, made again by the next call.
    conn: RefCell<Option<MultiplexedConnection>>,
    /// Where the server is, for messages (no password).
    place: Place,
    /// `crawl:{ID}:`.
    prefix: String,
    /// The scripts' SHA-1 digests, for `EVALSHA`.
    sync_sha: String,
    status_sha: String,
    /// Commands sent so far.
    round_trips: Cell<u64>,
    /// A clock standing in for the server's `TIME` (tests).
    test_clock: Option<Box<dyn Fn() -> Duration + Send>>,
}

impl fmt::Debug for RedisShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisShared")
            .field("place", &self.place)
            .field("prefix", &self.prefix)
            .field("round_trips", &self.round_trips.get())
            .field("test_clock", &self.test_clock.is_some())
            .finish_non_exhaustive()
    }
}

/// What [`RedisShared::options`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OptionsCheck {
    /// The crawl had none: the options given are now the crawl's.
    Stored,
    /// The crawl's options, as first stored (the caller compares them with its own).
    Kept(Vec<String>),
}

/// Where a shared crawl stands ([`RedisShared::status`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// URLs known done: the log's length.
    pub done: u64,
    /// Leases held (not expired).
    pub leased: u64,
    /// Pages that took a place (what `max_pages` counts).
    pub pages: u64,
    /// Places per host (what `max_pages_per_host` counts), hosts in order; kept only for a
    /// crawl with a page limit.
    pub host_pages: Vec<(String, u64)>,
    /// Requests running per host (under leases not expired), hosts in order; hosts with none
    /// are left out.
    pub running: Vec<(String, u64)>,
    /// Each worker (in order) and when it was last seen, on the server's clock (since the Unix
    /// epoch, or the test clock's origin).
    pub workers: Vec<(String, Duration)>,
    /// The crawl was marked finished ([`RedisShared::mark_finished`]).
    pub finished: bool,
    /// The server's clock when this was read (compare with `workers`' times).
    pub now: Duration,
}

impl RedisShared {
    /// Connects to the Redis at `url` (`redis://HOST:PORT/DB`; `rediss://` and other schemes
    /// are refused) for the crawl `crawl_id` (not empty, no braces: it is the keys' hash tag).
    pub async fn connect(url: &str, crawl_id: &str) -> Result<RedisShared, SharedError> {
        let place = Place::of(url)?;
        if crawl_id.is_empty() || crawl_id.contains(['{', '}']) {
            return Err(SharedError::new(format!(
                "not a crawl id: {crawl_id:?} (it must not be empty nor hold braces)"
            )));
        }
        let client = Client::open(url).map_err(|e| {
            SharedError::new(format!(
                "not a Redis URL (redis://HOST:PORT/DB): {}: {}",
                place,
                e.detail().unwrap_or("bad address")
            ))
        })?;
        let shared = RedisShared {
            client,
            conn: RefCell::new(None),
            place,
            prefix: format!("crawl:{{{crawl_id}}}:"),
            sync_sha: redis::Script::new(SYNC_SCRIPT).get_hash().to_string(),
            status_sha: redis::Script::new(STATUS_SCRIPT).get_hash().to_string(),
            round_trips: Cell::new(0),
            test_clock: None,
        };
        shared.connection().await?;
        Ok(shared)
    }

    /// The same, on `now`'s time instead of the server's `TIME` (for tests that drive time;
    /// `now` must not go backwards, and is read once per sync, in whole milliseconds).
    pub fn with_test_clock(mut self, now: impl Fn() -> Duration + Send + 'static) -> RedisShared {
        self.test_clock = Some(Box::new(now));
        self
    }

    /// Commands sent to the server so far (a sync is one, or two the first time a server is
    /// asked to run the script).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.get()
    }

    /// Stores `defining` as the crawl's defining options when it has none yet (`SET NX`),
    /// else brings back the stored ones.
    pub async fn options(&self, defining: &[String]) -> Result<OptionsCheck, SharedError> {
        let key = self.key("options");
        let json = serde_json::to_string(defining).expect("strings serialise");
        let set = self
            .query(redis::cmd("SET").arg(&key).arg(&json).arg("NX"))
            .await?;
        if set != Value::Nil {
            return Ok(OptionsCheck::Stored);
        }
        // Set before: there (or deleted since, by hand: an unexpected answer).
        self.stored_options()
            .await?
            .map(OptionsCheck::Kept)
            .ok_or_else(|| wire::unexpected("options gone"))
    }

    /// The crawl's defining options, if they were stored (nothing is stored here).
    pub async fn stored_options(&self) -> Result<Option<Vec<String>>, SharedError> {
        let v = self
            .query(redis::cmd("GET").arg(self.key("options")))
            .await?;
        if v == Value::Nil {
            return Ok(None);
        }
        let kept = text(v, "options")?;
        serde_json::from_str(&kept).map(Some).map_err(|e| {
            SharedError::new(format!("the crawl's stored options cannot be read: {e}"))
        })
    }

    /// The server's eviction policy when it may evict this crawl's keys (a `maxmemory` set,
    /// and an `allkeys-*` `maxmemory-policy`: the `volatile-*` ones evict only keys with a time
    /// to live, which a crawl's keys have not), from `INFO memory`. A crawl whose keys are
    /// evicted cannot go on.
    pub async fn eviction_risk(&self) -> Result<Option<String>, SharedError> {
        let info = text(
            self.query(redis::cmd("INFO").arg("memory")).await?,
            "INFO memory",
        )?;
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let limited = field("maxmemory").is_some_and(|m| m != "0");
        Ok(match field("maxmemory_policy") {
            Some(policy) if limited && policy.starts_with("allkeys-") => Some(policy.to_string()),
            _ => None,
        })
    }

    /// Marks the crawl finished (every worker that asks [`RedisShared::status`] sees it).
    pub async fn mark_finished(&self) -> Result<(), SharedError> {
        self.query(redis::cmd("SET").arg(self.key("finished")).arg("1"))
            .await
            .map(drop)
    }

    /// Where the crawl stands, read in one step.
    pub async fn status(&self) -> Result<Status, SharedError> {
        let keys = [
            "done",
            "leases",
            "deadlines",
            "workers",
            "finished",
            "placed",
            "host_pages",
        ]
        .map(|k| self.key(k));
        let args = vec![
            self.now_ms()
                .map(|n| n.to_string())
                .unwrap_or_default()
                .into_bytes(),
        ];
        let v = self
            .script(&self.status_sha, STATUS_SCRIPT, &keys, &args)
            .await?;
        let mut parts = array(v, "the status")?.into_iter();
        let mut next = || {
            parts
                .next()
                .ok_or_else(|| wire::unexpected("a short status"))
        };
        let (done, leased, hosts, workers, finished, now, pages, host_pages) = (
            next()?,
            next()?,
            next()?,
            next()?,
            next()?,
            next()?,
            next()?,
            next()?,
        );
        let pairs = |v: Value, what: &str| -> Result<Vec<(String, u64)>, SharedError> {
            let items = array(v, what)?;
            let mut out = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((text(k, what)?, uint(&v, what)?));
            }
            Ok(out)
        };
        let mut workers: Vec<(String, Duration)> = pairs(workers, "workers")?
            .into_iter()
            .map(|(w, ms)| (w, Duration::from_millis(ms)))
            .collect();
        workers.sort();
        Ok(Status {
            done: uint(&done, "done")?,
            leased: uint(&leased, "leased")?,
            running: pairs(hosts, "hosts")?,
            workers,
            finished: int(&finished, "finished")? == 1,
            pages: uint(&pages, "pages")?,
            host_pages: {
                let mut by_host = pairs(host_pages, "host pages")?;
                by_host.sort();
                by_host
            },
            now: Duration::from_millis(uint(&now, "now")?),
        })
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// `now` for a script in ms: the test clock's, or `None` for the server's `TIME`.
    fn now_ms(&self) -> Option<u64> {
        self.test_clock.as_ref().map(|now| wire::millis(now()))
    }

    /// The connection, made again if it broke.
    async fn connection(&self) -> Result<MultiplexedConnection, SharedError> {
        if let Some(conn) = self.conn.borrow().as_ref() {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| describe(&e, &self.place))?;
        *self.conn.borrow_mut() = Some(conn.clone());
        Ok(conn)
    }

    /// Sends `cmd`, one round trip.
    async fn query(&self, cmd: &Cmd) -> Result<Value, SharedError> {
        let mut conn = self.connection().await?;
        self.send(&mut conn, cmd)
            .await
            .map_err(|e| describe(&e, &self.place))
    }

    /// Sends `cmd` on `conn`; a connection that broke is dropped for the next call.
    async fn send(
        &self,
        conn: &mut MultiplexedConnection,
        cmd: &Cmd,
    ) -> Result<Value, redis::RedisError> {
        self.round_trips.set(self.round_trips.get() + 1);
        let result = cmd.query_async(conn).await;
        if let Err(e) = &result
            && (e.is_unrecoverable_error() || e.is_io_error() || e.is_timeout())
        {
            self.conn.borrow_mut().take();
        }
        result
    }

    /// Runs a script by its digest, or by its text when the server does not have it yet
    /// (which `EVAL` also caches for the next time).
    async fn script(
        &self,
        sha: &str,
        body: &str,
        keys: &[String],
        args: &[Vec<u8>],
    ) -> Result<Value, SharedError> {
        let call = |command: &str, script: &str| {
            let mut cmd = redis::cmd(command);
            cmd.arg(script).arg(keys.len()).arg(keys).arg(args);
            cmd
        };
        let mut conn = self.connection().await?;
        let result = match self.send(&mut conn, &call("EVALSHA", sha)).await {
            Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
                self.send(&mut conn, &call("EVAL", body)).await
            }
            other => other,
        };
        result.map_err(|e| describe(&e, &self.place))
    }
}

impl Shared for RedisShared {
    async fn sync(&self, ask: &Ask) -> Result<Reply, SharedError> {
        let keys = [
            "log",
            "done",
            "leases",
            "deadlines",
            "running",
            "next",
            "workers",
            "token",
            "placed",
            "host_pages",
            "",
        ]
        .map(|k| self.key(k));
        let args = wire::sync_args(ask, self.now_ms())?;
        let v = self
            .script(&self.sync_sha, SYNC_SCRIPT, &keys, &args)
            .await?;
        wire::reply(v, ask)
    }
}
