//! Where a shared crawl stands, as its log tells it (`crawl --redis ... --status`): the log is
//! read to its end and redone as a worker would, but nothing is claimed or fetched, so what
//! is left in the frontier is what the crawl has still to do.

use std::time::Duration;

use super::Crawler;
use super::state::{Arrived, CrawlState};
use crate::clock::Clock;
use crate::report::Summary;
use crate::shared::{Ask, Shared, SharedError};
use crate::transport::Transport;

/// The name an observer gives the shared state (it is seen as a worker while it reads).
pub const OBSERVER: &str = "(status)";

/// A shared crawl, as its log tells it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedView {
    /// URLs known (in scope), done or not.
    pub known: u64,
    /// URLs known and not done yet, per host (origin), in order: queued, or being fetched.
    pub queued: Vec<(String, usize)>,
    /// The crawl's summary so far (`todo`: URLs known and not done).
    pub summary: Summary,
}

impl<T: Transport, C: Clock> Crawler<T, C> {
    /// Reads the log of the crawl shared through `shared` and redoes it, fetching nothing:
    /// where the crawl stands.
    pub async fn shared_view<S: Shared>(&self, shared: &S) -> Result<SharedView, SharedError> {
        // As a worker admits: the page limits are the shared state's (see `run_shared`).
        let config = &self.config.without_page_limits();
        let now = self.clock.now();
        let mut arrived = Arrived::default();
        let mut cursor = 0;
        loop {
            let ask = Ask {
                worker: OBSERVER.to_string(),
                cursor,
                lease: Duration::from_secs(1),
                max_per_host: 1,
                ..Ask::default()
            };
            let reply = shared.sync(&ask).await?;
            cursor += reply.entries.len() as u64;
            for entry in reply.entries {
                crate::store::Store::keep(&mut arrived, entry.kept);
            }
            if !reply.more {
                break;
            }
        }
        let mut state = CrawlState::seeded(config, &self.scope, &mut arrived, now);
        // Everything arrived before anything is admitted: every URL done is redone when the
        // crawl comes to it; what stays in the scheduler is left to do.
        loop {
            state.admit(now);
            let Some((job, kept)) = state.replay.pop_front() else {
                break;
            };
            state.finish_kept(job, kept, now);
        }
        Ok(SharedView {
            known: state.table.in_scope(),
            queued: state.schedule.queued_by_host(),
            summary: state.end_summary(Duration::ZERO, 0),
        })
    }
}
