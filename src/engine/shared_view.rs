//! Where a shared crawl stands, as its log tells it (`crawl --redis ... --status`): the log is
//! read to its end and redone as a worker would, but nothing is claimed or fetched, so what
//! is left in the frontier is what the crawl has still to do.

use std::time::Duration;

use super::Crawler;
use super::state::{Arrived, CrawlState};
use crate::clock::Clock;
use crate::report::Summary;
use crate::shared::{Ask, Read, Shared, SharedError};
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
    /// Reads the log of the crawl shared through `shared`, of `partitions` (see
    /// [`crate::shared`]; 1 for one log), and redoes it, fetching nothing: where the crawl
    /// stands.
    pub async fn shared_view<S: Shared>(
        &self,
        shared: &S,
        partitions: u32,
    ) -> Result<SharedView, SharedError> {
        // As a worker admits: the page limits are the shared state's (see `run_shared`).
        let config = &self.config.without_page_limits();
        let now = self.clock.now();
        let mut arrived = Arrived::default();
        let mut cursor = 0;
        // Every partition's log; their inboxes are passed over (what the logs' links
        // offered), but read through, as a reply brings them too.
        let partitions = partitions.max(1);
        let mut reads = vec![(0u64, 0u64); partitions as usize];
        loop {
            let ask = Ask {
                worker: OBSERVER.to_string(),
                cursor,
                lease: Duration::from_secs(1),
                max_per_host: 1,
                partitions,
                reads: if partitions > 1 {
                    (0..partitions)
                        .map(|p| Read {
                            partition: p,
                            log: reads[p as usize].0,
                            inbox: reads[p as usize].1,
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                ..Ask::default()
            };
            let reply = shared.sync(&ask).await?;
            cursor += reply.entries.len() as u64;
            for offer in &reply.offers {
                if let Some(read) = reads.get_mut(offer.partition as usize) {
                    read.1 += 1;
                }
            }
            for entry in reply.entries {
                if let Some(read) = reads.get_mut(entry.partition as usize) {
                    read.0 += 1;
                }
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
