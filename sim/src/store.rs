//! A simulated durable store for crash tests: what the engine keeps becomes durable only when
//! the store syncs, and a crash loses what came after the last sync.
//!
//! [`SimStore`] syncs every `sync_every` completions (a group commit by count). At a crash,
//! the writes since the last sync are lost, except a prefix of them when the crash *tears* the
//! batch being written (`survive`): that is what a store that makes each completion atomic but
//! syncs in batches may leave, and it is the worst the engine must live with. Lookups read only
//! what is durable (a run never looks up a URL it finished itself: the URL table has it).
//!
//! [`SharedStore`] hands one store to successive engines (a crashed run, then the next) and
//! lets the checker look at it between them.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use crawler::{Kept, MemoryStore, Store};

/// A store that syncs in batches and loses the unsynced part at a crash.
#[derive(Debug)]
pub struct SimStore {
    durable: MemoryStore,
    pending: Vec<Kept>,
    sync_every: usize,
}

impl SimStore {
    /// A store that syncs every `sync_every` completions (at least 1).
    pub fn new(sync_every: usize) -> Self {
        SimStore {
            durable: MemoryStore::default(),
            pending: Vec::new(),
            sync_every: sync_every.max(1),
        }
    }

    /// Makes everything kept so far durable (a run that ended cleanly).
    pub fn sync(&mut self) {
        for kept in self.pending.drain(..) {
            self.durable.keep(kept);
        }
    }

    /// A crash: the first `survive` unsynced completions become durable (a torn batch), the
    /// rest are lost. Returns how many were lost.
    pub fn crash(&mut self, survive: usize) -> usize {
        let survive = survive.min(self.pending.len());
        let lost = self.pending.len() - survive;
        for kept in self.pending.drain(..survive) {
            self.durable.keep(kept);
        }
        self.pending.clear();
        lost
    }

    /// Completions written since the last sync.
    pub fn unsynced(&self) -> usize {
        self.pending.len()
    }

    /// The URLs whose completion is durable.
    pub fn durable_urls(&self) -> BTreeSet<String> {
        self.durable.iter().map(|k| k.record.url.clone()).collect()
    }
}

impl Store for SimStore {
    fn kept(&mut self, url: &str) -> Option<Kept> {
        self.durable.kept(url)
    }

    fn keep(&mut self, kept: Kept) {
        self.pending.push(kept);
        if self.pending.len() >= self.sync_every {
            self.sync();
        }
    }
}

/// One [`SimStore`] shared by successive engines and the checker (an `Rc<RefCell<_>>` is a
/// [`Store`] passing every call through).
pub type SharedStore = Rc<RefCell<SimStore>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crawler::{FetchError, FetchErrorKind, FetchKind};

    fn kept(url: &str) -> Kept {
        let record = crawler::Record::failure(url, 1, 0, "x");
        let error = FetchError::new(FetchErrorKind::Reset, "x");
        Kept::failed(record, FetchKind::Page, error)
    }

    #[test]
    fn a_crash_loses_what_came_after_the_last_sync_but_a_torn_prefix() {
        let mut s = SimStore::new(2);
        for u in ["a", "b", "c", "d", "e"] {
            s.keep(kept(u));
        }
        assert_eq!(s.unsynced(), 1);
        assert_eq!(s.crash(0), 1);
        assert_eq!(s.durable_urls().len(), 4);
        assert!(s.kept("e").is_none());
        s.keep(kept("e"));
        assert_eq!(s.crash(1), 0, "a torn batch keeps its first completion");
        assert!(s.kept("e").is_some());
    }
}
