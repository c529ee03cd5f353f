//! Random cases from one seed, swarm style.
//!
//! [`generate`] draws everything from one [`Rng`] seeded with the case's seed: the graph (up to
//! 8, 32 or [`MAX_NODES`] nodes, that bound drawn first, with links, redirect chains, cycles,
//! self-redirects, missing, relative and garbage `Location`s, cross-host edges, 404s, 5xx, text
//! pages, scripts), the crawl options (robots.txt on or off among them), and the network. The
//! network is drawn *swarm* style (as simulation testers of distributed databases do): each
//! seed first decides which fault kinds exist at all (drop, reset, 5xx, 429, truncated bodies,
//! slow answers), then their rates, whether 503/429 carry a `Retry-After`, the latency spread,
//! which extra hosts are down, and when the faulty phase ends (`until_ms`). Rare combinations
//! (only truncations, with a tiny timeout and one task) thus come
//! up as often as common ones.
//!
//! Every number that ends up in a site file or on a command line is exact in both decimal and
//! binary (rates in 1/64ths, whole milliseconds, timeouts in quarter seconds, delays in 1/64 s),
//! so a case written out and read back by `crawl-sim` replays bit for bit.
//!
//! Half the cases also get a *converging redirects* gadget: an entry root links to a redirect
//! chain and to a chain of pages, both ending at a redirect `X` whose own chain leads to a final
//! page. Whether the final page is fetched must not depend on which path reaches `X` first;
//! random graphs rarely make the worse path arrive first, the gadget makes it common.

use crawler_site::{Faults, Latency, Scripted};

use super::case::{
    Case, DOWN, Edge, Form, GARBAGE, HOSTS, Location, META_ROBOTS, Network, Node, NodeKind, Target,
};
use super::crash::Crash;
use super::robots::{Agent, Group, RobotsFile, Rule};
use super::sitemaps::{Sitemap, SitemapFile};
use super::workers::{WorkerFault, WorkerFaultKind, Workers};
use crate::Rng;

/// The most nodes a generated graph has (the gadget adds up to 12 more). The bound itself is
/// drawn per seed from 8, 32 and this, so small graphs stay common.
pub const MAX_NODES: u64 = 96;

/// Picks one of `items` with the given weights.
fn weighted<T: Copy>(rng: &mut Rng, items: &[(u32, T)]) -> T {
    let total: u32 = items.iter().map(|(w, _)| w).sum();
    let mut x = rng.below(u64::from(total)) as u32;
    for &(w, item) in items {
        if x < w {
            return item;
        }
        x -= w;
    }
    unreachable!("x < total")
}

fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.below(items.len() as u64) as usize]
}

fn form(rng: &mut Rng) -> Form {
    let relative = Form::Relative(rng.below(3) as u8);
    weighted(
        rng,
        &[
            (4, Form::Absolute),
            (2, Form::Path),
            (2, relative),
            (1, Form::Fragment),
            (1, Form::Upper),
            (1, Form::DefaultPort),
            (1, Form::ProtocolRelative),
        ],
    )
}

fn target(rng: &mut Rng) -> Target {
    Target::Any(rng.u64())
}

fn link(rng: &mut Rng) -> Edge {
    if rng.below(9) < 8 {
        Edge::Node(target(rng), form(rng))
    } else {
        Edge::Garbage(rng.below(GARBAGE.len() as u64) as usize)
    }
}

fn location(rng: &mut Rng) -> Location {
    match rng.below(9) {
        0..=2 => Location::Node(target(rng), form(rng)),
        3..=5 => Location::Next(form(rng)),
        6 => Location::Missing,
        7 => Location::Garbage(rng.below(GARBAGE.len() as u64) as usize),
        _ => Location::Itself,
    }
}

fn html(rng: &mut Rng, max_links: u64) -> NodeKind {
    let links = (0..rng.below(max_links)).map(|_| link(rng)).collect();
    let base = rng.chance(0.15).then(|| {
        if rng.below(4) < 3 {
            Ok(rng.below(HOSTS.len() as u64) as usize)
        } else {
            Err(rng.below(GARBAGE.len() as u64) as usize)
        }
    });
    NodeKind::Html { links, base }
}

fn kind(rng: &mut Rng, max_links: u64) -> NodeKind {
    match rng.below(11) {
        0..=3 => html(rng, max_links),
        4..=7 => NodeKind::Redirect {
            status: pick(rng, &[301, 302, 303, 307, 308]),
            location: location(rng),
        },
        8 => NodeKind::Status(pick(rng, &[404, 410, 500, 503])),
        9 => NodeKind::Text,
        _ => NodeKind::Unlisted,
    }
}

