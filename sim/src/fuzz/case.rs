//! The case model: a site graph as data, with the network and crawl options it runs under.
//!
//! A [`Case`] is a list of [`Node`]s on a handful of fixed hosts ([`HOSTS`]). Node `i` lives at
//! `http://<host>/n<i>` (or `/x<i>` when it is meant to be excluded), and every edge (a link or
//! a redirect's `Location`) names its target node by index, spelled in one of several
//! [`Form`]s (absolute, path-only, document-relative, with a fragment, upper case, default
//! port, protocol-relative) or as garbage. Indices, not URLs, are what shrinking removes and
//! what proptest strategies draw, so a case stays valid whatever is taken out.
//!
//! [`Case::site`] turns a case into a site file, [`Case::config`] into the crawl options, and
//! [`Case::budget`] gives a virtual-time bound no correct crawl can exceed. The oracle reads the
//! case itself, never the rendered site or the engine.

use std::collections::BTreeMap;
use std::time::Duration;

use crawler::{Config, ScopeMode};
use crawler_site::{Faults, Latency, Scripted};

use super::crash::Crash;
use super::robots::RobotsFile;
use super::sitemaps::Sitemap;
use super::workers::Workers;

/// The hosts a node can live on. `www.a.test` is in strict scope of `a.test` (www toggled),
/// `sub.a.test` only in lenient scope, `other.test` in neither; `down.a.test` always refuses
/// connections (others may too, see [`Network::unreachable`]).
pub const HOSTS: [&str; 5] = [
    "a.test",
    "www.a.test",
    "sub.a.test",
    "other.test",
    "down.a.test",
];

/// The index in [`HOSTS`] of the host that is always unreachable.
pub const DOWN: usize = 4;

/// Hrefs and `Location`s that are not a plain URL of a node.
pub const GARBAGE: [&str; 7] = [
    "http://[",
    "mailto:someone@a.test",
    "javascript:void(0)",
    "",
    "#top",
    "ftp://a.test/n0",
    "http://",
];

/// The exclude pattern of cases with `exclude` set; excluded nodes have paths starting `/x`.
pub const EXCLUDE: &str = "/x";

/// How an edge spells its target's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Form {
    /// `http://host/n3`.
    Absolute,
    /// `/n3`: resolves to the target only from the target's own host.
    Path,
    /// Relative to the document: `n3` (0), `./n3` (1), `../n3` (2 or more); all paths are one
    /// segment deep, so all three mean `/n3` on the document's host.
    Relative(u8),
    /// `http://host/n3#frag`.
    Fragment,
    /// `HTTP://HOST/n3`.
    Upper,
    /// `http://host:80/n3`.
    DefaultPort,
    /// `//host/n3`.
    ProtocolRelative,
    /// `http://host/n3?b=2&a=1`: the query's parameters swapped, for a node with a query (see
    /// [`Node::query`]); the same URL only when the crawl sorts query parameters. Without a
    /// query, the same as [`Form::Absolute`].
    Swapped,
}

impl Form {
    /// Every form, the absolute one first (the order a regression file's spellings are tried
    /// in; no two forms spell a node alike, but `Swapped` spells a node without a query as
    /// `Absolute` does).
    pub const ALL: [Form; 10] = [
        Form::Absolute,
        Form::Path,
        Form::Relative(0),
        Form::Relative(1),
        Form::Relative(2),
        Form::Fragment,
        Form::Upper,
        Form::DefaultPort,
        Form::ProtocolRelative,
        Form::Swapped,
    ];
}

/// Stops the build when a [`Form`] is added and not listed in [`Form::ALL`].
const _: fn(Form) = |form| match form {
    Form::Absolute
    | Form::Path
    | Form::Relative(_)
    | Form::Fragment
    | Form::Upper
    | Form::DefaultPort
    | Form::ProtocolRelative
    | Form::Swapped => {}
};

/// The node an edge points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// Any node: a 64-bit fraction of the node count (`x * n >> 64`), so it stays valid when
    /// nodes are removed and shrinks towards node 0.
    Any(u64),
    /// This very node.
    Node(usize),
}

/// A link of an HTML page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Edge {
    /// To a node.
    Node(Target, Form),
    /// An entry of [`GARBAGE`].
    Garbage(usize),
}

/// The `Location` of a redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// To a node.
    Node(Target, Form),
    /// The next node (wrapping): consecutive redirects make chains.
    Next(Form),
    /// No `Location` header.
    Missing,
    /// An entry of [`GARBAGE`].
    Garbage(usize),
    /// The redirect itself.
    Itself,
}

