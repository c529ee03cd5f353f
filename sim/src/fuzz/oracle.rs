//! The independent oracle: what a correct crawl of a case must fetch, computed straight from the
//! [`Case`] (not from the site file loader, and not from the engine's frontier or URL table).
//!
//! It is a breadth-first search over (URL, label) states. A label is (link hops from a root,
//! redirect hops still allowed); a link resets the redirect allowance to `max_redirect`, a
//! redirect spends one. Each URL keeps its Pareto-best labels, so the search finds every URL
//! that SOME path reaches within both limits, whatever the order. Without `max_depth`, the depth
//! stays 0 and the labels reduce to "most redirect budget left".
//!
//! What a fetch gives is predicted from the case where it is deterministic (plain pages,
//! scripts, unreachable hosts). Where the network was random (fault rates), the engine's record
//! says whether the URL ended as a failure; the oracle then treats it as a dead end, and the
//! checks require that such a record ran out of tries.
//!
//! URLs are resolved with `url::Url::join` (query parameters sorted by name when the case sorts
//! them) and compared as strings; the scope rule is written out for the fixed
//! [`HOSTS`](super::HOSTS), so nothing here calls the engine's normalisation, scope or frontier
//! code. This file holds predictions and edges; the search itself, with robots.txt, sitemaps
//! and page limits, is in `reach.rs`.

use std::collections::{BTreeMap, BTreeSet};

use crawler::Record;
use crawler_site::Scripted;
use url::Url;

use super::case::{Case, EXCLUDE, HOSTS, META_ROBOTS, NodeKind, meta_robots_says};

/// What the last try of a URL got, as far as edges are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Final {
    /// No response after all tries.
    Fail,
    /// A response with this status.
    Status {
        /// The status.
        status: u16,
        /// The node whose own response it was (`None` for a scripted or injected status, or the
        /// 404 of an unlisted URL).
        page: Option<usize>,
    },
}

/// The prediction for one URL: its final outcome and tries, when deterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Prediction {
    /// The outcome of the last try.
    pub last: Final,
    /// Tries made.
    pub tries: u32,
}

/// `true` when an engine retries after this outcome (no response, 5xx, 429).
pub fn retryable(last: &Final) -> bool {
    match last {
        Final::Fail => true,
        Final::Status { status, .. } => *status >= 500 || *status == 429,
    }
}

/// A label: (link hops from a root, redirect hops still allowed).
pub type OracleLabel = (u32, u32);

/// Everything the oracle derives from a case.
#[derive(Debug)]
pub struct Oracle<'a> {
    case: &'a Case,
    /// Node index by URL (listed pages only).
    nodes: BTreeMap<String, usize>,
    /// The status of every other URL the site lists: robots.txt files and sitemaps.
    others: BTreeMap<String, u16>,
    roots: Vec<String>,
    root_hosts: Vec<String>,
    /// URLs whose outcome is read off their record, never predicted (see
    /// [`Oracle::unpredictable`]).
    unpredictable: BTreeSet<String>,
}

impl<'a> Oracle<'a> {
    /// The oracle of `case`.
    pub fn new(case: &'a Case) -> Self {
        let mut nodes = BTreeMap::new();
        for (i, node) in case.nodes.iter().enumerate() {
            if !matches!(node.kind, NodeKind::Unlisted) {
                nodes.insert(case.url(i), i);
            }
        }
        let mut others = BTreeMap::new();
        for (&host, file) in &case.robots_files {
            others.insert(format!("http://{}/robots.txt", HOSTS[host]), file.status());
        }
        for k in 0..case.sitemaps.len() {
            others.insert(case.sitemap_url(k), case.sitemap_status(k));
        }
        let roots = case.root_urls();
        let root_hosts = roots
            .iter()
            .map(|r| HOSTS[case.nodes[node_of_root(case, r)].host].to_string())
            .collect();
        Oracle {
            case,
            nodes,
            others,
            roots,
            root_hosts,
            unpredictable: BTreeSet::new(),
        }
    }

    /// This oracle, reading the outcomes of `urls` off their records instead of predicting
    /// them: URLs whose page's script was also used by requests the record does not count
    /// (made by a worker of a shared crawl that lost its lease, or crashed), so that the
    /// record's tries took later outcomes of the script.
    pub fn unpredictable(mut self, urls: impl IntoIterator<Item = String>) -> Self {
        self.unpredictable.extend(urls);
        self
    }

