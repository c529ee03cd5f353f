//! The oracle's search: which URLs a correct crawl of a case fetches.
//!
//! A breadth-first search over (URL, label) states, as the [`Oracle`] header describes, fed by
//! the roots and by sitemaps, and filtered by robots.txt:
//!
//! - **robots.txt** (with `robots` on): a host's verdict comes from its file, following its
//!   redirect chain (each hop is a fetch of its own); no answer, 429 or 5xx disallows
//!   everything, another 4xx allows everything, rules are read by [`robots::allows`]. Pages and
//!   sitemaps the verdict forbids are not fetched.
//! - **Sitemaps**: named as options or in the `Sitemap` lines of a robots.txt that was fetched,
//!   or listed by an index; each is fetched once. A `<urlset>`'s in-scope entries join the
//!   search one link hop from the roots; an index's in-scope sitemaps are fetched; a redirect
//!   is followed within `max_redirect` hops.
//! - **Limits** (`max_pages`, `max_pages_per_host`): which URLs a limited crawl fetches
//!   depends on timing, so only URLs the engine recorded are expanded; a URL the search
//!   reaches but that has no record is *limited*, and the checks require a full limit for each.
//!   A host's robots.txt is then required only if a page or sitemap of the host was recorded.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crawler::Record;
use url::Url;

use super::case::HOSTS;
use super::oracle::{Final, Oracle, OracleLabel};
use super::robots::{self, RobotsFile};
use super::sitemaps::SitemapFile;

/// What the search found.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Reach {
    /// The URLs a correct crawl fetches, with their labels (robots.txt and sitemap URLs have
    /// none).
    pub labels: BTreeMap<String, Vec<OracleLabel>>,
    /// URLs reached and allowed but not recorded, with limits on: each needs a full limit.
    pub limited: BTreeSet<String>,
    /// robots.txt URLs a crawl with limits may or may not fetch.
    pub optional: BTreeSet<String>,
}

/// What a host's robots.txt says.
enum Verdict<'c> {
    /// Everything allowed.
    All,
    /// Nothing allowed.
    Nothing,
    /// These groups decide.
    Groups(&'c [robots::Group]),
}