/// What a scripted try may answer (`Ok` twice: the site's own answer is the most common).
pub const SCRIPT_OUTCOMES: [Scripted; 10] = [
    Scripted::Ok,
    Scripted::Ok,
    Scripted::Status(500),
    Scripted::Status(503),
    Scripted::Status(429),
    Scripted::Status(404),
    Scripted::Reset,
    Scripted::Drop,
    Scripted::Refused,
    Scripted::Truncate,
];

fn outcome(rng: &mut Rng) -> Scripted {
    pick(rng, &SCRIPT_OUTCOMES)
}

/// Swarm fault rates: each kind is on with probability 1/2, then gets a rate of 1, 4, 8 or 16
/// 64ths; rates are halved until they add up to at most 1.
fn faults(rng: &mut Rng, until_ms: Option<f64>) -> Faults {
    let mut rates = [0.0f64; 6];
    for rate in &mut rates {
        if rng.chance(0.5) {
            *rate = f64::from(pick(rng, &[1u32, 4, 8, 16])) / 64.0;
        }
    }
    while rates.iter().sum::<f64>() > 1.0 {
        rates.iter_mut().for_each(|r| *r /= 2.0);
    }
    let mut f = Faults::default();
    [
        f.drop,
        f.reset,
        f.error_5xx,
        f.error_429,
        f.truncate,
        f.slow,
    ] = rates;
    f.slow_ms = if f.slow > 0.0 {
        pick(rng, &[100.0, 1000.0, 5000.0])
    } else {
        0.0
    };
    f.retry_after = rng.chance(0.5).then(|| rng.below(4) as u32);
    f.until_ms = until_ms;
    f
}

fn network(rng: &mut Rng) -> Network {
    let min_ms = pick(rng, &[0.0, 1.0, 5.0]);
    let latency = Latency::new(min_ms, min_ms + pick(rng, &[0.0, 5.0, 20.0, 50.0]));
    // The faulty phase ends at a drawn virtual time (one case in ten: never).
    let until_ms = (!rng.chance(0.1)).then(|| rng.below(20_001) as f64);
    let faults = if rng.chance(0.85) {
        faults(rng, until_ms)
    } else {
        Faults::default()
    };
    let mut unreachable = vec![DOWN];
    for host in 0..DOWN {
        // The roots' usual host rarely; the others now and then.
        let p = if host == 0 { 1.0 / 32.0 } else { 1.0 / 8.0 };
        if rng.chance(p) {
            unreachable.push(host);
        }
    }
    Network {
        latency,
        faults,
        unreachable,
    }
}

/// A timeout that latency alone never reaches: at least 40 mean extra latencies above the
/// minimum (an exponential passes that once in e^40 draws), so only faults cause timeouts and
/// the oracle can predict every page without faults.
fn timeout_ms(rng: &mut Rng, latency: Latency) -> u64 {
    let floor = latency.min_ms + 40.0 * (latency.mean_ms - latency.min_ms);
    let allowed: Vec<u64> = [250, 500, 1000, 2000, 3000]
        .into_iter()
        .filter(|&t| t as f64 >= floor)
        .collect();
    pick(rng, &allowed)
}

fn node(rng: &mut Rng, until_ms: Option<f64>, max_links: u64) -> Node {
    let host = pick(rng, &[0, 0, 0, 0, 0, 1, 2, 3, 4]);
    let excluded = rng.chance(0.1);
    let kind = kind(rng, max_links);
    let script = if rng.chance(0.15) {
        (0..1 + rng.below(3)).map(|_| outcome(rng)).collect()
    } else {
        Vec::new()
    };
    let faults = rng.chance(0.1).then(|| faults(rng, until_ms));
    Node {
        host,
        excluded,
        kind,
        script,
        faults,
        nofollow: Vec::new(),
        images: Vec::new(),
        query: false,
        meta_robots: None,
    }
}

