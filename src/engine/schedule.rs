//! Which queued URL starts next: per-host queues, politeness, and retries waiting for their time.
//!
//! URLs wait in one FIFO per host (origin: scheme, host and port). Hosts that may start a request
//! now sit in a round-robin `ready` ring, so one slow or rate-limited host never starves the
//! others while the global `max_tasks` stays busy. A host may start a request when
//!
//! - it has fewer than `max_per_host` requests in flight, and
//! - its delay has passed since its previous request started (`--delay`, or robots.txt's
//!   `Crawl-delay`).
//!
//! A host that is only waiting for its delay arms a timer; a failed try that will be retried also
//! waits on a timer (backoff or `Retry-After`) and then goes to the *front* of its host's queue.
//! Timers are ordered by (due time, sequence number), so ties never depend on anything but the
//! order of events. Every retry goes through here, so the politeness rules hold for retries too.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use rustc_hash::FxHashMap;
use url::Url;

/// One request to make: a URL, its host, and which try this is.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The URL's id in the table.
    pub id: u32,
    /// The URL.
    pub url: Url,
    /// The host's id in the scheduler.
    pub host: u32,
    /// 1 for the first try.
    pub try_no: u32,
    /// What the request is for.
    pub kind: JobKind,
    /// The page holds its place in its host's `max_pages_per_host` (other kinds: always
    /// `true`). A page admitted before its host's robots.txt was known takes its place only
    /// when it starts: one that robots.txt then forbids must not use a place another page of
    /// the host could have had.
    pub placed: bool,
}

/// What a job fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    /// A URL of the crawl.
    Page,
    /// A sitemap, `depth` indexes below the one that was named (0 for a named one).
    Sitemap {
        /// Sitemap index nesting so far.
        depth: u32,
        /// Redirects followed to reach this URL from the named (or listed) one.
        hops: u32,
    },
    /// A robots.txt fetch of robots chain `chain` (see `robots::Book`), after `hops` redirects.
    Robots {
        /// The chain whose hosts wait for this fetch.
        chain: usize,
        /// Redirects followed so far.
        hops: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// The host's delay has passed (the host's timer generation when it was armed: one armed
    /// before [`Scheduler::unstart`] gave the delay back is stale, and ignored).
    Host(u32, u32),
    /// A retry (slot in `waiting`) is due.
    Retry(usize),
}

#[derive(Debug, Default)]
struct Host {
    queue: VecDeque<Job>,
    in_flight: usize,
    /// Earliest start of the next request (previous start + delay).
    next_allowed: Duration,
    /// Start of the previous request, if any.
    last_start: Option<Duration>,
    /// `next_allowed` and `last_start` before the last start, for [`Scheduler::unstart`].
    before_last: Option<(Duration, Option<Duration>)>,
    /// Minimum time between two request starts.
    delay: Duration,
    /// In the `ready` ring now.
    in_ready: bool,
    /// A `Timer::Host` is pending for it.
    timer_armed: bool,
    /// Bumped when a pending `Timer::Host` goes stale ([`Scheduler::unstart`]).
    timer_gen: u32,
    /// Page places of `max_pages_per_host` taken: pages admitted once the host's robots.txt
    /// was known, and pages admitted before it that have started.
    places: u64,
    /// Waiting for its robots.txt: only robots jobs may start.
    blocked: bool,
}

impl Host {
    /// The front job may start as far as robots.txt is concerned.
    fn front_unblocked(&self) -> bool {
        !self.blocked
            || self
                .queue
                .front()
                .is_some_and(|j| matches!(j.kind, JobKind::Robots { .. }))
    }
}

/// The per-host queues, the ready ring and the timers.
#[derive(Debug)]
pub(crate) struct Scheduler {
    hosts: Vec<Host>,
    host_ids: FxHashMap<Box<str>, u32>,
    ready: VecDeque<u32>,
    timers: BinaryHeap<Reverse<(Duration, u64, Timer)>>,
    seq: u64,
    /// Retries waiting for their time, by slot.
    waiting: Vec<Option<Job>>,
    free_slots: Vec<usize>,
    queued: usize,
    max_per_host: usize,
    default_delay: Duration,
}

impl Scheduler {
    /// A scheduler with a per-host cap (`usize::MAX`: none) and a default delay.
    pub fn new(max_per_host: usize, delay: Duration) -> Self {
        Scheduler {
            hosts: Vec::new(),
            host_ids: FxHashMap::default(),
            ready: VecDeque::new(),
            timers: BinaryHeap::new(),
            seq: 0,
            waiting: Vec::new(),
            free_slots: Vec::new(),
            queued: 0,
            max_per_host,
            default_delay: delay,
        }
    }