/// What a node answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeKind {
    /// An HTML page with links and maybe a `<base href>` (`Ok`: a host index; `Err`: a
    /// [`GARBAGE`] index).
    Html {
        /// The links, in document order.
        links: Vec<Edge>,
        /// The `<base href>`, if any.
        base: Option<Result<usize, usize>>,
    },
    /// A redirect.
    Redirect {
        /// 301, 302, 303, 307 or 308.
        status: u16,
        /// Where it points.
        location: Location,
    },
    /// A raw body with this status.
    Status(u16),
    /// A 200 `text/plain` body that looks like HTML (its link must not be followed).
    Text,
    /// Not in the site file at all: 404.
    Unlisted,
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Node {
    /// Index in [`HOSTS`].
    pub host: usize,
    /// Its path starts with `/x` (matched by [`EXCLUDE`]).
    pub excluded: bool,
    /// What it answers.
    pub kind: NodeKind,
    /// Scripted outcomes of successive requests (empty: none).
    pub script: Vec<Scripted>,
    /// Its own fault rates, instead of the network's.
    pub faults: Option<Faults>,
    /// Links with `rel=nofollow`, after its own links (an HTML node's only): never followed, so
    /// never edges of the graph a crawl explores.
    pub nofollow: Vec<Edge>,
    /// Images (`<img src>`), after those (an HTML node's only): assets, edges of the graph only
    /// when the case follows assets.
    pub images: Vec<Edge>,
    /// Its URL has the query `?a=1&b=2` (which [`Form::Swapped`] spells `?b=2&a=1`).
    pub query: bool,
    /// An HTML node's `<meta name="robots">` content: an index in [`META_ROBOTS`].
    pub meta_robots: Option<usize>,
}

/// The `<meta name="robots">` contents a node may have.
pub const META_ROBOTS: [&str; 5] = ["nofollow", "noindex", "none", "NoIndex, NoFollow", "all"];

/// What a meta robots content says, read as a crawler must (comma-separated, case-insensitive;
/// `none` is both): (nofollow, noindex).
pub fn meta_robots_says(content: &str) -> (bool, bool) {
    let words: Vec<String> = content
        .split(',')
        .map(|w| w.trim().to_ascii_lowercase())
        .collect();
    let has = |w: &str| words.iter().any(|x| x == w || x == "none");
    (has("nofollow"), has("noindex"))
}

impl Node {
    /// A node on `a.test` with no script and no faults of its own.
    pub fn new(kind: NodeKind) -> Self {
        Node {
            host: 0,
            excluded: false,
            kind,
            script: Vec::new(),
            faults: None,
            nofollow: Vec::new(),
            images: Vec::new(),
            query: false,
            meta_robots: None,
        }
    }
}

/// The network a case runs on.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Network {
    /// Request latency.
    pub latency: Latency,
    /// Fault rates of every URL without a script or faults of its own. With `until_ms`, the
    /// faulty phase ends there (see [`Faults::until_ms`]).
    pub faults: Faults,
    /// Indices in [`HOSTS`] of the hosts that refuse every connection ([`DOWN`] at least).
    pub unreachable: Vec<usize>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            latency: Latency::default(),
            faults: Faults::default(),
            unreachable: vec![DOWN],
        }
    }
}

/// The features a case may draw, as `crawl-sim fuzz` counts them on its `drawn:` line.
pub const FEATURES: [&str; 17] = [
    "robots",
    "sitemaps",
    "max_pages",
    "max_pages_per_host",
    "max_depth",
    "nofollow",
    "assets",
    "html_bodies_only",
    "exclude",
    "sort_query",
    "delay",
    "max_per_host",
    "retry_after",
    "crashes",
    "meta_robots",
    "workers",
    "partitions",
];

