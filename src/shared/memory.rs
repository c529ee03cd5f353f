//! The shared state in memory, to the letter of the [semantics](super): the reference the
//! simulator hands its engines, and the oracle the Redis implementation is compared with.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::{
    Answer, Ask, Entry, MAX_ENTRIES, Offer, Reply, Shared, SharedError, log_key, partition_of,
};
use crate::clock::Clock;

/// The shared state of one crawl, in memory, on `C`'s time.
#[derive(Debug)]
pub struct MemoryShared<C> {
    clock: C,
    state: RefCell<State>,
}

/// A lease on a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lease {
    worker: String,
    token: u64,
    deadline: Duration,
    host: String,
    /// A request runs under it (it holds one of its host's slots).
    running: bool,
}

/// What is known of a host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Host {
    running: u32,
    next: Duration,
}

#[derive(Debug, Default)]
struct State {
    /// The log of each partition (one, until an ask says there are more).
    logs: Vec<Vec<Entry>>,
    /// URLs with an entry: where it is (partition, index).
    done: BTreeMap<String, (u32, usize)>,
    /// The crawl's partitions, from its first ask that passed step 0 (0 until then).
    partitions: u32,
    /// Each partition's inbox of offers.
    inboxes: Vec<Vec<Offer>>,
    /// The labels each URL offered was offered with, the Pareto-best: (depth, budget).
    seen: BTreeMap<String, Vec<(u32, u32)>>,
    /// Quiet partitions: the log's and the inbox's lengths when they became quiet.
    quiet: BTreeMap<u32, (u64, u64)>,
    leases: BTreeMap<String, Lease>,
    hosts: BTreeMap<String, Host>,
    workers: BTreeMap<String, Duration>,
    /// Each worker's lease, as its last ask gave it: it is live for that long after.
    worker_leases: BTreeMap<String, Duration>,
    /// The last token given.
    token: u64,
    /// Leases dropped at their deadline (step 1): URL, token, when.
    lapses: Vec<(String, u64, Duration)>,
    /// Pages that took a place (the module docs' *Page places*).
    placed: BTreeSet<String>,
    /// Places taken per host.
    host_pages: BTreeMap<String, u64>,
}

/// Where a shared crawl stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedStatus {
    /// Entries in the log.
    pub done: u64,
    /// Leases held (not expired).
    pub leased: u64,
    /// Pages that took a place (`max_pages` counts these).
    pub pages: u64,
    /// Places per host (`max_pages_per_host` counts these), hosts in order.
    pub host_pages: Vec<(String, u64)>,
    /// Each worker and when it was last seen.
    pub workers: Vec<(String, Duration)>,
}

impl<C: Clock> MemoryShared<C> {
    /// An empty shared crawl on `clock`'s time.
    pub fn new(clock: C) -> MemoryShared<C> {
        MemoryShared {
            clock,
            state: RefCell::new(State::default()),
        }
    }

    /// Does what one sync does, at once.
    pub fn apply(&self, ask: &Ask) -> Result<Reply, SharedError> {
        let now = self.clock.now();
        self.state.borrow_mut().apply(ask, now)
    }

    /// The log, in order; with partitions, each partition's in turn.
    pub fn log(&self) -> Vec<Entry> {
        self.state.borrow().logs.concat()
    }

    /// The lengths of partition `partition`'s log and inbox (zeros for one beyond them).
    pub fn lengths(&self, partition: u32) -> (u64, u64) {
        let state = self.state.borrow();
        let p = partition as usize;
        let log = state.logs.get(p).map_or(0, Vec::len);
        let inbox = state.inboxes.get(p).map_or(0, Vec::len);
        (log as u64, inbox as u64)
    }

    /// When the lease `token` on `url` was dropped for its deadline (step 1), if it was: a
    /// lease that ended otherwise (completed, given back) never lapses.
    pub fn lapsed(&self, url: &str, token: u64) -> Option<Duration> {
        let state = self.state.borrow();
        state
            .lapses
            .iter()
            .find(|(u, t, _)| u == url && *t == token)
            .map(|(_, _, at)| *at)
    }

    /// Where the crawl stands now.
    pub fn status(&self) -> SharedStatus {
        let now = self.clock.now();
        let state = self.state.borrow();
        SharedStatus {
            done: state.done.len() as u64,
            leased: state.leases.values().filter(|l| l.deadline > now).count() as u64,
            pages: state.placed.len() as u64,
            host_pages: state
                .host_pages
                .iter()
                .map(|(h, n)| (h.clone(), *n))
                .collect(),
            workers: state.workers.iter().map(|(w, t)| (w.clone(), *t)).collect(),
        }
    }
}

impl<C: Clock> Shared for MemoryShared<C> {
    async fn sync(&self, ask: &Ask) -> Result<Reply, SharedError> {
        self.apply(ask)
    }
}