    /// The case.
    pub fn case(&self) -> &Case {
        self.case
    }

    /// The root URLs.
    pub fn roots(&self) -> &[String] {
        &self.roots
    }

    /// The scope rule, written for the fixed host names (see [`Oracle::in_scope_host`]), with
    /// the exclude pattern; roots are always in scope.
    pub fn in_scope(&self, url: &Url) -> bool {
        if self.roots.iter().any(|r| r == url.as_str()) {
            return true; // roots are fetched whatever the exclude pattern says
        }
        self.in_scope_host(url) && !(self.case.exclude && url.as_str().contains(EXCLUDE))
    }

    /// The host rule of the scope: strict is a root's host with `www.` toggled; lenient is
    /// "same last two labels", which is the registrable domain for every host in `HOSTS`
    /// (`test` is not a listed public suffix, so the default rule applies).
    pub fn in_scope_host(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        if self.case.lenient {
            let domain = |h: &str| h.rsplitn(3, '.').take(2).collect::<Vec<_>>().join(".");
            self.root_hosts.iter().any(|r| domain(r) == domain(host))
        } else {
            let toggle = |h: &str| match h.strip_prefix("www.") {
                Some(bare) => bare.to_string(),
                None => format!("www.{h}"),
            };
            self.root_hosts
                .iter()
                .any(|r| r == host || toggle(r) == host)
        }
    }

    /// Resolves `href` against `base` (see [`resolve`]), then sorts the query's parameters by
    /// name (stable) when the case sorts queries.
    pub fn join(&self, base: &Url, href: &str) -> Option<Url> {
        let mut url = resolve(base, href)?;
        if self.case.sort_query
            && let Some(query) = url.query().map(str::to_string)
        {
            let mut params: Vec<&str> = query.split('&').collect();
            params.sort_by_key(|p| p.split('=').next().unwrap_or_default());
            url.set_query(Some(&params.join("&")));
        }
        Some(url)
    }

    /// The node listed at `url`, if any.
    pub fn node(&self, url: &str) -> Option<usize> {
        self.nodes.get(url).copied()
    }

    fn unreachable(&self, url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        self.case
            .network
            .unreachable
            .iter()
            .any(|&h| HOSTS[h] == host)
    }

    /// `true` when random fault rates decide what `url` gets.
    pub fn faults_apply(&self, url: &Url) -> bool {
        let own = self.node(url.as_str()).and_then(|i| {
            let n = &self.case.nodes[i];
            if !n.script.is_empty() {
                return Some(false); // a script replaces the fault rates
            }
            n.faults.map(|f| !f.is_none())
        });
        own.unwrap_or(!self.case.network.faults.is_none())
    }

    /// The status of `url`'s own response: its node's, or 404 when unlisted.
    pub fn own_status(&self, url: &str) -> u16 {
        match self.node(url) {
            Some(i) => own_status(&self.case.nodes[i].kind),
            None => self.others.get(url).copied().unwrap_or(404),
        }
    }

    /// The deterministic prediction for `url`, or `None` when fault rates make it random.
    pub fn predict(&self, url: &Url) -> Option<Prediction> {
        if self.unpredictable.contains(url.as_str()) {
            return None;
        }
        let max = self.case.max_tries;
        let give_up = |last: Final| {
            let tries = if retryable(&last) { max } else { 1 };
            Prediction { last, tries }
        };
        if self.unreachable(url) {
            return Some(give_up(Final::Fail));
        }
        if self.faults_apply(url) {
            return None;
        }
        let Some(i) = self.node(url.as_str()) else {
            return Some(give_up(Final::Status {
                status: self.own_status(url.as_str()),
                page: None,
            }));
        };
        let own = Final::Status {
            status: own_status(&self.case.nodes[i].kind),
            page: Some(i),
        };
        let script = &self.case.nodes[i].script;
        if script.is_empty() {
            return Some(give_up(own));
        }
        let mut last = Final::Fail;
        for t in 0..max {
            let outcome = script[(t as usize).min(script.len() - 1)];
            last = match outcome {
                Scripted::Ok => own.clone(),
                Scripted::Status(status) => Final::Status { status, page: None },
                _ => Final::Fail,
            };
            if !retryable(&last) {
                return Some(Prediction { last, tries: t + 1 });
            }
        }
        Some(Prediction { last, tries: max })
    }

