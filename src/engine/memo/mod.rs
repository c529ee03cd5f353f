//! A bounded memo from a link's raw `href` text to the id it resolved to, so a link seen before
//! costs one hash lookup instead of URL parsing, normalisation and the dedup lookup.
//!
//! Pages of a site repeat the same links (navigation, footers, related pages), so most hrefs a
//! crawl reads were already resolved on an earlier page. What an href resolves to depends on the
//! base URL, but often on only part of it, and the memo keys each href by exactly that part (its
//! *context*):
//!
//! | href (after the checks below)            | result depends on                      | context            |
//! |------------------------------------------|----------------------------------------|--------------------|
//! | starts with `http://` or `https://`      | nothing                                | one global context |
//! | starts with `/` or `\` (`/x`, `//h/x`)   | the base's scheme, userinfo, host, port | `http://u@h:1`     |
//! | anything else (`x`, `../x`, `x?q`)       | also the base's path up to its last `/` | not memoised       |
//!
//! That follows the WHATWG URL parser: an href with a special scheme followed by `//` ignores the
//! base; a path-absolute or scheme-relative one takes only the base's scheme and authority. A
//! path-relative href also takes the base's path minus its last segment; it could be keyed by
//! that directory, but on the 20k-page bench site four in five such (directory, href) pairs are
//! unique, so memoising them cost 8 MB and a missed lookup each for little gain.
//!
//! Everything else takes the slow path too: empty hrefs and those starting with `?` or `#` (they
//! keep the base's file name or query); hrefs with leading or trailing space or control bytes, or
//! with a tab or newline anywhere (the parser strips or drops those, which could turn `\t?x` into
//! `?x`); hrefs with a `:` before any `/`, `\`, `?` or `#` (a scheme, maybe the base's own, as in
//! `http:?x`, which keeps the base's path); and every href of a page whose base is not `http` or
//! `https` (other schemes have their own rules). The normalisation after parsing
//! ([`crate::normalize`]) depends only on the parsed URL and the crawl's [`Canon`], which is fixed
//! for a crawl. A property test holds the memoised path to the slow one.
//!
//! The memo forgets everything when it holds more than [`MAX_ENTRIES`] hrefs or [`MAX_TEXT`]
//! bytes of them, which bounds its memory (to about 8 MB); the crawl's result does not change,
//! only its speed.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};
use url::{Position, Url};

use super::shortcut;
use crate::normalize::{self, Canon};

/// The most hrefs kept before the memo starts over.
pub(super) const MAX_ENTRIES: usize = 1 << 17;

/// The most bytes of href text kept before the memo starts over.
pub(super) const MAX_TEXT: usize = 4 << 20;

/// Longer hrefs are not memoised (they are rarely repeated, and would crowd out many others).
const MAX_HREF: usize = 2048;

/// One memoised href.
#[derive(Debug, Clone, Copy)]
struct MemoSlot {
    /// The context id the href was resolved in.
    context: u32,
    /// The low half of the hash of (context, href).
    tag: u32,
    /// Where the href starts in [`Memo::text`].
    start: u32,
    /// The href's length in bytes.
    len: u32,
    /// The id it resolved to; `None` when it is not a crawlable URL.
    id: Option<u32>,
}

/// The memo: resolved hrefs by (context, href text).
#[derive(Default)]
pub(super) struct Memo {
    slots: HashTable<MemoSlot>,
    /// The hrefs, back to back (no allocation per href).
    text: String,
    /// Context ids by their text (origins of bases).
    contexts: FxHashMap<Box<str>, u32>,
    /// Bumped each time the memo starts over, so a [`BaseContexts`] made before refers to nothing.
    generation: u32,
    hasher: FxBuildHasher,
}

/// Where resolved links get their ids: the crawl's URL table, through the scope and trap rules.
pub(super) trait Ids {
    /// The id of `url`, adding it when new.
    fn intern(&mut self, url: &Url) -> u32;
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("hrefs", &self.slots.len())
            .field("contexts", &self.contexts.len())
            .finish_non_exhaustive()
    }
}

/// The contexts of one base URL, found once per page.
#[derive(Debug, Clone, Copy)]
pub(super) struct BaseContexts {
    /// The context of the base's origin; `None` when the base is not `http(s)`: nothing is
    /// memoised.
    origin: Option<u32>,
    /// The memo generation the ids belong to.
    generation: u32,
    /// The base as [`shortcut::resolve_at`] reads it.
    shortcut: shortcut::Base,
}

/// The context id of hrefs that ignore the base.
const GLOBAL: u32 = 0;

/// How an href depends on its base (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Not at all.
    Global,
    /// Through its scheme and authority.
    Origin,
    /// Through its scheme, authority and path up to the last `/`: not memoised.
    Directory,
    /// Possibly through more: not memoised.
    Other,
}

fn class(href: &str) -> Class {
    let bytes = href.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Class::Other;
    };
    if first <= b' ' || last <= b' ' || memchr::memchr3(b'\t', b'\n', b'\r', bytes).is_some() {
        return Class::Other;
    }
    if bytes.starts_with(b"http://") || bytes.starts_with(b"https://") {
        return Class::Global;
    }
    let delimiter = bytes
        .iter()
        .find(|&&b| matches!(b, b':' | b'/' | b'\\' | b'?' | b'#'));
    match (delimiter, first) {
        (Some(b':'), _) | (_, b'?' | b'#') => Class::Other,
        (_, b'/' | b'\\') => Class::Origin,
        _ => Class::Directory,
    }
}

