//! Regression files: a failing case kept as the site file it renders to, with its crawl options
//! and seed, and read back into a [`Case`] so the oracle and the checks judge it like a fresh
//! one.
//!
//! A seed names a case only for one version of the generator; a site file names it for good.
//! So a regression is kept as a [`Regression`]: the [`SiteSpec`] exactly as [`Case::site`]
//! renders it (the format `crawl-sim --site` reads), the crawl options as `crawl-sim`
//! arguments ([`options_of`]: [`crawler_cli::args_of`] of [`Case::config`], the roots left to
//! the site file), the seed, and a note saying why it is kept. The options are arguments, not
//! the case's own fields, because the arguments are the public, documented and round-trip
//! tested spelling of a configuration (the very tail of the replay command), while the case's
//! fields are the fuzzer's private model, which grows and changes with the generator.
//!
//! [`Case::from_site`] is the way back. Every page URL, root, href and `Location` must be the
//! spelling of a node ([`Case::spell`], tried in every [`Form`] on every host, is the one
//! definition of what a spelling is) or an entry of [`GARBAGE`]; indices missing from the pages
//! are unlisted nodes. Nothing is guessed: the case read back must render to the very same site
//! file and the very same arguments, or the file is refused with a [`RegressionError`] saying
//! where they differ. A redirect to the next node or to itself comes back as a redirect to
//! that node by index, which renders the same.
//!
//! Adding a field to [`Case`] means one line here: a crawl option in [`read_options`], a page
//! feature in [`Reader::node`], anything else the site file gains beside the node pages in
//! [`Reader::page`] (robots.txt files and sitemaps are read there, by `regress/pages.rs`).
//! Until then a file that uses it is refused, not misread.
//!
//! ```
//! use crawler_sim::fuzz::{self, Case, Regression};
//! let case = fuzz::generate(7);
//! let kept = Regression::of(&case, "an example");
//! let back = Regression::from_json(&kept.to_json()).unwrap().case().unwrap();
//! assert_eq!(back.site(), case.site());
//! assert!(Case::from_site(&case.site(), &["--bogus".into()], 7).is_err());
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Parser;
use crawler::{Config, ScopeMode};
use crawler_cli::CrawlArgs;
use crawler_site::{PageSpec, SiteSpec};

use super::case::{
    Case, Edge, Form, GARBAGE, HOSTS, Location, META_ROBOTS, Node, NodeKind, Target,
};
use super::robots::RobotsFile;
use super::sitemaps::{Sitemap, SitemapFile};

mod file;
mod pages;

use file::site_error;
pub use file::{KeptCrash, Regression, RegressionError};

/// The version of the regression file format this crate writes and reads.
pub const REGRESSION_FORMAT: u32 = 1;

/// The largest node index a regression file may name: far above what the generator draws, and
/// low enough that a hand-written index cannot make the reader allocate without bound.
const MAX_INDEX: usize = 100_000;

/// The crawl options of `config` as `crawl-sim` arguments: [`crawler_cli::args_of`] without the
/// roots, which the site file holds.
pub fn options_of(config: &Config) -> Vec<String> {
    let mut args = crawler_cli::args_of(config);
    args.truncate(args.len().saturating_sub(config.roots().len()));
    args
}

/// The crawl options alone, as `crawl-sim` reads them.
#[derive(Parser)]
#[command(no_binary_name = true)]
struct Options {
    #[command(flatten)]
    crawl: CrawlArgs,
}

/// Sets the case's crawl options from `config`: one line per option a case models.
fn read_options(case: &mut Case, config: &Config) -> Result<(), RegressionError> {
    // A case counts time in units of its own; a time that is no whole number of them is not
    // one a case has (and rounding it could make an invalid configuration).
    let inexact = |what: &str| RegressionError::Options(format!("--{what} is not one a case has"));
    case.max_redirect = config.max_redirect();
    case.max_tries = config.max_tries();
    case.max_tasks = config.max_tasks();
    case.timeout_ms = u64::try_from(config.timeout().as_millis())
        .ok()
        .filter(|&ms| Duration::from_millis(ms) == config.timeout())
        .ok_or_else(|| inexact("timeout"))?;
    case.lenient = config.scope_mode() == ScopeMode::Lenient;
    case.exclude = config.exclude().is_some();
    case.max_depth = config.max_depth();
    case.max_per_host = config.max_per_host();
    case.delay_64ths = u32::try_from(config.delay().as_nanos() * 64 / 1_000_000_000)
        .ok()
        .filter(|&n| Duration::from_secs(u64::from(n)) / 64 == config.delay())
        .ok_or_else(|| inexact("delay"))?;
    case.robots = config.robots();
    case.html_bodies_only = config.html_bodies_only();
    case.assets = config.assets();
    case.sort_query = config.sort_query();
    case.max_pages = config.max_pages();
    case.max_pages_per_host = config.max_pages_per_host();
    case.sitemap_options = config
        .sitemaps()
        .iter()
        .map(|url| {
            pages::sitemap_at(url.as_str())
                .map(|(_, k, _)| k)
                .ok_or_else(|| RegressionError::Options(format!("--sitemap={url} is no sitemap")))
        })
        .collect::<Result<_, _>>()?;
    Ok(())
}