/// One generated case: a graph, its network, crawl options and a seed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Case {
    /// The graph; node 0 is always a root.
    pub nodes: Vec<Node>,
    /// Extra roots besides node 0.
    pub roots: Vec<Target>,
    /// Latency, faults, unreachable hosts.
    pub network: Network,
    /// See [`Config::max_redirect`].
    pub max_redirect: u32,
    /// See [`Config::max_tries`]; at least 1.
    pub max_tries: u32,
    /// See [`Config::max_tasks`]; at least 1.
    pub max_tasks: usize,
    /// The per-try timeout in milliseconds; a multiple of 250 so it prints exactly in seconds.
    pub timeout_ms: u64,
    /// Lenient scope (registrable domain) instead of strict.
    pub lenient: bool,
    /// Exclude URLs matching [`EXCLUDE`].
    pub exclude: bool,
    /// See [`Config::max_depth`].
    pub max_depth: Option<u32>,
    /// See [`Config::max_per_host`].
    pub max_per_host: Option<usize>,
    /// The per-host delay in 1/64 s (so it prints exactly in seconds).
    pub delay_64ths: u32,
    /// Fetch and obey each host's robots.txt: its file in `robots_files`, or a 404 (everything
    /// allowed). A host that is down, or a fault on the last try, means nothing of that host is
    /// fetched (RFC 9309).
    pub robots: bool,
    /// Download a body only when it is HTML (robots.txt aside): other responses are recorded
    /// with no size.
    pub html_bodies_only: bool,
    /// Follow assets: the nodes' `images` too.
    pub assets: bool,
    /// Sort query parameters (see [`Config::sort_query`]).
    pub sort_query: bool,
    /// See [`Config::max_pages`].
    pub max_pages: Option<u64>,
    /// See [`Config::max_pages_per_host`].
    pub max_pages_per_host: Option<u64>,
    /// robots.txt files by host index (a host without one answers 404); fetched only when
    /// `robots` is on.
    pub robots_files: BTreeMap<usize, RobotsFile>,
    /// The sitemaps (see [`Sitemap`]).
    pub sitemaps: Vec<Sitemap>,
    /// Sitemaps named as crawl options (indices in `sitemaps`).
    pub sitemap_options: Vec<usize>,
    /// Crashes of a second crawl of the case, resumed from its store each time (see
    /// `fuzz/crash.rs`); none: no such crawl.
    pub crashes: Vec<Crash>,
    /// That crawl's store syncs every this many completions (at least 1).
    pub sync_every: u32,
    /// A crawl of the case shared by several workers, with their faults (see
    /// `fuzz/workers.rs`); none: no such crawl.
    pub workers: Option<Workers>,
    /// The seed of the simulation and of the engine's retry jitter.
    pub seed: u64,
}

impl Case {
    /// Which of [`FEATURES`] this case draws, by index in that list.
    pub fn drawn(&self) -> [bool; FEATURES.len()] {
        let mut drawn = [false; FEATURES.len()];
        let mut set = |name: &str, on: bool| {
            if let Some(i) = FEATURES.iter().position(|&f| f == name) {
                drawn[i] |= on;
            }
        };
        set("robots", self.robots);
        set("max_depth", self.max_depth.is_some());
        set("exclude", self.exclude);
        set("delay", self.delay_64ths > 0);
        set("max_per_host", self.max_per_host.is_some());
        set("retry_after", self.network.faults.retry_after.is_some());
        set("html_bodies_only", self.html_bodies_only);
        set(
            "nofollow",
            self.nodes.iter().any(|n| !n.nofollow.is_empty()),
        );
        set("assets", self.assets);
        set("sort_query", self.sort_query);
        set("max_pages", self.max_pages.is_some());
        set("max_pages_per_host", self.max_pages_per_host.is_some());
        set("sitemaps", !self.sitemaps.is_empty());
        set("crashes", !self.crashes.is_empty());
        set("workers", self.workers.is_some());
        set(
            "partitions",
            self.workers.as_ref().is_some_and(|w| w.partitions > 1),
        );
        set(
            "meta_robots",
            self.nodes.iter().any(|n| n.meta_robots.is_some()),
        );
        drawn
    }

    /// A case over `nodes` with the defaults: no extra roots, the default network, redirects
    /// followed 10 hops, 4 tries, 4 tasks, a 1 s timeout, strict scope, no robots.txt, seed 0.
    pub fn new(nodes: Vec<Node>) -> Self {
        Case {
            nodes,
            roots: Vec::new(),
            network: Network::default(),
            max_redirect: 10,
            max_tries: 4,
            max_tasks: 4,
            timeout_ms: 1000,
            lenient: false,
            exclude: false,
            max_depth: None,
            max_per_host: None,
            delay_64ths: 0,
            robots: false,
            html_bodies_only: false,
            assets: false,
            sort_query: false,
            max_pages: None,
            max_pages_per_host: None,
            robots_files: BTreeMap::new(),
            sitemaps: Vec::new(),
            sitemap_options: Vec::new(),
            crashes: Vec::new(),
            sync_every: 1,
            workers: None,
            seed: 0,
        }
    }

    /// Node `i`'s normalised URL.
    pub fn url(&self, i: usize) -> String {
        format!("http://{}{}", HOSTS[self.nodes[i].host], self.path(i))
    }

