//! Strings by dense id: the first string added gets id 0, the next 1, and a lookup finds the id of
//! a string. The crawl's URL table keeps its normalised URLs here, and a site keeps its pages'
//! URLs here (a page's id is its index), so the two lookups a simulated request makes work alike.
//!
//! The strings lie back to back in one arena (no allocation per string), and an open-addressing
//! index, at most half full, finds them. Each slot holds an id with the high half of its
//! string's hash and where the string lies in the arena, so a lookup compares the hash half before
//! touching the string, then reads the string's bytes directly: it touches one slot (rarely two)
//! and the string, and nothing else. It is written here rather than taken from `hashbrown` for
//! that (hashbrown's control bytes, buckets and boxed keys are three places to miss the cache),
//! and for one thing `hashbrown` does not offer: knowing where a hash's slot lies, so that
//! [`StrIds::warm`] can load the slots and strings a batch of lookups will need before they are
//! made one by one. In a large crawl those loads miss the cache; issued back to back they overlap
//! instead of waiting for each other.
//!
//! ```text
//! slots: [ EMPTY | id 1, tag, 26..51 | EMPTY | id 0, tag, 0..26 | ... ]   (power of two)
//! text:  "http://a.test/http://a.test/docs/..."                           (ids in order)
//! ```

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

/// One id in the index, with what a lookup needs to compare strings.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The string's id; [`EMPTY`] for a free slot.
    id: u32,
    /// The high half of the string's hash.
    tag: u32,
    /// Where the string starts in [`StrIds::text`].
    start: u32,
    /// The string's length in bytes.
    len: u32,
}

/// The id of a free [`Slot`] (no string gets it: [`StrIds::push`] refuses it).
const EMPTY: u32 = u32::MAX;

impl Slot {
    const FREE: Slot = Slot {
        id: EMPTY,
        tag: 0,
        start: 0,
        len: 0,
    };
}

/// Strings by dense id, and the index that finds them. See the [module docs](self).
#[derive(Clone, Default)]
pub struct StrIds {
    /// A power of two slots (or none).
    slots: Vec<Slot>,
    /// The strings, back to back, in id order.
    text: String,
    /// `ends[id]` is where string `id` ends in `text`; it starts where string `id - 1` ends.
    ends: Vec<usize>,
    hasher: FxBuildHasher,
}