impl State {
    /// Gives back the host slot of a lease that had a request running.
    fn free_slot(hosts: &mut BTreeMap<String, Host>, lease: &Lease) {
        if lease.running
            && let Some(host) = hosts.get_mut(&lease.host)
        {
            host.running = host.running.saturating_sub(1);
        }
    }

    /// The lease on `url` when `worker` holds it with `token`.
    fn held(&mut self, url: &str, worker: &str, token: u64) -> Option<&mut Lease> {
        self.leases
            .get_mut(url)
            .filter(|l| l.token == token && l.worker == worker)
    }

    /// The ask's partitions, which must be the crawl's (set by the first ask that passed
    /// step 0: until then the logs and inboxes are empty, and sized for each ask).
    fn partitioned(&mut self, ask: &Ask) -> Result<u32, SharedError> {
        let partitions = ask.partitions.max(1);
        if self.partitions == 0 {
            self.logs = vec![Vec::new(); partitions as usize];
            self.inboxes = vec![Vec::new(); partitions as usize];
        } else if self.partitions != partitions {
            return Err(SharedError::partitions(self.partitions));
        }
        let beyond = |p: u32| p >= partitions;
        if partitions > 1
            && (ask.reads.iter().any(|r| beyond(r.partition))
                || ask.offers.iter().any(|o| beyond(o.partition)))
        {
            return Err(SharedError::partitions(partitions));
        }
        Ok(partitions)
    }