impl Case {
    /// The case whose site file is `site`, with crawl options `args` (`crawl-sim` arguments,
    /// roots aside, as [`options_of`] writes them) and `seed`. It renders to the very same
    /// site file and arguments; a file that is not one a case renders (hand-written, or from a
    /// newer format) is an error that says where it differs.
    pub fn from_site(site: &SiteSpec, args: &[String], seed: u64) -> Result<Case, RegressionError> {
        let mut reader = Reader::default();
        let mut listed = BTreeMap::new();
        for (url, page) in &site.pages {
            reader.page(url, page, &mut listed)?;
        }
        let mut roots = Vec::new();
        for (r, root) in site.roots.iter().enumerate() {
            let i = reader.node_url(root, "root")?;
            match (r, i) {
                (0, 0) => {}
                (0, _) => return Err(site_error(format!("the first root {root:?} is not n0"))),
                _ => roots.push(Target::Node(i)),
            }
        }
        if site.roots.is_empty() {
            return Err(site_error("no roots (a case's first root is its node 0)"));
        }
        let mut case = Case::new(reader.nodes(listed));
        case.robots_files = std::mem::take(&mut reader.robots);
        for (k, (&at, sitemap)) in reader.sitemaps.iter().enumerate() {
            if k != at {
                return Err(site_error(format!(
                    "no sitemap s{k}, but there is an s{at}"
                )));
            }
            case.sitemaps.push(sitemap.clone());
        }
        case.roots = roots;
        case.network.latency = site.latency;
        case.network.faults = site.faults;
        case.network.unreachable = site
            .unreachable
            .iter()
            .map(|h| host_index(h).ok_or_else(|| site_error(format!("unknown host {h:?}"))))
            .collect::<Result<_, _>>()?;
        case.seed = seed;
        let parsed = Options::try_parse_from(args).map_err(|e| {
            let message = e.to_string();
            RegressionError::Options(message.lines().next().unwrap_or_default().to_string())
        })?;
        if !parsed.crawl.roots.is_empty() {
            return Err(RegressionError::Options(format!(
                "roots {:?} among the options (they belong in the site file)",
                parsed.crawl.roots
            )));
        }
        let config = parsed
            .crawl
            .config_with_roots(&site.roots)
            .map_err(|e| RegressionError::Options(e.to_string()))?;
        read_options(&mut case, &config)?;
        let rendered = case.site();
        if rendered != *site {
            return Err(site_error(first_site_difference(site, &rendered)));
        }
        let options = options_of(&case.config());
        if options != args {
            return Err(RegressionError::Options(format!(
                "{args:?} read back as {options:?}: not options a case has"
            )));
        }
        Ok(case)
    }
}

/// Where a node lives, as far as the spellings seen so far say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    /// The host index, once a spelling with a host named it.
    host: Option<usize>,
    /// Its path starts with `/x`.
    excluded: bool,
    /// Its URL has a query.
    query: bool,
}

/// Reads a site file's pages and spellings back into nodes.
#[derive(Debug)]
struct Reader {
    /// What is known of every node index named anywhere.
    places: BTreeMap<usize, Place>,
    /// A case whose node spellings are tried against a text (grown on demand).
    probe: Case,
    /// robots.txt files by host.
    robots: BTreeMap<usize, RobotsFile>,
    /// Sitemaps by index.
    sitemaps: BTreeMap<usize, Sitemap>,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            places: BTreeMap::new(),
            probe: Case::new(Vec::new()),
            robots: BTreeMap::new(),
            sitemaps: BTreeMap::new(),
        }
    }
}

