//! The URL table and the frontier: every URL the crawl has seen, what became of it, and what is
//! still to fetch.
//!
//! Each normalised URL gets a dense id the first time it is seen; the id indexes [`Entry`]. Newly
//! queued URLs leave in discovery order (a FIFO) for the scheduler's per-host queues, so the order
//! of fetches is decided only by the order of events (never by hash-map iteration).
//!
//! # Why labels
//!
//! Whether a URL may be fetched depends on *how* it was reached: through how many redirect hops
//! (`max_redirect`) and how many link hops (`max_depth`). Responses arrive in any order, so the
//! first path that reaches a URL is not always the best one. If only the first were kept, the set
//! of fetched URLs would depend on timing. Instead every entry keeps the Pareto-best [`Label`]s it
//! was offered (fewest link hops, most redirect budget left); when a better label arrives after
//! the URL was already fetched, it is passed on to the redirect target (or, with `max_depth`, to
//! the page's links) without fetching anything twice. The fetched set is therefore exactly "every
//! URL with some path from a root that respects both limits", whatever the timing, which is what
//! the simulator's oracle checks.

use std::collections::VecDeque;

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap};
use smallvec::SmallVec;
use url::Url;

/// How a URL was reached: link hops from a root, and redirect hops still allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Label {
    /// Link hops from a root (0 for a root; redirects keep the depth of their source).
    pub depth: u32,
    /// Redirect hops that may still be followed from here.
    pub budget: u32,
}

impl Label {
    /// `self` is at least as good as `other` in both respects.
    fn dominates(self, other: Label) -> bool {
        self.depth <= other.depth && self.budget >= other.budget
    }
}

/// What became of a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Known, but no label allows fetching it yet (a cut redirect target, a link past max depth).
    Unqueued,
    /// Outside the scope: never fetched.
    OutOfScope,
    /// Waiting in the frontier.
    Queued,
    /// Being fetched.
    InFlight,
    /// Fetched; it redirected to this id (`None`: no usable, in-scope target).
    Redirected(Option<u32>),
    /// Fetched, anything but a redirect.
    Fetched,
    /// Queued but left out by a per-host page cap.
    Cut,
}

/// One URL.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The URL's lifecycle.
    pub state: State,
    /// Pareto-best ways this URL was reached (empty until it is offered).
    labels: SmallVec<[Label; 1]>,
}

impl Entry {
    /// The fewest link hops any label has.
    pub fn depth(&self) -> u32 {
        self.labels.iter().map(|l| l.depth).min().unwrap_or(0)
    }

    /// The labels, for passing on to a redirect target.
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }
}

/// Every URL seen, and the queue of those to fetch.
#[derive(Default)]
pub(crate) struct Table {
    /// Ids hashed by their key (see [`Index`]).
    ids: Index,
    hasher: FxBuildHasher,
    entries: Vec<Entry>,
    /// The normalised URLs (the dedup keys) by id, back to back in one arena: no allocation per
    /// URL; a lookup reads a key's bytes where its [`Slot`] says they are.
    keys: Keys,
    /// Newly queued ids with their parsed URL (so a link is parsed once, not again when it is
    /// fetched), in discovery order, until the engine hands them to the scheduler.
    arrivals: VecDeque<(u32, Url)>,
    /// Out-links of fetched pages, kept only when `max_depth` is set (see the module docs).
    out_links: FxHashMap<u32, Box<[u32]>>,
}

/// One id in the dedup table, with what a lookup needs to compare keys.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The URL's id; [`EMPTY`] for a free slot.
    id: u32,
    /// The high half of the key's hash.
    tag: u32,
    /// Where the key starts in [`Keys::text`].
    start: u32,
    /// The key's length in bytes.
    len: u32,
}

/// The id of a free [`Slot`] (no URL gets it: [`Table::intern`] stops before).
const EMPTY: u32 = u32::MAX;

impl Slot {
    const FREE: Slot = Slot {
        id: EMPTY,
        tag: 0,
        start: 0,
        len: 0,
    };

    fn key<'k>(&self, keys: &'k Keys) -> &'k str {
        let start = self.start as usize;
        &keys.text[start..start + self.len as usize]
    }
}