    fn apply(&mut self, ask: &Ask, now: Duration) -> Result<Reply, SharedError> {
        let partitions = self.partitioned(ask)?;
        let split = partitions > 1;
        // 0. A log (or an inbox) that lost entries.
        let len = |v: &Vec<Entry>| v.len() as u64;
        if !split && ask.cursor > len(&self.logs[0]) {
            return Err(SharedError::lost(len(&self.logs[0]), ask.cursor));
        }
        if split {
            for r in &ask.reads {
                let log = &self.logs[r.partition as usize];
                let inbox = self.inboxes[r.partition as usize].len() as u64;
                if r.log > len(log) {
                    return Err(SharedError::lost(len(log), r.log));
                }
                if r.inbox > inbox {
                    return Err(SharedError::lost(inbox, r.inbox));
                }
            }
        }
        self.partitions = partitions;
        // 1. Expired leases.
        let expired: Vec<String> = self
            .leases
            .iter()
            .filter(|(_, l)| l.deadline <= now)
            .map(|(url, _)| url.clone())
            .collect();
        for url in expired {
            let lease = self.leases.remove(&url).expect("listed");
            Self::free_slot(&mut self.hosts, &lease);
            self.lapses.push((url, lease.token, now));
        }
        // 2. The worker is seen.
        self.workers.insert(ask.worker.clone(), now);
        self.worker_leases.insert(ask.worker.clone(), ask.lease);
        // 3. Completions.
        let mut accepted = Vec::with_capacity(ask.done.len());
        for c in &ask.done {
            let url = log_key(c.kept.fetch, &c.kept.record.url);
            let ok =
                !self.done.contains_key(&url) && self.held(&url, &ask.worker, c.token).is_some();
            if ok {
                let lease = self.leases.remove(&url).expect("held");
                Self::free_slot(&mut self.hosts, &lease);
                let partition = partition_of(&url, partitions);
                let log = &mut self.logs[partition as usize];
                self.done.insert(url, (partition, log.len()));
                log.push(Entry {
                    worker: ask.worker.clone(),
                    token: c.token,
                    partition,
                    kept: c.kept.clone(),
                });
            }
            accepted.push(ok);
        }
        // 3b. Offers.
        if split {
            for offer in &ask.offers {
                let inbox = &mut self.inboxes[offer.partition as usize];
                let labels = self.seen.entry(offer.url.clone()).or_default();
                let (depth, budget) = (offer.depth, offer.budget);
                if labels.iter().any(|&(d, b)| d <= depth && b >= budget) {
                    continue;
                }
                labels.retain(|&(d, b)| !(depth <= d && budget >= b));
                labels.push((depth, budget));
                inbox.push(offer.clone());
            }
        }
        // 4. Tries ended.
        for h in &ask.ended {
            if let Some(lease) = self.held(&h.url, &ask.worker, h.token)
                && lease.running
            {
                lease.running = false;
                let host = lease.host.clone();
                if let Some(host) = self.hosts.get_mut(&host) {
                    host.running = host.running.saturating_sub(1);
                }
            }
        }
        // 5. Leases given up.
        for h in &ask.release {
            if self.held(&h.url, &ask.worker, h.token).is_some() {
                let lease = self.leases.remove(&h.url).expect("held");
                Self::free_slot(&mut self.hosts, &lease);
            }
        }
        // 6. Renewals.
        for h in &ask.renew {
            if let Some(lease) = self.held(&h.url, &ask.worker, h.token) {
                lease.deadline = now + ask.lease;
            }
        }
        // 7. Claims.
        let mut answers = Vec::with_capacity(ask.claims.len());
        let mut found = Vec::new();
        for claim in &ask.claims {
            if let Some(&(partition, at)) = self.done.get(&claim.url) {
                if split {
                    found.push(self.logs[partition as usize][at].clone());
                }
                answers.push(Answer::Done);
                continue;
            }
            let mine = match self.leases.get(&claim.url) {
                Some(l) if Some(l.token) == claim.token && l.worker == ask.worker => Some(l.token),
                Some(l) => {
                    answers.push(Answer::Held {
                        wait: l.deadline.saturating_sub(now),
                    });
                    continue;
                }
                None => None,
            };
            let limited = ask.max_pages.is_some() || ask.max_pages_per_host.is_some();
            let place = limited && claim.page && !self.placed.contains(&claim.url);
            if place {
                let of_host = self.host_pages.get(&claim.host).copied().unwrap_or(0);
                if ask
                    .max_pages
                    .is_some_and(|max| self.placed.len() as u64 >= max)
                {
                    answers.push(Answer::Full);
                    continue;
                }
                if ask.max_pages_per_host.is_some_and(|max| of_host >= max) {
                    answers.push(Answer::HostFull);
                    continue;
                }
            }
            let host = self.hosts.entry(claim.host.clone()).or_default();
            if host.running >= ask.max_per_host {
                answers.push(Answer::Polite {
                    wait: Duration::ZERO,
                });
                continue;
            }
            if host.next > now {
                answers.push(Answer::Polite {
                    wait: host.next - now,
                });
                continue;
            }
            host.running += 1;
            host.next = now + claim.delay;
            if place {
                self.placed.insert(claim.url.clone());
                *self.host_pages.entry(claim.host.clone()).or_default() += 1;
            }
            let token = match mine {
                Some(token) => token,
                None => {
                    self.token += 1;
                    self.token
                }
            };
            let running_before = self.leases.get(&claim.url).is_some_and(|l| l.running);
            if running_before {
                // A claim for a request already running under this lease: the slot it held
                // is the one just taken.
                let host = self.hosts.get_mut(&claim.host).expect("made above");
                host.running -= 1;
            }
            self.leases.insert(
                claim.url.clone(),
                Lease {
                    worker: ask.worker.clone(),
                    token,
                    deadline: now + ask.lease,
                    host: claim.host.clone(),
                    running: true,
                },
            );
            answers.push(Answer::Granted { token });
        }
        // 8. The log from the cursor on; with partitions, each read's log and inbox.
        let mut reply = Reply {
            answers,
            accepted,
            found,
            ..Reply::default()
        };
        if !split {
            let log = &self.logs[0];
            let from = usize::try_from(ask.cursor)
                .unwrap_or(usize::MAX)
                .min(log.len());
            let to = (from + MAX_ENTRIES).min(log.len());
            reply.entries = log[from..to].to_vec();
            reply.more = to < log.len();
        } else {
            let mut room = MAX_ENTRIES;
            for r in &ask.reads {
                let log = &self.logs[r.partition as usize];
                let inbox = &self.inboxes[r.partition as usize];
                let from = r.log as usize;
                let to = (from + room).min(log.len());
                reply.entries.extend_from_slice(&log[from..to]);
                room -= to - from;
                let from = r.inbox as usize;
                let to = (from + room).min(inbox.len());
                reply.offers.extend_from_slice(&inbox[from..to]);
                room -= to - from;
                if room == 0 {
                    reply.more = true;
                    break;
                }
            }
            // 9. Quiet partitions, 10. over (both only for a quiet ask).
            if ask.quiet && !reply.more {
                for r in &ask.reads {
                    let p = r.partition as usize;
                    let lens = (self.logs[p].len() as u64, self.inboxes[p].len() as u64);
                    if (r.log, r.inbox) == lens {
                        self.quiet.insert(r.partition, lens);
                    }
                }
            }
            reply.over = ask.quiet
                && self.leases.is_empty()
                && (0..partitions).all(|p| {
                    let lens = (
                        self.logs[p as usize].len() as u64,
                        self.inboxes[p as usize].len() as u64,
                    );
                    self.quiet.get(&p) == Some(&lens)
                });
        }
        if split {
            reply.workers = self
                .workers
                .iter()
                .filter(|(w, seen)| **seen + self.worker_leases[*w] > now)
                .map(|(w, _)| w.clone())
                .collect();
        }
        Ok(reply)
    }
}