impl Reader {
    /// One page of the site file: a robots.txt, a sitemap, or a node's page.
    fn page(
        &mut self,
        url: &str,
        page: &PageSpec,
        listed: &mut BTreeMap<usize, Node>,
    ) -> Result<(), RegressionError> {
        let in_page = |e: String| site_error(format!("pages[{url:?}]: {e}"));
        if let Some(host) = pages::robots_host(url) {
            self.robots
                .insert(host, pages::robots_file(page).map_err(in_page)?);
            return Ok(());
        }
        if let Some((host, k, gzip)) = pages::sitemap_at(url) {
            let file = match pages::sitemap_page(page).map_err(in_page)? {
                pages::SitemapPage::File(file) => file,
                pages::SitemapPage::Urls(hrefs) => {
                    SitemapFile::Urls(self.edges(&hrefs).map_err(in_page)?)
                }
                pages::SitemapPage::Index(locs) => SitemapFile::Index(
                    locs.iter()
                        .map(|loc| pages::sitemap_at(loc).map(|(_, j, _)| j))
                        .collect::<Option<_>>()
                        .ok_or_else(|| in_page("an index entry is no sitemap".into()))?,
                ),
            };
            self.sitemaps.insert(k, Sitemap { host, gzip, file });
            return Ok(());
        }
        let i = self.node_url(url, "page")?;
        let node = self
            .node(page)
            .map_err(|e| site_error(format!("pages[{url:?}]: {e}")))?;
        let place = self.places[&i];
        let node = Node {
            host: place.host.unwrap_or(0),
            excluded: place.excluded,
            query: place.query,
            ..node
        };
        listed.insert(i, node);
        Ok(())
    }

    /// The node a listed page describes (on host 0 until placed).
    fn node(&mut self, page: &PageSpec) -> Result<Node, String> {
        let kind = if let Some(status) = page.redirect {
            let location = match page.location.as_deref() {
                None => Location::Missing,
                Some(text) => match garbage(text) {
                    Some(g) => Location::Garbage(g),
                    None => {
                        let (k, form) = self.spelled(text)?;
                        Location::Node(Target::Node(k), form)
                    }
                },
            };
            NodeKind::Redirect { status, location }
        } else if let Some(links) = &page.links {
            let base = match page.base.as_deref() {
                None => None,
                Some(text) => Some(base(text).ok_or_else(|| format!("base {text:?}"))?),
            };
            NodeKind::Html {
                links: self.edges(links)?,
                base,
            }
        } else if page.content_type.as_deref() == Some("text/plain") {
            NodeKind::Text
        } else if let (Some(status), Some(_)) = (page.status, &page.body) {
            NodeKind::Status(status)
        } else {
            return Err("not a page a case renders".into());
        };
        let mut node = Node::new(kind);
        node.script = page.script.clone();
        node.faults = page.faults;
        node.nofollow = self.edges(page.nofollow.as_deref().unwrap_or_default())?;
        node.images = self.edges(page.images.as_deref().unwrap_or_default())?;
        node.meta_robots = match page.meta_robots.as_deref() {
            None => None,
            Some(m) => Some(
                META_ROBOTS
                    .iter()
                    .position(|&x| x == m)
                    .ok_or_else(|| format!("meta robots {m:?}"))?,
            ),
        };
        Ok(node)
    }

    fn edges(&mut self, hrefs: &[String]) -> Result<Vec<Edge>, String> {
        hrefs
            .iter()
            .map(|href| match garbage(href) {
                Some(g) => Ok(Edge::Garbage(g)),
                None => {
                    let (k, form) = self.spelled(href)?;
                    Ok(Edge::Node(Target::Node(k), form))
                }
            })
            .collect()
    }

    /// The node whose URL (its absolute spelling) `url` is; `what` names it in errors.
    fn node_url(&mut self, url: &str, what: &str) -> Result<usize, RegressionError> {
        match self.spelled(url) {
            Ok((i, Form::Absolute)) => Ok(i),
            Ok(_) => Err(site_error(format!("{what} {url:?} is not a node's URL"))),
            Err(e) => Err(site_error(format!("{what}: {e}"))),
        }
    }