    /// The outcome of `url` as the oracle will use it: predicted, or read off the record.
    pub fn final_of(&self, url: &Url, record: Option<&Record>) -> Final {
        if let Some(p) = self.predict(url) {
            return p.last;
        }
        let page = self.node(url.as_str());
        let own = self.own_status(url.as_str());
        match record.map(|r| r.status) {
            Some(None) => Final::Fail,
            Some(Some(status)) => Final::Status {
                status,
                page: (status == own).then_some(page).flatten(),
            },
            // Not fetched by the engine: assume the page came through, so the difference shows.
            None => Final::Status { status: own, page },
        }
    }

    /// The in-scope URLs `url`'s response leads to: (target, is_redirect).
    pub fn edges(&self, url: &Url, last: &Final) -> Vec<(Url, bool)> {
        let Final::Status {
            page: Some(i),
            status,
        } = last
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match &self.case.nodes[*i].kind {
            NodeKind::Html { .. } if *status == 200 && self.meta(*i).0 => {
                // meta robots nofollow: no link of the page is followed.
            }
            NodeKind::Html { links, base } if *status == 200 => {
                let base_url = Case::base(base)
                    .and_then(|b| url.join(&b).ok())
                    .filter(|b| !matches!(b.scheme(), "data" | "javascript"))
                    .unwrap_or_else(|| url.clone());
                // Images are edges only when the crawl follows assets.
                let images = self.case.nodes[*i]
                    .images
                    .iter()
                    .filter(|_| self.case.assets);
                for link in links.iter().chain(images) {
                    if let Some(target) = self.join(&base_url, &self.case.href(link)) {
                        out.push((target, false));
                    }
                }
            }
            NodeKind::Redirect { location, .. } => {
                if let Some(target) = self
                    .case
                    .location(*i, location)
                    .and_then(|l| self.join(url, &l))
                {
                    out.push((target, true));
                }
            }
            _ => {}
        }
        out.retain(|(u, _)| self.in_scope(u));
        out
    }

    /// How many of the `rel=nofollow` links of `url`'s response are URLs (in scope or not): what
    /// a crawl counts as `nofollow` cuts for that page, and never follows.
    pub fn nofollow_links(&self, url: &Url, last: &Final) -> usize {
        let Final::Status {
            page: Some(i),
            status: 200,
        } = last
        else {
            return 0;
        };
        let node = &self.case.nodes[*i];
        let NodeKind::Html { base, .. } = &node.kind else {
            return 0;
        };
        let base_url = Case::base(base)
            .and_then(|b| url.join(&b).ok())
            .filter(|b| !matches!(b.scheme(), "data" | "javascript"))
            .unwrap_or_else(|| url.clone());
        let NodeKind::Html { links, .. } = &node.kind else {
            return 0;
        };
        // With meta robots nofollow every link counts (images only when assets are followed:
        // otherwise they are not looked at).
        let images = node.images.iter().filter(|_| self.case.assets);
        let counted: Vec<_> = match self.meta(*i).0 {
            true => links.iter().chain(&node.nofollow).chain(images).collect(),
            false => node.nofollow.iter().collect(),
        };
        counted
            .into_iter()
            .filter(|link| resolve(&base_url, &self.case.href(link)).is_some())
            .count()
    }

    /// What node `i`'s meta robots says: (nofollow, noindex).
    pub fn meta(&self, i: usize) -> (bool, bool) {
        self.case.nodes[i]
            .meta_robots
            .map_or((false, false), |m| meta_robots_says(META_ROBOTS[m]))
    }

    /// The robots.txt URL of `url`'s origin.
    pub fn robots_url(url: &Url) -> Url {
        let mut robots = url.clone();
        robots.set_path("/robots.txt");
        robots.set_query(None);
        robots
    }
}

/// The node a root URL belongs to (roots are always node URLs).
fn node_of_root(case: &Case, root: &str) -> usize {
    (0..case.nodes.len())
        .find(|&i| case.url(i) == root)
        .expect("roots are node URLs")
}

/// The status a node's own response has.
pub fn own_status(kind: &NodeKind) -> u16 {
    match kind {
        NodeKind::Html { .. } | NodeKind::Text => 200,
        NodeKind::Redirect { status, .. } => *status,
        NodeKind::Status(status) => *status,
        NodeKind::Unlisted => 404,
    }
}

/// Resolves an href or `Location` as a browser would, dropping the fragment; `None` when it is
/// not an `http(s)` URL with a host.
pub fn resolve(base: &Url, href: &str) -> Option<Url> {
    let mut url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}