    /// The id of `url`'s host, and `true` if it is new.
    pub fn host_of(&mut self, url: &Url) -> (u32, bool) {
        let key = &url[..url::Position::BeforePath];
        if let Some(&id) = self.host_ids.get(key) {
            return (id, false);
        }
        let id = u32::try_from(self.hosts.len()).expect("more than 4 billion hosts");
        self.hosts.push(Host {
            delay: self.default_delay,
            ..Host::default()
        });
        self.host_ids.insert(key.into(), id);
        (id, true)
    }

    /// Raises `host`'s delay to at least `delay` (robots.txt `Crawl-delay`), counted from the
    /// start of its previous request (the robots.txt fetch itself).
    pub fn raise_delay(&mut self, host: u32, delay: Duration) {
        let h = &mut self.hosts[host as usize];
        h.delay = h.delay.max(delay);
        if let Some(last) = h.last_start {
            h.next_allowed = h.next_allowed.max(last + h.delay);
        }
    }

    /// `host`'s delay between request starts.
    pub fn delay(&self, host: u32) -> Duration {
        self.hosts[host as usize].delay
    }

    /// How many of `host`'s page places (`max_pages_per_host`) are taken, to take one more.
    pub fn places(&mut self, host: u32) -> &mut u64 {
        &mut self.hosts[host as usize].places
    }

    /// Holds `host`'s pages until [`unblock`](Self::unblock) (its robots.txt is being fetched).
    pub fn block(&mut self, host: u32) {
        self.hosts[host as usize].blocked = true;
    }

    /// Lets `host`'s pages start.
    pub fn unblock(&mut self, host: u32, now: Duration) {
        self.hosts[host as usize].blocked = false;
        self.make_ready(host, now);
    }

    /// Queues a job at the front of its host's queue (robots.txt goes first).
    pub fn push_front(&mut self, job: Job, now: Duration) {
        let host = job.host;
        self.hosts[host as usize].queue.push_front(job);
        self.queued += 1;
        self.make_ready(host, now);
    }

    /// Queues a job at the back of its host's queue.
    pub fn push(&mut self, job: Job, now: Duration) {
        let host = job.host;
        self.hosts[host as usize].queue.push_back(job);
        self.queued += 1;
        self.make_ready(host, now);
    }

    /// Starts the next job that may start now, if any. Jobs for which `keep` says `false` are
    /// dropped on the way (a page that robots.txt turned out to forbid, or one over its host's
    /// page cap) without using the host's slot or delay; `keep` also gets the count of the
    /// host's page places taken (see [`Scheduler::places`]), to take one for an unplaced page.
    pub fn pop(
        &mut self,
        now: Duration,
        mut keep: impl FnMut(&mut Job, &mut u64) -> bool,
    ) -> Option<Job> {
        while let Some(h) = self.ready.pop_front() {
            self.hosts[h as usize].in_ready = false;
            loop {
                let host = &mut self.hosts[h as usize];
                if host.queue.is_empty()
                    || host.in_flight >= self.max_per_host
                    || !host.front_unblocked()
                {
                    break; // Readied again by push(), finish() or unblock().
                }
                if now < host.next_allowed {
                    let at = host.next_allowed;
                    self.arm(h, at);
                    break;
                }
                let mut job = host.queue.pop_front().expect("checked non-empty");
                self.queued -= 1;
                if !keep(&mut job, &mut host.places) {
                    continue;
                }
                let host = &mut self.hosts[h as usize];
                host.in_flight += 1;
                host.before_last = Some((host.next_allowed, host.last_start));
                host.next_allowed = now + host.delay;
                host.last_start = Some(now);
                self.make_ready(h, now);
                return Some(job);
            }
        }
        None
    }

    /// A request of `host` is over.
    pub fn finish(&mut self, host: u32, now: Duration) {
        self.hosts[host as usize].in_flight -= 1;
        self.make_ready(host, now);
    }

    /// A job of `host` that [`Scheduler::pop`] started at `started` made no request after all
    /// (a shared crawl's claim turned down, or an entry redone instead): its slot is given
    /// back, and so is the host's delay when no job of the host has started since (else the
    /// later start keeps its delay).
    pub fn unstart(&mut self, host: u32, started: Duration, now: Duration) {
        let h = &mut self.hosts[host as usize];
        h.in_flight -= 1;
        if h.last_start == Some(started)
            && let Some((next_allowed, last_start)) = h.before_last.take()
        {
            h.next_allowed = next_allowed;
            h.last_start = last_start;
            // A timer armed for the delay given back would ready the host too late, and keep
            // the crawl waiting for it: it goes stale.
            h.timer_armed = false;
            h.timer_gen = h.timer_gen.wrapping_add(1);
        }
        self.make_ready(host, now);
    }