/// The dedup index: open addressing with linear probing, at most half full.
///
/// Each slot holds an id with the high half of its key's hash and where its key lies in the
/// arena, so a lookup compares the hash half before touching the key, and then reads the key's
/// bytes directly: it touches one slot (rarely two) and the key, and nothing else (no offsets
/// array, no entry). It is written here rather than taken from `hashbrown` for one thing
/// `hashbrown` does not offer: knowing where a hash's slot lies, so that [`Index::warm`] can
/// load the slots and keys a page's links will need before they are looked up one by one.
/// With a large crawl those loads miss the cache; issued back to back they overlap instead of
/// waiting for each other.
#[derive(Debug, Default)]
struct Index {
    /// A power of two slots (or none).
    slots: Vec<Slot>,
    /// Occupied slots.
    len: usize,
}

impl Index {
    fn home(&self, hash: u64) -> usize {
        (hash as usize) & (self.slots.len() - 1)
    }

    fn find(&self, hash: u64, keys: &Keys, key: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let (tag, mask) = ((hash >> 32) as u32, self.slots.len() - 1);
        let mut i = self.home(hash);
        loop {
            let slot = &self.slots[i];
            if slot.id == EMPTY {
                return None;
            }
            if slot.tag == tag && slot.key(keys) == key {
                return Some(slot.id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `slot` (its key must not be in the index yet); `rehash` gives the hash of a key.
    fn insert(&mut self, hash: u64, slot: Slot, keys: &Keys, rehash: impl Fn(&str) -> u64) {
        if (self.len + 1) * 2 > self.slots.len() {
            let mut bigger = Index {
                slots: vec![Slot::FREE; (self.slots.len() * 2).max(64)],
                len: 0,
            };
            for old in self.slots.iter().filter(|s| s.id != EMPTY) {
                bigger.put(rehash(old.key(keys)), *old);
            }
            *self = bigger;
        }
        self.put(hash, slot);
    }

    fn put(&mut self, hash: u64, mut slot: Slot) {
        slot.tag = (hash >> 32) as u32;
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        while self.slots[i].id != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
        self.len += 1;
    }

    /// Loads what looking up keys with these hashes will read: first every home slot, then the
    /// first byte of every key whose tag matches along each probe, and what `also` reads for
    /// that key's id. Pure reads that change nothing; they only make the lookups that follow
    /// hit the cache.
    fn warm(&self, hashes: &[u64], keys: &Keys, also: impl Fn(u32) -> u32) {
        if self.slots.is_empty() {
            return;
        }
        let mut sink = 0u32;
        for &hash in hashes {
            sink ^= self.slots[self.home(hash)].tag;
        }
        let mask = self.slots.len() - 1;
        for &hash in hashes {
            let (tag, mut i) = ((hash >> 32) as u32, self.home(hash));
            while self.slots[i].id != EMPTY {
                let slot = &self.slots[i];
                if slot.tag == tag {
                    let first = keys.text.as_bytes().get(slot.start as usize);
                    sink ^= u32::from(first.copied().unwrap_or(0)) ^ also(slot.id);
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        std::hint::black_box(sink);
    }
}

/// The answer of [`Table::intern`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interned {
    /// Seen for the first time.
    New(u32),
    /// Seen before.
    Known(u32),
}

impl Interned {
    pub fn id(self) -> u32 {
        match self {
            Interned::New(id) | Interned::Known(id) => id,
        }
    }

    pub fn is_known(self) -> bool {
        matches!(self, Interned::Known(_))
    }
}

/// Strings by dense id, stored back to back.
#[derive(Debug, Default)]
struct Keys {
    text: String,
    /// `ends[id]` is where key `id` ends in `text`; it starts where key `id - 1` ends.
    ends: Vec<usize>,
}

impl Keys {
    fn get(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    fn push(&mut self, key: &str) {
        self.text.push_str(key);
        self.ends.push(self.text.len());
    }
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("urls", &self.entries.len())
            .field("queued", &self.arrivals.len())
            .finish_non_exhaustive()
    }
}

impl Table {
    /// The id of normalised URL `key`, whose [`hash`](Self::hash) is `hash`, if it was seen.
    pub fn known(&self, key: &str, hash: u64) -> Option<u32> {
        debug_assert_eq!(hash, self.hash(key));
        self.ids.find(hash, &self.keys, key)
    }

    /// The hash [`known`](Self::known) and [`warm`](Self::warm) take for `key`.
    pub fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Brings into the cache what looking up the keys with these hashes (from
    /// [`hash`](Self::hash)) and then offering them a label will read; see [`Index`].
    pub fn warm(&self, hashes: &[u64]) {
        let entries = &self.entries;
        self.ids.warm(hashes, &self.keys, |id| {
            entries
                .get(id as usize)
                .map_or(0, |e| e.labels.len() as u32)
        });
    }

    /// The id of `url`, adding it when new. `in_scope` is asked only for new URLs.
    pub fn intern(&mut self, url: &Url, in_scope: impl FnOnce(&Url) -> bool) -> Interned {
        let key = url.as_str();
        let hash = self.hasher.hash_one(key);
        if let Some(id) = self.known(key, hash) {
            return Interned::Known(id);
        }
        let id = u32::try_from(self.entries.len())
            .ok()
            .filter(|&id| id != EMPTY)
            .expect("more than 4 billion URLs");
        let state = if in_scope(url) {
            State::Unqueued
        } else {
            State::OutOfScope
        };
        self.entries.push(Entry {
            state,
            labels: SmallVec::new(),
        });
        let slot = Slot {
            id,
            // Set from the hash by `Index::put`.
            tag: 0,
            // Keys are URLs a crawl found; 4 GB of them would not fit in memory beside the rest.
            start: u32::try_from(self.keys.text.len()).expect("more than 4 GB of URLs"),
            len: u32::try_from(key.len()).expect("a URL longer than 4 GB"),
        };
        self.keys.push(key);
        let (keys, hasher) = (&self.keys, &self.hasher);
        self.ids
            .insert(hash, slot, keys, |key| hasher.hash_one(key));
        Interned::New(id)
    }

    pub fn entry(&self, id: u32) -> &Entry {
        &self.entries[id as usize]
    }

    /// Offers `label` to `id` and returns `true` if that queued it. `url` is the parsed URL when
    /// the caller has it (else it is parsed again from the key). Better labels for entries already
    /// fetched are passed on through `follow_up`, for the caller to offer in turn.
    pub fn offer(
        &mut self,
        id: u32,
        label: Label,
        url: Option<Url>,
        follow_up: &mut Vec<(u32, Label)>,
        max_redirect: u32,
        max_depth: Option<u32>,
    ) -> bool {
        let keys = &self.keys;
        let entry = &mut self.entries[id as usize];
        if entry.state == State::OutOfScope || entry.labels.iter().any(|l| l.dominates(label)) {
            return false;
        }
        entry.labels.retain(|l| !label.dominates(*l));
        entry.labels.push(label);
        match entry.state {
            State::Unqueued => {
                entry.state = State::Queued;
                let url = url
                    .or_else(|| Url::parse(keys.get(id)).ok())
                    .expect("keys are valid urls");
                self.arrivals.push_back((id, url));
                true
            }
            State::Redirected(Some(target)) if label.budget > 0 => {
                follow_up.push((
                    target,
                    Label {
                        depth: label.depth,
                        budget: label.budget - 1,
                    },
                ));
                false
            }
            State::Fetched => {
                if let (Some(max), Some(links)) = (max_depth, self.out_links.get(&id)) {
                    if label.depth < max {
                        let next = Label {
                            depth: label.depth + 1,
                            budget: max_redirect,
                        };
                        follow_up.extend(links.iter().map(|&l| (l, next)));
                    }
                }
                false
            }
            _ => false,
        }
    }

    /// Takes the oldest newly queued URL and marks it in flight (handed to the scheduler).
    pub fn pop(&mut self) -> Option<(u32, Url)> {
        let (id, url) = self.arrivals.pop_front()?;
        self.entries[id as usize].state = State::InFlight;
        Some((id, url))
    }

    /// Marks `id` as done with `state`.
    pub fn finish(&mut self, id: u32, state: State) {
        self.entries[id as usize].state = state;
    }

    /// Keeps the out-links of a fetched page (only needed with `max_depth`).
    pub fn set_out_links(&mut self, id: u32, links: Vec<u32>) {
        if !links.is_empty() {
            self.out_links.insert(id, links.into_boxed_slice());
        }
    }

    /// URLs that are in scope but no label ever allowed (cut by `max_depth` or `max_redirect`).
    pub fn never_allowed(&self) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.state == State::Unqueued)
            .count() as u64
    }

    /// Newly queued URLs not yet taken by [`pop`](Self::pop).
    pub fn queued(&self) -> usize {
        self.arrivals.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The index gives every key one id, the first time it is seen, across growth, with
        /// [`Table::warm`] run before some lookups (it must change nothing). The oracle is a
        /// `BTreeMap` from key to the id it got.
        #[test]
        fn ids_agree_with_a_map(
            picks in prop::collection::vec((0u32..400, any::<bool>()), 1..1500),
            warm_every in 1usize..8,
        ) {
            let mut t = Table::default();
            let mut oracle: BTreeMap<String, u32> = BTreeMap::new();
            let key = |n: u32| format!("http://h{}/p{n}", n % 3);
            for (i, chunk) in picks.chunks(warm_every).enumerate() {
                if i % 2 == 0 {
                    let hashes: Vec<u64> = chunk.iter().map(|&(n, _)| t.hash(&key(n))).collect();
                    t.warm(&hashes);
                }
                for &(n, intern) in chunk {
                    let k = key(n);
                    prop_assert_eq!(t.known(&k, t.hash(&k)), oracle.get(&k).copied(), "{}", k);
                    if intern {
                        let next = oracle.len() as u32;
                        let want = match oracle.get(&k) {
                            Some(&id) => Interned::Known(id),
                            None => Interned::New(next),
                        };
                        oracle.entry(k.clone()).or_insert(next);
                        prop_assert_eq!(t.intern(&u(&k), |_| true), want, "{}", k);
                    }
                }
            }
            for (k, &id) in &oracle {
                prop_assert_eq!(t.known(k, t.hash(k)), Some(id));
                prop_assert_eq!(t.keys.get(id), k.as_str());
            }
            prop_assert!(t.ids.len * 2 <= t.ids.slots.len());
        }
    }

    /// Keys whose hashes share a home slot (a full table's worth of them) all keep their ids:
    /// probing walks past taken slots and wraps around the end.
    #[test]
    fn colliding_homes_probe_on() {
        let mut index = Index::default();
        let mut keys = Keys::default();
        let mask = 63u64;
        for id in 0..32u32 {
            let key = format!("k{id}");
            let slot = Slot {
                id,
                tag: 0,
                start: keys.text.len() as u32,
                len: key.len() as u32,
            };
            keys.push(&key);
            // Every key's home is the last slot, so probes wrap to the start of the table.
            index.insert(
                mask | (u64::from(id) << 32),
                slot,
                &keys,
                |_| unreachable!(),
            );
        }
        assert_eq!(index.slots.len(), 64);
        for id in 0..32u32 {
            let hash = mask | (u64::from(id) << 32);
            assert_eq!(index.find(hash, &keys, &format!("k{id}")), Some(id));
            assert_eq!(index.find(hash, &keys, "absent"), None);
        }
    }

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn labels_keep_only_the_pareto_front() {
        let mut t = Table::default();
        let mut follow = Vec::new();
        let id = t.intern(&u("http://h/a"), |_| true).id();
        let l = |depth, budget| Label { depth, budget };
        assert!(t.offer(id, l(3, 2), Some(u("http://h/a")), &mut follow, 10, None));
        // Worse in both respects: refused.
        assert!(!t.offer(id, l(4, 1), None, &mut follow, 10, None));
        // Better budget, worse depth: kept beside.
        t.offer(id, l(5, 7), None, &mut follow, 10, None);
        assert_eq!(t.entry(id).labels().len(), 2);
        // Dominates both: replaces them.
        t.offer(id, l(1, 9), None, &mut follow, 10, None);
        assert_eq!(t.entry(id).labels(), &[l(1, 9)]);
        assert_eq!(t.pop().unwrap().0, id);
        assert!(t.pop().is_none());
    }

    #[test]
    fn a_better_label_for_a_fetched_redirect_is_passed_on() {
        let mut t = Table::default();
        let mut follow = Vec::new();
        let src = t.intern(&u("http://h/r"), |_| true).id();
        let dst = t.intern(&u("http://h/x"), |_| true).id();
        let l = |depth, budget| Label { depth, budget };
        t.offer(src, l(0, 0), Some(u("http://h/r")), &mut follow, 10, None);
        t.pop();
        t.finish(src, State::Redirected(Some(dst)));
        t.offer(src, l(0, 3), None, &mut follow, 10, None);
        assert_eq!(follow, [(dst, l(0, 2))]);
    }

    #[test]
    fn out_of_scope_urls_are_remembered_but_never_queued() {
        let mut t = Table::default();
        let mut follow = Vec::new();
        let id = t.intern(&u("http://other/"), |_| false);
        assert!(matches!(id, Interned::New(_)));
        assert_eq!(
            t.intern(&u("http://other/"), |_| unreachable!()),
            Interned::Known(id.id())
        );
        let label = Label {
            depth: 0,
            budget: 1,
        };
        assert!(!t.offer(id.id(), label, None, &mut follow, 10, None));
        assert_eq!(t.queued(), 0);
    }
}