    fn path(&self, i: usize) -> String {
        let x = if self.nodes[i].excluded { "x" } else { "n" };
        let query = if self.nodes[i].query { "?a=1&b=2" } else { "" };
        format!("/{x}{i}{query}")
    }

    /// The href or `Location` text that spells node `i` in `form`.
    pub fn spell(&self, i: usize, form: Form) -> String {
        let host = HOSTS[self.nodes[i].host];
        let path = self.path(i);
        match form {
            Form::Absolute => format!("http://{host}{path}"),
            Form::Relative(0) => path[1..].to_string(),
            Form::Relative(1) => format!(".{path}"),
            Form::Relative(_) => format!("..{path}"),
            Form::Path => path,
            Form::Fragment => format!("http://{host}{path}#frag"),
            Form::Upper => format!("HTTP://{}{path}", host.to_ascii_uppercase()),
            Form::DefaultPort => format!("http://{host}:80{path}"),
            Form::ProtocolRelative => format!("//{host}{path}"),
            Form::Swapped => format!("http://{host}{}", path.replace("?a=1&b=2", "?b=2&a=1")),
        }
    }

    /// The node `target` names.
    pub fn index(&self, target: &Target) -> usize {
        match *target {
            Target::Any(x) => ((u128::from(x) * self.nodes.len() as u128) >> 64) as usize,
            Target::Node(k) => k,
        }
    }

    /// The href of a link.
    pub fn href(&self, link: &Edge) -> String {
        match link {
            Edge::Node(i, form) => self.spell(self.index(i), *form),
            Edge::Garbage(g) => GARBAGE[*g].to_string(),
        }
    }

    /// The `Location` of redirect node `i`, if it has one.
    pub fn location(&self, i: usize, location: &Location) -> Option<String> {
        match location {
            Location::Node(j, form) => Some(self.spell(self.index(j), *form)),
            Location::Next(form) => Some(self.spell((i + 1) % self.nodes.len(), *form)),
            Location::Missing => None,
            Location::Garbage(g) => Some(GARBAGE[*g].to_string()),
            Location::Itself => Some(self.url(i)),
        }
    }

    /// The `<base href>` of an HTML node.
    pub fn base(base: &Option<Result<usize, usize>>) -> Option<String> {
        base.map(|b| match b {
            Ok(host) => format!("http://{}/", HOSTS[host]),
            Err(g) => GARBAGE[g].to_string(),
        })
    }

    /// The root URLs: node 0, then the extra ones, without repeats.
    pub fn root_urls(&self) -> Vec<String> {
        let mut roots = vec![self.url(0)];
        for r in &self.roots {
            let url = self.url(self.index(r));
            if !roots.contains(&url) {
                roots.push(url);
            }
        }
        roots
    }

    /// The per-try timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The per-host delay.
    pub fn delay(&self) -> Duration {
        Duration::from_secs(u64::from(self.delay_64ths)) / 64
    }

    /// The crawl options of this case.
    pub fn config(&self) -> Config {
        let mut b = Config::builder()
            .roots(self.root_urls())
            .max_redirect(self.max_redirect)
            .max_tries(self.max_tries)
            .max_tasks(self.max_tasks)
            .timeout(self.timeout())
            .delay(self.delay())
            .robots(self.robots)
            .html_bodies_only(self.html_bodies_only)
            .assets(self.assets)
            .seed(self.seed)
            .scope(if self.lenient {
                ScopeMode::Lenient
            } else {
                ScopeMode::Strict
            });
        if self.exclude {
            b = b.exclude(EXCLUDE);
        }
        if let Some(d) = self.max_depth {
            b = b.max_depth(d);
        }
        if let Some(n) = self.max_per_host {
            b = b.max_per_host(n);
        }
        if let Some(n) = self.max_pages {
            b = b.max_pages(n);
        }
        if let Some(n) = self.max_pages_per_host {
            b = b.max_pages_per_host(n);
        }
        for &k in &self.sitemap_options {
            b = b.sitemap(self.sitemap_url(k));
        }
        b.sort_query(self.sort_query)
            .build()
            .expect("a case's options are valid")
    }

    /// When the faulty phase of URL `url`'s node (or the network's) ends, in virtual ms; `None`
    /// when the faults never stop.
    pub fn faults_until(&self, node: Option<usize>) -> Option<f64> {
        let own = node.and_then(|i| self.nodes[i].faults);
        own.unwrap_or(self.network.faults).until_ms
    }
}

#[path = "case/budget.rs"]
mod budget;
#[path = "case/site.rs"]
mod site;

#[cfg(test)]
#[path = "case/tests.rs"]
mod tests;
