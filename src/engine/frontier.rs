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

use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use url::Url;

use crate::strids::StrIds;

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
pub(crate) enum UrlState {
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
    /// In a partition of a shared crawl this worker does not follow: each label that improves
    /// its labels is handed over (see [`Table::take_outbox`]), and it is never queued here.
    Foreign,
}

/// One URL.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The URL's lifecycle.
    pub state: UrlState,
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
    /// The normalised URLs (the dedup keys) by id, back to back in one arena, and their index.
    keys: StrIds,
    entries: Vec<Entry>,
    /// Newly queued ids with their parsed URL (so a link is parsed once, not again when it is
    /// fetched), in discovery order, until the engine hands them to the scheduler.
    arrivals: VecDeque<(u32, Url)>,
    /// Out-links of fetched pages, kept only when `max_depth` is set (see the module docs).
    out_links: FxHashMap<u32, Box<[u32]>>,
    /// A shared crawl's partitions, and which of them this worker follows (`None`: all).
    split: Option<(u32, Vec<bool>)>,
    /// Labels that improved a [`UrlState::Foreign`] URL's, to hand over.
    outbox: Vec<(u32, Label)>,
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
        self.keys.find(key, hash)
    }

    /// The hash [`known`](Self::known) and [`warm`](Self::warm) take for `key`.
    pub fn hash(&self, key: &str) -> u64 {
        self.keys.hash(key)
    }

    /// Brings into the cache what looking up the keys with these hashes (from
    /// [`hash`](Self::hash)) and then offering them a label will read; see [`StrIds::warm`].
    pub fn warm(&self, hashes: &[u64]) {
        let entries = &self.entries;
        self.keys.warm(hashes, |id| {
            entries
                .get(id as usize)
                .map_or(0, |e| e.labels.len() as u32)
        });
    }

    /// The id of `url`, adding it when new. `in_scope` is asked only for new URLs.
    pub fn intern(&mut self, url: &Url, in_scope: impl FnOnce(&Url) -> bool) -> Interned {
        let key = url.as_str();
        let hash = self.keys.hash(key);
        if let Some(id) = self.known(key, hash) {
            return Interned::Known(id);
        }
        let id = self.keys.push(key, hash).expect("more than 4 billion URLs");
        debug_assert_eq!(id as usize, self.entries.len());
        let state = if !in_scope(url) {
            UrlState::OutOfScope
        } else if let Some((partitions, followed)) = &self.split
            && !followed[crate::shared::partition_of(key, *partitions) as usize]
        {
            UrlState::Foreign
        } else {
            UrlState::Unqueued
        };
        self.entries.push(Entry {
            state,
            labels: SmallVec::new(),
        });
        Interned::New(id)
    }

    /// Follows only the `followed` partitions of `partitions` (see [`crate::shared`]): URLs of
    /// the others become [`UrlState::Foreign`]. Set before any URL is interned.
    pub fn follow(&mut self, partitions: u32, followed: &[u32]) {
        debug_assert!(self.entries.is_empty());
        let mut mine = vec![false; partitions as usize];
        for &p in followed {
            mine[p as usize] = true;
        }
        self.split = Some((partitions, mine));
    }

    /// The labels that improved foreign URLs' since the last call, with the URLs' keys.
    pub fn take_outbox(&mut self) -> impl Iterator<Item = (&str, Label)> {
        let keys = &self.keys;
        self.outbox
            .drain(..)
            .map(|(id, label)| (keys.get(id), label))
    }

    /// Labels wait to be handed over.
    pub fn has_outbox(&self) -> bool {
        !self.outbox.is_empty()
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
        if entry.state == UrlState::OutOfScope || entry.labels.iter().any(|l| l.dominates(label)) {
            return false;
        }
        entry.labels.retain(|l| !label.dominates(*l));
        entry.labels.push(label);
        match entry.state {
            UrlState::Foreign => {
                self.outbox.push((id, label));
                false
            }
            UrlState::Unqueued => {
                entry.state = UrlState::Queued;
                let url = url
                    .or_else(|| Url::parse(keys.get(id)).ok())
                    .expect("keys are valid urls");
                self.arrivals.push_back((id, url));
                true
            }
            UrlState::Redirected(Some(target)) if label.budget > 0 => {
                follow_up.push((
                    target,
                    Label {
                        depth: label.depth,
                        budget: label.budget - 1,
                    },
                ));
                false
            }
            UrlState::Fetched => {
                if let (Some(max), Some(links)) = (max_depth, self.out_links.get(&id))
                    && label.depth < max
                {
                    let next = Label {
                        depth: label.depth + 1,
                        budget: max_redirect,
                    };
                    follow_up.extend(links.iter().map(|&l| (l, next)));
                }
                false
            }
            _ => false,
        }
    }

    /// Takes the oldest newly queued URL and marks it in flight (handed to the scheduler).
    pub fn pop(&mut self) -> Option<(u32, Url)> {
        let (id, url) = self.arrivals.pop_front()?;
        self.entries[id as usize].state = UrlState::InFlight;
        Some((id, url))
    }

    /// Marks `id` as done with `state`.
    pub fn finish(&mut self, id: u32, state: UrlState) {
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
            .filter(|e| e.state == UrlState::Unqueued)
            .count() as u64
    }

    /// URLs known in scope, whatever became of them (the table also holds the out-of-scope
    /// and trap-cut URLs links named, so that each is looked at once).
    pub fn in_scope(&self) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.state != UrlState::OutOfScope)
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

    /// Interning gives ids in order of first sight and `Known` after, and `known` agrees, with a
    /// warm in between that changes nothing. (The index itself is held to an oracle in
    /// `strids`.)
    #[test]
    fn intern_gives_ids_in_order_of_first_sight() {
        let mut t = Table::default();
        let urls = [
            "http://h/a",
            "http://h/b",
            "http://h/a",
            "http://i/",
            "http://h/b",
        ];
        let got: Vec<Interned> = urls.iter().map(|s| t.intern(&u(s), |_| true)).collect();
        use Interned::{Known, New};
        assert_eq!(got, [New(0), New(1), Known(0), New(2), Known(1)]);
        let hashes: Vec<u64> = urls.iter().map(|s| t.hash(s)).collect();
        t.warm(&hashes);
        for (s, want) in [
            ("http://h/a", Some(0)),
            ("http://i/", Some(2)),
            ("http://h/c", None),
        ] {
            assert_eq!(t.known(s, t.hash(s)), want, "{s}");
        }
        assert_eq!(t.keys.get(2), "http://i/");
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
        t.finish(src, UrlState::Redirected(Some(dst)));
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