impl std::fmt::Debug for StrIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrIds")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl StrIds {
    /// Room for `n` strings without growing the index.
    pub fn with_capacity(n: usize) -> StrIds {
        StrIds {
            slots: vec![Slot::FREE; slots_for(n)],
            ends: Vec::with_capacity(n),
            ..StrIds::default()
        }
    }

    /// The hash [`find`](Self::find), [`push`](Self::push) and [`warm`](Self::warm) take for
    /// `key`.
    #[inline]
    pub fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// How many strings there are (the next id).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// `true` when there are no strings.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The string with id `id`.
    ///
    /// # Panics
    ///
    /// When `id` was not given out.
    #[inline]
    pub fn get(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    #[inline]
    fn text_of(&self, slot: &Slot) -> &str {
        let start = slot.start as usize;
        &self.text[start..start + slot.len as usize]
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        (hash as usize) & (self.slots.len() - 1)
    }

    /// The id of `key`, whose [`hash`](Self::hash) is `hash`, if it was added.
    #[inline]
    pub fn find(&self, key: &str, hash: u64) -> Option<u32> {
        debug_assert_eq!(hash, self.hash(key));
        self.find_hashed(key, hash)
    }

    #[inline]
    fn find_hashed(&self, key: &str, hash: u64) -> Option<u32> {
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
            if slot.tag == tag && self.text_of(slot) == key {
                return Some(slot.id);
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `key` (which must not have been added: [`find`](Self::find) it first), whose
    /// [`hash`](Self::hash) is `hash`, and gives its id; `None`, adding nothing, when every id
    /// is taken (4 billion strings).
    ///
    /// # Panics
    ///
    /// Past 4 GB of text, which would not fit in memory beside the rest.
    pub fn push(&mut self, key: &str, hash: u64) -> Option<u32> {
        debug_assert_eq!(hash, self.hash(key));
        debug_assert!(self.find_hashed(key, hash).is_none(), "{key:?} added twice");
        let id = u32::try_from(self.ends.len())
            .ok()
            .filter(|&id| id != EMPTY)?;
        let slot = Slot {
            id,
            // Set from the hash by `put`.
            tag: 0,
            start: u32::try_from(self.text.len()).expect("more than 4 GB of strings"),
            len: u32::try_from(key.len()).expect("a string longer than 4 GB"),
        };
        self.text.push_str(key);
        self.ends.push(self.text.len());
        if (self.ends.len() * 2) > self.slots.len() {
            self.grow(|ids, key| ids.hash(key));
        }
        self.put(hash, slot);
        Some(id)
    }

    /// Doubles the index; `rehash` gives the hash of a string (a parameter so that a test can
    /// choose where strings land).
    fn grow(&mut self, rehash: impl Fn(&StrIds, &str) -> u64) {
        let bigger = vec![Slot::FREE; (self.slots.len() * 2).max(64)];
        let old = std::mem::replace(&mut self.slots, bigger);
        for slot in old.into_iter().filter(|s| s.id != EMPTY) {
            let hash = rehash(self, self.text_of(&slot));
            self.put(hash, slot);
        }
    }

    fn put(&mut self, hash: u64, mut slot: Slot) {
        slot.tag = (hash >> 32) as u32;
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        while self.slots[i].id != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    /// Loads what looking up keys with these hashes will read: first every home slot, then the
    /// first byte of every string whose tag matches along each probe, and what `also` reads for
    /// that string's id. Pure reads that change nothing; they only make the lookups that follow
    /// hit the cache.
    pub fn warm(&self, hashes: &[u64], also: impl Fn(u32) -> u32) {
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
                    let first = self.text.as_bytes().get(slot.start as usize);
                    sink ^= u32::from(first.copied().unwrap_or(0)) ^ also(slot.id);
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        std::hint::black_box(sink);
    }
}

/// The number of slots that keeps `n` strings at most half full (a power of two, at least 64).
fn slots_for(n: usize) -> usize {
    n.saturating_mul(2).next_power_of_two().max(64)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every string gets one id, the next one, the first time it is added, across growth
        /// (from empty or from a reserved size), with [`StrIds::warm`] run before some lookups
        /// (it must change nothing). The oracle is a `BTreeMap` from string to the id it got.
        #[test]
        fn ids_agree_with_a_map(
            picks in prop::collection::vec((0u32..400, any::<bool>()), 1..1500),
            warm_every in 1usize..8,
            reserve in prop::option::of(0usize..300),
        ) {
            let mut ids = reserve.map_or_else(StrIds::default, StrIds::with_capacity);
            let mut oracle: BTreeMap<String, u32> = BTreeMap::new();
            let key = |n: u32| format!("http://h{}/p{n}", n % 3);
            for (i, chunk) in picks.chunks(warm_every).enumerate() {
                if i % 2 == 0 {
                    let hashes: Vec<u64> = chunk.iter().map(|&(n, _)| ids.hash(&key(n))).collect();
                    ids.warm(&hashes, |id| id);
                }
                for &(n, add) in chunk {
                    let k = key(n);
                    let hash = ids.hash(&k);
                    prop_assert_eq!(ids.find(&k, hash), oracle.get(&k).copied(), "{}", k);
                    if add && !oracle.contains_key(&k) {
                        let next = oracle.len() as u32;
                        oracle.insert(k.clone(), next);
                        prop_assert_eq!(ids.push(&k, hash), Some(next), "{}", k);
                    }
                }
            }
            prop_assert_eq!(ids.len(), oracle.len());
            for (k, &id) in &oracle {
                prop_assert_eq!(ids.find(k, ids.hash(k)), Some(id));
                prop_assert_eq!(ids.get(id), k.as_str());
            }
            prop_assert!(ids.len() * 2 <= ids.slots.len());
        }
    }

    /// Strings whose hashes share a home slot (a full table's worth of them) all keep their ids:
    /// probing walks past taken slots and wraps around the end.
    #[test]
    fn colliding_homes_probe_on() {
        let mut ids = StrIds::with_capacity(32);
        assert_eq!(ids.slots.len(), 64);
        let mask = 63u64;
        let hash = |id: u32| mask | (u64::from(id) << 32);
        for id in 0..32u32 {
            let key = format!("k{id}");
            let slot = Slot {
                id,
                tag: 0,
                start: ids.text.len() as u32,
                len: key.len() as u32,
            };
            ids.text.push_str(&key);
            ids.ends.push(ids.text.len());
            // Every string's home is the last slot, so probes wrap to the start of the table.
            ids.put(hash(id), slot);
        }
        for id in 0..32u32 {
            assert_eq!(ids.find_hashed(&format!("k{id}"), hash(id)), Some(id));
            assert_eq!(ids.find_hashed("absent", hash(id)), None);
        }
        // Growing rehashes every string where `rehash` says, and keeps every id.
        ids.grow(|_, key| hash(key[1..].parse().unwrap()));
        assert_eq!(ids.slots.len(), 128);
        for id in 0..32u32 {
            assert_eq!(ids.find_hashed(&format!("k{id}"), hash(id)), Some(id));
        }
    }

    #[test]
    fn reserved_room_is_half_full_at_most() {
        assert_eq!(slots_for(0), 64);
        assert_eq!(slots_for(32), 64);
        assert_eq!(slots_for(33), 128);
        assert_eq!(slots_for(100_000), 262_144);
    }
}