impl Oracle<'_> {
    /// The search (see the module docs).
    pub fn reach(&self, records: &BTreeMap<String, &Record>) -> Reach {
        let case = self.case();
        let limits = case.max_pages.is_some() || case.max_pages_per_host.is_some();
        let max_redirect = case.max_redirect;
        let mut reach = Reach::default();
        let mut queue: VecDeque<(Url, OracleLabel)> = VecDeque::new();
        for root in self.roots() {
            let url = Url::parse(root).expect("case URLs parse");
            offer(&mut reach.labels, &mut queue, url, (0, max_redirect));
        }
        let mut sitemaps: VecDeque<(usize, u32)> =
            case.sitemap_options.iter().map(|&k| (k, 0)).collect();
        let mut sitemaps_seen = BTreeSet::new();
        let mut blocked = BTreeSet::new();
        // robots.txt URLs (with their chains) that must be, or may be, fetched.
        let (mut required, mut optional) = (BTreeSet::new(), BTreeSet::new());
        loop {
            if let Some((url, (depth, budget))) = queue.pop_front() {
                if !reach.labels[url.as_str()].contains(&(depth, budget)) {
                    continue; // superseded by a better label
                }
                let recorded = records.contains_key(url.as_str());
                if case.robots {
                    // Its robots.txt was fetched when the URL was admitted; with limits, a URL
                    // not recorded may never have been. Its Sitemap lines were read if it was.
                    let robots = Oracle::robots_url(&url);
                    if limits && !recorded {
                        optional.insert(url.clone());
                    } else {
                        required.insert(url.clone());
                    }
                    if !limits || recorded || records.contains_key(robots.as_str()) {
                        for k in self.robots_sitemaps(&url, records) {
                            sitemaps.push_back((k, 0));
                        }
                    }
                    if !self.robots_allow(&url, records) {
                        blocked.insert(url.to_string());
                        continue;
                    }
                }
                if limits && !recorded {
                    reach.limited.insert(url.to_string());
                    continue;
                }
                let last = self.final_of(&url, records.get(url.as_str()).copied());
                for (target, redirect) in self.edges(&url, &last) {
                    let label = if redirect {
                        budget.checked_sub(1).map(|b| (depth, b))
                    } else {
                        match case.max_depth {
                            Some(max) if depth >= max => None,
                            Some(_) => Some((depth + 1, max_redirect)),
                            None => Some((0, max_redirect)),
                        }
                    };
                    if let Some(label) = label {
                        offer(&mut reach.labels, &mut queue, target, label);
                    }
                }
            } else if let Some((k, hops)) = sitemaps.pop_front() {
                let url = Url::parse(&case.sitemap_url(k)).expect("sitemap URLs parse");
                if !sitemaps_seen.insert(k) {
                    continue;
                }
                if case.robots {
                    required.insert(url.clone());
                    for j in self.robots_sitemaps(&url, records) {
                        sitemaps.push_back((j, 0));
                    }
                    if !self.robots_allow(&url, records) {
                        continue;
                    }
                }
                reach.labels.entry(url.to_string()).or_default();
                let last = self.final_of(&url, records.get(url.as_str()).copied());
                let ok = matches!(last, Final::Status { status, .. } if status == case.sitemap_status(k));
                match &case.sitemaps[k].file {
                    _ if !ok => {}
                    SitemapFile::Urls(_) => {
                        // Listed pages count as links of the roots: one hop deep.
                        let label = match case.max_depth {
                            Some(0) => continue,
                            Some(_) => (1, max_redirect),
                            None => (0, max_redirect),
                        };
                        for target in self.sitemap_pages(k) {
                            offer(&mut reach.labels, &mut queue, target, label);
                        }
                    }
                    SitemapFile::Index(list) => {
                        for &j in list {
                            if self.host_in_scope(&case.sitemap_url(j)) {
                                sitemaps.push_back((j, 0));
                            }
                        }
                    }
                    &SitemapFile::Redirect(j) => {
                        if hops < max_redirect && self.host_in_scope(&case.sitemap_url(j)) {
                            sitemaps.push_back((j, hops + 1));
                        }
                    }
                    SitemapFile::Status(_) => {}
                }
            } else {
                break;
            }
        }
        let limited = &reach.limited;
        reach
            .labels
            .retain(|url, _| !blocked.contains(url) && !limited.contains(url));
        for page in &required {
            for url in self.robots_chain(page, records) {
                reach.labels.entry(url).or_default();
            }
        }
        for page in &optional {
            for url in self.robots_chain(page, records) {
                if !reach.labels.contains_key(&url) {
                    reach.optional.insert(url);
                }
            }
        }
        reach
    }

    /// The in-scope page URLs sitemap `k` lists (none unless it is a `<urlset>`).
    pub fn sitemap_pages(&self, k: usize) -> Vec<Url> {
        let case = self.case();
        let SitemapFile::Urls(edges) = &case.sitemaps[k].file else {
            return Vec::new();
        };
        let url = Url::parse(&case.sitemap_url(k)).expect("sitemap URLs parse");
        edges
            .iter()
            .filter_map(|edge| self.join(&url, &case.href(edge)))
            .filter(|target| self.in_scope(target))
            .collect()
    }

    /// With robots.txt on: whether `url`'s host's robots.txt lets the crawl fetch it.
    pub fn robots_allow(&self, url: &Url, records: &BTreeMap<String, &Record>) -> bool {
        if !self.case().robots {
            return true;
        }
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        match self.verdict(url, records) {
            Verdict::All => true,
            Verdict::Nothing => false,
            Verdict::Groups(groups) => robots::allows(groups, &path),
        }
    }

    /// The robots.txt URLs fetched for `url`'s host: its own, then each redirect hop's target.
    fn robots_chain(&self, url: &Url, records: &BTreeMap<String, &Record>) -> Vec<String> {
        let mut chain = Vec::new();
        self.follow_robots(url, records, |u| chain.push(u.to_string()));
        chain
    }

    /// The sitemaps named by `url`'s host's robots.txt (with robots.txt on and its rules read).
    fn robots_sitemaps(&self, url: &Url, records: &BTreeMap<String, &Record>) -> Vec<usize> {
        let mut last = None;
        self.follow_robots(url, records, |u| last = Some(u.clone()));
        let file = last.as_ref().and_then(|u| self.robots_file(u));
        match (self.verdict(url, records), file) {
            (Verdict::Groups(_), Some(RobotsFile::Rules { sitemaps, .. })) => sitemaps
                .iter()
                .copied()
                .filter(|&k| self.host_in_scope(&self.case().sitemap_url(k)))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn verdict(&self, url: &Url, records: &BTreeMap<String, &Record>) -> Verdict<'_> {
        let mut last = None;
        self.follow_robots(url, records, |u| last = Some(u.clone()));
        let robots = last.expect("a chain has at least one URL");
        match self.final_of(&robots, records.get(robots.as_str()).copied()) {
            Final::Fail => Verdict::Nothing,
            Final::Status { status, .. } if status == 429 || status >= 500 => Verdict::Nothing,
            Final::Status { status, .. } => match self.robots_file(&robots) {
                Some(RobotsFile::Rules { groups, .. }) if status == 200 => Verdict::Groups(groups),
                _ => Verdict::All,
            },
        }
    }

    /// Calls `each` with every URL of `url`'s robots.txt chain, the last one being where the
    /// chain ends (a file, a status, or no answer).
    fn follow_robots(
        &self,
        url: &Url,
        records: &BTreeMap<String, &Record>,
        mut each: impl FnMut(&Url),
    ) {
        let mut robots = Oracle::robots_url(url);
        loop {
            each(&robots);
            let last = self.final_of(&robots, records.get(robots.as_str()).copied());
            match self.robots_file(&robots) {
                Some(&RobotsFile::Redirect { status, to }) if last_is(&last, status) => {
                    let next = format!("http://{}/robots.txt", HOSTS[to]);
                    robots = Url::parse(&next).expect("robots.txt URLs parse");
                }
                _ => return,
            }
        }
    }

    fn robots_file(&self, robots: &Url) -> Option<&RobotsFile> {
        let host = robots.host_str()?;
        let index = HOSTS.iter().position(|&h| h == host)?;
        self.case().robots_files.get(&index)
    }

    /// The host rule of the scope (no exclude pattern): where sitemaps are read.
    fn host_in_scope(&self, url: &str) -> bool {
        let url = Url::parse(url).expect("case URLs parse");
        self.in_scope_host(&url)
    }
}

fn last_is(last: &Final, want: u16) -> bool {
    matches!(last, Final::Status { status, .. } if *status == want)
}

/// Offers `url` with `label`: kept unless a label at least as good is known (Pareto).
fn offer(
    labels: &mut BTreeMap<String, Vec<OracleLabel>>,
    queue: &mut VecDeque<(Url, OracleLabel)>,
    url: Url,
    label: OracleLabel,
) {
    let have = labels.entry(url.as_str().to_string()).or_default();
    if have.iter().any(|&(d, b)| d <= label.0 && b >= label.1) {
        return;
    }
    have.retain(|&(d, b)| !(label.0 <= d && label.1 >= b));
    have.push(label);
    queue.push_back((url, label));
}
