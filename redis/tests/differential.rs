//! `RedisShared` against `MemoryShared`, the oracle: random sequences of asks (a few workers,
//! URLs and hosts; completions, ended tries, releases, renewals and claims with right and
//! wrong tokens; time moving by random steps, past lease deadlines too; random cursors),
//! applied to both on the same clock, every reply equal, then the same status; the same for
//! crawls in partitions (reads of logs and inboxes from random cursors, offers with random
//! labels, quiet asks, and now and then an ask with the wrong number of partitions or a
//! partition beyond them); and a log longer than a reply brings, read from several cursors.

mod support;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crawler::shared::{Offer, Read, partition_of};
use crawler::{Ask, Claim, Clock, Completion, Held, MemoryShared, Reply, Shared};
use crawler_redis::RedisShared;
use proptest::prelude::*;
use support::{Server, fresh_id, kept};

const WORKERS: usize = 3;
const URLS: usize = 5;

fn url(i: usize) -> String {
    format!("http://h{}/{i}", i % 2)
}

fn host(i: usize) -> String {
    format!("http://h{}:80", i % 2)
}

/// The test's clock, in whole milliseconds, shared by the oracle and the server.
#[derive(Debug, Clone)]
struct TestClock(Arc<AtomicU64>);

impl Clock for TestClock {
    fn now(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::SeqCst))
    }
    async fn sleep(&self, _: Duration) {}
}

/// Which token an ask carries.
#[derive(Debug, Clone)]
enum Tok {
    /// The one this worker was last granted for the URL (a wrong one when none).
    Mine,
    /// Any, most likely wrong.
    Any(u64),
}

/// Which cursor an ask carries.
#[derive(Debug, Clone)]
enum Cursor {
    /// The log's length, moved by this much.
    Len(i64),
    /// Any.
    Any(u64),
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // A test's steps: a few dozen of them.
enum Step {
    /// Time moves on by this many ms.
    Advance(u64),
    Sync {
        worker: usize,
        cursor: Cursor,
        lease: u64,
        max_per_host: u32,
        max_pages: Option<u64>,
        max_pages_per_host: Option<u64>,
        done: Vec<(usize, Tok)>,
        ended: Vec<(usize, Tok)>,
        release: Vec<(usize, Tok)>,
        renew: Vec<(usize, Tok)>,
        /// URL, delay, token, whether the claim names the other host (a quirk to mirror),
        /// and whether it is a page.
        claims: Vec<(usize, u64, Option<Tok>, bool, bool)>,
        /// (Partitioned) partitions read, each with its log's and inbox's cursors.
        reads: Vec<(u32, Cursor, Cursor)>,
        /// (Partitioned) URL (of twice as many as the others use), depth, budget, and a
        /// partition other than its own to name.
        offers: Vec<(usize, u32, u32, Option<u32>)>,
        quiet: bool,
        /// Asks with this many partitions rather than the crawl's.
        wrong_partitions: Option<u32>,
    },
}

fn tok() -> impl Strategy<Value = Tok> {
    prop_oneof![3 => Just(Tok::Mine), 1 => (0u64..12).prop_map(Tok::Any)]
}

fn helds() -> impl Strategy<Value = Vec<(usize, Tok)>> {
    prop::collection::vec((0..URLS, tok()), 0..3)
}

fn step() -> impl Strategy<Value = Step> {
    let advance = prop_oneof![
        Just(0u64),
        Just(1),
        Just(100),
        Just(999),
        Just(1000),
        Just(1001),
        0u64..3000
    ]
    .prop_map(Step::Advance);
    let cursor = prop_oneof![
        3 => (-2i64..2).prop_map(Cursor::Len),
        1 => prop_oneof![Just(0u64), Just(u64::MAX), 0u64..20].prop_map(Cursor::Any),
    ];
    let claim = (
        0..URLS,
        prop_oneof![Just(0u64), Just(100), Just(1000), 0u64..2000],
        prop::option::of(tok()),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.8),
    );
    let sync = (
        (
            0..WORKERS,
            cursor,
            prop_oneof![Just(1000u64), 1u64..3000],
            0u32..4,
            prop::option::of(0u64..6),
            prop::option::of(0u64..3),
        ),
        (helds(), helds(), helds(), helds()),
        prop::collection::vec(claim, 0..4),
        (
            prop::collection::vec((0u32..4, small_cursor(), small_cursor()), 0..4),
            prop::collection::vec(
                (
                    0..URLS * 2,
                    0u32..4,
                    0u32..4,
                    prop::option::weighted(0.05, 0u32..5),
                ),
                0..4,
            ),
            prop::bool::weighted(0.4),
            prop::option::weighted(0.03, 1u32..5),
        ),
    )
        .prop_map(
            |(
                (worker, cursor, lease, max_per_host, max_pages, max_pages_per_host),
                (done, ended, release, renew),
                claims,
                (reads, offers, quiet, wrong_partitions),
            )| {
                Step::Sync {
                    worker,
                    cursor,
                    lease,
                    max_per_host,
                    max_pages,
                    max_pages_per_host,
                    done,
                    ended,
                    release,
                    renew,
                    claims,
                    reads,
                    offers,
                    quiet,
                    wrong_partitions,
                }
            },
        );
    prop_oneof![1 => advance, 3 => sync]
}