/// The case of `seed`. The same seed always gives the same case.
pub fn generate(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let network = network(&mut rng);
    let until = network.faults.until_ms;
    // Graph size and link density are swarm draws too: small sparse graphs shrink well, big
    // dense ones make long crawls with many requests in flight.
    let bound = pick(&mut rng, &[8, 32, MAX_NODES]);
    let count = 1 + rng.below(bound);
    let max_links = pick(&mut rng, &[4, 8, 16]);
    let mut nodes: Vec<Node> = (0..count)
        .map(|_| node(&mut rng, until, max_links))
        .collect();
    // The first root is mostly a page with links on the main host, or most crawls would end
    // at once.
    if rng.chance(0.75) {
        nodes[0].kind = html(&mut rng, max_links);
    }
    if rng.chance(0.75) {
        nodes[0].host = 0;
    }
    let mut case = Case::new(nodes);
    case.network = network;
    case.roots = (0..rng.below(3)).map(|_| target(&mut rng)).collect();
    case.max_redirect = pick(&mut rng, &[0, 1, 1, 2, 2, 3, 4, 10]);
    case.max_tries = 1 + rng.below(4) as u32;
    case.max_tasks = if rng.chance(0.1) {
        100
    } else {
        1 + rng.below(8) as usize
    };
    case.timeout_ms = timeout_ms(&mut rng, case.network.latency);
    case.lenient = rng.chance(0.5);
    case.exclude = rng.chance(0.2);
    case.max_depth = rng.chance(1.0 / 3.0).then(|| rng.below(4) as u32);
    case.max_per_host = rng.chance(0.25).then(|| 1 + rng.below(2) as usize);
    case.delay_64ths = pick(&mut rng, &[0, 0, 0, 0, 1, 16]);
    case.robots = rng.chance(0.5);
    case.seed = seed;
    if rng.chance(0.5) {
        let (before, pages, after) = (rng.below(4), rng.below(4), rng.below(3));
        add_gadget(&mut case, before as usize, pages as usize, after as usize);
    }
    // Drawn after everything else, so that options added later leave earlier draws alone.
    case.html_bodies_only = rng.chance(0.25);
    if rng.chance(0.25) {
        // A few pages also link with rel=nofollow, often to nodes nothing else links to.
        for node in &mut case.nodes {
            if matches!(node.kind, NodeKind::Html { .. }) && rng.chance(1.0 / 3.0) {
                node.nofollow = (0..1 + rng.below(2)).map(|_| link(&mut rng)).collect();
            }
        }
    }
    if rng.chance(0.25) {
        // Images on a few pages; followed only in the cases that follow assets.
        for node in &mut case.nodes {
            if matches!(node.kind, NodeKind::Html { .. }) && rng.chance(1.0 / 3.0) {
                node.images = (0..1 + rng.below(2)).map(|_| link(&mut rng)).collect();
            }
        }
        case.assets = rng.chance(0.5);
    }
    if rng.chance(0.25) {
        // Query strings on some nodes, spelled with their parameters swapped by some links.
        case.sort_query = rng.chance(0.5);
        for node in &mut case.nodes {
            node.query = rng.chance(1.0 / 3.0);
            if let NodeKind::Html { links, .. } = &mut node.kind {
                for link in links {
                    if let Edge::Node(_, form) = link
                        && rng.chance(0.25)
                    {
                        *form = Form::Swapped;
                    }
                }
            }
        }
    }
    case.max_pages = rng.chance(0.2).then(|| 1 + rng.below(12));
    case.max_pages_per_host = rng.chance(0.2).then(|| 1 + rng.below(4));
    if rng.chance(0.3) {
        sitemaps(&mut rng, &mut case);
    }
    if case.robots && rng.chance(0.6) {
        for host in 0..DOWN {
            if rng.chance(0.5) {
                let file = robots_file(&mut rng, &case, host);
                case.robots_files.insert(host, file);
            }
        }
    }
    if rng.chance(0.2) {
        // <meta name="robots"> on a few pages: nofollow stops all their links, noindex is told.
        for node in &mut case.nodes {
            if matches!(node.kind, NodeKind::Html { .. }) && rng.chance(1.0 / 3.0) {
                node.meta_robots = Some(rng.below(META_ROBOTS.len() as u64) as usize);
            }
        }
    }
    // A crawl killed and resumed (not with page limits: which URLs a limited crawl fetches
    // depends on order, and a resumed crawl redoes its URLs in another order).
    let limited = case.max_pages.is_some() || case.max_pages_per_host.is_some();
    if !limited && rng.chance(0.25) {
        case.crashes = (0..1 + rng.below(3))
            .map(|_| Crash::new(rng.below(65) as u32, rng.below(4) as u32))
            .collect();
        case.sync_every = pick(&mut rng, &[1, 2, 4, 8]);
    }
    // A crawl shared by several workers (page limits too: the shared state holds them for the
    // crawl).
    if rng.chance(0.2) {
        case.workers = Some(workers(&mut rng));
    }
    case
}

