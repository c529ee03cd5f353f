//! Virtual-time bounds of a case: how long a correct crawl of it may take at most, and how long
//! it may go without progress.

use std::time::Duration;

use crawler::Config;

use super::super::robots::RobotsFile;
use super::super::sitemaps::SitemapFile;
use super::{Case, HOSTS, NodeKind};

impl Case {
    /// The longest wait between two requests of one URL that a correct engine may make: its
    /// backoff cap, or a `Retry-After` the network sends.
    pub fn max_wait(&self, config: &Config) -> Duration {
        let retry_after = self
            .nodes
            .iter()
            .filter_map(|n| n.faults)
            .chain([self.network.faults])
            .filter_map(|f| f.retry_after)
            .max()
            .map_or(Duration::ZERO, |s| Duration::from_secs(u64::from(s)));
        config
            .max_backoff()
            .max(retry_after.min(config.max_retry_after()))
    }

    /// A virtual-time bound no correct crawl can exceed, in whole seconds: every URL the graph
    /// can name, fetched one after the other, each try timing out after the longest wait and
    /// the host's delay.
    pub fn budget(&self, config: &Config) -> Duration {
        let edges: usize = self
            .nodes
            .iter()
            .map(|n| match &n.kind {
                // Images are URLs the crawl fetches too when it follows assets.
                NodeKind::Html { links, .. } if self.assets => links.len() + n.images.len(),
                NodeKind::Html { links, .. } => links.len(),
                _ => 1,
            })
            .sum();
        let listed: usize = self
            .sitemaps
            .iter()
            .map(|s| match &s.file {
                SitemapFile::Urls(edges) => edges.len(),
                SitemapFile::Index(list) => list.len(),
                _ => 1,
            })
            .sum();
        // Every URL a node or sitemap names, and one robots.txt per host.
        let urls =
            (self.nodes.len() + edges + self.sitemaps.len() + listed + HOSTS.len() + 1) as u32;
        let per_try = config.timeout() + self.max_wait(config) + self.max_delay(config);
        let bound = per_try * config.max_tries() * urls + Duration::from_secs(1);
        Duration::from_secs(bound.as_secs() + 1)
    }

    /// The longest a correct crawl that still has work can go without a request reaching the
    /// server or a record: a request running into its timeout, then the longest wait before the
    /// next try and the host's delay (plus a second of slack).
    pub fn stall_budget(&self, config: &Config) -> Duration {
        config.timeout() + self.max_wait(config) + self.max_delay(config) + Duration::from_secs(1)
    }

    /// The longest time between two requests to one host that politeness asks for: the
    /// crawl's delay, or a larger robots.txt `Crawl-delay` (capped as the engine caps it).
    pub fn max_delay(&self, config: &Config) -> Duration {
        let crawl_delay = self
            .robots_files
            .values()
            .filter_map(|f| match f {
                RobotsFile::Rules {
                    crawl_delay_64ths, ..
                } => *crawl_delay_64ths,
                _ => None,
            })
            .max()
            .map_or(Duration::ZERO, |d| Duration::from_secs(u64::from(d)) / 64);
        config
            .delay()
            .max(crawl_delay.min(config.max_crawl_delay()))
    }
}