    /// Puts `job` back at the front of its host's queue at time `at`.
    pub fn retry_at(&mut self, job: Job, at: Duration) {
        let slot = match self.free_slots.pop() {
            Some(s) => {
                self.waiting[s] = Some(job);
                s
            }
            None => {
                self.waiting.push(Some(job));
                self.waiting.len() - 1
            }
        };
        self.push_timer(at, Timer::Retry(slot));
    }

    /// Fires every timer due at or before `now`.
    pub fn release_due(&mut self, now: Duration) {
        while let Some(Reverse((at, _, timer))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            match timer {
                Timer::Host(h, generation) if generation != self.hosts[h as usize].timer_gen => {}
                Timer::Host(h, _) => {
                    self.hosts[h as usize].timer_armed = false;
                    self.make_ready(h, now);
                }
                Timer::Retry(slot) => {
                    let job = self.waiting[slot].take().expect("a retry slot fires once");
                    self.free_slots.push(slot);
                    let h = job.host;
                    self.hosts[h as usize].queue.push_front(job);
                    self.queued += 1;
                    self.make_ready(h, now);
                }
            }
        }
    }

    /// When the next timer is due, if any is pending (stale ones dropped first).
    pub fn next_due(&mut self) -> Option<Duration> {
        while let Some(Reverse((_, _, Timer::Host(h, generation)))) = self.timers.peek()
            && *generation != self.hosts[*h as usize].timer_gen
        {
            self.timers.pop();
        }
        self.timers.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Jobs queued per host (origin), hosts with none left out, in order.
    pub fn queued_by_host(&self) -> Vec<(String, usize)> {
        let mut by: Vec<(String, usize)> = self
            .host_ids
            .iter()
            .map(|(key, &id)| (key.to_string(), self.hosts[id as usize].queue.len()))
            .filter(|(_, n)| *n > 0)
            .collect();
        by.sort();
        by
    }

    /// Jobs waiting: queued in a host, or a retry waiting for its time.
    pub fn queued(&self) -> usize {
        self.queued + self.waiting.len() - self.free_slots.len()
    }

    fn make_ready(&mut self, h: u32, now: Duration) {
        let host = &mut self.hosts[h as usize];
        if host.in_ready
            || host.timer_armed
            || host.queue.is_empty()
            || host.in_flight >= self.max_per_host
            || !host.front_unblocked()
        {
            return;
        }
        if now < host.next_allowed {
            let at = host.next_allowed;
            self.arm(h, at);
        } else {
            host.in_ready = true;
            self.ready.push_back(h);
        }
    }

    fn arm(&mut self, h: u32, at: Duration) {
        self.hosts[h as usize].timer_armed = true;
        let generation = self.hosts[h as usize].timer_gen;
        self.push_timer(at, Timer::Host(h, generation));
    }

    fn push_timer(&mut self, at: Duration, timer: Timer) {
        self.seq += 1;
        self.timers.push(Reverse((at, self.seq, timer)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(s: &mut Scheduler, url: &str, id: u32) -> Job {
        let url = Url::parse(url).unwrap();
        let (host, _) = s.host_of(&url);
        Job {
            id,
            url,
            host,
            try_no: 1,
            kind: JobKind::Page,
            placed: true,
        }
    }

    /// A start taken back gives back the slot and the delay; one taken back after a later
    /// start of its host gives back only the slot.
    #[test]
    fn an_unstarted_job_gives_back_its_slot_and_delay() {
        let t = Duration::from_secs;
        let mut s = Scheduler::new(2, t(10));
        for id in 0..4 {
            let j = job(&mut s, &format!("http://a/{id}"), id);
            s.push(j, t(0));
        }
        let host = 0;
        assert_eq!(s.pop(t(0), |_, _| true).map(|j| j.id), Some(0));
        assert!(s.pop(t(1), |_, _| true).is_none(), "the delay holds");
        s.unstart(host, t(0), t(1));
        assert_eq!(s.pop(t(1), |_, _| true).map(|j| j.id), Some(1));
        // The timer job 0 set (due at 10) is stale: the next one due is job 1's.
        assert_eq!(s.next_due(), Some(t(11)));
        // Job 2 starts at 11; job 1 (started at 1) taken back now keeps job 2's delay.
        s.release_due(t(11));
        assert_eq!(s.pop(t(11), |_, _| true).map(|j| j.id), Some(2));
        s.unstart(host, t(1), t(12));
        assert!(s.pop(t(12), |_, _| true).is_none(), "job 2's delay holds");
        s.release_due(t(21));
        assert_eq!(s.pop(t(21), |_, _| true).map(|j| j.id), Some(3));
    }

    fn ids(s: &mut Scheduler, now: Duration) -> Vec<u32> {
        std::iter::from_fn(|| s.pop(now, |_, _| true))
            .map(|j| j.id)
            .collect()
    }

    #[test]
    fn hosts_take_turns() {
        let mut s = Scheduler::new(usize::MAX, Duration::ZERO);
        for (i, u) in [
            "http://a/1",
            "http://a/2",
            "http://a/3",
            "http://b/1",
            "http://b/2",
        ]
        .iter()
        .enumerate()
        {
            let j = job(&mut s, u, i as u32);
            s.push(j, Duration::ZERO);
        }
        assert_eq!(ids(&mut s, Duration::ZERO), [0, 3, 1, 4, 2]);
        assert_eq!(s.queued(), 0);
    }

    #[test]
    fn per_host_cap_and_delay() {
        let t = Duration::from_secs;
        let mut s = Scheduler::new(1, t(2));
        for (i, u) in ["http://a/1", "http://a/2", "http://b/1"]
            .iter()
            .enumerate()
        {
            let j = job(&mut s, u, i as u32);
            s.push(j, t(0));
        }
        assert_eq!(ids(&mut s, t(0)), [0, 2]); // a is at its cap
        s.finish(0, t(1)); // a's request ends at t=1; its delay runs to t=2
        assert_eq!(ids(&mut s, t(1)), Vec::<u32>::new());
        assert_eq!(s.next_due(), Some(t(2)));
        s.release_due(t(2));
        assert_eq!(ids(&mut s, t(2)), [1]);
    }

    #[test]
    fn retries_wait_then_jump_the_queue() {
        let t = Duration::from_secs;
        let mut s = Scheduler::new(usize::MAX, Duration::ZERO);
        let first = job(&mut s, "http://a/1", 0);
        let second = job(&mut s, "http://a/2", 1);
        s.push(second, t(0));
        s.retry_at(Job { try_no: 2, ..first }, t(5));
        assert_eq!(s.queued(), 2);
        s.release_due(t(4));
        assert_eq!(s.next_due(), Some(t(5)));
        s.release_due(t(5));
        let order: Vec<_> = std::iter::from_fn(|| s.pop(t(5), |_, _| true))
            .map(|j| (j.id, j.try_no))
            .collect();
        assert_eq!(order, [(0, 2), (1, 1)]);
        assert_eq!(s.queued(), 0);
    }
}

#[cfg(test)]
mod blocking_tests {
    use super::*;

    #[test]
    fn a_blocked_host_lets_only_robots_jobs_start() {
        let mut s = Scheduler::new(usize::MAX, Duration::ZERO);
        let page = Url::parse("http://a/p").unwrap();
        let (host, _) = s.host_of(&page);
        s.block(host);
        let job = |id, kind| Job {
            id,
            url: page.clone(),
            host,
            try_no: 1,
            kind,
            placed: true,
        };
        s.push(job(1, JobKind::Page), Duration::ZERO);
        assert!(s.pop(Duration::ZERO, |_, _| true).is_none());
        let robots = JobKind::Robots { chain: 0, hops: 0 };
        s.push_front(job(0, robots), Duration::ZERO);
        assert_eq!(s.pop(Duration::ZERO, |_, _| true).map(|j| j.id), Some(0));
        assert!(s.pop(Duration::ZERO, |_, _| true).is_none());
        s.unblock(host, Duration::ZERO);
        assert_eq!(s.pop(Duration::ZERO, |_, _| true).map(|j| j.id), Some(1));
    }
}

#[cfg(test)]
mod keep_tests {
    use super::*;

    #[test]
    fn dropped_jobs_use_no_slot_and_no_delay() {
        let t = Duration::from_secs;
        let mut s = Scheduler::new(1, t(10));
        for id in 0..3 {
            let url = Url::parse(&format!("http://a/{id}")).unwrap();
            let (host, _) = s.host_of(&url);
            let kind = JobKind::Page;
            s.push(
                Job {
                    id,
                    url,
                    host,
                    try_no: 1,
                    kind,
                    placed: true,
                },
                t(0),
            );
        }
        let job = s.pop(t(0), |j, _| j.id != 0).unwrap();
        assert_eq!(job.id, 1);
        assert_eq!(s.queued(), 1);
    }
}