    /// The node and form that spell `text`, placing the node as the spelling says.
    fn spelled(&mut self, text: &str) -> Result<(usize, Form), String> {
        let (index, excluded) =
            index_in(text).ok_or_else(|| format!("{text:?} names no node and is no garbage"))?;
        if self.probe.nodes.len() <= index {
            self.probe
                .nodes
                .resize(index + 1, Node::new(NodeKind::Unlisted));
        }
        let query = text.split('#').next().unwrap_or_default().contains('?');
        self.probe.nodes[index].excluded = excluded;
        self.probe.nodes[index].query = query;
        for form in Form::ALL {
            let hosts: Vec<usize> = (0..HOSTS.len())
                .filter(|&h| {
                    self.probe.nodes[index].host = h;
                    self.probe.spell(index, form) == text
                })
                .collect();
            let host = match hosts[..] {
                [] => continue,
                [host] => Some(host),
                _ => None, // a spelling without a host: any will do
            };
            self.place(
                index,
                Place {
                    host,
                    excluded,
                    query,
                },
            )?;
            return Ok((index, form));
        }
        Err(format!("{text:?} is no spelling of node {index}"))
    }

    /// Records where node `index` lives; two spellings that disagree are an error.
    fn place(&mut self, index: usize, seen: Place) -> Result<(), String> {
        let place = self.places.entry(index).or_insert(seen);
        if place.excluded != seen.excluded {
            return Err(format!(
                "node {index} is spelled both /n{index} and /x{index}"
            ));
        }
        if place.query != seen.query {
            return Err(format!("node {index} is spelled with and without a query"));
        }
        match (place.host, seen.host) {
            (Some(a), Some(b)) if a != b => Err(format!(
                "node {index} is on two hosts, {} and {}",
                HOSTS[a], HOSTS[b]
            )),
            (None, Some(b)) => {
                place.host = Some(b);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Every node up to the highest index named: the listed ones, and the rest unlisted.
    fn nodes(&self, mut listed: BTreeMap<usize, Node>) -> Vec<Node> {
        let count = self.places.keys().next_back().map_or(0, |&i| i + 1);
        (0..count)
            .map(|i| {
                listed.remove(&i).unwrap_or_else(|| {
                    let place = self.places.get(&i).copied();
                    let mut node = Node::new(NodeKind::Unlisted);
                    node.host = place.and_then(|p| p.host).unwrap_or(0);
                    node.excluded = place.is_some_and(|p| p.excluded);
                    node.query = place.is_some_and(|p| p.query);
                    node
                })
            })
            .collect()
    }
}

/// The node index and excluded flag a spelling ends in: `n3` or `x3` after the last `/`, before
/// any `?` or `#`.
fn index_in(text: &str) -> Option<(usize, bool)> {
    let path = text.split(['#', '?']).next()?;
    let last = path.rsplit('/').next()?;
    let (excluded, digits) = match last.split_at_checked(1)? {
        ("n", digits) => (false, digits),
        ("x", digits) => (true, digits),
        _ => return None,
    };
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    let index: usize = digits.parse().ok().filter(|_| canonical)?;
    (index <= MAX_INDEX).then_some((index, excluded))
}

/// The index in [`GARBAGE`] of `text`.
fn garbage(text: &str) -> Option<usize> {
    GARBAGE.iter().position(|&g| g == text)
}

/// A `<base href>` as [`Case::base`] renders it: a host's root, or garbage.
fn base(text: &str) -> Option<Result<usize, usize>> {
    (0..HOSTS.len())
        .find(|&h| Case::base(&Some(Ok(h))).as_deref() == Some(text))
        .map(Ok)
        .or_else(|| garbage(text).map(Err))
}

fn host_index(host: &str) -> Option<usize> {
    HOSTS.iter().position(|&h| h == host)
}

/// Where `read` and its re-rendering `rendered` first differ, in a few words.
fn first_site_difference(read: &SiteSpec, rendered: &SiteSpec) -> String {
    let unlike = "is not what a case renders";
    if read.roots != rendered.roots {
        return format!(
            "roots {unlike}: {:?} read back as {:?}",
            read.roots, rendered.roots
        );
    }
    for (url, page) in &read.pages {
        match rendered.pages.get(url) {
            Some(again) if again == page => {}
            Some(again) => return format!("pages[{url:?}] {unlike}: read back as {again:?}"),
            None => return format!("pages[{url:?}] {unlike}"),
        }
    }
    if let Some(url) = rendered.pages.keys().find(|u| !read.pages.contains_key(*u)) {
        return format!("pages[{url:?}] is missing");
    }
    if !read.generated.is_empty() {
        return format!("generated pages {unlike}");
    }
    format!("the network (unreachable, latency, faults) {unlike}")
}

#[cfg(test)]
#[path = "regress/tests.rs"]
mod tests;