/// 2 to 4 workers with short leases, maybe slow replies, and a fault for some of those after
/// the first: a crash (restarted or not) or a pause longer than the lease.
fn workers(rng: &mut Rng) -> Workers {
    let count = 2 + rng.below(3) as u32;
    let lease_s = 2 + rng.below(9) as u32;
    let slow_ms = if rng.chance(0.5) {
        rng.below(u64::from(lease_s) * 1000 / 6 + 1) as u32
    } else {
        0
    };
    let lease_ms = lease_s * 1000;
    let mut faults = Vec::new();
    for worker in 1..count {
        if !rng.chance(0.6) {
            continue;
        }
        faults.push({
            let kind = if rng.chance(0.5) {
                WorkerFaultKind::Crash {
                    restart_ms: rng
                        .chance(0.6)
                        .then(|| rng.below(u64::from(lease_ms) * 2) as u32),
                }
            } else {
                WorkerFaultKind::Pause {
                    ms: lease_ms + 1 + rng.below(u64::from(lease_ms) * 2) as u32,
                }
            };
            WorkerFault {
                worker,
                at_64ths: rng.below(65) as u32,
                kind,
            }
        });
    }
    // Half the cases in partitions: from one each to more than workers.
    let partitions = if rng.chance(0.5) {
        2 + rng.below(7) as u32
    } else {
        1
    };
    Workers {
        count,
        lease_s,
        slow_ms,
        faults,
        partitions,
    }
}

/// One to three plain sitemaps (page lists or error statuses), then up to two that name them
/// (indexes and redirects, which only ever name plain ones, so how deep a sitemap sits never
/// depends on the order they are found in); some are named as crawl options, robots.txt files
/// may name the others.
fn sitemaps(rng: &mut Rng, case: &mut Case) {
    let plain = 1 + rng.below(3);
    let host = |rng: &mut Rng| pick(rng, &[0, 0, 0, 1, 2, 3, DOWN]);
    for _ in 0..plain {
        let file = if rng.below(6) < 5 {
            SitemapFile::Urls((0..rng.below(6)).map(|_| link(rng)).collect())
        } else {
            SitemapFile::Status(pick(rng, &[404, 500, 503]))
        };
        let (host, gzip) = (host(rng), rng.chance(0.25));
        case.sitemaps.push(Sitemap { host, gzip, file });
    }
    for _ in 0..rng.below(3) {
        let file = if rng.chance(0.5) {
            SitemapFile::Index(
                (0..1 + rng.below(3))
                    .map(|_| rng.below(plain) as usize)
                    .collect(),
            )
        } else {
            SitemapFile::Redirect(rng.below(plain) as usize)
        };
        let (host, gzip) = (host(rng), rng.chance(0.25));
        case.sitemaps.push(Sitemap { host, gzip, file });
    }
    let n = case.sitemaps.len() as u64;
    case.sitemap_options = (0..rng.below(3)).map(|_| rng.below(n) as usize).collect();
}

/// A robots.txt for `host`: rules most often, else a status or a redirect to a later host's.
fn robots_file(rng: &mut Rng, case: &Case, host: usize) -> RobotsFile {
    match rng.below(10) {
        6 => return RobotsFile::Status(pick(rng, &[401, 403, 404, 410])),
        7 => return RobotsFile::Status(pick(rng, &[429, 500, 503])),
        8 | 9 if host + 1 < HOSTS.len() => {
            let later = (HOSTS.len() - host - 1) as u64;
            return RobotsFile::Redirect {
                status: pick(rng, &[301, 302, 307, 308]),
                to: host + 1 + rng.below(later) as usize,
            };
        }
        _ => {}
    }
    let nodes = case.nodes.len() as u64;
    let groups = (0..1 + rng.below(3))
        .map(|_| Group {
            agents: (0..1 + rng.below(2))
                .map(|_| pick(rng, &[Agent::Us, Agent::Star, Agent::Star, Agent::Other]))
                .collect(),
            rules: (0..rng.below(5))
                .map(|_| Rule {
                    allow: rng.chance(0.4),
                    pattern: pattern(rng, nodes),
                })
                .collect(),
        })
        .collect();
    let crawl_delay_64ths = rng.chance(0.2).then(|| pick(rng, &[1, 4, 16]));
    let sitemaps = case.sitemaps.len() as u64;
    let sitemaps = if sitemaps == 0 {
        Vec::new()
    } else {
        (0..rng.below(3))
            .map(|_| rng.below(sitemaps) as usize)
            .collect()
    };
    RobotsFile::Rules {
        groups,
        crawl_delay_64ths,
        sitemaps,
    }
}