/// A cursor mostly near the end, now and then beyond it.
fn small_cursor() -> impl Strategy<Value = Cursor> {
    prop_oneof![
        8 => (-2i64..1).prop_map(Cursor::Len),
        1 => (0u64..6).prop_map(Cursor::Any),
    ]
}

/// Runs `steps` on both, comparing as it goes, on a crawl of `partitions`.
fn check(server: &Server, partitions: u32, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let ms = Arc::new(AtomicU64::new(0));
    let clock = TestClock(ms.clone());
    let oracle = MemoryShared::new(clock.clone());
    let redis = async_std::task::block_on(RedisShared::connect(&server.url(), &fresh_id("diff")))
        .expect("connect");
    let redis = redis.with_test_clock(move || clock.now());
    // The tokens each worker was granted, per URL (from the oracle's replies).
    let granted: RefCell<HashMap<(usize, usize), u64>> = RefCell::default();
    let mine = |w: usize, u: usize, t: &Tok| -> u64 {
        match t {
            Tok::Mine => granted.borrow().get(&(w, u)).copied().unwrap_or(0),
            Tok::Any(n) => *n,
        }
    };
    for (i, step) in steps.into_iter().enumerate() {
        let (worker, ask) = match step {
            Step::Advance(by) => {
                ms.fetch_add(by, Ordering::SeqCst);
                continue;
            }
            Step::Sync {
                worker: w,
                cursor,
                lease,
                max_per_host,
                max_pages,
                max_pages_per_host,
                done,
                ended,
                release,
                renew,
                claims,
                reads,
                offers,
                quiet,
                wrong_partitions,
            } => {
                let len = oracle.log().len() as i64;
                let mut ask = Ask::default();
                ask.partitions = wrong_partitions.unwrap_or(partitions);
                ask.quiet = quiet;
                let at = |c: &Cursor, len: u64| match c {
                    Cursor::Len(d) => (len as i64 + d).max(0) as u64,
                    Cursor::Any(n) => *n,
                };
                if partitions > 1 {
                    // Each partition read once, in order, as a worker reads them; now and
                    // then one beyond them.
                    let mut seen = std::collections::BTreeSet::new();
                    ask.reads = reads
                        .iter()
                        .filter(|(p, _, _)| seen.insert(*p) && (*p < partitions || quiet))
                        .map(|(p, log, inbox)| {
                            let (l, i) = oracle.lengths(*p);
                            Read {
                                partition: *p,
                                log: at(log, l),
                                inbox: at(inbox, i),
                            }
                        })
                        .collect();
                    ask.offers = offers
                        .iter()
                        .map(|(u, depth, budget, other)| {
                            let url = url(*u);
                            Offer {
                                partition: other.unwrap_or(partition_of(&url, partitions)),
                                url,
                                depth: *depth,
                                budget: *budget,
                            }
                        })
                        .collect();
                }
                ask.worker = format!("w{w}");
                ask.cursor = match cursor {
                    Cursor::Len(d) => (len + d).max(0) as u64,
                    Cursor::Any(n) => n,
                };
                ask.lease = Duration::from_millis(lease);
                ask.max_per_host = max_per_host;
                ask.max_pages = max_pages;
                ask.max_pages_per_host = max_pages_per_host;
                ask.done = done
                    .iter()
                    .map(|(u, t)| Completion {
                        token: mine(w, *u, t),
                        kept: kept(&url(*u), &format!("by w{w} at step {i}")),
                    })
                    .collect();
                let held = |list: &[(usize, Tok)]| -> Vec<Held> {
                    list.iter()
                        .map(|(u, t)| Held {
                            url: url(*u),
                            token: mine(w, *u, t),
                        })
                        .collect()
                };
                ask.ended = held(&ended);
                ask.release = held(&release);
                ask.renew = held(&renew);
                ask.claims = claims
                    .iter()
                    .map(|(u, delay, t, other, page)| Claim {
                        url: url(*u),
                        host: host(*u + usize::from(*other)),
                        delay: Duration::from_millis(*delay),
                        token: t.as_ref().map(|t| mine(w, *u, t)),
                        page: *page,
                    })
                    .collect();
                (w, ask)
            }
        };
        // A cursor beyond the log's end (step 0) is the same error from both, and changes
        // nothing in either.
        let expected = oracle.apply(&ask);
        let got = async_std::task::block_on(redis.sync(&ask));
        prop_assert_eq!(&got, &expected, "step {}: {:?}", i, ask);
        let Ok(expected) = expected else {
            continue;
        };
        for (claim, answer) in ask.claims.iter().zip(&expected.answers) {
            if let crawler::Answer::Granted { token } = answer {
                let u = (0..URLS).find(|u| url(*u) == claim.url).expect("ours");
                granted.borrow_mut().insert((worker, u), *token);
            }
        }
    }
    let expected = oracle.status();
    let got = async_std::task::block_on(redis.status()).expect("status");
    prop_assert_eq!(got.done, expected.done);
    prop_assert_eq!(got.leased, expected.leased);
    prop_assert_eq!(got.pages, expected.pages);
    prop_assert_eq!(got.host_pages, expected.host_pages);
    prop_assert_eq!(got.workers, expected.workers);
    Ok(())
}