impl Memo {
    /// The contexts of hrefs on a page whose links resolve against `base`.
    pub(super) fn page(&mut self, base: &Url) -> BaseContexts {
        if self.contexts.len() >= MAX_ENTRIES {
            self.start_over();
        }
        let generation = self.generation;
        let shortcut = shortcut::Base::of(base);
        if !matches!(base.scheme(), "http" | "https") {
            return BaseContexts {
                origin: None,
                generation,
                shortcut,
            };
        }
        let origin = self.context(&base[..Position::BeforePath]);
        BaseContexts {
            origin: Some(origin),
            generation,
            shortcut,
        }
    }

    fn context(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.contexts.get(text) {
            return id;
        }
        // Id 0 is the global context.
        let id = u32::try_from(self.contexts.len() + 1).unwrap_or(u32::MAX);
        self.contexts.insert(text.into(), id);
        id
    }

    /// Resolves `href` against `base` (whose contexts are `page`) and normalises it with `canon`,
    /// as [`normalize::resolve_with`] does, and gives the id `ids` gives that URL. `simple` is
    /// the key [`shortcut_key`](Self::shortcut_key) gave `href`, if it gave one, which the caller
    /// has looked up already: a simple href whose URL is known never gets here (it needs its
    /// key and nothing else). A memoised href gives its id without the URL; otherwise the URL
    /// comes with the id.
    pub(super) fn resolve(
        &mut self,
        page: BaseContexts,
        base: &Url,
        href: &str,
        simple: Option<&str>,
        canon: Canon,
        ids: &mut impl Ids,
    ) -> Option<(u32, Option<Url>)> {
        if foreign_scheme(href) {
            return None;
        }
        let mut intern = |url: Url| {
            debug_assert!(
                simple.is_none_or(|key| url.as_str() == key),
                "{href:?} on {base}"
            );
            (ids.intern(&url), url)
        };
        let context = match (page.origin, class(href)) {
            (Some(_), Class::Global) => Some(GLOBAL),
            (Some(origin), Class::Origin) => Some(origin),
            _ => None,
        }
        .filter(|_| page.generation == self.generation);
        let Some(context) = context else {
            return normalize::resolve_with(base, href, canon)
                .map(&mut intern)
                .map(|(id, url)| (id, Some(url)));
        };
        let hash = self.hasher.hash_one((context, href));
        let tag = hash as u32;
        let text = &self.text;
        let found = self.slots.find(hash, |s| {
            s.tag == tag && s.context == context && slot_text(text, s) == href
        });
        if let Some(slot) = found {
            return slot.id.map(|id| (id, None));
        }
        let resolved = normalize::resolve_with(base, href, canon).map(intern);
        self.insert(hash, context, href, resolved.as_ref().map(|r| r.0));
        resolved.map(|(id, url)| (id, Some(url)))
    }

    /// Writes into `out` the normalised URL of a simple `href` (see [`shortcut`]) and returns
    /// `true`; `false` for any other href (then `out` is unspecified). An href with a foreign
    /// scheme is never simple: its `:` is not a plain byte, and the only scheme the shortcut
    /// reads is the base's own `http(s)`.
    pub(super) fn shortcut_key(
        page: BaseContexts,
        base: &Url,
        href: &str,
        out: &mut String,
    ) -> bool {
        shortcut::resolve_at(base, page.shortcut, href, out)
    }

    fn insert(&mut self, hash: u64, context: u32, href: &str, id: Option<u32>) {
        if href.len() > MAX_HREF {
            return;
        }
        if self.slots.len() >= MAX_ENTRIES || self.text.len() + href.len() > MAX_TEXT {
            self.start_over();
            return;
        }
        let slot = MemoSlot {
            context,
            tag: hash as u32,
            // Both fit: the text is capped at MAX_TEXT.
            start: self.text.len() as u32,
            len: href.len() as u32,
            id,
        };
        self.text.push_str(href);
        let (text, hasher) = (&self.text, &self.hasher);
        self.slots.insert_unique(hash, slot, |s| {
            hasher.hash_one((s.context, slot_text(text, s)))
        });
    }

    /// Forgets everything: simple, deterministic, and pages that repeat links soon refill it.
    /// Contexts go too (their number grows with the site), so pages made before are stale.
    fn start_over(&mut self) {
        self.slots.clear();
        self.text.clear();
        self.contexts.clear();
        self.generation = self.generation.wrapping_add(1);
    }

    /// Hrefs memoised now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.len()
    }
}

/// `true` when `href` starts with a scheme other than `http` or `https` (`mailto:`,
/// `javascript:`, `tel:`, ...): whatever the base, the URL it gives has that scheme (an href with
/// the base's own scheme is resolved against the base, but keeps the scheme), so it is not
/// crawlable. The scheme is read as the URL parser reads it (an ASCII letter, then letters,
/// digits, `+`, `-` or `.`, then `:`); an href starting with anything else (space, control
/// bytes) is left to the parser.
fn foreign_scheme(href: &str) -> bool {
    let bytes = href.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let end = bytes
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')));
    match end {
        Some(end) if bytes[end] == b':' => {
            let scheme = &href[..end];
            !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https")
        }
        _ => false,
    }
}

fn slot_text<'t>(text: &'t str, slot: &MemoSlot) -> &'t str {
    let start = slot.start as usize;
    &text[start..start + slot.len as usize]
}

#[cfg(test)]
mod tests;