/// A rule's pattern over the paths a case has (`/n<i>`, `/x<i>`, `?a=1&b=2`, `/s<k>.xml`).
fn pattern(rng: &mut Rng, nodes: u64) -> String {
    let i = rng.below(nodes);
    match rng.below(12) {
        0 => "/".into(),
        1 => String::new(),
        2 => "/x".into(),
        3 => "/n".into(),
        4 | 5 => format!("/n{i}"),
        6 => format!("/n{i}$"),
        7 => format!("/*{}$", i % 10),
        8 => "/*?".into(),
        9 => "/*b=2".into(),
        10 => "/s".into(),
        _ => format!("/n*{}", i % 10),
    }
}

fn redirect_to(k: usize) -> NodeKind {
    NodeKind::Redirect {
        status: 301,
        location: Location::Node(Target::Node(k), Form::Absolute),
    }
}

fn links_to(targets: &[usize]) -> NodeKind {
    NodeKind::Html {
        links: targets
            .iter()
            .map(|&k| Edge::Node(Target::Node(k), Form::Absolute))
            .collect(),
        base: None,
    }
}

/// Appends the converging-redirects gadget (see the module docs): an entry root linking to
/// `before` redirects and to `pages` pages, both ending at redirect `X`, then `after` more
/// redirects to a final page.
pub fn add_gadget(case: &mut Case, before: usize, pages: usize, after: usize) {
    let entry = case.nodes.len();
    let first_redirect = entry + 1;
    let first_page = first_redirect + before;
    let x = first_page + pages;
    let end = x + 1 + after;
    let start_of = |first: usize, n: usize| if n == 0 { x } else { first };
    case.nodes.push(Node::new(links_to(&[
        start_of(first_redirect, before),
        start_of(first_page, pages),
    ])));
    for k in first_redirect..first_page {
        case.nodes.push(Node::new(redirect_to(k + 1)));
    }
    for k in first_page..x {
        case.nodes.push(Node::new(links_to(&[k + 1])));
    }
    for k in x..end {
        case.nodes.push(Node::new(redirect_to(k + 1)));
    }
    case.nodes.push(Node::new(links_to(&[])));
    case.roots.push(Target::Node(entry));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_case_and_rates_stay_valid() {
        for seed in 0..200 {
            let case = generate(seed);
            assert_eq!(case, generate(seed));
            assert_eq!(case.seed, seed);
            let site = crawler_site::Site::from_spec(case.site());
            assert!(site.is_ok(), "seed {seed}: {:?}", site.err());
            let sum: f64 = case.network.faults.rates().iter().map(|(_, r)| r).sum();
            assert!(sum <= 1.0, "seed {seed}: {sum}");
        }
        assert_ne!(generate(1), generate(2));
    }

    #[test]
    fn latency_alone_never_reaches_the_timeout() {
        for seed in 0..2000 {
            let case = generate(seed);
            let l = case.network.latency;
            let floor = l.min_ms + 40.0 * (l.mean_ms - l.min_ms);
            assert!(case.timeout_ms as f64 >= floor, "seed {seed}: {case:?}");
        }
    }

    #[test]
    fn swarm_draws_cover_every_fault_kind_alone_and_together() {
        let mut seen = [0u32; 6];
        let mut lone = [0u32; 6];
        for seed in 0..2000 {
            let rates = generate(seed).network.faults.rates();
            let on: Vec<usize> = (0..6).filter(|&i| rates[i].1 > 0.0).collect();
            for &i in &on {
                seen[i] += 1;
            }
            if let [i] = on[..] {
                lone[i] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n > 500), "{seen:?}");
        assert!(lone.iter().all(|&n| n > 5), "{lone:?}");
    }

    #[test]
    fn the_gadget_is_a_root_with_converging_chains() {
        let mut case = Case::new(vec![Node::new(NodeKind::Unlisted)]);
        add_gadget(&mut case, 2, 1, 1);
        // entry 1 -> redirects 2, 3 -> X (5); page 4 -> X; X -> 6 -> final 7.
        assert_eq!(case.nodes.len(), 8);
        assert_eq!(case.roots, [Target::Node(1)]);
        assert_eq!(case.nodes[5].kind, redirect_to(6));
        assert_eq!(case.nodes[7].kind, links_to(&[]));
    }
}