#[test]
fn redis_answers_as_memory_does() {
    let server = Server::start();
    proptest!(ProptestConfig::with_cases(200), |(steps in prop::collection::vec(step(), 1..60))| {
        check(&server, 1, steps)?;
    });
}

#[test]
fn redis_answers_as_memory_does_in_partitions() {
    let server = Server::start();
    proptest!(ProptestConfig::with_cases(200), |(
        partitions in 2u32..5,
        steps in prop::collection::vec(step(), 1..60),
    )| {
        check(&server, partitions, steps)?;
    });
}

/// A log longer than a reply brings ([`crawler::shared::MAX_ENTRIES`]), with robots.txt
/// fetches of URLs that are pages too (two keys, one URL): every reply as the oracle's, read
/// from several cursors.
#[test]
fn a_long_log_pages_as_memory_does() {
    use crawler::shared::{MAX_ENTRIES, log_key};
    use crawler::{FetchError, FetchErrorKind, FetchKind, Kept, Record};
    let server = Server::start();
    let ms = Arc::new(AtomicU64::new(0));
    let clock = TestClock(ms.clone());
    let oracle = MemoryShared::new(clock.clone());
    let redis = async_std::task::block_on(RedisShared::connect(&server.url(), &fresh_id("long")))
        .expect("connect");
    let redis = redis.with_test_clock(move || clock.now());
    let both = |ask: &Ask| -> Reply {
        let expected = oracle.apply(ask).expect("a cursor within the log");
        let got = async_std::task::block_on(redis.sync(ask)).expect("sync");
        assert_eq!(got, expected);
        got
    };
    let total = MAX_ENTRIES * 2 + 100;
    let fetch_of = |i: usize| {
        if i.is_multiple_of(3) {
            FetchKind::Robots
        } else {
            FetchKind::Page
        }
    };
    // URLs i and i+1 (i a multiple of 3) are one URL: a robots.txt and a page.
    let url_of = |i: usize| format!("http://h{}/{}", i % 7, i - i % 3 + usize::from(i % 3 == 2));
    let mut ask = Ask::default();
    ask.worker = "w".into();
    ask.lease = Duration::from_secs(60);
    ask.max_per_host = u32::MAX;
    for batch in (0..total).collect::<Vec<_>>().chunks(300) {
        ask.done.clear();
        ask.claims = batch
            .iter()
            .map(|&i| Claim {
                url: log_key(fetch_of(i), &url_of(i)),
                host: format!("http://h{}:80", i % 7),
                delay: Duration::ZERO,
                token: None,
                page: fetch_of(i) == FetchKind::Page,
            })
            .collect();
        let reply = both(&ask);
        ask.claims.clear();
        ask.done = batch
            .iter()
            .zip(&reply.answers)
            .map(|(&i, answer)| {
                let crawler::Answer::Granted { token } = *answer else {
                    panic!("{i}: {answer:?}")
                };
                let record = Record::failure(&url_of(i), 1, 0, "reset");
                let error = FetchError::new(FetchErrorKind::Reset, "reset");
                let kept = Kept::failed(record, fetch_of(i), error);
                Completion { token, kept }
            })
            .collect::<Vec<_>>();
        let reply = both(&ask);
        assert!(reply.accepted.iter().all(|a| *a));
        ask.cursor += reply.entries.len() as u64;
        ms.fetch_add(7, Ordering::SeqCst);
    }
    ask.done.clear();
    for cursor in [0, 1, MAX_ENTRIES as u64, total as u64 - 1, total as u64] {
        ask.cursor = cursor;
        let reply = both(&ask);
        let left = (total as u64).saturating_sub(cursor);
        assert_eq!(reply.entries.len() as u64, left.min(MAX_ENTRIES as u64));
        assert_eq!(reply.more, left > MAX_ENTRIES as u64);
    }
    // Beyond the end: the log lost entries, the same error from both.
    for cursor in [total as u64 + 1, u64::MAX] {
        ask.cursor = cursor;
        let expected = oracle.apply(&ask);
        let got = async_std::task::block_on(redis.sync(&ask));
        assert_eq!(got, expected);
        assert!(got.is_err_and(|e| e.message.contains("lost entries")));
    }
}
