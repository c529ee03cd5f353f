//! What the tests share: a real redis-server ([`crawler_redis::LocalServer`]), completions
//! and crawl ids.

// Each test file uses its own part of the support.
#![allow(dead_code)]

pub use crawler_redis::LocalServer as Server;

/// A completion of `url` (what it holds does not matter to the shared state).
pub fn kept(url: &str, why: &str) -> crawler::Kept {
    use crawler::{FetchError, FetchErrorKind, FetchKind, Kept, Record};
    Kept::failed(
        Record::failure(url, 1, 0, why),
        FetchKind::Page,
        FetchError::new(FetchErrorKind::Reset, why),
    )
}

/// A crawl id no other test of this process uses.
pub fn fresh_id(name: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
